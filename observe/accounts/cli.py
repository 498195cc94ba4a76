"""``observe users …`` and ``observe tokens …``."""

from __future__ import annotations

import os

import click
from sqlalchemy import select

from observe.accounts import operations
from observe.accounts.models import Role, User
from observe.errors import ValidationFailed
from observe.extensions import db

users_cli = click.Group("users", help="Manage the people who sign in.")
tokens_cli = click.Group("tokens", help="Manage personal API tokens.")


def _user_or_fail(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == operations.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user


def _password_from_env_or_prompt() -> str:
    password = os.environ.get("OBSERVE_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name as colleagues know it.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="observer, school-leader or district-admin.",
)
@click.option(
    "--school", "schools", multiple=True, metavar="CODE", help="A school they work in (repeat)."
)
def create_user(email: str, name: str, role: str, schools: tuple[str, ...]) -> None:
    """Create a user. The password comes from OBSERVE_PASSWORD, else a prompt."""
    password = _password_from_env_or_prompt()
    try:
        user = operations.create_user(email, name, Role(role), password, list(schools))
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    where = ", ".join(s.code for s in user.schools) or "every school"
    click.echo(f"Created {user.role.label.lower()} {user.email} ({user.name}); schools: {where}.")


@users_cli.command("set-password")
@click.argument("email")
def set_password(email: str) -> None:
    """Set a user's password (from OBSERVE_PASSWORD, else a prompt)."""
    user = _user_or_fail(email)
    try:
        operations.set_password(user, _password_from_env_or_prompt())
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Password changed for {user.email}.")


@users_cli.command("list")
def list_users() -> None:
    """List every user with role and schools."""
    for user in db.session.scalars(select(User).order_by(User.role, User.email)):
        schools = ",".join(s.code for s in user.schools) or "-"
        state = "" if user.active else " (inactive)"
        click.echo(f"{user.email}\t{user.role.value}\t{schools}\t{user.name}{state}")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True, help="What the token is for.")
def create_token(email: str, name: str) -> None:
    """Create an API token; the token alone is printed on the last line."""
    user = _user_or_fail(email)
    _, secret = operations.create_token(user, name)
    db.session.commit()
    click.echo(f"Created token “{name}” for {user.email}. It is shown once; store it safely.")
    click.echo(secret)
