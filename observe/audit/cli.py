"""``observe audit purge``: the retention period, applied."""

from __future__ import annotations

import click
from flask import current_app

from observe.audit import operations
from observe.extensions import db

audit_cli = click.Group("audit", help="The audit log.")


@audit_cli.command("purge")
def purge_command() -> None:
    """Remove audit events older than OBSERVE_AUDIT_RETENTION_DAYS (and record that it did)."""
    days = current_app.config["OBSERVE_AUDIT_RETENTION_DAYS"]
    removed = operations.purge(days)
    db.session.commit()
    click.echo(
        f"Removed {removed:,} audit event{'s' if removed != 1 else ''} older than {days:,} days."
    )
