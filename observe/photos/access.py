"""Who may add and see a walkthrough's photos: the rules this feature declares
(``observe.core.permissions``)."""

from __future__ import annotations

from typing import Any

from observe.core.permissions import Principal, allowed, rule
from observe.observations import access as walkthrough

ADD = "photo.add"
VIEW = "photo.view"


@rule(ADD)
def can_add(who: Principal, observation: Any) -> bool:
    """Add a photo to a walkthrough: its author only, as only its author writes its versions."""
    return bool(observation.author_id == who.id)


@rule(VIEW)
def can_view(who: Principal, observation: Any) -> bool:
    """See a walkthrough's photos: whoever may read the walkthrough in full."""
    return allowed(who, walkthrough.READ, observation)
