"""Every feature's commands, added to the app's ``observe`` command (observe/cli.py)."""

from __future__ import annotations

import click
from flask import Flask


def register_commands(app: Flask) -> None:
    from observe.accounts.cli import tokens_cli, users_cli
    from observe.audit.cli import audit_cli
    from observe.backup.cli import backup_command, restore_command
    from observe.calibration import cli as calibration
    from observe.calibration.cli import agreement_command
    from observe.demo import demo_command
    from observe.observations import cli as observations
    from observe.observations.relabel import relabel_command
    from observe.reports import cli as reports
    from observe.reports.cli import export_cli, reports_cli
    from observe.roster.cli import roster_cli, years_cli
    from observe.rubrics.cli import rubrics_cli
    from observe.sync.cli import import_offline_command

    # Each feature prints its own reports; ``observe report`` gathers them.
    report_cli = click.Group("report", help="Print reports as PDF files.")
    for feature in (calibration, observations, reports):
        report_cli.add_command(feature.report_command)
    # School years are the roster's; closing one freezes the reports' goals.
    years_cli.add_command(reports.close_year_command)

    # Correcting walkthroughs' history is a roster matter to an admin, but it writes
    # walkthroughs: it lives with them and joins ``observe roster`` here.
    roster_cli.add_command(relabel_command)
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
        years_cli,
        reports.goals_cli,
        reports_cli,
        audit_cli,
        backup_command,
        restore_command,
    )
    for command in commands:
        app.cli.add_command(command)
