"""The password policy: long enough, not common, not the person's email (docs/security.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from observe.accounts import operations, passwords
from observe.accounts.models import User
from observe.core.permissions import Role
from observe.errors import ValidationFailed
from observe.extensions import db

COMMON = "is one of the most common passwords, the first an attacker tries; choose a few " \
    "unrelated words instead"  # fmt: skip


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "must be at least 10 characters long"),
        ("x" * 201, "must be at most 200 characters long"),
        ("password123", COMMON),
        ("qwertyuiop", COMMON),
        ("1q2w3e4r5t", COMMON),
        ("QWERTYUIOP", COMMON),  # case does not help
        ("Sunshine2026!", COMMON),  # nor digits and symbols around a common one
        ("!!football!!", COMMON),
        ("maya.lopez-2026", "must not contain your email address's name part"),
        ("aaaaaaaaaaaaaa", "must use more than two different characters"),
        ("abababababab", "must use more than two different characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, problem):
    assert problem in operations.password_problems(password, "Maya.Lopez@example.org")
    with pytest.raises(ValidationFailed) as refused:
        operations.check_password_rules(password, "maya.lopez@example.org")
    assert refused.value.message.startswith("password: ")
    assert problem in refused.value.details["password"]


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "seven purple lanterns", "walk-Zq8x1mP0aa2w", "tuesday rain 4 owls"],
)
def test_good_passwords_pass(password):
    assert operations.password_problems(password, "maya.lopez@example.org") == []


def test_a_short_local_part_is_not_a_rule_on_its_own():
    """ "al@…" would refuse every password containing "al": two letters say nothing."""
    assert operations.password_problems("a calm alpine lake", "al@example.org") == []


def test_the_list_is_the_public_one_loaded_once():
    assert passwords.is_common("123456") and passwords.is_common("iloveyou")
    assert not passwords.is_common("seven purple lanterns")
    assert passwords._common.cache_info().currsize == 1
    assert len(passwords._common()) == 30_000


def test_creating_a_user_with_a_common_password_writes_nothing():
    with pytest.raises(ValidationFailed) as refused:
        operations.create_user("pat@example.org", "Pat", Role.OBSERVER, "Password2026")
    assert refused.value.details == {"password": [COMMON]}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_the_command_line_names_the_problem(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "pat@example.org", "--name", "Pat", "--role", "observer"],
        env={"OBSERVE_PASSWORD": "pat@example.org!"},
    )
    assert result.exit_code == 1
    assert "password: must not contain your email address's name part" in result.output
