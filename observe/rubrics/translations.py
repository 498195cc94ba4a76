"""Translated rubric text: a rubric file may give any name, descriptor, evidence prompt, option
or glossary entry in several languages (``name: {en: Effective Communicator, es: Comunicador
eficaz}``), once it declares them (``languages: [en, es]``, the first the language of its plain
text). See docs/rubric-format.md, "Languages".

Reading a file, :func:`split` replaces every ``{language: text}`` with the default language's
text, so the rest of the validation sees the file as it always has, and keeps the others;
:func:`attach` then files them in the validated document beside the text they translate
(``translations: {es: {name: …}}`` on the competency, level, look-for, …). A file without
translations gives the same document as before, so the same content hash. No Flask, no database.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext

from observe.core.validation import Path, text_problem

LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")  # the whole value: es, es-mx, haw

# Where translatable text lives: the kind of item → its translatable fields and their
# maximum lengths (format.py's MAX_NAME 200 and MAX_PROSE 5000).
_NAME, _PROSE = 200, 5000
FIELDS: dict[str, dict[str, int]] = {
    "rubric": {"title": _NAME, "description": _PROSE},
    "level": {"label": _NAME, "descriptor": _PROSE},
    "context_field": {"label": _NAME},
    "glossary": {"term": _NAME, "definition": _PROSE},
    "competency": {"name": _NAME, "description": _PROSE},
    "criterion": {"text": _PROSE, "evidence_prompt": _PROSE},
}


@dataclass(frozen=True)
class Translation:
    """The texts in other languages of one value: ``where`` is the item's path, ``field`` the
    field, ``index`` an option's position or a descriptor's level value (else None)."""

    where: Path
    field: str
    index: int | str | None
    texts: dict[str, str]


def items(data: Mapping[str, Any]) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """Every item that may hold translated text: (kind, path, the item)."""
    yield "rubric", (), data  # type: ignore[misc]
    scale = data.get("scale")
    if isinstance(scale, Mapping):
        yield from _levels(scale, ("scale",))
    for kind, key in (("context_field", "context_fields"), ("glossary", "glossary")):
        for i, item in _list(data, key):
            yield kind, (key, i), item
    for i, competency in _list(data, "competencies"):
        yield "competency", ("competencies", i), competency
        for j, criterion in _list(competency, "criteria"):
            path: Path = ("competencies", i, "criteria", j)
            yield "criterion", path, criterion
            own = criterion.get("scale")
            if isinstance(own, Mapping):
                yield from _levels(own, (*path, "scale"))


def _levels(scale: Mapping[str, Any], path: Path) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    for i, level in _list(scale, "levels"):
        yield "level", (*path, "levels", i), level


def _list(data: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(data, Mapping) and isinstance(data.get(key), list):
        for i, item in enumerate(data[key]):
            if isinstance(item, dict):
                yield i, item


def declared_languages(data: Mapping[str, Any]) -> list[str] | None:
    """The file's languages when it declares them soundly (the schema reports the rest)."""
    languages = data.get("languages")
    if (
        isinstance(languages, list)
        and languages
        and all(isinstance(code, str) and LANGUAGE.fullmatch(code) for code in languages)
    ):
        return list(languages)
    return None


