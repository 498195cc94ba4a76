"""Days and months are the district's (OBSERVE_TIMEZONE), not UTC's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from observe.core import clock
from observe.core.models import UTCDateTime
from observe.core.permissions import SYSTEM
from observe.extensions import db
from observe.reports import rollups, summary
from observe.reports.models import RollupState
from tests.reports.test_pdf import pdf_text

LOS_ANGELES = "America/Los_Angeles"
# 5:30 pm on 31 October in California; already 1 November in UTC.
AFTERNOON = "2026-11-01T00:30:00+00:00"
RATING = [{"criterion": "ct-explain-reasoning", "level": 3}]


@pytest.fixture
def california(app, monkeypatch):
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", LOS_ANGELES)


def months(args: dict) -> tuple[dict | None, dict]:
    """The walkthroughs per month, from the rollups (None when they cannot answer) and
    counted afresh."""
    db.session.rollback()
    query = summary.parse_query(SYSTEM, args)
    from_rollups = summary._rollup_counts(SYSTEM, query)
    fresh = summary._counts(SYSTEM, query)
    return from_rollups and dict(from_rollups["months"]), dict(fresh["months"])


def test_a_california_afternoon_counts_in_its_own_month(california, push_as, team):
    push_as(team.observers[0], {"observed_at": AFTERNOON, "ratings": RATING})
    push_as(team.observers[0], {"observed_at": "2026-11-01T18:00:00+00:00", "ratings": RATING})
    summary._ensure_rollups()  # built now; the next push is counted as it comes
    push_as(team.observers[1], {"observed_at": AFTERNOON, "ratings": RATING})
    expected = {"2026-10": 2, "2026-11": 1}
    assert months({}) == (expected, expected)
    # A date range is the district's days: 31 October takes in the afternoon visits.
    assert months({"from": "2026-10-01", "to": "2026-10-31"}) == ({"2026-10": 2},) * 2
    # Part of a month: counted from the walkthroughs.
    assert months({"from": "2026-10-31", "to": "2026-10-31"}) == (None, {"2026-10": 2})


def test_rollups_built_in_another_zone_are_counted_afresh(app, push_as, team, monkeypatch):
    push_as(team.observers[0], {"observed_at": AFTERNOON, "ratings": RATING})
    summary._ensure_rollups()
    assert months({})[0] == {"2026-11": 1}  # UTC
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", LOS_ANGELES)
    assert not rollups.is_built(db.session)
    assert months({})[0] == {"2026-10": 1}
    assert db.session.get(RollupState, 1).timezone.split()[0] == LOS_ANGELES


def test_a_writer_in_another_zone_stops_reports_reading_the_rollups(
    app, push_as, team, monkeypatch
):
    """A process whose OBSERVE_TIMEZONE differs (a shell without it, a server set otherwise)
    cannot keep the rollups true: it sets them aside, and the next report counts afresh."""
    push_as(team.observers[0], {"observed_at": AFTERNOON, "ratings": RATING})
    summary._ensure_rollups()
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", LOS_ANGELES)
    push_as(team.observers[1], {"observed_at": AFTERNOON, "ratings": RATING})
    db.session.rollback()
    assert db.session.get(RollupState, 1) is None
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", "UTC")
    assert months({}) == ({"2026-11": 2}, {"2026-11": 2})


def test_rollups_counted_under_other_rules_of_the_same_zone_are_counted_afresh(app, push_as, team):
    push_as(team.observers[0], {"observed_at": AFTERNOON, "ratings": RATING})
    summary._ensure_rollups()
    db.session.get(RollupState, 1).timezone = "UTC 000000000000"  # as before a tzdata update
    db.session.commit()
    assert not rollups.is_built(db.session)
    assert months({})[0] == {"2026-11": 1}
    assert rollups.is_built(db.session)


def test_the_database_and_python_agree_on_every_month_boundary(california, app):
    """SQLite has no zones: its months come from the zone's offsets looked up in SQL. Check
    the hours around each month's start and each change of clocks, 2024 to 2027."""
    dialect = db.engine.dialect.name
    moments = []
    for year in range(2024, 2028):
        for month in range(1, 13):
            start = clock.day_start(datetime(year, month, 1).date())
            moments += [start + timedelta(minutes=m) for m in (-61, -1, 0, 1, 59, 61)]
    changes = [when for when, _ in clock._offsets(LOS_ANGELES) if 2024 <= when.year <= 2027]
    moments += [when + timedelta(minutes=m) for when in changes for m in (-1, 0, 1)]
    # The moments as rows of a scratch table, read through one month expression (as the
    # reports do), rather than hundreds of literal expressions the database must compile.
    scratch = Table("tz_moments", MetaData(), Column("n", Integer, primary_key=True),
                    Column("at", UTCDateTime()), prefixes=["TEMPORARY"])  # fmt: skip
    connection = db.session.connection()
    scratch.create(connection)
    try:
        connection.execute(insert(scratch), [{"n": n, "at": m} for n, m in enumerate(moments)])
        month = clock.month_sql(scratch.c.at, dialect)
        from_database = connection.execute(select(month).order_by(scratch.c.n)).scalars().all()
    finally:
        scratch.drop(connection)
    assert from_database == [clock.month_of(m) for m in moments]


def test_feedback_and_exports_show_the_districts_day(
    california, client, sign_in, push_as, team, tmp_path
):
    observation_id = push_as(team.observers[0], {"observed_at": AFTERNOON, "ratings": RATING})
    sign_in(team.observers[0])
    page = client.get(f"/walkthroughs/{observation_id}/feedback").get_data(as_text=True)
    assert "31 October 2026" in page and "1 November 2026" not in page
    pdf = client.get(f"/walkthroughs/{observation_id}/feedback.pdf")
    assert "walkthrough-2026-10-31-" in pdf.headers["Content-Disposition"]
    text = pdf_text(pdf.data, tmp_path)
    assert "31 October 2026" in text and "1 November 2026" not in text  # header and body
    exported = client.get("/reports/export/download?format=csv&from=2026-10-31&to=2026-10-31")
    assert exported.status_code == 200, exported.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {(r["observed_at"], r["observed_on"]) for r in rows} == {
        ("2026-11-01T00:30:00Z", "2026-10-31")
    }


def test_times_on_pages_carry_the_districts_zone(california, app):
    with app.test_request_context():
        from observe.core.formatting import local_time

        winter = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
        assert local_time(winter) == "2026-11-30 16:30 PST"
        assert local_time("2026-07-01T19:05:00Z") == "2026-07-01 12:05 PDT"
        assert local_time(None) == ""
        assert local_time("2026-07-01T19:05:00") == "2026-07-01 12:05 PDT"  # naive: stored UTC


def test_a_misspelt_zone_stops_the_start_and_says_why(make_app):
    with pytest.raises(RuntimeError, match="OBSERVE_TIMEZONE must be a time zone name"):
        make_app(OBSERVE_TIMEZONE="America/Los_Angelos")


def test_the_tablet_app_carries_the_zone_and_changes_version_with_it(client, app, monkeypatch):
    """The app's page tells the tablet the district's zone; a new zone is a new app version,
    so installed tablets take the new page from the service worker's update."""
    utc = client.get("/sw.js").get_data(as_text=True)
    monkeypatch.setitem(app.config, "OBSERVE_TIMEZONE", LOS_ANGELES)
    page = client.get("/app/").get_data(as_text=True)
    assert f'<meta name="observe-timezone" content="{LOS_ANGELES}">' in page
    assert client.get("/sw.js").get_data(as_text=True) != utc
