"""Who may read the audit log (``observe.core.permissions``): district admins only — it names
everyone who read teacher-level data."""

from __future__ import annotations

from observe.core.permissions import Role, roles

READ = "audit.read"

roles(READ, Role.DISTRICT_ADMIN)
