"""What changed between two versions of a rubric: pure, no database (its sentences are marked
for translation: the reader's language in a request, English on the command line).

Look-fors are compared by key, because the key is what walkthroughs and reports follow from one
version to the next: the same key with new text is the same look-for reworded, a new key is a
new look-for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from observe.rubrics import translations

_FIELDS = {
    "kind": lazy_gettext("kind"),
    "dimensions": lazy_gettext("equity dimensions"),
    "evidence_prompt": lazy_gettext("evidence prompt"),
    "descriptors": lazy_gettext("descriptors"),
    "scale": lazy_gettext("scale"),
    "required": lazy_gettext("whether it is required"),
}


@dataclass(frozen=True)
class LookFor:
    key: str
    text: str
    competency: str


@dataclass(frozen=True)
class Reworded:
    key: str
    old: str
    new: str


@dataclass
class RubricChanges:
    added: list[LookFor] = field(default_factory=list)
    removed: list[LookFor] = field(default_factory=list)
    reworded: list[Reworded] = field(default_factory=list)
    # A look-for whose text stayed but something else about it changed: key → what changed
    altered: dict[str, list[str]] = field(default_factory=dict)
    # Changes to the rubric as a whole, one sentence each
    general: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.reworded or self.altered or self.general)


def _look_fors(document: Mapping[str, Any]) -> dict[str, tuple[Mapping[str, Any], str]]:
    return {
        item["key"]: (item, competency["name"])
        for competency in document["competencies"]
        for item in competency["criteria"]
    }


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> RubricChanges:
    """How ``new`` differs from ``old`` (two validated documents of the same rubric).

    Translations are compared apart (a sentence per language), so that a Spanish text added
    to a level does not read as "the scale changes"."""
    translated = translations.changes(old, new)
    old, new = translations.without_translations(old), translations.without_translations(new)
    changes = RubricChanges()
    before, after = _look_fors(old), _look_fors(new)
    for key, (item, competency) in after.items():
        if key not in before:
            changes.added.append(LookFor(key, item["text"], competency))
            continue
        previous, previous_competency = before[key]
        if previous["text"] != item["text"]:
            changes.reworded.append(Reworded(key, previous["text"], item["text"]))
        altered = [
            str(label) for name, label in _FIELDS.items() if previous.get(name) != item.get(name)
        ]
        if previous_competency != competency:
            altered.append(
                _("moved from %(old)s to %(new)s", old=previous_competency, new=competency)
            )
        if altered:
            changes.altered[key] = altered
    changes.removed = [
        LookFor(key, item["text"], competency)
        for key, (item, competency) in before.items()
        if key not in after
    ]

    general = changes.general
    if old["title"] != new["title"]:
        general.append(
            _("The title changes from “%(old)s” to “%(new)s”.", old=old["title"], new=new["title"])
        )
    if old.get("description") != new.get("description"):
        general.append(_("The description changes."))
    if old["scale"] != new["scale"]:
        general.append(_("The scale changes (its levels, labels, descriptors or “not observed”)."))
    old_competencies = [(c["key"], c["name"], c.get("description")) for c in old["competencies"]]
    new_competencies = [(c["key"], c["name"], c.get("description")) for c in new["competencies"]]
    if old_competencies != new_competencies:
        general.append(
            _("The competencies change (added, removed, renamed, redescribed or reordered).")
        )
    if old.get("context_fields") != new.get("context_fields"):
        general.append(_("The questions asked once per visit (context fields) change."))
    if old.get("glossary") != new.get("glossary"):
        general.append(_("The glossary changes."))
    general += translated
    return changes
