"""observe/core/permissions.py: the one place access is decided; each feature declares its
rules (``access.py``), and the rules are read back here."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import observe
from observe.core import permissions
from observe.core.permissions import SYSTEM, Role, allowed, check, rule
from observe.errors import Forbidden

PACKAGE = Path(observe.__file__).parent


def person(role: Role, id: int = 5, schools: tuple[int, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(
        id=id,
        role=role,
        is_district_admin=role is Role.DISTRICT_ADMIN,
        schools=[SimpleNamespace(id=s) for s in schools],
    )


def test_an_action_nobody_declared_is_a_bug_not_a_refusal() -> None:
    with pytest.raises(LookupError, match=r"walkthrough\.reed"):
        allowed(person(Role.DISTRICT_ADMIN), "walkthrough.reed")


def test_an_action_is_declared_once() -> None:
    with pytest.raises(RuntimeError, match="two rules"):
        rule("walkthrough.read")(lambda who, target: True)


def test_check_refuses_with_the_message_given() -> None:
    with pytest.raises(Forbidden, match="not for observers"):
        check(person(Role.OBSERVER), "reports.summary", refusal="not for observers")
    check(person(Role.SCHOOL_LEADER), "reports.summary", refusal="unused")


def test_every_action_asked_for_in_the_code_is_declared() -> None:
    """A misspelt action fails here, not in front of a person."""
    for module in pkgutil.walk_packages([str(PACKAGE)], "observe."):
        if ".access" in module.name:
            importlib.import_module(module.name)
    declared = permissions.declared()
    named: set[str] = set()
    for path in PACKAGE.rglob("access.py"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'^[A-Z_]+ = "([a-z_.]+)"', text, flags=re.M))
    assert named == set(declared), "declare each action by a named constant in access.py"


def test_the_command_line_sees_every_school_and_takes_part_in_nothing() -> None:
    assert permissions.visible_school_ids(SYSTEM) is None
    assert allowed(SYSTEM, "reports.summary")
    session = SimpleNamespace(facilitator_id=9, has_participant=lambda user_id: user_id == 9)
    assert allowed(SYSTEM, "calibration.view", session)  # as a district admin does
    score = SimpleNamespace(author_id=9, calibration_session_id=3, school_id=1)
    assert not allowed(SYSTEM, "walkthrough.read", score)  # nobody reads another's score


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (person(Role.OBSERVER, id=1), True),  # the author
        (person(Role.OBSERVER, id=2, schools=(10,)), False),
        (person(Role.SCHOOL_LEADER, id=2, schools=(10,)), True),
        (person(Role.SCHOOL_LEADER, id=2, schools=(11,)), False),
        (person(Role.DISTRICT_ADMIN, id=2), True),
    ],
)
def test_who_reads_a_walkthrough(who: SimpleNamespace, expected: bool) -> None:
    walkthrough = SimpleNamespace(author_id=1, calibration_session_id=None, school_id=10)
    assert allowed(who, "walkthrough.read", walkthrough) is expected
    assert allowed(who, "walkthrough.delete", walkthrough) is (
        who.id == 1 or who.role is Role.DISTRICT_ADMIN
    )


@pytest.mark.parametrize(
    ("who", "school_goal", "district_goal"),
    [
        (person(Role.OBSERVER, schools=(10,)), False, False),
        (person(Role.SCHOOL_LEADER, schools=(10,)), True, False),
        (person(Role.SCHOOL_LEADER, schools=(11,)), False, False),  # another school's goal
        (person(Role.DISTRICT_ADMIN), True, True),
    ],
)
def test_who_removes_a_goal(who: SimpleNamespace, school_goal: bool, district_goal: bool) -> None:
    """Asked on its own, the rule holds: no reliance on the caller having filtered the goals."""
    assert allowed(who, "goals.remove", SimpleNamespace(school_id=10)) is school_goal
    assert allowed(who, "goals.remove", SimpleNamespace(school_id=None)) is district_goal