def split(
    data: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Translation], list[tuple[Path, str]]]:
    """A copy of ``data`` with each translated value replaced by its default-language text;
    the translations; and every problem with them, located by path."""
    plain = copy.deepcopy(dict(data))
    languages = declared_languages(plain)
    found: list[Translation] = []
    problems: list[tuple[Path, str]] = []
    said_how: list[bool] = []

    def take(value: Mapping[Any, Any], path: Path, limit: int) -> tuple[str, dict[str, str]]:
        """The default text of one translated value, and its texts in the other languages."""
        texts: dict[str, str] = {}
        if languages is None:
            # How to declare them is said once, on the first such text.
            if said_how:
                problems.append(
                    (
                        path,
                        gettext("a text in several languages needs the file's languages declared"),
                    )
                )
            else:
                problems.append(
                    (
                        path,
                        gettext(
                            "a text in several languages needs the file's languages declared: "
                            "add languages: [en, es] at the top (the first is the language of "
                            "every text given once, the others are its translations)"
                        ),
                    )
                )
                said_how.append(True)
            default = None
        else:
            default = languages[0]
        for language, text in value.items():
            at = (*path, str(language))
            if languages is not None and language not in languages:
                problems.append(
                    (
                        at,
                        gettext(
                            "%(language)s is not one of the file's languages (%(languages)s); "
                            "add it to languages, or remove this text",
                            language=repr(language),
                            languages=", ".join(languages),
                        ),
                    )
                )
            elif not isinstance(text, str) or not text.strip():
                problems.append(
                    (
                        at,
                        gettext(
                            "must be non-empty text (leave a language out to show the default)"
                        ),
                    )
                )
            elif problem := text_problem(text):
                problems.append((at, problem))
            elif len(text.strip()) > limit:
                problems.append(
                    (
                        at,
                        gettext(
                            "must be at most %(most)s characters; this is %(length)s",
                            most=format(limit, ","),
                            length=format(len(text.strip()), ","),
                        ),
                    )
                )
            else:
                texts[str(language)] = text.strip()
        if default is not None and default not in value:
            problems.append(
                (
                    path,
                    gettext(
                        "the text in the file's default language (%(language)s) is missing; "
                        "every translated text needs it",
                        language=default,
                    ),
                )
            )
        others = {k: v for k, v in texts.items() if k != default}
        if default is not None and isinstance(value.get(default), str):
            return value[default], others
        # A stand-in, so the file's other checks do not report this value again.
        return f"(text of {'.'.join(map(str, path))})", others

    def replace(
        holder: Any, key: Any, path: Path, limit: int, item: Path, field: str, index: Any
    ) -> None:
        text, others = take(holder[key], path, limit)
        holder[key] = text
        if others:
            found.append(Translation(item, field, index, others))

    for kind, path, item in items(plain):
        for field, limit in FIELDS[kind].items():
            if isinstance(item.get(field), Mapping):
                replace(item, field, (*path, field), limit, path, field, None)
        if kind == "context_field" and isinstance(item.get("options"), list):
            for i, option in enumerate(item["options"]):
                if isinstance(option, Mapping):
                    replace(item["options"], i, (*path, "options", i), _NAME, path, "options", i)
        if kind == "criterion" and isinstance(item.get("descriptors"), dict):
            for level, text in list(item["descriptors"].items()):
                if isinstance(text, Mapping):
                    at = (*path, "descriptors", level)
                    replace(item["descriptors"], level, at, _PROSE, path, "descriptors", str(level))
    return plain, found, problems


def attach(document: dict[str, Any], found: list[Translation]) -> None:
    """File each translation in the validated ``document`` beside the text it translates."""
    for translation in found:
        item: Any = document
        for part in translation.where:
            item = item[part]
        for language, text in translation.texts.items():
            entry = item.setdefault("translations", {}).setdefault(language, {})
            if translation.field == "options":
                shown = entry.setdefault("options", [None] * len(item["options"]))
                shown[int(translation.index or 0)] = text
            elif translation.field == "descriptors":
                entry.setdefault("descriptors", {})[str(translation.index)] = text
            else:
                entry[translation.field] = text


