// A rubric's words in the app's language: a rubric file may carry translations of every name,
// descriptor, evidence prompt, option and glossary entry (docs/rubric-format.md), kept in its
// document as `translations: {es: {name: …}}` beside the default text. Whatever is not
// translated shows in the file's default language.
import { lang } from "./i18n.js";

export const local = (item, field) => item?.translations?.[lang]?.[field] ?? item?.[field];

export function rubricText(rubric) {
  const doc = rubric.document || {};
  const criteria = new Map();
  const competencies = new Map();
  for (const competency of doc.competencies || []) {
    competencies.set(competency.key, competency);
    for (const c of competency.criteria) criteria.set(c.key, c);
  }
  return {
    title: local(doc, "title") || rubric.title,
    competency: (key) => ({ name: local(competencies.get(key), "name") }),
    criterion: (key) => {
      const c = criteria.get(key);
      return { text: local(c, "text"), evidence_prompt: local(c, "evidence_prompt") };
    },
    // A look-for's levels as the server gave them ({value, label, descriptor}), in the language:
    // its own descriptor for a level when it has one, else the level's.
    levels: (criterion) => {
      const c = criteria.get(criterion.key) || {};
      const scale = c.scale?.levels || doc.scale?.levels || [];
      const own = c.translations?.[lang]?.descriptors || {};
      return criterion.levels.map((level) => {
        const source = scale.find((l) => l.value === level.value);
        const value = String(level.value);
        const descriptor = c.descriptors?.[value]
          ? (own[value] ?? level.descriptor)
          : (local(source, "descriptor") ?? level.descriptor);
        return { value: level.value, label: local(source, "label") ?? level.label, descriptor };
      });
    },
    // A context field's label and its options shown in the language; the value kept is the
    // option's default text, whatever language the observer saw it in.
    contextField: (field) => {
      const shown = field.translations?.[lang]?.options;
      return {
        label: local(field, "label"),
        options: field.options.map((value, i) => ({ value, label: shown?.[i] ?? value })),
      };
    },
  };
}
