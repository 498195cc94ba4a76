"""Who may do what: the one place every access decision goes through.

Roles and the school scope are decided here; each feature *declares* its own rules in its
``access.py`` (``@rule("walkthrough.read")``), and views and operations ask by name
(``allowed(user, "walkthrough.read", observation)``, ``check(...)``, or ``@requires(...)`` on a
view). A rule is a plain function of the person asking and, for most, the object asked about,
so what protects an object is read in one place, next to the feature it protects.

Nothing here imports a feature: a person is anything with the :class:`Principal` attributes
(``accounts.models.User`` is one, :data:`SYSTEM` the other).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort
from flask_babel import gettext
from flask_login import current_user

from observe.errors import Forbidden


class Role(enum.StrEnum):
    OBSERVER = "observer"
    SCHOOL_LEADER = "school-leader"
    DISTRICT_ADMIN = "district-admin"

    @property
    def label(self) -> str:
        """The role's name in the reader's language."""
        labels: dict[Role, str] = {
            Role.OBSERVER: gettext("Observer"),
            Role.SCHOOL_LEADER: gettext("School leader"),
            Role.DISTRICT_ADMIN: gettext("District admin"),
        }
        return labels[self]


class HasId(Protocol):
    @property
    def id(self) -> int: ...


class Principal(Protocol):
    """Whoever a decision is about: a signed-in user, or the server's command line."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...

    @property
    def is_district_admin(self) -> bool: ...

    @property
    def schools(self) -> Iterable[HasId]: ...


class System:
    """The command line, acting where the database is: every school, taking part in nothing
    (so the rules that protect people still hold: no calibration score before the reveal)."""

    id = 0
    name = "observe command line"
    role = Role.DISTRICT_ADMIN
    is_district_admin = True
    schools: tuple[HasId, ...] = ()


SYSTEM = System()

# ---- the school scope: what every feature's rules build on ------------------------------------


def visible_school_ids(who: Principal) -> set[int] | None:
    """The schools whose data ``who`` may see; ``None`` means every school."""
    if who.role is Role.DISTRICT_ADMIN:
        return None
    return {school.id for school in who.schools}


def can_see_school(who: Principal, school_id: int) -> bool:
    visible = visible_school_ids(who)
    return visible is None or school_id in visible


# ---- rules the features declare ------------------------------------------------------------------

RuleFunction = Callable[[Principal, Any], bool]
_RULES: dict[str, RuleFunction] = {}
R = TypeVar("R", bound=RuleFunction)


def rule(action: str) -> Callable[[R], R]:
    """Declare the rule for ``action`` (``"feature.verb"``); one rule per action."""

    def declare(function: R) -> R:
        if action in _RULES and _RULES[action] is not function:
            raise RuntimeError(f"two rules for {action!r}")
        _RULES[action] = function
        return function

    return declare


def roles(action: str, *allowed_roles: Role) -> None:
    """Declare a rule that depends on the role alone."""
    chosen = frozenset(allowed_roles)

    def by_role(who: Principal, target: Any = None) -> bool:
        return who.role in chosen

    by_role.__doc__ = f"{action}: {', '.join(r.label for r in allowed_roles)}"
    rule(action)(by_role)


def allowed(who: Principal, action: str, target: Any = None) -> bool:
    """Whether ``who`` may do ``action`` (to ``target``). An action nobody declared is a bug,
    not a refusal: it raises ``LookupError``."""
    try:
        decide = _RULES[action]
    except KeyError:
        raise LookupError(f"no rule is declared for {action!r}") from None
    return decide(who, target)


def check(who: Principal, action: str, target: Any = None, *, refusal: str) -> None:
    """Raise :class:`~observe.errors.Forbidden` with ``refusal`` unless ``allowed``."""
    if not allowed(who, action, target):
        raise Forbidden(refusal)


def declared() -> dict[str, RuleFunction]:
    """Every declared rule by action (for the docs and the tests)."""
    return dict(_RULES)


F = TypeVar("F", bound=Callable[..., Any])


def requires(action: str, refusal: str = "Your role does not allow this.") -> Callable[[F], F]:
    """A view decorator: 401 without a signed-in user, 403 (``refusal``) unless ``allowed``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if not allowed(current_user, action):
                abort(403, refusal)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
