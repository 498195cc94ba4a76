"""A validated rubric document written back out as a rubric file (YAML).

What :func:`to_yaml` writes parses to the same document, so it has the same content hash: the
same version. Defaults are left out, as a person would write the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

_ORDER = ("format", "key", "title", "description", "scale", "context_fields", "glossary")


def _level(level: Mapping[str, Any]) -> dict[str, Any]:
    out = {"value": level["value"], "label": level["label"]}
    if level.get("descriptor"):
        out["descriptor"] = level["descriptor"]
    return out


def _criterion(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": item["key"],
        "kind": item["kind"],
        "text": item["text"],
        "dimensions": list(item["dimensions"]),
    }
    if item.get("evidence_prompt"):
        out["evidence_prompt"] = item["evidence_prompt"]
    if item.get("descriptors"):
        # Stored with text keys (JSON); a file writes level values as numbers.
        out["descriptors"] = {int(k): v for k, v in item["descriptors"].items()}
    own = item.get("scale") or {}
    if own:
        scale: dict[str, Any] = {}
        if "not_observed" in own:
            scale["not_observed"] = own["not_observed"]
        if "levels" in own:
            scale["levels"] = [_level(level) for level in own["levels"]]
        out["scale"] = scale
    if item.get("required"):
        out["required"] = True
    if item.get("continues"):
        out["continues"] = item["continues"]
    return out


def plain_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document in file order with defaults left out."""
    out: dict[str, Any] = {key: document[key] for key in _ORDER[:3]}
    if document.get("description"):
        out["description"] = document["description"]
    scale = document["scale"]
    out["scale"] = {
        "not_observed": scale["not_observed"],
        "levels": [_level(level) for level in scale["levels"]],
    }
    if document.get("context_fields"):
        out["context_fields"] = [
            {
                "key": f["key"],
                "label": f["label"],
                "options": list(f["options"]),
                "multiple": f["multiple"],
                "required": f["required"],
            }
            for f in document["context_fields"]
        ]
    if document.get("glossary"):
        out["glossary"] = [
            {"term": e["term"], "definition": e["definition"]} for e in document["glossary"]
        ]
    out["competencies"] = []
    for competency in document["competencies"]:
        item: dict[str, Any] = {"key": competency["key"], "name": competency["name"]}
        if competency.get("description"):
            item["description"] = competency["description"]
        item["criteria"] = [_criterion(c) for c in competency["criteria"]]
        out["competencies"].append(item)
    return out


def to_yaml(document: Mapping[str, Any], note: str | None = None) -> str:
    """The rubric file for ``document``; ``note`` becomes a comment at the top."""
    text = yaml.safe_dump(
        plain_document(document), sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return (f"# {note}\n" if note else "") + text
