"""The audit log in Spanish: each action's description follows the reader's language; the
action codes, stable for programs, do not."""

from __future__ import annotations

from observe.audit import operations
from observe.core.permissions import Role

SPANISH = {"Accept-Language": "es"}


def test_the_actions_are_described_in_the_readers_language(client, sign_in, create_user):
    admin = create_user(Role.DISTRICT_ADMIN, email="admin@example.org")
    sign_in(admin)  # records a sign_in event
    spanish = client.get("/admin/audit", headers=SPANISH).get_data(as_text=True)
    assert "<code>sign_in</code>" in spanish
    assert "sign_in — inició sesión" in spanish  # the action filter's choice
    assert "token.revoked — revocó un token de API" in spanish
    assert "signed in" not in spanish
    english = client.get("/admin/audit").get_data(as_text=True)
    assert "sign_in — signed in" in english and "inició sesión" not in english
    # Every action has a description in both (the catalog test checks every message).
    assert all(str(meaning) for meaning in operations.ACTIONS.values())
