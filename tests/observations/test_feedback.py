"""The teacher's feedback (observe/observations/feedback.py, its page and its PDF): strengths and
one next step, the levels seen by competency without the stock descriptors repeated, the
evidence, what was not observed in one line — on one printed page for the full sample rubric."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from observe.extensions import db
from observe.observations import feedback
from observe.observations.models import Observation
from observe.roster.models import Teacher
from observe.rubrics.models import Criterion
from observe.sync.schemas import MAX_FEEDBACK

STRENGTHS = (
    "Students explained their reasoning to each other in pairs, and the sentence frames on the "
    "board meant every pair I listened to was using them. The exit ticket asked for a "
    "justification, not only an answer, which kept the thinking with the students."
)
NEXT_STEP = (
    "During the whole-class share, try a turn-and-talk before taking hands, so the quieter "
    "students at the back table rehearse their idea before anyone speaks to the room."
)
# Stock descriptors of the sample rubric's scale: each belongs once on the page, in the scale.
STOCK = [
    "Not seen, or seen for very few students; the opportunity was absent.",
    "Seen for some students or for part of the visit; the opportunity is uneven.",
    "Seen for most students for most of the visit; it looks like a routine.",
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "feedback.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert found, info.stdout
    return int(found.group(1))


def full_ratings(evidence_every: int = 3, evidence: str | None = None) -> list[dict]:
    """Every look-for of the sample rubric: four not observed, the rest levels 1-4 in turn,
    evidence on every ``evidence_every``-th one (a realistic visit: a sentence each)."""
    keys = db.session.scalars(select(Criterion.key).order_by(Criterion.position)).all()
    assert len(keys) == 27
    ratings = []
    for i, key in enumerate(keys):
        if i in (2, 11, 12, 24):
            ratings.append({"criterion": key, "level": None, "not_observed": True})
            continue
        rating = {"criterion": key, "level": 1 + i % 4}
        if i % evidence_every == 0:
            rating["evidence"] = evidence or (
                f"Look-for {i + 1}: a pair at the window table said why their estimate was "
                "too high and rewrote it without being asked."
            )
        ratings.append(rating)
    return ratings


@pytest.fixture
def teacher(setting):
    setting.classroom.teacher = Teacher(external_id="T-1", name="Maya Ortiz")
    db.session.commit()
    return setting.classroom.teacher


@pytest.fixture
def full_visit(push, make_version, teacher):
    """A full-rubric walkthrough with strengths, a next step, evidence and notes."""
    version = make_version(
        ratings=full_ratings(),
        strengths=STRENGTHS,
        next_step=NEXT_STEP,
        notes="Lesson 4 of the fractions unit.",
        context={"grouping": ["Pairs", "Whole class"], "visit-part": "Middle"},
        duration_seconds=14 * 60,
    )
    assert push(version)["results"][0]["status"] == "applied"
    return version["observation_id"]


def test_the_feedback_holds_what_the_teacher_needs_and_no_repeated_descriptors(full_visit):
    built = feedback.build(db.session.get(Observation, full_visit))
    assert built["strengths"] == STRENGTHS and built["next_step"] == NEXT_STEP
    assert built["teacher"] == "Maya Ortiz"
    assert built["rated"] == 23 and built["unrated"] == 0
    assert len(built["not_observed"]) == 4
    # What was not observed, by competency, in the rubric's order.
    assert built["not_observed_by_competency"] == [
        ("Critical Thinker", 1), ("Collaborator", 2), ("Engaged Citizen", 1)
    ]  # fmt: skip
    assert [c["name"] for c in built["competencies"]] == [
        "Critical Thinker", "Effective Communicator", "Collaborator", "Creative Problem Solver",
        "Self-Directed Learner", "Engaged Citizen",
    ]  # fmt: skip
    first = built["competencies"][0]["seen"][0]
    assert (first["label"], first["position"], first["steps"]) == ("Beginning", 1, 4)
    assert first["evidence"].startswith("Look-for 1: a pair at the window table")
    assert "descriptor" not in first  # the stock descriptors are the scale's, shown once
    assert [label for label, _ in built["scale"]] == [
        "Beginning", "Developing", "Proficient", "Exemplary"
    ]  # fmt: skip


def test_the_page_shows_strengths_next_step_levels_and_evidence(
    client, sign_in, setting, full_visit
):
    sign_in(setting.observer)
    page = client.get(f"/walkthroughs/{full_visit}/feedback").get_data(as_text=True)
    assert "<h2>Strengths</h2>" in page and "<h2>One next step</h2>" in page
    assert "try a turn-and-talk before taking hands" in page
    assert "Students explained their reasoning to each other in pairs" in page
    assert "Levels seen" in page and "Proficient" in page
    assert "Seen: “Look-for 1: a pair at the window table" in page
    assert "Not observed in these minutes:</strong> 4 look-fors" in page
    assert "(Critical Thinker 1, Collaborator 2, Engaged Citizen 1)" in page
    for descriptor in STOCK:
        assert page.count(descriptor) == 1, descriptor  # once, in the scale
    # The walkthrough's own page shows them too.
    walkthrough = client.get(f"/walkthroughs/{full_visit}").get_data(as_text=True)
    assert "Strengths and next step" in walkthrough
    assert "try a turn-and-talk before taking hands" in walkthrough


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_a_full_rubric_prints_on_one_page(client, sign_in, setting, full_visit, tmp_path, paper):
    sign_in(setting.observer)
    response = client.get(f"/walkthroughs/{full_visit}/feedback.pdf?paper={paper}")
    assert response.status_code == 200
    assert pdf_pages(response.data, tmp_path) == 1
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert "Strengths" in text and "One next step" in text
    assert "the quieter students at the back table" in text
    assert "Levels seen" in text and "Engaged Citizen" in text
    assert "Not observed in these minutes: 4 look-fors" in text
    assert "Lesson 4 of the fractions unit." in text
    assert "Maya Ortiz" in text and "14 minutes" in text
    for descriptor in STOCK:
        assert text.count(descriptor) == 1, descriptor
    # Every look-for rated with a level is on the page (the last one's words at least).
    assert "builds on what they bring to the class" in text


def test_the_longest_strengths_and_next_step_still_fit_a_full_rubric_on_one_page(
    client, sign_in, setting, push, make_version, teacher, tmp_path
):
    """The limit (500 characters each) was chosen so that this holds, with every context field
    filled in and a long note. (600 still fit, with 5 mm to spare on Letter; 800 did not.)"""
    words = "The pairs kept explaining and revising their estimates with care. "
    version = make_version(
        ratings=full_ratings(),
        strengths=(words * 10)[:MAX_FEEDBACK],
        next_step=(words * 10)[:MAX_FEEDBACK],
        notes="Lesson 4 of the fractions unit; the class had a substitute yesterday.",
        context={
            "grouping": ["Whole class", "Small groups", "Pairs", "Individual work"],
            "activity": [
                "Mini-lesson or direct instruction",
                "Guided practice",
                "Discussion or seminar",
            ],
            "visit-part": "Middle",
        },
        duration_seconds=14 * 60,
    )
    push(version)
    sign_in(setting.observer)
    for paper in ("letter", "a4"):
        url = f"/walkthroughs/{version['observation_id']}/feedback.pdf?paper={paper}"
        assert pdf_pages(client.get(url).data, tmp_path) == 1, paper


def test_a_walkthrough_without_them_has_no_empty_boxes(
    client, sign_in, setting, push, make_version
):
    """Walkthroughs from before the fields (or with nothing written) show neither heading."""
    version = make_version()
    push(version)
    sign_in(setting.observer)
    page = client.get(f"/walkthroughs/{version['observation_id']}/feedback").get_data(as_text=True)
    assert "<h2>Strengths</h2>" not in page and "One next step" not in page
    assert "Levels seen" in page and "Seen: “Pairs argued.”" in page
    assert "Not observed in these minutes:</strong> 1 look-for (Critical Thinker 1)" in page
    walkthrough = client.get(f"/walkthroughs/{version['observation_id']}").get_data(as_text=True)
    assert "The observer wrote neither for this walkthrough." in walkthrough


def test_what_the_observer_writes_is_text_on_the_page(client, sign_in, setting, push, make_version):
    version = make_version(strengths='<script>alert("x")</script>', next_step="Line one\nline two")
    push(version)
    sign_in(setting.observer)
    page = client.get(f"/walkthroughs/{version['observation_id']}/feedback").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert '<p class="notes">Line one\nline two</p>' in page  # kept as written, line breaks too
