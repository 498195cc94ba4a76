"""Turning marshmallow's nested error messages into located problems people can act on."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import IntegerConverter, Map

from observe.errors import ValidationFailed, error_response

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Sequence[PathPart]) -> str:
    """``("competencies", 2, "key")`` → ``competencies[2].key``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def flatten_messages(messages: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Turn marshmallow's nested error dict into ``(path, message)`` pairs, in order."""
    found: list[tuple[Path, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            child = path if key == "_schema" else (*path, key)
            found.extend(flatten_messages(value, child))
    elif isinstance(messages, list | tuple):
        for item in messages:
            found.extend(flatten_messages(item, path))
    else:
        text = str(messages)
        if "{key}" in text:
            text = text.replace("{key}", repr(path[-1]) if path else "")
        found.append((path, text))
    return found


def validation_failed(error: ValidationError) -> ValidationFailed:
    """A marshmallow error as the API's 422, every problem named by its field."""
    problems = {format_path(p) or "body": m for p, m in flatten_messages(error.messages)}
    return ValidationFailed.naming("The request is not valid", problems)


def load_body(schema: Schema, body: Any, *, screened: bool = True) -> dict[str, Any]:
    """A request's JSON body loaded by ``schema``, or a 422 naming every problem.

    The whole body is first :func:`screen`-ed for what no database could store, unless the
    schema's own fields do that (``screened=False``: the push, whose versions are checked one
    by one)."""
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    if screened and (found := screen(body)):
        problems = {format_path(p) or "body": m for p, m in found[:20]}
        raise ValidationFailed.naming("The request is not valid", problems)
    try:
        loaded: dict[str, Any] = schema.load(body)
        return loaded
    except ValidationError as error:
        raise validation_failed(error) from None


# ---- what either database can store ------------------------------------------------------------
#
# PostgreSQL refuses NUL in text and JSONB; neither database (nor UTF-8) can hold an unpaired
# surrogate; an integer column is 32 bits on PostgreSQL. Input that breaks one of these is
# refused before anything is written, the same way on both databases, naming the field.

MAX_ID = 2**31 - 1  # PostgreSQL's ``integer``, the narrower of the two databases' id columns
MAX_DEPTH = 20  # JSON nesting: a walkthrough needs four levels
_HOSTILE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None. Cheap: plain ASCII without NUL is the common
    case and costs two C-level scans."""
    if "\x00" in text:
        return "contains a NUL character, which cannot be stored"
    if not text.isascii() and _HOSTILE.search(text):
        return "contains an unpaired surrogate, which is not valid Unicode"
    return None


def printable(text: str) -> str:
    """``text`` with NUL and unpaired surrogates written as ``\\uXXXX``: safe to store and echo."""
    return _HOSTILE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def id_problem(value: int) -> str | None:
    if not 1 <= value <= MAX_ID:
        return f"must be an id from 1 to {MAX_ID}"
    return None


def screen(value: Any, path: Path = (), depth: int = 0) -> list[tuple[Path, str]]:
    """Everything in a decoded JSON document that neither database could store, located.

    Strings must be storable text, integers fit a 32-bit column (every integer the API takes is
    an id, a level or a count), numbers be finite, nesting at most :data:`MAX_DEPTH` deep."""
    found: list[tuple[Path, str]] = []
    if isinstance(value, str):
        if problem := text_problem(value):
            found.append((path, problem))
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not -MAX_ID <= value <= MAX_ID:
            found.append((path, f"is out of range (at most {MAX_ID} either side of 0)"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            found.append((path, "is not a finite number"))
    elif depth >= MAX_DEPTH:
        found.append((path, f"is nested too deeply (at most {MAX_DEPTH} levels)"))
    elif isinstance(value, dict):
        for key, child in value.items():
            if problem := text_problem(key):
                found.append(((*path, printable(key)), f"its name {problem}"))
                continue
            found.extend(screen(child, (*path, key), depth + 1))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found.extend(screen(child, (*path, i), depth + 1))
    return found


def storable(value: Any, depth: int = 0) -> Any:
    """A copy of a decoded JSON document that both databases can store: hostile text escaped
    (see :func:`printable`), numbers that are not finite written as text, and anything nested
    deeper than :data:`MAX_DEPTH` replaced by a note. For keeping what was refused."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        return f"(nested more than {MAX_DEPTH} levels; not kept)"
    if isinstance(value, dict):
        return {printable(str(k)): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v, depth + 1) for v in value]
    return value


class Text(fields.String):
    """A string either database can store (no NUL, no unpaired surrogate)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if problem := text_problem(text):
            raise ValidationError(problem)
        return text


class Id(fields.Integer):
    """A row id: a strict integer in the range of an id column on both databases."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = super()._deserialize(value, attr, data, **kwargs)
        if problem := id_problem(number):
            raise ValidationError(problem)
        return number


class UTCDateTime(fields.AwareDateTime):
    """A date and time with its offset, which must still be a date and time once in UTC
    (``0001-01-01T00:00:00+14:00`` is not)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("is out of range once converted to UTC") from None


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a document nested deeper than Python's parser can follow is
    a parse error (so a 4xx), not a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON document is nested too deeply") from None


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: ASCII digits within an id column's range, else a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# ---- query parameters and form fields ------------------------------------------------------------

# The dates anyone may name (reports, goals, sessions): walkthroughs are from 2000 on, and these
# bounds keep every date convertible to a moment in UTC in any time zone (year 1 or 9999 is not).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE = validate.Range(
    EARLIEST_DATE, LATEST_DATE, error=f"must be between {EARLIEST_DATE} and {LATEST_DATE}"
)
MAX_CURSOR = 2**63 - 1  # the change feed's BIGINT
_WHOLE = re.compile(r"-?[0-9]{1,19}")


def whole_number(text: str | None, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high``, or None. ASCII digits only:
    ``str.isdigit`` also accepts "²", which ``int`` refuses."""
    if text is None or not _WHOLE.fullmatch(text.strip()):
        return None
    number = int(text)
    return number if low <= number <= high else None


def form_number(text: str | None) -> int | str | None:
    """A form field as the JSON API's integer where it is an id-sized whole number; anything
    else is passed on as it is, for the API's schema to name as invalid."""
    if text is None or text.strip() == "":
        return None
    number = whole_number(text, -MAX_ID, MAX_ID)
    return text if number is None else number


def hostile_field() -> tuple[str, str, str] | None:
    """The first query parameter or form field (name or value) of this request that no
    database could store: what it is, its name, and what is wrong."""
    sources = [("query parameter", request.args)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form field", request.form))
    for kind, values in sources:
        for name, items in values.lists():
            for text in (name, *items):
                if problem := text_problem(text):
                    return kind, printable(name), problem
    return None


def register_screening(app: Flask) -> None:
    """Refuse, for every route at once, a request carrying what no database can store."""

    @app.before_request
    def refuse_unstorable_fields() -> tuple[Response | str, int] | None:
        # A NUL in any query parameter or form field would reach PostgreSQL as a 500; every
        # view is spared from checking for it. Refused as any other bad value of a field is.
        if found := hostile_field():
            kind, name, problem = found
            return error_response(
                ValidationFailed.status,
                ValidationFailed.code,
                f"The {kind} {name!r} {problem}.",
                {name: [problem]},
            )
        for value in (request.view_args or {}).values():
            if isinstance(value, str) and text_problem(value):
                return error_response(404, "not_found", "Nothing is found at this address.")
        return None
