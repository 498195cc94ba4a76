"""Bulk inserts straight through the driver."""

from __future__ import annotations

from sqlalchemy import insert, select

from observe.core.database import executemany_plain
from observe.extensions import db
from observe.roster.models import SchoolAttribute


def test_rows_go_in_whatever_the_order_of_their_columns(create_school):
    school = create_school()
    statement = insert(SchoolAttribute.__table__)
    rows = [("north", school.id, "feeder"), ("yes", school.id, "magnet")]
    executemany_plain(db.session.connection(), statement, ("value", "school_id", "name"), rows)
    executemany_plain(db.session.connection(), statement, ("value", "school_id", "name"), [])
    db.session.commit()
    stored = db.session.execute(
        select(SchoolAttribute.name, SchoolAttribute.value).order_by(SchoolAttribute.name)
    ).all()
    assert stored == [("feeder", "north"), ("magnet", "yes")]
