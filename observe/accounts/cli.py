"""``observe users …`` and ``observe tokens …``."""

from __future__ import annotations

import os

import click
from sqlalchemy import select

from observe.accounts import operations
from observe.accounts.models import User
from observe.core.permissions import Role
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
    if user.role is Role.DISTRICT_ADMIN:
        where = "every school"
    else:
        where = ", ".join(s.code for s in user.schools) or "none yet (they see no school's data)"
    click.echo(f"Created {user.role.label.lower()} {user.email} ({user.name}); schools: {where}.")


# Used by set-role and update alike: the schools given replace the person's.
_replacing_schools = click.option(
    "--school",
    "schools",
    multiple=True,
    metavar="CODE",
    help="A school they work in (repeat); replaces their schools.",
)


@users_cli.command("set-role")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="observer, school-leader or district-admin.",
)
@_replacing_schools
def set_role(email: str, role: str, schools: tuple[str, ...]) -> None:
    """Change a user's role and schools (e.g. after their first single sign-on made them an
    observer with no schools)."""
    user = _user_or_fail(email)
    try:
        operations.set_role(user, Role(role), list(schools))
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    where = ", ".join(s.code for s in user.schools)
    if not where:
        where = "every school" if user.is_district_admin else "none"
    click.echo(f"{user.email} is now {user.role.label.lower()}; schools: {where}.")


@users_cli.command("update")
@click.argument("email")
@click.option("--name", help="Their name as colleagues know it.")
@click.option("--email", "new_email", metavar="NEW_EMAIL", help="A new email address.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    help="observer, school-leader or district-admin.",
)
@_replacing_schools
@click.option("--no-schools", is_flag=True, help="Take away all their schools.")
@click.option(
    "--deactivate/--activate",
    "deactivate",
    default=None,
    help="Stop them signing in (sessions end, tokens revoked) / let them sign in again.",
)
def update_user(
    email: str,
    name: str | None,
    new_email: str | None,
    role: str | None,
    schools: tuple[str, ...],
    no_schools: bool,
    deactivate: bool | None,
) -> None:
    """Change a person's name, email, role, schools or whether they may sign in; what is not
    given stays as it is. Every change is in the audit log."""
    if schools and no_schools:
        raise click.UsageError("give --school or --no-schools, not both")
    changes = operations.UserChanges(
        name=name,
        email=new_email,
        role=Role(role) if role else None,
        school_codes=() if no_schools else (schools or None),
        active=None if deactivate is None else not deactivate,
    )
    if changes == operations.UserChanges():
        raise click.UsageError(
            "nothing to change: give --name, --email, --role, --school, --no-schools, "
            "--deactivate or --activate"
        )
    user = _user_or_fail(email)
    try:
        changed = operations.update_user(user, changes)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    if not changed:
        click.echo(f"Nothing changed: {user.email} already had those values.")
        return
    click.echo(f"Updated {user.email}:")
    for line in operations.describe_changes(changed):
        click.echo(f"  {line}")


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
    click.echo(f"Password changed for {user.email}; every session of theirs has ended.")


@users_cli.command("sign-out-everywhere")
@click.argument("email")
@click.option(
    "--revoke-tokens", is_flag=True, help="Revoke their API tokens too (a suspected break-in)."
)
def sign_out_everywhere(email: str, revoke_tokens: bool) -> None:
    """End every session of a user on every device at once. Tablets keep unsynced work."""
    user = _user_or_fail(email)
    operations.sign_out_everywhere(user)
    revoked = operations.revoke_tokens(user) if revoke_tokens else 0
    db.session.commit()
    message = f"Every session of {user.email} has ended; they sign in again on each device."
    if revoke_tokens:
        message += f" {revoked} API token{'' if revoked == 1 else 's'} revoked."
    click.echo(message)


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Stop a user signing in; their sessions end and their API tokens are revoked now. Their
    walkthroughs stay."""
    user = _user_or_fail(email)
    try:
        operations.set_active(user, False)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(
        f"{user.email} is deactivated; every session of theirs has ended and their API tokens "
        "are revoked."
    )


@users_cli.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Let a deactivated user sign in again (with a new sign-in; old tokens stay revoked)."""
    user = _user_or_fail(email)
    operations.set_active(user, True)
    db.session.commit()
    click.echo(f"{user.email} can sign in again.")


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
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, operations.MAX_TOKEN_DAYS),
    help="Days until the token stops working (default: never; revoke it instead).",
)
@click.option("--read-only", is_flag=True, help="The token may read but change nothing.")
def create_token(email: str, name: str, expires_in_days: int | None, read_only: bool) -> None:
    """Create an API token; the token alone is printed on the last line."""
    user = _user_or_fail(email)
    try:
        token, secret = operations.create_token(
            user, name, expires_in_days=expires_in_days, read_only=read_only
        )
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    access = "read-only" if read_only else "read-and-change"
    until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "until revoked"
    click.echo(
        f"Created {access} token “{token.name}” for {user.email}, valid {until}. "
        "It is shown once; store it safely."
    )
    click.echo(secret)
