"""A school year that stays true (issue 13, item 5): a district driven from August to June
through the changes a real year brings, checking after each that the past did not move and
that the tablets can finish what they hold.

The year is 2025-26, wholly in the past, so walkthroughs are pushed through the sync API with
the dates they happened on (the server refuses only dates in the future) and the district's
clock (``observe.core.clock``) puts them in their months. The district is built from the
roster samples the roster tests use: the simple CSV layout (Lincoln High, Oak Street
Elementary, Riverside Middle) and the OneRoster bundle (Washington High, Elm Elementary).

What the year brings, in order: a school year with its terms (``observe years add``) and two
district goals, one ending in December and one in May; the fall's walkthroughs; version 2 of
the rubric in January (a look-for reworded with ``continues``, one removed, one added) while
tablets hold drafts on version 1; roster re-imports with a blank cell and guessed levels;
version 1 retired in February; a classroom moving school; a school recoded and two merged; a
classroom becoming honors and another getting a new teacher; ``observe roster relabel`` shown,
then run on purpose (the one step that moves the fall, by course level only); staff changes;
and in June the year closed, a May walkthrough synced late, next year added and the goals
carried into it.

What must hold after every step (:func:`the_fall_held`): the fall's walkthroughs by school, the
summary's district figures and its groups by school, its splits by course level and by program
(what each classroom was at the visit), and the export's as-it-was columns (teacher, grade,
subject, course level, programs) of every fall rating; December's goal keeps its status and
deciding figure, and the spring goal counts only September to May
(:func:`goals_judged_on_their_own_window`).

**Adding a step**: write a function ``step_<month>_<what>(year: Year) -> None`` that makes the
change through the commands and routes a district uses, updating what the checks expect when
the change is meant to move the fall (``year.expected_fall``, as :func:`merged` does, or
``year.expected_splits`` and ``year.expected_export``, as the relabel step does), and put
it in :data:`STEPS` where it falls in the year. After every step, :func:`the_fall_held` and
:func:`tablets_finish_what_they_hold` run; a step may also assert its own outcome.
"""

from __future__ import annotations

import copy
import csv
import io
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from observe import paths
from observe.accounts import operations as account_ops
from observe.accounts.models import User
from observe.core import clock
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationState
from observe.reports.suppression import COVER
from observe.roster.models import Classroom, School
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_file
from tests.roster.conftest import DATA

FALL = (date(2025, 8, 1), date(2025, 12, 31))
FALL_MONTHS = (8, 9, 10, 11, 12)
LEVEL_KEY, SECOND_KEY = "ct-explain-reasoning", "ct-rigorous-task"
# Version 2 of the rubric (January): one look-for reworded (``continues``), one removed, one added.
REWORDED_OLD, REWORDED_NEW = "co-academic-discourse", "co-academic-talk"
REMOVED, ADDED = "ec-take-action", "sd-set-goals"
# Splits of the fall by what the classroom was (no teacher in them), and the export's columns
# that say what it was and what the observer's form read.
FALL_SPLITS = ("course_level", "program")
AS_IT_WAS = ("teacher", "grade", "subject", "course_level", "programs", "rubric_version",
             "criterion_text", "level_descriptor")  # fmt: skip


# ---- the simulated tablets -------------------------------------------------------------------


@dataclass
class Tablet:
    """One observer's tablet: the schools it holds offline, what it has synced, and what it
    holds unsent (drafts and amendments), as the app keeps them."""

    email: str
    headers: dict[str, str]
    cursor: str
    schools: dict[int, list[int]]  # school id -> its classroom ids, as last pulled
    synced: dict[str, dict[str, Any]] = field(default_factory=dict)  # walkthrough -> head
    held: list[dict[str, Any]] = field(default_factory=list)
    rubrics: dict[int, dict[str, Any]] = field(default_factory=dict)  # version id -> as sent

    def offered(self) -> int:
        """The rubric version a new walkthrough is begun on: as the app picks it, the newest
        version it was sent that is not retired (the district has one rubric)."""
        live = [v for v in self.rubrics.values() if not v["retired"]]
        return max(live, key=lambda v: v["number"])["id"]


@dataclass
class Year:
    client: Any
    cli: Callable[..., Any]
    tmp: Path
    rubric_id: int = 0
    tablets: dict[str, Tablet] = field(default_factory=dict)
    # What the fall must read after every step: visits by school code (from the walkthroughs),
    # and the summary's district figures and its groups by school (labelled by code).
    expected_fall: dict[str, int] = field(default_factory=dict)
    expected_district: dict[str, Any] = field(default_factory=dict)
    expected_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    admin_headers: dict[str, str] = field(default_factory=dict)
    held_pushed: int = 0  # drafts and amendments pushed after a step, all accepted
    # The fall split by course level and by program, and the export's as-it-was columns.
    expected_splits: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    expected_export: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    revised_id: int = 0  # version 2 of the rubric, from January
    goals: dict[str, int] = field(default_factory=dict)  # "december", "spring" -> goal id
    december_goal: tuple[str, Any] = ("", None)  # its status and deciding figure once ended


