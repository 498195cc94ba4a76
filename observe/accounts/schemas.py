"""People as JSON."""

from __future__ import annotations

from typing import Any

from observe.accounts.models import User


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        # The person's language setting (docs/languages.md); null follows the browser.
        "language": user.language,
    }
