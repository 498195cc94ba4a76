"""A validated rubric document written back out as a rubric file (YAML).

What :func:`to_yaml` writes parses to the same document, so it has the same content hash: the
same version. Defaults are left out, as a person would write the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from observe.rubrics.translations import translated

_ORDER = ("format", "key", "title", "description", "scale", "context_fields", "glossary")


class _Text:
    """Writes a field as the file had it: plain text, or ``{en: …, es: …}`` when the document
    holds translations of it (the first of the file's ``languages`` is the plain text's)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.default = (document.get("languages") or ["en"])[0]

    def __call__(self, item: Mapping[str, Any], field: str) -> Any:
        return translated(item, field, self.default)

    def options(self, item: Mapping[str, Any]) -> list[Any]:
        shown = {
            language: entry["options"]
            for language, entry in sorted((item.get("translations") or {}).items())
            if "options" in entry
        }
        out: list[Any] = []
        for i, option in enumerate(item["options"]):
            texts = {lang: given[i] for lang, given in shown.items() if given[i] is not None}
            out.append({self.default: option, **texts} if texts else option)
        return out

    def descriptors(self, item: Mapping[str, Any]) -> dict[int, Any]:
        # Stored with text keys (JSON); a file writes level values as numbers.
        own = {
            language: entry["descriptors"]
            for language, entry in sorted((item.get("translations") or {}).items())
            if "descriptors" in entry
        }
        out: dict[int, Any] = {}
        for level, text in item["descriptors"].items():
            texts = {lang: given[level] for lang, given in own.items() if level in given}
            out[int(level)] = {self.default: text, **texts} if texts else text
        return out


def _level(level: Mapping[str, Any], text: _Text) -> dict[str, Any]:
    out = {"value": level["value"], "label": text(level, "label")}
    if level.get("descriptor"):
        out["descriptor"] = text(level, "descriptor")
    return out


def _criterion(item: Mapping[str, Any], text: _Text) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": item["key"],
        "kind": item["kind"],
        "text": text(item, "text"),
        "dimensions": list(item["dimensions"]),
    }
    if item.get("evidence_prompt"):
        out["evidence_prompt"] = text(item, "evidence_prompt")
    if item.get("descriptors"):
        out["descriptors"] = text.descriptors(item)
    own = item.get("scale") or {}
    if own:
        scale: dict[str, Any] = {}
        if "not_observed" in own:
            scale["not_observed"] = own["not_observed"]
        if "levels" in own:
            scale["levels"] = [_level(level, text) for level in own["levels"]]
        out["scale"] = scale
    if item.get("required"):
        out["required"] = True
    if item.get("continues"):
        out["continues"] = item["continues"]
    return out


def plain_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document in file order with defaults left out."""
    text = _Text(document)
    out: dict[str, Any] = {key: document[key] for key in _ORDER[:2]}
    if document.get("languages"):
        out["languages"] = list(document["languages"])
    out["title"] = text(document, "title")
    if document.get("description"):
        out["description"] = text(document, "description")
    scale = document["scale"]
    out["scale"] = {
        "not_observed": scale["not_observed"],
        "levels": [_level(level, text) for level in scale["levels"]],
    }
    if document.get("context_fields"):
        out["context_fields"] = [
            {
                "key": f["key"],
                "label": text(f, "label"),
                "options": text.options(f),
                "multiple": f["multiple"],
                "required": f["required"],
            }
            for f in document["context_fields"]
        ]
    if document.get("glossary"):
        out["glossary"] = [
            {"term": text(e, "term"), "definition": text(e, "definition")}
            for e in document["glossary"]
        ]
    out["competencies"] = []
    for competency in document["competencies"]:
        item: dict[str, Any] = {"key": competency["key"], "name": text(competency, "name")}
        if competency.get("description"):
            item["description"] = text(competency, "description")
        item["criteria"] = [_criterion(c, text) for c in competency["criteria"]]
        out["competencies"].append(item)
    return out


def to_yaml(document: Mapping[str, Any], note: str | None = None) -> str:
    """The rubric file for ``document``; ``note`` becomes a comment at the top."""
    text = yaml.safe_dump(
        plain_document(document), sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return (f"# {note}\n" if note else "") + text