def when(day: date, hour: int = 10) -> datetime:
    """A moment on the district's clock."""
    return clock.day_start(day) + timedelta(hours=hour)


def version_for(
    tablet: Tablet,
    rubric_id: int,
    school_id: int,
    classroom_id: int,
    at: datetime,
    level: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    level = level or 1 + (classroom_id + at.month) % 4
    return {
        "observation_id": str(uuid.uuid4()),
        "version_id": str(uuid.uuid4()),
        "base_version_id": None,
        "rubric_version_id": rubric_id,
        "school_id": school_id,
        "classroom_id": classroom_id,
        "observed_at": at.isoformat(),
        "saved_at": (at + timedelta(minutes=12)).isoformat(),
        "duration_seconds": 600,
        "state": "submitted",
        "context": {},
        "ratings": [
            {"criterion": LEVEL_KEY, "level": level, "evidence": ""},
            {"criterion": SECOND_KEY, "level": None, "not_observed": classroom_id % 2 == 0},
        ],
        "notes": "",
        **fields,
    }


def push(year: Year, tablet: Tablet, versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"device_id": f"tablet-{tablet.email}", "app_version": "1.0.0", "versions": versions}
    response = year.client.post("/api/v1/sync/push", json=body, headers=tablet.headers)
    if response.status_code == 401:
        # Its token was revoked (a new email): the outbox waits while the observer signs in
        # again, and nothing held is lost.
        tablet.headers = sign_in_tablet(tablet.email)
        response = year.client.post("/api/v1/sync/push", json=body, headers=tablet.headers)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    for version, result in zip(versions, results, strict=True):
        if result["status"] in ("applied", "duplicate"):
            tablet.synced[version["observation_id"]] = version
    return results


def sign_in_tablet(email: str) -> dict[str, str]:
    user = db.session.scalar(select(User).where(User.email == email))
    _, secret = account_ops.create_token(user, "tablet")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def pull(year: Year, tablet: Tablet) -> None:
    """Catch up with the change feed as the app does: an "access" change replaces the schools
    it holds; a school's change replaces that school."""
    while True:
        page = year.client.get(f"/api/v1/sync/pull?cursor={tablet.cursor}", headers=tablet.headers)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        for change in body["changes"]:
            if change["kind"] == "access":
                tablet.schools = {s["id"]: classroom_ids(s) for s in change["schools"]}
            elif change["kind"] == "school" and change["school"]["id"] in tablet.schools:
                tablet.schools[change["school"]["id"]] = classroom_ids(change["school"])
            elif change["kind"] == "rubric_version":
                version = change["rubric_version"]
                tablet.rubrics[version["id"]] = version
        tablet.cursor = body["cursor"]
        if not body["has_more"]:
            return


def classroom_ids(school: dict[str, Any]) -> list[int]:
    return [c["id"] for c in school["classrooms"] if c.get("active", True)]


def hold_work(year: Year, tablet: Tablet, today: date) -> None:
    """What the tablet holds unsent when the next change lands: a draft begun today in each
    school it holds, and an amendment of one fall walkthrough in each classroom it visited."""
    for school_id, classrooms in sorted(tablet.schools.items()):
        if classrooms:
            tablet.held.append(
                version_for(
                    tablet, tablet.offered(), school_id, classrooms[0], when(today), state="draft"
                )
            )
    amended: set[int | None] = set()
    for head in list(tablet.synced.values()):
        if head["classroom_id"] in amended or head["state"] != "submitted":
            continue
        amended.add(head["classroom_id"])
        saved = datetime.fromisoformat(head["saved_at"]) + timedelta(days=1)
        tablet.held.append(
            {
                **head,
                "version_id": str(uuid.uuid4()),
                "base_version_id": head["version_id"],
                "saved_at": min(saved, when(today)).isoformat(),
                "notes": f"{head['notes']} Followed up {today.isoformat()}.".strip(),
            }
        )


# ---- what must hold after every step ----------------------------------------------------------


def fall_by_school() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(School.code, Observation.id)
        .join(School, School.id == Observation.school_id)
        .where(
            Observation.state == ObservationState.SUBMITTED,
            Observation.deleted_at.is_(None),
            Observation.observed_at >= when(FALL[0], 0),
            Observation.observed_at < when(FALL[1] + timedelta(days=1), 0),
        )
    )
    return dict(Counter(code for code, _ in rows))


def fall_summary(year: Year, by: str = "school") -> dict[str, Any]:
    return summary(
        year, rubric_version_id=year.rubric_id, by=by, **{"from": FALL[0], "to": FALL[1]}
    )


