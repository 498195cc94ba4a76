"""The photos on the walkthrough page: what its template asks for (``walkthrough_photos``).

The walkthrough's page belongs to observations, a floor below; it learns of photos through this
template global, registered with the app, so observations imports nothing of photos."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from observe.observations.models import Observation
from observe.photos import operations, storage

bp = Blueprint("photos", __name__)


@bp.record_once
def _check_storage(state: BlueprintSetupState) -> None:
    storage.check_settings(state.app.config)  # a bucket without boto3 stops the start


@bp.app_template_global()
def walkthrough_photos(observation: Observation) -> list[dict[str, Any]]:
    return operations.shown(observation)
