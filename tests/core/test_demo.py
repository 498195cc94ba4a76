"""``observe demo``: a realistic fictional district, and only into an empty database."""

from statistics import mean

from sqlalchemy import func, select

from observe.accounts.models import Role, User
from observe.accounts.operations import authenticate
from observe.extensions import db
from observe.observations.models import Observation, Rating
from observe.roster.models import Classroom, ClassroomProgram, School
from observe.rubrics.models import Criterion, CriterionDimension, EquityDimension, Rubric


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_fills_an_empty_database(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = app.test_cli_runner().invoke(
        args=["demo", "--observations", "300"], env={"OBSERVE_DEMO_PASSWORD": "demo-password-1"}
    )
    assert result.exit_code == 0, result.output
    assert "Demo district ready: 8 schools, 60 classrooms, 300 walkthroughs." in result.output
    assert "admin@riverbend.example  district-admin  demo-password-1" in result.output
    saved = (tmp_path / "demo-sign-ins.txt").read_text()
    assert "principal.rhs@riverbend.example\tschool-leader\tdemo-password-1" in saved

    assert {s.level for s in db.session.scalars(select(School))} == {"elementary", "middle", "high"}
    assert count(Classroom) >= 36
    assert count(Rubric) == 2
    assert count(Observation) == 300
    assert {u.role for u in db.session.scalars(select(User))} == set(Role)
    assert authenticate("coach.north@riverbend.example", "demo-password-1") is not None
    # Every walkthrough is in one of its author's schools, and in the past.
    for observation in db.session.scalars(select(Observation)):
        assert observation.school_id in {s.id for s in observation.author.schools}
        assert observation.classroom.school_id == observation.school_id
    months = {o.observed_at.strftime("%Y-%m") for o in db.session.scalars(select(Observation))}
    assert len(months) >= 3
    assert db.session.scalar(select(func.count()).select_from(ClassroomProgram)) > 0


def test_demo_shows_a_gap_between_course_levels(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    app.test_cli_runner().invoke(args=["demo"], env={"OBSERVE_DEMO_PASSWORD": "demo-password-1"})

    def mean_power_level(*course_levels: str) -> float:
        levels = db.session.scalars(
            select(Rating.level)
            .join(Observation)
            .join(Classroom)
            .join(Criterion, Rating.criterion_id == Criterion.id)
            .join(CriterionDimension)
            .where(
                CriterionDimension.dimension == EquityDimension.POWER,
                Classroom.course_level.in_(course_levels),
                Rating.level.is_not(None),
            )
        ).all()
        assert len(levels) > 50
        return mean(levels)

    assert mean_power_level("AP", "honors") - mean_power_level("general") > 0.3


def test_demo_refuses_a_database_that_has_data(app, tmp_path, monkeypatch, create_school):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    create_school("OWN")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: the database already holds schools or users; the demo fills only an empty one\n"
    )
    assert count(School) == 1
    assert count(User) == 0