def summary(year: Year, /, **args: Any) -> dict[str, Any]:
    response = year.client.get("/api/v1/reports/summary", query_string=args,
                               headers=year.admin_headers)  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def fall_splits(year: Year) -> dict[str, dict[str, dict[str, Any]]]:
    """The fall split by what each classroom was at the visit, teacher aside."""
    return {by: group_figures(fall_summary(year, by)) for by in FALL_SPLITS}


def exported(year: Year, start: date, end: date) -> list[dict[str, str]]:
    response = year.client.get(
        f"/api/v1/exports/observations?format=csv&from={start}&to={end}",
        headers=year.admin_headers,
    )
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def fall_export(year: Year) -> dict[tuple[str, str], tuple[str, ...]]:
    """Each fall rating's row in the export: what its classroom was, and who taught it."""
    return {
        (row["observation_id"], row["criterion"]): tuple(row[c] for c in AS_IT_WAS)
        for row in exported(year, *FALL)
    }


def goals(year: Year) -> dict[str, dict[str, Any]]:
    """The district's goals as the goals page lists them (every year), by name."""
    response = year.client.get("/api/v1/goals?year=all", headers=year.admin_headers)
    assert response.status_code == 200, response.get_json()
    listed = {g["id"]: g for g in response.get_json()["goals"]}
    return {name: listed[goal_id] for name, goal_id in year.goals.items()}


def goal(year: Year, name: str) -> dict[str, Any]:
    return goals(year)[name]


def judged(goal: dict[str, Any]) -> tuple[str, Any]:
    return goal["status"], goal["decided_by"]


def district_figures(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "observations": report["observations"],
        "criteria": {c["key"]: c for c in report["criteria"]},
        "dimensions": report["dimensions"],
        "competencies": report["competencies"],
    }


def group_figures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each school's walkthroughs and each look-for's ratings by level: what adds up when two
    schools become one (shares and gaps are worked out from them)."""
    return {
        group["label"]: {
            "observations": group["observations"],
            "distribution": {k: c["distribution"] for k, c in group["criteria"].items()},
        }
        for group in report["groups"]["rows"]
    }


def the_fall_held(year: Year) -> None:
    assert fall_by_school() == year.expected_fall
    report = fall_summary(year)
    assert district_figures(report) == year.expected_district
    assert group_figures(report) == year.expected_groups
    assert fall_splits(year) == year.expected_splits
    assert fall_export(year) == year.expected_export


def goals_judged_on_their_own_window(year: Year) -> None:
    """December's goal ended with the fall: nothing after it moves it. The spring goal counts
    only September to May, whatever comes later."""
    if not year.goals:
        return
    listed = goals(year)
    december, spring = listed["december"], listed["spring"]
    assert judged(december) == year.december_goal
    assert all("2025-09" <= m["month"] <= "2025-12" for m in december["months"])
    assert all("2025-09" <= m["month"] <= "2026-05" for m in spring["months"])
    decided = spring["decided_by"]
    assert "2025-09" <= decided["from_month"] <= decided["to_month"] <= "2026-05"


def tablets_finish_what_they_hold(year: Year, today: date) -> None:
    """Every draft and amendment a tablet held through the step is accepted; then each tablet
    catches up and begins new work for the next step to go through."""
    for tablet in year.tablets.values():
        held, tablet.held = tablet.held, []
        if held:
            results = push(year, tablet, held)
            refused = [r for r in results if r["status"] != "applied"]
            assert not refused, (tablet.email, refused)
            year.held_pushed += len(held)
        pull(year, tablet)
        hold_work(year, tablet, today)


def recoded(year: Year, old_code: str, new_code: str) -> None:
    """What a recode does to the fall: the same figures, under the new code."""
    year.expected_fall[new_code] = year.expected_fall.pop(old_code)
    year.expected_groups[new_code] = year.expected_groups.pop(old_code)


def merged(year: Year, old_code: str, into_code: str) -> None:
    """What a merge is meant to do to the fall: the school it became counts both."""
    year.expected_fall[into_code] += year.expected_fall.pop(old_code)
    old, into = year.expected_groups.pop(old_code), year.expected_groups[into_code]
    into["observations"] += old["observations"]
    for key, levels in old["distribution"].items():
        for level, count in levels.items():
            into["distribution"][key][level] += count


# ---- the steps, in the order of the year -------------------------------------------------------


def step_august_the_district_starts(year: Year) -> None:
    """The roster from both kinds of files, the rubric, the staff, and each observer's tablet."""
    simple = [str(DATA / "simple" / "schools.csv"), str(DATA / "simple" / "classrooms.csv")]
    assert year.cli("roster", "import", *simple).exit_code == 0
    # A OneRoster bundle without metadata.course_level: levels are guessed from course titles.
    imported = year.cli("roster", "import", str(DATA / "oneroster"))
    assert imported.exit_code == 0, imported.output
    assert "Course level inferred from the course title" in imported.output
    # The school year and its terms, by command (the bundle's academicSessions.csv has 2024-25).
    added = year.cli("years", "add", "2025-26", "--start", "2025-08-04", "--end", "2026-06-12",
                     "--term", "Fall 2025:2025-08-04:2025-12-19",
                     "--term", "Spring 2026:2026-01-05:2026-06-12")  # fmt: skip
    assert added.exit_code == 0, added.output
    year.rubric_id = load_rubric_file(
        paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml"
    ).version.id
    admin = account_ops.create_user(
        "admin@district.example", "Ada Admin", Role.DISTRICT_ADMIN, None
    )
    staff = {
        "lopez@district.example": (Role.OBSERVER, ["LIN-HS", "OAK-ES"]),
        "okafor@district.example": (Role.OBSERVER, ["RIV-MS"]),
        "patel@district.example": (Role.OBSERVER, ["org-wash-hs", "org-elm-es"]),
        "lead@district.example": (Role.SCHOOL_LEADER, ["LIN-HS", "RIV-MS"]),
    }
    for email, (role, schools) in staff.items():
        account_ops.create_user(email, email.split("@")[0].title(), role, None, schools)
    db.session.commit()
    year.admin_headers = sign_in_tablet(admin.email)
    for email, (role, _) in staff.items():
        if role is not Role.OBSERVER:
            continue
        headers = sign_in_tablet(email)
        boot = year.client.get("/api/v1/bootstrap", headers=headers).get_json()
        schools = {s["id"]: classroom_ids(s) for s in boot["schools"]}
        rubrics = {v["id"]: v for v in boot["rubric_versions"]}
        year.tablets[email] = Tablet(email, headers, boot["cursor"], schools, rubrics=rubrics)
        assert year.tablets[email].offered() == year.rubric_id


