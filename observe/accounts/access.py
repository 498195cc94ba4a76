"""Who may manage other people's accounts (``observe.core.permissions``): district admins
only — roles and schools decide what everyone else may read."""

from __future__ import annotations

from observe.core.permissions import Role, roles

MANAGE_PEOPLE = "people.manage"

roles(MANAGE_PEOPLE, Role.DISTRICT_ADMIN)
