"""The JSON API under /api/v1: the blueprint every feature adds its routes to (in its own
``api.py``), and the API's OpenAPI description. Imports no feature."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi() -> Response:
    """The API's OpenAPI 3.1 description (observe/api/openapi.yaml)."""
    return jsonify(_openapi_document())


@cache
def _openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(
        (Path(__file__).parent / "openapi.yaml").read_text(encoding="utf-8")
    )
    return document