def step_september_goals_are_set(year: Year) -> None:
    """Two district goals on the look-for every visit rates: one for the fall (it ends in
    December) and one to reach by the end of May."""
    for name, deadline in (("december", "2025-12-19"), ("spring", "2026-05-29")):
        body = {
            "title": f"Students explain their reasoning by {deadline}",
            "rubric_version_id": year.rubric_id,
            "target_kind": "criterion",
            "target_key": LEVEL_KEY,
            "at_least": 3,
            "target_share": 0.5,
            "starts_on": "2025-09-01",
            "deadline": deadline,
        }
        response = year.client.post("/api/v1/goals", json=body, headers=year.admin_headers)
        assert response.status_code == 201, response.get_json()
        year.goals[name] = response.get_json()["id"]


def step_fall_walkthroughs(year: Year) -> None:
    """August to December: every observer visits every classroom of their schools each month,
    a batch a month. Then what the fall must keep reading is written down."""
    for tablet in year.tablets.values():
        for month in FALL_MONTHS:
            batch = [
                version_for(
                    tablet, year.rubric_id, school_id, classroom_id, when(date(2025, month, 10 + i))
                )
                for school_id, classrooms in sorted(tablet.schools.items())
                for i, classroom_id in enumerate(classrooms)
            ]
            assert {r["status"] for r in push(year, tablet, batch)} == {"applied"}
    year.expected_fall = fall_by_school()
    assert sum(year.expected_fall.values()) == 5 * 12  # every classroom the tablets hold, 5 months
    report = fall_summary(year)
    year.expected_district = district_figures(report)
    year.expected_groups = group_figures(report)
    year.expected_splits = fall_splits(year)
    assert set(year.expected_splits["course_level"]) >= {"general", "AP"}
    assert "English learners" in year.expected_splits["program"]
    year.expected_export = fall_export(year)
    assert len(year.expected_export) == 2 * 60
    # December's goal ended: judged on September to December 19, once and for all. Listed
    # beside the spring goal's whole December, its part of December (to the 19th) would give
    # away the visits of the 20th to the 31st: the list hides it as cover, and with it the
    # figure that decided the goal; the status stays, the same as the goal's own (issue 14).
    december = goal(year, "december")
    assert december["status"] in ("met", "not met") and december["ended"]
    assert [m["reason"] for m in december["months"] if m["month"] == "2025-12"] == [COVER]
    assert december["decided_by"] is None and december["decided_by_hidden"] == COVER
    year.december_goal = judged(december)
    for tablet in year.tablets.values():
        hold_work(year, tablet, date(2025, 12, 15))


def visit_every_classroom(year: Year, day: date, level: int) -> list[dict[str, Any]]:
    """A round of visits on one day: each observer, one batch, every classroom they hold, on
    the rubric version their tablet offers; the look-fors goals follow are rated ``level``."""
    visits = []
    for tablet in year.tablets.values():
        batch = [
            version_for(tablet, tablet.offered(), school_id, classroom_id, when(day), level)
            for school_id, classrooms in sorted(tablet.schools.items())
            for classroom_id in classrooms
        ]
        assert {r["status"] for r in push(year, tablet, batch)} == {"applied"}
        visits += batch
    return visits


