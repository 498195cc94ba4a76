"""A school year that stays true (issue 13, item 5): a district driven from August to June
through the changes a real year brings, checking after each that the past did not move and
that the tablets can finish what they hold.

The year is 2025-26, wholly in the past, so walkthroughs are pushed through the sync API with
the dates they happened on (the server refuses only dates in the future) and the district's
clock (``observe.core.clock``) puts them in their months. The district is built from the
roster samples the roster tests use: the simple CSV layout (Lincoln High, Oak Street
Elementary, Riverside Middle) and the OneRoster bundle (Washington High, Elm Elementary).

**Adding a step**: write a function ``step_<month>_<what>(year: Year) -> None`` that makes the
change through the commands and routes a district uses, updating what the checks expect when
the change is meant to move the fall (``year.expected_fall``, as :func:`merged` does), and put
it in :data:`STEPS` where it falls in the year. After every step, :func:`the_fall_held` and
:func:`tablets_finish_what_they_hold` run; a step may also assert its own outcome.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from observe import paths
from observe.accounts import operations as account_ops
from observe.accounts.models import User
from observe.core import clock
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationState
from observe.roster.models import Classroom, School
from observe.rubrics.operations import load_rubric_file
from tests.roster.conftest import DATA

FALL = (date(2025, 8, 1), date(2025, 12, 31))
FALL_MONTHS = (8, 9, 10, 11, 12)
LEVEL_KEY, SECOND_KEY = "ct-explain-reasoning", "ct-rigorous-task"


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


def when(day: date, hour: int = 10) -> datetime:
    """A moment on the district's clock."""
    return clock.day_start(day) + timedelta(hours=hour)


def version_for(
    tablet: Tablet, rubric_id: int, school_id: int, classroom_id: int, at: datetime, **fields: Any
) -> dict[str, Any]:
    level = 1 + (classroom_id + at.month) % 4
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
                    tablet, year.rubric_id, school_id, classrooms[0], when(today), state="draft"
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


def fall_summary(year: Year) -> dict[str, Any]:
    response = year.client.get(
        f"/api/v1/reports/summary?rubric_version_id={year.rubric_id}&from={FALL[0]}"
        f"&to={FALL[1]}&by=school",
        headers=year.admin_headers,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


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
        year.tablets[email] = Tablet(email, headers, boot["cursor"], schools)


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
    for tablet in year.tablets.values():
        hold_work(year, tablet, date(2025, 12, 15))


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


STEPS: list[tuple[Callable[[Year], None], date]] = [
    (step_august_the_district_starts, date(2025, 8, 1)),
    (step_fall_walkthroughs, date(2025, 12, 19)),
    (step_january_a_blank_cell_refused_then_accepted, date(2026, 1, 12)),
    (step_january_guessed_levels_refused_then_accepted, date(2026, 1, 20)),
    (step_february_a_classroom_moves_school, date(2026, 2, 9)),
    (step_march_a_school_is_recoded, date(2026, 3, 2)),
    (step_april_two_schools_merge, date(2026, 4, 13)),
    # Profiles per walkthrough (splits by course level and teacher) come here.
    (step_may_staff_change, date(2026, 5, 18)),
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
        tablets_finish_what_they_hold(year, today)
    # June: the tablets send what they still hold, and the fall still reads as it did.
    tablets_finish_what_they_hold(year, date(2026, 6, 12))
    the_fall_held(year)
    assert year.held_pushed > 60
