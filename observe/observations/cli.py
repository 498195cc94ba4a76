"""``observe report observation``: one walkthrough's feedback page as a PDF file."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from observe.audit.operations import record
from observe.core.pdf import PAPER, write_pdf
from observe.extensions import db
from observe.observations import views
from observe.observations.models import Observation


@click.command("observation")
@click.argument("observation_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=PAPER, default="letter", show_default=True)
def report_command(observation_id: str, output: Path, paper: str) -> None:
    """The feedback page of one walkthrough, for its teacher."""
    observation = db.session.get(Observation, observation_id)
    if observation is None or observation.is_deleted:
        raise click.ClickException(f"no walkthrough {observation_id}")
    if observation.calibration_session_id is not None:
        raise click.ClickException(
            f"walkthrough {observation_id} is a score in a calibration session, not a visit; "
            "print the session's report instead"
        )
    with current_app.test_request_context():
        write_pdf(output, views.print_feedback(observation, paper))
    record(
        "walkthrough.feedback_printed",
        object_type="observation",
        object_id=observation.id,
        detail={"output": str(output)},
    )
    db.session.commit()
