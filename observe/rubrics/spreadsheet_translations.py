"""A rubric workbook's ``translations`` sheet: one row per translated text, read into the same
``{language: text}`` values a YAML file writes, and written from a document's translations.

Columns: ``language``, ``sheet`` (the sheet of the text translated), ``key`` (which row of it),
``column`` (which of its columns) and ``text``. The key is what names a row on its own sheet:
the field on the rubric sheet (``title``), a competency's or look-for's key, a level's value
(``2``; ``ql-names:2`` for a level of that look-for's own scale), a context field's key, a
glossary term. Options are translated one per row (``option 1``, ``option 2``, …), as
descriptors are (``descriptor 3``). docs/rubric-format.md has the layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flask_babel import gettext as _

from observe.core.validation import Path

# The sheet a translated text is on → its translatable columns → the field of the rubric data.
COLUMNS: dict[str, dict[str, str]] = {
    "rubric": {"value": ""},  # the field is the row's key: title or description
    "competencies": {"name": "name", "description": "description"},
    "look-fors": {"text": "text", "evidence prompt": "evidence_prompt"},  # and descriptor N
    "scale": {"label": "label", "descriptor": "descriptor"},
    "context fields": {"label": "label"},  # and option N
    "glossary": {"term": "term", "definition": "definition"},
}
RUBRIC_FIELDS = ("title", "description")
_NUMBERED = re.compile(r"(descriptor|option)\s+(-?[0-9]{1,9})")  # fullmatch, normalised names


def _norm(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().casefold())


class Targets:
    """Finds, in rubric data read from the other sheets, the item a translation row names."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def _index(self, key: str, items: Any, field: str) -> int | None:
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, Mapping) and _plain(item.get(field)) == key:
                    return i
        return None

    def find(self, sheet: str, key: str) -> tuple[Path | None, str]:
        """The path of the item ``key`` names on ``sheet``, or None and why not."""
        data = self.data
        if sheet == "rubric":
            if key in RUBRIC_FIELDS:
                return (), ""
            return None, _(
                "the rubric sheet's translatable fields are %(fields)s",
                fields=", ".join(RUBRIC_FIELDS),
            )
        if sheet == "competencies":
            i = self._index(key, data.get("competencies"), "key")
            return (
                (None, _("no competency with key %(key)s", key=repr(key)))
                if i is None
                else (
                    ("competencies", i),
                    "",
                )
            )
        if sheet == "look-fors":
            found = self._criterion(key)
            return (
                (found, "") if found else (None, _("no look-for with key %(key)s", key=repr(key)))
            )
        if sheet == "scale":
            owner, _colon, value = key.rpartition(":")
            if not re.fullmatch(r"-?[0-9]{1,9}", value.strip()):
                return None, _("name a level by its value (2), or ql-names:2 for a look-for's own")
            scale_path: Path = ("scale",)
            if owner:
                criterion = self._criterion(owner.strip())
                if criterion is None:
                    return None, _("no look-for with key %(key)s", key=repr(owner.strip()))
                scale_path = (*criterion, "scale")
            scale = _at(data, scale_path)
            levels = scale.get("levels") if isinstance(scale, Mapping) else None
            if isinstance(levels, list):
                for i, level in enumerate(levels):
                    if isinstance(level, Mapping) and level.get("value") == int(value):
                        return (*scale_path, "levels", i), ""
            if owner:
                return None, _(
                    "no level of look-for %(key)s with value %(value)s",
                    key=repr(owner.strip()),
                    value=value.strip(),
                )
            return None, _("no level with value %(value)s", value=value.strip())
        if sheet == "context fields":
            i = self._index(key, data.get("context_fields"), "key")
            return (
                (None, _("no context field with key %(key)s", key=repr(key)))
                if i is None
                else (
                    ("context_fields", i),
                    "",
                )
            )
        i = self._index(key, data.get("glossary"), "term")
        return (
            (None, _("no glossary term %(term)s", term=repr(key)))
            if i is None
            else (("glossary", i), "")
        )

    def _criterion(self, key: str) -> Path | None:
        for i, competency in enumerate(self.data.get("competencies") or []):
            for j, criterion in enumerate(competency.get("criteria") or []):
                if isinstance(criterion, Mapping) and criterion.get("key") == key:
                    return ("competencies", i, "criteria", j)
        return None


def _plain(value: Any) -> Any:
    """A value's default text once a translation made it ``{language: text}``."""
    if isinstance(value, Mapping):
        return next(iter(value.values()), None)
    return value


