"""Turning marshmallow's nested error messages into located problems people can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, ValidationError

from observe.errors import ValidationFailed

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


def load_body(schema: Schema, body: Any) -> dict[str, Any]:
    """A request's JSON body loaded by ``schema``, or a 422 naming every problem."""
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    try:
        return schema.load(body)
    except ValidationError as error:
        raise validation_failed(error) from None
