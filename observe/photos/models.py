"""Photos of student work or the board, kept as evidence with a walkthrough.

A photo belongs to one walkthrough and is known by the SHA-256 of its bytes: the tablet names
it by that hash when it uploads, so an upload sent twice (a retry after a lost answer) is the
same photo, never a second one. The bytes themselves live in the photo storage
(``observe.photos.storage``), not in the database; this row says what they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from observe.core.models import UTCDateTime, utcnow
from observe.extensions import Model

if TYPE_CHECKING:
    from observe.accounts.models import User


class Photo(Model):
    __tablename__ = "photo"
    __table_args__ = (
        UniqueConstraint("observation_id", "sha256", name="uq_photo_observation_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by walkthrough through the unique constraint, whose first column this is.
    observation_id: Mapped[str] = mapped_column(ForeignKey("observation.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes, lower-case hex
    content_type: Mapped[str] = mapped_column(String(20))  # image/jpeg, image/png, image/webp
    bytes: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    # The look-for it is evidence for (a criterion key of the walkthrough's rubric version), or
    # None for the walkthrough as a whole.
    criterion_key: Mapped[str | None] = mapped_column(String(100))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    uploaded_by: Mapped[User] = relationship()

    @property
    def storage_key(self) -> str:
        return f"{self.observation_id}/{self.sha256}"