def _at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def field_of(sheet: str, key: str, column: str) -> tuple[str, Any, str]:
    """(field, index, problem) for a translated column: the data's field ("options",
    "descriptors" or a text field), the option's position or descriptor's level, and what is
    wrong with the column name ("" when nothing)."""
    name = _norm(column)
    if sheet == "rubric":
        return (
            key,
            None,
            "" if name in ("value", "") else _("on the rubric sheet, use column value"),
        )
    numbered = _NUMBERED.fullmatch(name)
    if numbered and (numbered.group(1), sheet) in (
        ("descriptor", "look-fors"),
        ("option", "context fields"),
    ):
        number = int(numbered.group(2))
        if numbered.group(1) == "option":
            return "options", number - 1, "" if number >= 1 else _("options are numbered from 1")
        return "descriptors", number, ""
    columns = COLUMNS[sheet]
    if name in columns:
        return columns[name], None, ""
    allowed = ", ".join(columns)
    if sheet == "look-fors":
        allowed += ", descriptor N"
    if sheet == "context fields":
        allowed += ", option N"
    return (
        "",
        None,
        _(
            "column %(column)s of %(sheet)s is not translated here; use %(allowed)s",
            column=repr(column),
            sheet=sheet,
            allowed=allowed,
        ),
    )


def translate(
    data: dict[str, Any],
    path: Path,
    field: str,
    index: Any,
    language: str,
    text: str,
) -> tuple[Path | None, str]:
    """Add ``text`` as the ``language`` text of a value in ``data``; the path of the value (for
    locating problems) or None and why it cannot be translated."""
    item = _at(data, path)
    holder: Any = item
    key: Any = field
    if field == "options":
        options = item.get("options")
        if not isinstance(options, list) or not 0 <= index < len(options):
            return None, _("the context field has no option %(number)s", number=index + 1)
        holder, key = options, index
    elif field == "descriptors":
        descriptors = item.get("descriptors")
        if not isinstance(descriptors, dict) or index not in descriptors:
            return None, _("the look-for has no descriptor %(level)s to translate", level=index)
        holder, key = descriptors, index
    value = holder.get(key) if isinstance(holder, dict) else holder[key]
    if value is None or value == "":
        return None, _("there is no text here to translate")
    if not isinstance(value, dict):
        value = {None: value}  # the default language's key is filled in once it is known
    if language in value:
        return None, _("this text is translated into that language twice")
    value[language] = text
    holder[key] = value
    return (*path, field, index) if index is not None else (*path, field), ""


def settle_defaults(data: dict[str, Any], default: str) -> None:
    """Put the default language's key on every value a translation turned into a mapping."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if None in value:
                return {default: value.pop(None), **value}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    for key in list(data):
        data[key] = walk(data[key])


def rows(document: Mapping[str, Any]) -> Iterator[list[Any]]:
    """The translations sheet of ``document``: language, sheet, key, column, text."""
    tr: Callable[[Mapping[str, Any]], Mapping[str, Any]] = lambda item: (  # noqa: E731
        item.get("translations") or {}
    )

    def text_rows(item: Mapping[str, Any], sheet: str, key: str) -> Iterator[list[Any]]:
        for language, entry in sorted(tr(item).items()):
            for column, field in COLUMNS[sheet].items():
                if field and field in entry:
                    yield [language, sheet, key, column, entry[field]]
            for level, text in entry.get("descriptors", {}).items():
                yield [language, sheet, key, f"descriptor {level}", text]
            for i, text in enumerate(entry.get("options", [])):
                if text is not None:
                    yield [language, sheet, key, f"option {i + 1}", text]

    for language, entry in sorted(tr(document).items()):
        for field in RUBRIC_FIELDS:
            if field in entry:
                yield [language, "rubric", field, "value", entry[field]]
    for competency in document["competencies"]:
        yield from text_rows(competency, "competencies", competency["key"])
    for competency in document["competencies"]:
        for criterion in competency["criteria"]:
            yield from text_rows(criterion, "look-fors", criterion["key"])
    for level in document["scale"]["levels"]:
        yield from text_rows(level, "scale", str(level["value"]))
    for competency in document["competencies"]:
        for criterion in competency["criteria"]:
            for level in (criterion.get("scale") or {}).get("levels", []):
                yield from text_rows(level, "scale", f"{criterion['key']}:{level['value']}")
    for item in document.get("context_fields", []):
        yield from text_rows(item, "context fields", item["key"])
    for item in document.get("glossary", []):
        yield from text_rows(item, "glossary", item["term"])
