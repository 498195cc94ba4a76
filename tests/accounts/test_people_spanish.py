"""A person's admin page in Spanish: a refused change says what is wrong in the reader's
language and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from observe.accounts.models import User
from observe.core.permissions import Role
from observe.extensions import db

SPANISH = {"Accept-Language": "es"}


def test_a_refused_change_is_explained_in_spanish(client, sign_in, admin, create_user):
    user = create_user(email="coach@example.org", name="Coach")
    sign_in(admin)
    page = f"/admin/people/{user.id}"
    wrong = client.post_form(
        page, {"name": "Coach", "email": user.email, "role": "king"}, headers=SPANISH
    )
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "&#39;king&#39; no es un rol" in text and "elija si puede iniciar sesión" in text
    assert "is not a role" not in text

    leader = client.post_form(
        page,
        {"name": "", "email": "not-an-address", "role": "school-leader",
         "schools_shown": "1", "school": ["NOPE"], "active": "yes"},
        headers=SPANISH,
    )  # fmt: skip
    assert leader.status_code == 422
    text = leader.get_data(as_text=True)
    for words in (
        "no puede estar vacío",
        "&#39;not-an-address&#39; no es una dirección de correo electrónico",
        "código de escuela desconocido NOPE",
    ):
        assert words in text, words

    # The last active admin cannot demote themselves, in Spanish too.
    me = client.post_form(
        f"/admin/people/{admin.id}",
        {"name": admin.name, "email": admin.email, "role": "observer", "active": "yes"},
        headers=SPANISH,
    )
    assert me.status_code == 422
    assert "es el último administrador/a del distrito activo" in me.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalars(select(User).where(User.id == user.id)).one().role is Role.OBSERVER
    assert db.session.get(User, admin.id).role is Role.DISTRICT_ADMIN
