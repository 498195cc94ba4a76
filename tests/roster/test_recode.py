"""Recoding a school (issue 13): `observe roster recode OLD NEW`, and an import that looks like
a recode refused until the school has been recoded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from observe.audit.models import AuditEvent
from observe.extensions import db
from observe.observations.models import Observation
from observe.roster.models import Classroom, School
from observe.roster.operations import import_roster
from tests.conftest import edit_of


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def codes() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(School.code)))


def test_a_recoded_school_keeps_everything_and_tablets_learn_the_code(
    run, client, bearer, push, make_version, setting
):
    headers = bearer(setting.observer)
    cursor = client.get("/api/v1/bootstrap", headers=headers).get_json()["cursor"]
    walkthrough = make_version()
    push(walkthrough)
    result = run("roster", "recode", "RVE", "RVE-2027")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Riverside Elementary is now RVE-2027 (was RVE); its classrooms, walkthroughs, people "
        "and goals are unchanged.\n"
    )
    assert codes() == ["RVE-2027", "SHS"]
    stored = db.session.get(Observation, walkthrough["observation_id"])
    assert stored.school.code == "RVE-2027" and stored.classroom.school.code == "RVE-2027"
    assert [s.code for s in setting.observer.schools] == ["RVE-2027"]
    # The observer's tablet hears of it at its next pull, and can still amend and record there.
    changes = client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=headers).get_json()
    schools = [c["school"] for c in changes["changes"] if c["kind"] == "school"]
    assert [(s["code"], s["name"]) for s in schools] == [("RVE-2027", "Riverside Elementary")]
    assert push(edit_of(walkthrough, notes="later"))["results"][0]["status"] == "applied"
    assert push(make_version())["results"][0]["status"] == "applied"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.recoded")
    ).one()
    assert event.detail == {"from": "RVE", "to": "RVE-2027", "name": "Riverside Elementary"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("NOPE", "NEW", "there is no school with code 'NOPE'"),
        ("RVE", "  ", "the new code is empty"),
        ("RVE", "RVE", "RVE already has that code"),
        ("RVE", "SHS", "SHS is already the code of Southfield High; a code belongs to one school"),
        ("RVE", "X" * 65, "the new code is longer than 64 characters"),
    ],
)
def test_a_recode_that_cannot_be_done_changes_nothing(run, setting, old, new, message):
    result = run("roster", "recode", old, new)
    assert result.exit_code == 1 and message in result.output
    assert codes() == ["RVE", "SHS"]


def _recoded_files(simple, new_code: str = "LIN-NEW") -> list:
    for name in ("schools.csv", "classrooms.csv"):
        path = simple / name
        path.write_text(path.read_text().replace("LIN-HS", new_code))
    return [simple / "schools.csv", simple / "classrooms.csv"]


def test_an_import_that_recodes_a_school_is_refused_until_it_is_recoded(run, simple):
    import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    db.session.commit()
    lincoln = db.session.scalar(select(School).where(School.code == "LIN-HS"))
    lincoln_classrooms = len(lincoln.classrooms)
    files = [str(p) for p in _recoded_files(simple)]

    refused = run("roster", "import", *files)
    assert refused.exit_code == 1
    assert (
        f"{lincoln_classrooms} classrooms of LIN-HS in these files would all move to the new "
        "school LIN-NEW, and the files do not list LIN-HS: if the school was recoded, run "
        "`observe roster recode LIN-HS LIN-NEW` first"
    ) in refused.output
    assert "Nothing was imported" in refused.output
    assert "LIN-NEW" not in codes()

    assert run("roster", "recode", "LIN-HS", "LIN-NEW").exit_code == 0
    imported = run("roster", "import", *files)
    assert imported.exit_code == 0, imported.output
    assert "Schools: 0 created" in imported.output
    db.session.expire_all()
    recoded = db.session.scalar(select(School).where(School.code == "LIN-NEW"))
    assert recoded.id == lincoln.id and len(recoded.classrooms) == lincoln_classrooms


def test_accept_moves_imports_the_new_school_as_asked(run, simple):
    import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    db.session.commit()
    files = [str(p) for p in _recoded_files(simple)]
    result = run("roster", "import", "--accept-moves", *files)
    assert result.exit_code == 0, result.output
    assert "LIN-NEW" in codes() and "LIN-HS" in codes()
    moved = db.session.scalar(
        select(func.count(Classroom.id)).join(School).where(School.code == "LIN-NEW")
    )
    assert moved > 0


def test_classrooms_moving_between_stored_schools_are_not_a_recode(simple):
    """Only a whole school moving to a new code looks like a recode; a class moving to
    another stored school is an ordinary import."""
    import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    db.session.commit()
    path = simple / "classrooms.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("LIN-HS", "OAK-ES")
    path.write_text("\n".join(lines) + "\n")
    import_roster([simple / "schools.csv", path])
    db.session.commit()
    assert "LIN-ENG9-01" in [
        c.external_id
        for c in db.session.scalars(select(Classroom).join(School).where(School.code == "OAK-ES"))
    ]


def test_a_recode_in_a_file_that_names_only_some_sections_is_still_caught(run, simple, write):
    """Last year's sections stay active in observe (imports never retire what a file leaves
    out): a file with only this year's sections under the new code is still a recode."""
    import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    db.session.commit()
    lines = (simple / "classrooms.csv").read_text().splitlines()
    lincoln = [line for line in lines[1:] if ",LIN-HS," in line]
    this_year = write(
        "this-year.csv", lines[0] + "\n" + lincoln[0].replace(",LIN-HS,", ",LIN-NEW,") + "\n"
    )
    schools = write("schools-new.csv", "school_code,name\nLIN-NEW,Lincoln High School\n")
    refused = run("roster", "import", str(schools), str(this_year))
    assert refused.exit_code == 1
    assert "1 classroom of LIN-HS in these files would all move to the new school LIN-NEW" in (
        refused.output
    )


def test_a_class_moving_to_a_school_that_opens_is_an_ordinary_import(simple, write):
    """The old school is still in the files: a new school opened and took a class."""
    import_roster([simple / "schools.csv", simple / "classrooms.csv"])
    db.session.commit()
    path = simple / "classrooms.csv"
    lines = path.read_text().splitlines()
    riverside = [i for i, line in enumerate(lines) if ",RIV-MS," in line]
    assert riverside
    for i in riverside:
        lines[i] = lines[i].replace(",RIV-MS,", ",RIV-NEW,")
    path.write_text("\n".join(lines) + "\n")
    schools = simple / "schools.csv"
    schools.write_text(schools.read_text() + "RIV-NEW,Riverside Annex,middle,North,no,,\n")
    import_roster([schools, path])
    db.session.commit()
    assert "RIV-NEW" in codes() and "RIV-MS" in codes()