def language_problems(data: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """What the schema cannot say about ``languages``: a code written twice."""
    languages = data.get("languages")
    if not isinstance(languages, list):
        return []
    seen: set[str] = set()
    problems: list[tuple[Path, str]] = []
    for i, code in enumerate(languages):
        if isinstance(code, str) and code in seen:
            problems.append(
                (("languages", i), gettext("%(value)s is listed twice", value=repr(code)))
            )
        if isinstance(code, str):
            seen.add(code)
    return problems


def translated(item: Mapping[str, Any], field: str, default: str) -> Any:
    """A field as a file writes it: the plain text, or ``{default: text, es: …}`` when the
    document holds translations of it (for export.py)."""
    texts = {
        language: entry[field]
        for language, entry in sorted((item.get("translations") or {}).items())
        if field in entry
    }
    return {default: item[field], **texts} if texts else item[field]


def without_translations(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` as a file with no translations would give it."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if k != "translations"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    plain = strip(document)
    plain.pop("languages", None)
    return plain


def texts(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """Every translated text of ``document``: (language, where it is) → text."""
    found: dict[tuple[str, str], str] = {}
    for _, path, item in items(document):
        place = ".".join(map(str, path)) or "rubric"
        for language, entry in (item.get("translations") or {}).items():
            for field, value in entry.items():
                if isinstance(value, list):
                    for i, text in enumerate(value):
                        if text is not None:
                            found[(language, f"{place}.{field}.{i}")] = text
                elif isinstance(value, Mapping):
                    for level, text in value.items():
                        found[(language, f"{place}.{field}.{level}")] = text
                else:
                    found[(language, f"{place}.{field}")] = value
    return found


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed in the translations from ``old`` to ``new``, one sentence per language
    (in the reader's language: Flask-Babel's gettext, English outside a request)."""
    sentences = []
    if old.get("languages") != new.get("languages"):
        was = ", ".join(old.get("languages") or []) or gettext("none declared")
        now = ", ".join(new.get("languages") or []) or gettext("none declared")
        sentences.append(
            gettext("The file's languages change from %(was)s to %(now)s.", was=was, now=now)
        )
    before, after = texts(old), texts(new)
    for language in sorted({lang for lang, _ in before} | {lang for lang, _ in after}):
        mine_before = {where: t for (lang, where), t in before.items() if lang == language}
        mine_after = {where: t for (lang, where), t in after.items() if lang == language}
        added = len(mine_after.keys() - mine_before.keys())
        changed = sum(
            1 for w in mine_after.keys() & mine_before.keys() if mine_after[w] != mine_before[w]
        )
        removed = len(mine_before.keys() - mine_after.keys())
        said = [
            words
            for n, words in (
                (added, gettext("%(n)s added", n=added)),
                (changed, gettext("%(n)s changed", n=changed)),
                (removed, gettext("%(n)s removed", n=removed)),
            )
            if n
        ]
        if said:
            sentences.append(
                gettext(
                    "Translations into %(language)s: texts %(counts)s.",
                    language=language,
                    counts=", ".join(said),
                )
            )
    return sentences


# --- reading a version in the reader's language ------------------------------------------------


def language_for(document: Mapping[str, Any], reader: str) -> str | None:
    """Which of the file's translations serves a reader of ``reader`` (``es``, ``es-MX``), or
    None when the plain text does: the reader's language is the file's default, or the file
    has no translation into it. An exact code wins, then the same primary language (a reader
    of ``es`` reads a file's ``es-mx``)."""
    languages = [code.lower() for code in document.get("languages") or []]
    reader = reader.lower().replace("_", "-")
    primary = reader.split("-")[0]
    if not languages or languages[0] in (reader, primary):
        return None
    if reader in languages[1:]:
        return reader
    return next((code for code in languages[1:] if code.split("-")[0] == primary), None)


def localized(document: Mapping[str, Any], reader: str) -> dict[str, Any]:
    """A copy of ``document`` with every text the file translates into the reader's language
    in that language, the rest as written (the file's default language): what a reader of
    ``reader`` sees. The copy holds no translations."""
    shown = copy.deepcopy(dict(document))
    language = language_for(document, reader)
    for kind, _path, item in items(shown):
        entry = (item.pop("translations", None) or {}).get(language) if language else None
        if not entry:
            continue
        for field in FIELDS[kind]:
            if isinstance(entry.get(field), str):
                item[field] = entry[field]
        if kind == "context_field" and isinstance(entry.get("options"), list):
            item["options"] = [
                text if text is not None else plain
                for plain, text in zip(item.get("options") or [], entry["options"], strict=False)
            ]
        if kind == "criterion" and isinstance(entry.get("descriptors"), Mapping):
            item["descriptors"] = {**(item.get("descriptors") or {}), **entry["descriptors"]}
    if language is None:
        for _kind, _path, item in items(shown):
            item.pop("translations", None)
    return shown


@dataclass(frozen=True)
class Wording:
    """One rubric version's texts for one reader, looked up by key or by the plain text the
    database rows and reports carry (what a stored row or a report holds is the file's default
    language). Anything not translated comes back as given."""

    title: str
    competencies: dict[str, str]  # key → name
    criteria: dict[str, str]  # key → text
    levels: dict[str, dict[int, str]]  # look-for key → level value → label
    # plain text → the reader's text, for reports that carry only the text
    names: dict[str, str]
    texts: dict[str, str]
    labels: dict[str, str]
    fields: dict[str, str]  # context field key → label
    options: dict[str, dict[str, str]]  # context field key → plain option → the reader's
    # equity dimension key → the reader's word, where the file's glossary defines the dimension
    # (a term "Identity") and translates that term
    dimensions: dict[str, str] = dataclasses.field(default_factory=dict)

    def dimension(self, key: str) -> str:
        """An equity dimension's name (``identity``) for this reader: the rubric glossary's
        translation of the term, else observe's own word (:func:`dimension_name`)."""
        return self.dimensions.get(key) or dimension_name(key)

    def competency(self, name: str, key: str | None = None) -> str:
        if key is not None and key in self.competencies:
            return self.competencies[key]
        return self.names.get(name, name)

    def criterion(self, text: str, key: str | None = None) -> str:
        if key is not None and key in self.criteria:
            return self.criteria[key]
        return self.texts.get(text, text)

    def level(self, label: str, value: int | None = None, criterion: str | None = None) -> str:
        if criterion is not None and value is not None:
            own = self.levels.get(criterion, {}).get(value)
            if own is not None:
                return own
        return self.labels.get(label, label)

    def field(self, key: str, label: str) -> str:
        return self.fields.get(key, label)

    def option(self, key: str, value: str) -> str:
        return self.options.get(key, {}).get(value, value)


# The equity dimensions' names (rubrics/format.py DIMENSIONS, the enum's values), as observe
# writes them when the rubric's glossary does not translate them.
DIMENSION_NAMES = {
    "identity": lazy_gettext("Identity"),
    "power": lazy_gettext("Power"),
    "access": lazy_gettext("Access"),
    "achievement": lazy_gettext("Achievement"),
}


def dimension_name(key: str) -> str:
    """An equity dimension's name in the reader's language (English outside a request); a key
    observe does not know, capitalized as it is."""
    name = DIMENSION_NAMES.get(key)
    return str(name) if name is not None else key.capitalize()


def _dimension_terms(plain: Mapping[str, Any], shown: Mapping[str, Any]) -> dict[str, str]:
    """Dimension key → the reader's term, from glossary entries whose plain term names a
    dimension (``Identity``) and whose term the file translates."""
    found: dict[str, str] = {}
    for mine, theirs in zip(plain.get("glossary") or [], shown.get("glossary") or [], strict=True):
        key = str(mine.get("term", "")).casefold()
        if key in DIMENSION_NAMES and theirs.get("term") != mine.get("term"):
            found.setdefault(key, theirs["term"])
    return found


def wording(document: Mapping[str, Any], reader: str) -> Wording:
    """``document``'s texts for a reader of ``reader``: see :class:`Wording`."""
    shown = localized(document, reader)
    plain = localized(document, (document.get("languages") or ["en"])[0])
    if language_for(document, reader) is None:
        return Wording(shown.get("title", ""), {}, {}, {}, {}, {}, {}, {}, {})

    def scale_of(doc: Mapping[str, Any], criterion: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list((criterion.get("scale") or doc.get("scale") or {}).get("levels") or [])

    names: dict[str, str] = {}
    texts: dict[str, str] = {}
    labels: dict[str, str] = {}
    competencies: dict[str, str] = {}
    criteria: dict[str, str] = {}
    levels: dict[str, dict[int, str]] = {}
    for mine, theirs in zip(plain["competencies"], shown["competencies"], strict=True):
        competencies[mine["key"]] = theirs["name"]
        names.setdefault(mine["name"], theirs["name"])
        for c, t in zip(mine["criteria"], theirs["criteria"], strict=True):
            criteria[c["key"]] = t["text"]
            texts.setdefault(c["text"], t["text"])
            pairs = zip(scale_of(plain, c), scale_of(shown, t), strict=True)
            levels[c["key"]] = {}
            for a, b in pairs:
                levels[c["key"]][a["value"]] = b["label"]
                labels.setdefault(a["label"], b["label"])
    fields: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    for mine, theirs in zip(
        plain.get("context_fields") or [], shown.get("context_fields") or [], strict=True
    ):
        fields[mine["key"]] = theirs["label"]
        options[mine["key"]] = dict(
            zip(mine.get("options") or [], theirs.get("options") or [], strict=True)
        )
    return Wording(
        shown["title"],
        competencies,
        criteria,
        levels,
        names,
        texts,
        labels,
        fields,
        options,
        _dimension_terms(plain, shown),
    )
