"""Across reports: subtracting two summaries a reader may request — date ranges a month or a day
apart, the district (or the reader's schools) minus one school — never reveals a count or level
distribution of walkthroughs the reader could not read one by one in their own export."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from observe.core.permissions import Role
from tests.reports.test_suppression_audit import small_district, summary  # noqa: F401

PAIRS = [
    ("from=2026-09-01", "from=2026-10-01"),  # a month apart: September
    ("to=2026-10-31", "to=2026-10-30"),  # a day apart: 31 October
    ("from=2026-08-01", "from=2026-08-02"),  # a day apart: 1 August
]


def exported(client, bearer, user) -> list[dict]:
    response = client.get("/api/v1/exports/observations?format=json", headers=bearer(user))
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def figures(report: dict) -> tuple[int, dict] | None:
    if report["suppressed"]:
        return None
    return report["observations"], {
        c["key"]: c["distribution"] for c in report["criteria"] if c["distribution"] is not None
    }


def readable(rows: list[dict], keep) -> tuple[int, dict]:
    """Walkthroughs and per-level counts of the export rows ``keep`` selects."""
    chosen = [r for r in rows if keep(r)]
    levels: dict[str, Counter] = {}
    for r in chosen:
        if r["level"] is not None:
            levels.setdefault(r["criterion"], Counter())[str(r["level"])] += 1
    return len({r["observation_id"] for r in chosen}), levels


@pytest.mark.parametrize("who", ["admin", "leader", "leader of several", "observer team"])
def test_two_reports_differ_only_by_what_the_reader_may_read(
    app,
    client,
    bearer,
    admin,
    team,
    small_district,  # noqa: F811
    create_user,
    who,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "OBSERVE_MIN_GROUP_SIZE", 3)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 1)
    reader = {
        "admin": lambda: admin,
        "leader": lambda: create_user(Role.SCHOOL_LEADER, schools=[team.school]),
        "leader of several": lambda: create_user(Role.SCHOOL_LEADER,
                                                 schools=[team.school, small_district[2]]),
        "observer team": lambda: create_user(Role.SCHOOL_LEADER, schools=[team.school]),
    }[who]()  # fmt: skip
    extra = f"&observer={team.observers[0].email}" if who == "observer team" else ""
    rows = exported(client, bearer, reader)
    assert rows, "the reader reads walkthroughs one by one"
    compared = 0
    pairs = [(a + extra, b + extra, None) for a, b in PAIRS]
    for school in {r["school_code"] for r in rows}:
        pairs.append((extra.lstrip("&"), f"school={school}{extra}", school))
    for wide, narrow, _school in pairs:
        one, two = (
            figures(summary(client, bearer, reader, wide)),
            figures(summary(client, bearer, reader, narrow)),
        )
        if one is None or two is None:
            continue
        difference = one[0] - two[0]
        wide_rows = readable(rows, lambda r, q=wide: _within(r, q))
        narrow_rows = readable(rows, lambda r, q=narrow: _within(r, q))
        # Each report counts exactly the walkthroughs of the reader's own export in its scope:
        # so their difference is a set of walkthroughs the reader reads one by one.
        assert (one[0], two[0]) == (wide_rows[0], narrow_rows[0]), (wide, narrow)
        assert difference == wide_rows[0] - narrow_rows[0]
        for key, distribution in two[1].items():
            if key in one[1]:
                for level, n in one[1][key].items():
                    readable_difference = (
                        wide_rows[1].get(key, Counter())[level]
                        - narrow_rows[1].get(key, Counter())[level]
                    )
                    assert n - distribution[level] == readable_difference
        compared += 1
    assert compared >= 2


def _within(row: dict, query: str) -> bool:
    args = dict(part.split("=", 1) for part in query.split("&") if part)
    day = row["observed_on"]
    if "from" in args and day < args["from"]:
        return False
    if "to" in args and day > args["to"]:
        return False
    if "school" in args and row["school_code"] != args["school"]:
        return False
    return not ("observer" in args and row["observer"] != "Ann Ames")
