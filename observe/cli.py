"""The ``observe`` command: Flask's own commands (run, shell, db …) plus observe's (each
feature's, gathered in observe/commands.py when the app is made)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from observe import create_app


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """observe: equity-focused classroom walkthroughs."""
