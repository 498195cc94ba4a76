"""Who may do what. Views call these before doing any work."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from observe.accounts.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


def require_role(*roles: Role) -> Callable[[F], F]:
    """Refuse the request with 403 unless the signed-in user has one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403, "Your role does not allow this.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def visible_school_ids(user: User) -> set[int] | None:
    """The schools whose data ``user`` may see; ``None`` means every school."""
    if user.role is Role.DISTRICT_ADMIN:
        return None
    return {school.id for school in user.schools}


def can_see_school(user: User, school_id: int) -> bool:
    visible = visible_school_ids(user)
    return visible is None or school_id in visible
