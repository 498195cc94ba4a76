"""Who may change the district's rubrics (``observe.core.permissions``). Reading a rubric is
open to every signed-in person: it is the shared language of the walkthroughs."""

from __future__ import annotations

from observe.core.permissions import Role, roles

MANAGE = "rubrics.manage"

roles(MANAGE, Role.DISTRICT_ADMIN)