def revised_rubric(path: Path) -> None:
    """Version 2 of the sample rubric: most look-fors as they were, one reworded (it says it
    continues the old one), one removed, one added."""
    document = yaml.safe_load((paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text())
    for competency in document["competencies"]:
        for item in competency["criteria"]:
            if item["key"] == REWORDED_OLD:
                item.update(key=REWORDED_NEW, continues=REWORDED_OLD)
                item["text"] = "Students build on each other's ideas in academic talk."
        competency["criteria"] = [c for c in competency["criteria"] if c["key"] != REMOVED]
        if competency["key"] == "self-directed-learner":
            added = {**copy.deepcopy(competency["criteria"][0]), "key": ADDED}
            added["text"] = "Students set a goal for the lesson and say how they will meet it."
            competency["criteria"].append(added)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def step_january_the_rubric_is_revised(year: Year) -> None:
    """Version 2 is loaded. Tablets hold drafts begun on version 1 (they push after the step);
    once they pull, new walkthroughs are begun on version 2: January's round of visits, every
    one low on the look-for the goals follow."""
    path = year.tmp / "portrait-2026.yaml"
    revised_rubric(path)
    loaded = year.cli("rubrics", "load", str(path))
    assert loaded.exit_code == 0, loaded.output
    year.revised_id = db.session.scalar(select(RubricVersion.id).where(RubricVersion.number == 2))
    drafts = [v for t in year.tablets.values() for v in t.held if v["state"] == "draft"]
    assert drafts and {v["rubric_version_id"] for v in drafts} == {year.rubric_id}
    for tablet in year.tablets.values():
        pull(year, tablet)
        assert tablet.offered() == year.revised_id
    visit_every_classroom(year, date(2026, 1, 8), level=1)


def step_february_version_1_is_retired(year: Year) -> None:
    """Version 1 is retired. A tablet away from the network began one more draft on it before
    it heard; that draft and the amendments of fall walkthroughs (all on version 1) still push.
    Tablets are offered only version 2 for a new walkthrough."""
    for tablet in year.tablets.values():
        school_id, classrooms = min(tablet.schools.items())
        tablet.held.append(version_for(tablet, year.rubric_id, school_id, classrooms[-1],
                                       when(date(2026, 2, 2), 8), state="draft"))  # fmt: skip
    retired = year.cli("rubrics", "retire", "portrait-of-a-graduate@1")
    assert retired.exit_code == 0, retired.output
    for tablet in year.tablets.values():
        boot = year.client.get("/api/v1/bootstrap", headers=tablet.headers).get_json()
        assert [v["id"] for v in boot["rubric_versions"]] == [year.revised_id]
        pull(year, tablet)
        assert tablet.rubrics[year.rubric_id]["retired"] and tablet.offered() == year.revised_id


def step_january_a_blank_cell_refused_then_accepted(year: Year) -> None:
    folder = year.tmp / "january"
    folder.mkdir()
    classrooms = (DATA / "simple" / "classrooms.csv").read_text()
    (folder / "classrooms.csv").write_text(
        classrooms.replace("11-12,Science,ap,", "11-12,Science,,")
    )
    files = [str(DATA / "simple" / "schools.csv"), str(folder / "classrooms.csv")]
    refused = year.cli("roster", "import", *files)
    assert refused.exit_code == 1 and "would be left blank (LIN-APBIO-3)" in refused.output
    assert classroom("LIN-APBIO-3").course_level == "AP"
    assert year.cli("roster", "import", "--accept-blanks", *files).exit_code == 0
    assert classroom("LIN-APBIO-3").course_level is None


def step_january_guessed_levels_refused_then_accepted(year: Year) -> None:
    recorded = classroom("cls-eng10-1")
    recorded.course_level, recorded.course_level_inferred = "honors", False  # a level recorded
    db.session.commit()
    refused = year.cli("roster", "import", str(DATA / "oneroster"))
    assert (
        refused.exit_code == 1 and "guessed from the course title (cls-eng10-1)" in refused.output
    )
    assert classroom("cls-eng10-1").course_level == "honors"
    assert year.cli("roster", "import", "--accept-blanks", str(DATA / "oneroster")).exit_code == 0
    assert classroom("cls-eng10-1").course_level == "general"


def step_february_a_classroom_moves_school(year: Year) -> None:
    """Algebra 1 moves from Lincoln High to Riverside Middle: its fall walkthroughs stay at
    Lincoln, and the amendments Lopez's tablet holds for them are accepted there."""
    folder = year.tmp / "february"
    folder.mkdir()
    classrooms = (DATA / "simple" / "classrooms.csv").read_text()
    moved = classrooms.replace("LIN-ALG1-4,LIN-HS,", "LIN-ALG1-4,RIV-MS,").replace(
        "11-12,Science,ap,", "11-12,Science,,"
    )
    (folder / "classrooms.csv").write_text(moved)
    files = [str(DATA / "simple" / "schools.csv"), str(folder / "classrooms.csv")]
    result = year.cli("roster", "import", *files)
    assert result.exit_code == 0, result.output
    assert classroom("LIN-ALG1-4").school.code == "RIV-MS"
    held = [
        v
        for v in year.tablets["lopez@district.example"].held
        if v["classroom_id"] == classroom("LIN-ALG1-4").id
    ]
    assert any(v["base_version_id"] for v in held)  # an amendment of a Lincoln walkthrough


def step_march_a_school_is_recoded(year: Year) -> None:
    """Riverside Middle gets a new state code. An import naming it first is refused, pointing
    at the recode; after the recode it imports."""
    folder = year.tmp / "march"
    folder.mkdir()
    schools = (DATA / "simple" / "schools.csv").read_text().replace("RIV-MS,", "RIV-MS2,")
    classrooms = (DATA / "simple" / "classrooms.csv").read_text()
    classrooms = classrooms.replace(",RIV-MS,", ",RIV-MS2,").replace(
        "LIN-ALG1-4,LIN-HS,", "LIN-ALG1-4,RIV-MS2,"
    )
    classrooms = classrooms.replace("11-12,Science,ap,", "11-12,Science,,")
    (folder / "schools.csv").write_text(schools)
    (folder / "classrooms.csv").write_text(classrooms)
    files = [str(folder / "schools.csv"), str(folder / "classrooms.csv")]
    refused = year.cli("roster", "import", *files)
    assert refused.exit_code == 1 and "observe roster recode RIV-MS RIV-MS2" in refused.output
    assert year.cli("roster", "recode", "RIV-MS", "RIV-MS2").exit_code == 0
    imported = year.cli("roster", "import", *files)
    assert imported.exit_code == 0, imported.output
    recoded(year, "RIV-MS", "RIV-MS2")


def step_april_two_schools_merge(year: Year) -> None:
    """Oak Street Elementary closes into Lincoln High. Lopez's tablet holds a draft naming Oak
    Street and amendments of its fall walkthroughs: all land in Lincoln."""
    lopez = year.tablets["lopez@district.example"]
    oak = db.session.scalar(select(School).where(School.code == "OAK-ES"))
    assert any(v["school_id"] == oak.id for v in lopez.held)
    preview = year.cli("roster", "merge", "OAK-ES", "LIN-HS")
    assert preview.exit_code == 0 and "Nothing has changed" in preview.output
    assert fall_by_school() == year.expected_fall
    result = year.cli("roster", "merge", "OAK-ES", "LIN-HS", "--yes")
    assert result.exit_code == 0, result.output
    merged(year, "OAK-ES", "LIN-HS")


def step_april_a_classroom_changes_level_and_a_class_changes_teacher(year: Year) -> None:
    """English 9 (P1) becomes honors and Science 7 gets a new teacher. Their fall visits stay
    general and Dana Okafor's (checked after the step); April's round counts as they are now."""
    folder = year.tmp / "april"
    folder.mkdir()
    (folder / "classrooms.csv").write_text(
        "classroom_id,school_code,name,teacher_id,teacher_name,course_level,grade,subject\n"
        "LIN-ENG9-01,LIN-HS,English 9 (P1),T100,Maria Lopez,honors,9,English\n"
        "RIV-SCI7-2,RIV-MS2,Science 7 (P2),T301,Jordan New,Pre-AP,7,Science\n"
    )
    result = year.cli("roster", "import", str(folder / "classrooms.csv"))
    assert result.exit_code == 0, result.output
    english, science = classroom("LIN-ENG9-01"), classroom("RIV-SCI7-2")
    assert english.course_level == "honors" and science.teacher.name == "Jordan New"
    visits = visit_every_classroom(year, date(2026, 4, 21), level=3)
    april = (date(2026, 4, 1), date(2026, 4, 30))
    rows = {row["classroom_code"]: row for row in exported(year, *april)}
    assert rows["LIN-ENG9-01"]["course_level"] == "honors"
    assert rows["RIV-SCI7-2"]["teacher"] == "Jordan New"
    # The summary's April split counts each visit under its classroom's level now.
    db.session.expire_all()
    levels = Counter(
        db.session.get(Classroom, v["classroom_id"]).course_level or "Not recorded" for v in visits
    )
    split = summary(year, rubric_version_id=year.revised_id, by="course_level",
                    **{"from": april[0], "to": april[1]})  # fmt: skip
    assert {g["label"]: g["observations"] for g in split["groups"]["rows"]} == dict(levels)


def step_may_relabel_shown_then_done(year: Year) -> None:
    """The district asks what correcting English 9 (P1)'s history would do: shown, nothing
    moves (checked after the step). Then it decides its fall was honors all along and corrects
    it: on purpose, the fall's course-level split and export move by its five visits, and
    nothing else does."""
    shown = year.cli("roster", "relabel", "--classroom", "LIN-ENG9-01")
    assert shown.exit_code == 0, shown.output
    assert "course level general → honors" in shown.output
    assert "Nothing was changed" in shown.output
    the_fall_held(year)
    done = year.cli("roster", "relabel", "--classroom", "LIN-ENG9-01",
                    "--from", str(FALL[0]), "--to", str(FALL[1]), "--yes")  # fmt: skip
    assert done.exit_code == 0, done.output
    english = classroom("LIN-ENG9-01").id
    lopez = year.tablets["lopez@district.example"]
    moved = {
        observation_id
        for observation_id, head in lopez.synced.items()
        if head["classroom_id"] == english
        and head["state"] == "submitted"
        and datetime.fromisoformat(head["observed_at"]) < when(FALL[1] + timedelta(days=1), 0)
    }
    assert len(moved) == len(FALL_MONTHS)
    levels = year.expected_splits["course_level"]
    general, honors = (
        levels["general"],
        levels.setdefault("honors", {"observations": 0, "distribution": {}}),
    )
    general["observations"] -= len(moved)
    honors["observations"] += len(moved)
    for key, rows in [((o, c), r) for (o, c), r in year.expected_export.items() if o in moved]:
        year.expected_export[key] = tuple(
            "honors" if column == "course_level" else value
            for column, value in zip(AS_IT_WAS, rows, strict=True)
        )
    splits = fall_splits(year)
    assert splits["program"] == year.expected_splits["program"]
    assert set(splits["course_level"]) == set(levels)
    for name, group in splits["course_level"].items():
        assert group["observations"] == levels[name]["observations"], name
    # The levels the five visits were rated at moved from general to honors with them.
    for key, counts in levels["general"]["distribution"].items():
        for level, count in counts.items():
            before = count + levels["honors"]["distribution"].get(key, {}).get(level, 0)
            after = splits["course_level"]["general"]["distribution"][key][level]
            assert after + splits["course_level"]["honors"]["distribution"][key][level] == before
    year.expected_splits = splits


def step_may_walkthroughs(year: Year) -> None:
    """May's round, every one high on the goals' look-for: the spring goal's last month."""
    visit_every_classroom(year, date(2026, 5, 12), level=4)
    spring = goal(year, "spring")
    assert spring["decided_by"]["to_month"] == "2026-05"
    assert (spring["status"], spring["decided_by"]["share"]) == ("met", 1.0)


def step_may_staff_change(year: Year) -> None:
    """Okafor becomes a school leader, Patel also works at Lincoln, Lopez's email changes (her
    tablet signs in again), and the school leader leaves (deactivated)."""
    changes = [
        ("okafor@district.example", "--role", "school-leader", "--school", "RIV-MS2"),
        (
            "patel@district.example",
            "--school",
            "org-wash-hs",
            "--school",
            "org-elm-es",
            "--school",
            "LIN-HS",
        ),
        ("lopez@district.example", "--email", "m.lopez@district.example"),
        ("lead@district.example", "--deactivate"),
    ]
    for email, *options in changes:
        result = year.cli("users", "update", email, *options)
        assert result.exit_code == 0, result.output
    year.tablets["m.lopez@district.example"] = year.tablets.pop("lopez@district.example")
    year.tablets["m.lopez@district.example"].email = "m.lopez@district.example"


def step_june_the_year_closes(year: Year) -> None:
    """June: visits after the spring goal's deadline do not count toward it. The year closes:
    its goals are frozen, so a May walkthrough synced late changes nothing. Next year is added
    and the goals carried into it. Across the year the summary opens on version 2 and the
    look-fors both versions share have one trend."""
    spring = judged(goal(year, "spring"))
    visit_every_classroom(year, date(2026, 6, 8), level=1)
    assert judged(goal(year, "spring")) == spring
    closed = year.cli("years", "close", "2025-26")
    assert closed.exit_code == 0, closed.output
    assert "met (100% of ratings" in closed.output
    tablet = year.tablets["m.lopez@district.example"]
    school_id, classrooms = min(tablet.schools.items())
    late = version_for(
        tablet, year.revised_id, school_id, classrooms[0], when(date(2026, 5, 20)), 1
    )
    assert push(year, tablet, [late])[0]["status"] == "applied"
    frozen = goal(year, "spring")
    assert judged(frozen) == spring and frozen["closed"]
    assert goal(year, "december")["closed"]

    added = year.cli("years", "add", "2026-27", "--start", "2026-08-17", "--end", "2027-06-11")
    assert added.exit_code == 0, added.output
    carried = year.cli("goals", "carry", "--from", "2025-26", "--to", "2026-27")
    assert carried.exit_code == 0, carried.output
    assert "2 goals created in 2026-27." in carried.output

    whole = summary(year, year="2025-26")
    assert whole["scope"]["rubric_version_id"] == year.revised_id
    assert whole["scope"]["counted_versions"] == [1, 2]
    assert [m["month"] for m in whole["trend"]] == [
        "2025-08", "2025-09", "2025-10", "2025-11", "2025-12",
        "2026-01", "2026-04", "2026-05", "2026-06",
    ]  # fmt: skip
    criteria = {c["key"]: c for c in whole["criteria"]}
    assert criteria[LEVEL_KEY]["rated"] == whole["observations"] == submitted_in_the_year()
    assert REMOVED not in criteria and ADDED in criteria
    assert criteria[REWORDED_NEW]["wording_changed"]
    # The export carries each rating's wording: one for the look-for both versions share.
    rows = [
        r
        for r in exported(year, date(2025, 8, 4), date(2026, 6, 12))
        if r["criterion"] == LEVEL_KEY
    ]
    assert len(rows) == whole["observations"]
    assert (
        len({r["rubric_version"] for r in rows}) == 2
        and len({r["criterion_text"] for r in rows}) == 1
    )
    # The fall term, asked by name, reads the fall as it was.
    listed = year.client.get("/api/v1/years", headers=year.admin_headers).get_json()["years"]
    [fall] = [t["id"] for y in listed if y["title"] == "2025-26" for t in y["terms"]
              if t["title"] == "Fall 2025"]  # fmt: skip
    term = summary(year, rubric_version_id=year.rubric_id, year="2025-26", term=fall)
    assert district_figures(term) == year.expected_district


def submitted_in_the_year() -> int:
    db.session.expire_all()
    return len(
        db.session.scalars(
            select(Observation.id).where(
                Observation.state == ObservationState.SUBMITTED,
                Observation.deleted_at.is_(None),
                Observation.observed_at >= when(date(2025, 8, 4), 0),
                Observation.observed_at < when(date(2026, 6, 13), 0),
            )
        ).all()
    )


STEPS: list[tuple[Callable[[Year], None], date]] = [
    (step_august_the_district_starts, date(2025, 8, 1)),
    (step_september_goals_are_set, date(2025, 9, 2)),
    (step_fall_walkthroughs, date(2025, 12, 19)),
    (step_january_the_rubric_is_revised, date(2026, 1, 5)),
    (step_january_a_blank_cell_refused_then_accepted, date(2026, 1, 12)),
    (step_january_guessed_levels_refused_then_accepted, date(2026, 1, 20)),
    (step_february_version_1_is_retired, date(2026, 2, 2)),
    (step_february_a_classroom_moves_school, date(2026, 2, 9)),
    (step_march_a_school_is_recoded, date(2026, 3, 2)),
    (step_april_two_schools_merge, date(2026, 4, 13)),
    (step_april_a_classroom_changes_level_and_a_class_changes_teacher, date(2026, 4, 21)),
    (step_may_relabel_shown_then_done, date(2026, 5, 4)),
    (step_may_walkthroughs, date(2026, 5, 12)),
    (step_may_staff_change, date(2026, 5, 18)),
    (step_june_the_year_closes, date(2026, 6, 15)),
]


def classroom(external_id: str) -> Classroom:
    db.session.expire_all()
    return db.session.scalar(select(Classroom).where(Classroom.external_id == external_id))


@pytest.fixture
def year(app, client, monkeypatch, tmp_path) -> Year:
    # Every school's figures shown, however few walkthroughs, classrooms or ratings.
    for name in ("OBSERVE_MIN_GROUP_SIZE", "OBSERVE_MIN_CLASSROOMS", "OBSERVE_MIN_CELL_RATINGS"):
        monkeypatch.setitem(app.config, name, 1)
    runner = app.test_cli_runner()
    return Year(client, lambda *args: runner.invoke(args=list(args)), tmp_path)


def test_a_school_year_from_august_to_june_keeps_the_fall_true(year: Year) -> None:
    for step, today in STEPS:
        step(year)
        if not year.expected_fall:
            continue  # nothing recorded yet
        the_fall_held(year)
        goals_judged_on_their_own_window(year)
        tablets_finish_what_they_hold(year, today)
    # June: the tablets send what they still hold, and the fall still reads as it did.
    tablets_finish_what_they_hold(year, date(2026, 6, 12))
    the_fall_held(year)
    goals_judged_on_their_own_window(year)
    assert year.held_pushed > 60
    assert all(t.offered() == year.revised_id for t in year.tablets.values())
