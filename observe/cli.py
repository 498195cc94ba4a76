"""The ``observe`` command: Flask's own commands (run, shell, db …) plus observe's."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    from observe.accounts.cli import tokens_cli, users_cli
    from observe.audit.cli import audit_cli
    from observe.backup.cli import backup_command, restore_command
    from observe.calibration.cli import agreement_command
    from observe.demo import demo_command
    from observe.reports.cli import export_cli, report_cli
    from observe.roster.cli import roster_cli
    from observe.rubrics.cli import rubrics_cli
    from observe.sync.cli import import_offline_command

    commands = (
        users_cli,
        tokens_cli,
        rubrics_cli,
        roster_cli,
        demo_command,
        import_offline_command,
        agreement_command,
        report_cli,
        export_cli,
        audit_cli,
        backup_command,
        restore_command,
    )
    for command in commands:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from observe import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """observe: equity-focused classroom walkthroughs."""
