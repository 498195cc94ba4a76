"""``observe demo``: a realistic fictional district, and only into an empty database."""

from statistics import mean

from sqlalchemy import func, select

from observe.accounts.models import User
from observe.accounts.operations import authenticate
from observe.calibration import report
from observe.calibration import sessions as calibration
from observe.calibration import trends as calibration_trends
from observe.calibration.models import CalibrationSession
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, Rating
from observe.reports.models import Goal
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
    walkthroughs = select(Observation).where(Observation.calibration_session_id.is_(None))
    assert len(db.session.scalars(walkthroughs).all()) == 300
    assert {u.role for u in db.session.scalars(select(User))} == set(Role)
    assert authenticate("coach.north@riverbend.example", "demo-password-1") is not None
    # Every walkthrough is in one of its author's schools, and in the past.
    for observation in db.session.scalars(walkthroughs):
        assert observation.school_id in {s.id for s in observation.author.schools}
        assert observation.classroom.school_id == observation.school_id
    months = {o.observed_at.strftime("%Y-%m") for o in db.session.scalars(select(Observation))}
    assert len(months) >= 3
    assert db.session.scalar(select(func.count()).select_from(ClassroomProgram)) > 0
    assert [g.target_key for g in db.session.scalars(select(Goal).order_by(Goal.id))] == [
        "power",
        "ct-rigorous-task",
    ]


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


def test_demo_calibration_shows_a_lenient_observer_a_contested_look_for_and_progress(
    app, tmp_path, monkeypatch
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    app.test_cli_runner().invoke(args=["demo"], env={"OBSERVE_DEMO_PASSWORD": "demo-password-1"})
    admin = db.session.scalar(select(User).where(User.role == Role.DISTRICT_ADMIN))
    sessions = db.session.scalars(
        select(CalibrationSession).order_by(CalibrationSession.held_on)
    ).all()
    assert [s.is_revealed for s in sessions] == [True, True, True, False]
    # The open session waits for three of its five participants, on their tablets.
    assert sum(p["submitted"] for p in calibration.progress(sessions[-1])) == 2

    thresholds = report.Thresholds()
    built = [report.build(admin, s, thresholds) for s in sessions[:3]]
    alphas = [r["overall"]["krippendorff_alpha_ordinal"] for r in built]
    assert alphas[0] < alphas[2], alphas  # the team converges
    tom = [next(o for o in r["observers"] if o["name"] == "Tom Becker") for r in built]
    # Tom scores higher every time; he is called lenient only where the interval over the
    # session's look-fors excludes zero, and at least once it does.
    assert all(o["mean_difference"] > 0.25 for o in tom)
    for o in tom:
        expected = "lenient" if o["mean_difference_interval"][0] > 0 else "no clear lean"
        assert o["leaning"] == expected
    assert any(o["leaning"] == "lenient" for o in tom)
    trends = calibration_trends.build(admin, thresholds)
    assert trends["hardest_criteria"][0]["criterion"] == "cp-productive-struggle"


def test_each_demo_account_has_its_own_password(app, tmp_path, monkeypatch):
    """Knowing an observer's demo password (handed out in a training) opens no other account,
    the admin's least of all."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("OBSERVE_DEMO_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["demo", "--observations", "20"])
    assert result.exit_code == 0, result.output
    saved = tmp_path / "demo-sign-ins.txt"
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    rows = [line.split("\t") for line in saved.read_text().splitlines()[1:]]
    passwords = {email: password for email, _, password in rows}
    assert len(passwords) == 6 and len(set(passwords.values())) == 6
    for email, password in passwords.items():
        assert f"{email}  " in result.output and password in result.output
        assert authenticate(email, password) is not None
    admin = passwords["admin@riverbend.example"]
    assert all(authenticate(email, admin) is None for email in passwords if "admin" not in email)
