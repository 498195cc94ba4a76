"""The printed summary's layout, on the demo district split four ways: every group's label
whole (tables and charts wrap, never cut to "[...]"), and no page but the last left nearly
empty by a break that strands a heading or a short table."""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from observe.accounts.models import User
from observe.demo import EMAIL_DOMAIN, build_demo
from observe.extensions import db
from observe.reports import charts
from tests.conftest import PASSWORD
from tests.reports.test_pdf import pdf_text

SPLITS = ("", "school", "course_level", "program")
MM = 72 / 25.4
# A page's running header and footer sit in its margins (15-20 mm); the body is between.
MARGIN = 15 * MM
LEAST_FILLED = 0.25


def page_fill(pdf: bytes, tmp_path: Path) -> list[float]:
    """How far down each page its body goes, from 0 (empty) to 1 (to the bottom margin): the
    lowest word on the page (pdftotext's word boxes; charts print their labels as text), the
    running header and footer left out."""
    path = tmp_path / "fill.pdf"
    path.write_bytes(pdf)
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fills = []
    for page in re.finditer(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', boxes, re.S):
        height = float(page.group(1))
        bottoms = [
            float(bottom)
            for top, bottom in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page[2])
            if float(top) >= MARGIN and float(bottom) <= height - MARGIN
        ]
        body = height - 2 * MARGIN - 3 * MM
        fills.append((max(bottoms, default=MARGIN) - MARGIN) / body)
    return fills


def test_page_fill_sees_a_nearly_empty_page(tmp_path):
    """The measure itself: a page holding one short table is under the limit."""
    from weasyprint import HTML

    rows = "".join(f"<tr><td>row {i}</td></tr>" for i in range(3))
    html = (
        "<p>first page</p>" + "<p>filler</p>" * 22 + '<h2 style="break-before: page">Short</h2>'
        f"<table>{rows}</table>" + '<p style="break-before: page">last</p>'
    )
    fills = page_fill(HTML(string=html).write_pdf(), tmp_path)
    assert len(fills) == 3
    assert fills[0] > 0.8 and fills[1] < LEAST_FILLED


@pytest.fixture
def demo_admin(app, monkeypatch) -> User:
    """The demo district (its 360 walkthroughs), read by its district admin with the real
    suppression thresholds."""
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CLASSROOMS", 3)
    monkeypatch.setitem(app.config, "OBSERVE_MIN_CELL_RATINGS", 10)
    build_demo(random.Random(2026), 360, PASSWORD)
    db.session.commit()
    return db.session.scalars(select(User).where(User.email == f"admin@{EMAIL_DOMAIN}")).one()


def test_the_printed_summary_keeps_labels_whole_and_fills_its_pages(
    client, bearer, sign_in, demo_admin, tmp_path
):
    sign_in(demo_admin)
    for by in SPLITS:
        report = client.get(f"/api/v1/reports/summary?by={by}", headers=bearer(demo_admin))
        shown = [r["label"] for r in (report.get_json().get("groups") or {}).get("rows", [])
                 if not r["suppressed"]]  # fmt: skip
        assert bool(shown) == bool(by)
        pdf = client.get(f"/reports/summary.pdf?by={by}").data
        text = " ".join(pdf_text(pdf, tmp_path).split())
        assert "[...]" not in text and "…" not in text
        for label in shown:
            assert label in text, (by, label)
        fills = page_fill(pdf, tmp_path)
        assert len(fills) > 2
        nearly_empty = [n for n, fill in enumerate(fills[:-1], 1) if fill < LEAST_FILLED]
        assert nearly_empty == [], (by, [round(f, 2) for f in fills])


def test_the_heatmap_wraps_long_labels_and_cuts_none():
    """Every look-for's text and every group's name is in the chart whole, over several lines."""
    long_group = "Special education inclusion with co-teaching support"
    long_look_for = (
        "Students examine the content from more than one perspective, including perspectives "
        "from communities like their own, and say where they stand"
    )
    criteria = [{"key": "a", "text": long_look_for}, {"key": "b", "text": "Short one"}]
    groups = [
        {"label": name, "suppressed": False,
         "criteria": {"a": {"share": 0.5, "gap": None}, "b": {"share": 0.7, "gap": "above"}}}
        for name in (long_group, "AP")
    ]  # fmt: skip
    report = {"criteria": criteria, "groups": {"rows": groups},
              "scope": {"at_least_label": "Proficient", "by_label": "Program"}}  # fmt: skip
    svg = str(charts.heatmap(report))
    lines = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b.*?</text>", svg, re.S)]
    drawn = " ".join(" ".join(lines).split())
    assert "[...]" not in drawn
    assert long_look_for in drawn and long_group in drawn
    assert any(
        line.strip() and line.strip() in long_look_for and line.strip() != long_look_for
        for line in lines
    )  # fmt: skip  (wrapped: a line holds part of it)


def _heatmap_report(groups: int, criteria: int = 6) -> dict:
    look_fors = [
        {"key": f"c{i}", "text": f"Look-for {i}: students explain their reasoning, aloud or in "
                                 "writing, and support it with evidence from the text"}
        for i in range(criteria)
    ]  # fmt: skip
    rows = [
        {"label": f"Group {g} of the district's schools", "suppressed": False,
         "criteria": {c["key"]: {"share": (g * 7 + i * 13) % 101 / 100 if i != 2 else None,
                                 "gap": ("above", "below", None)[(g + i) % 3]}
                      for i, c in enumerate(look_fors)}}
        for g in range(groups)
    ]  # fmt: skip
    return {"criteria": look_fors, "groups": {"rows": rows},
            "scope": {"at_least_label": "Proficient", "by_label": "School"}}  # fmt: skip


@pytest.mark.parametrize("groups", [1, 6, 12])
def test_the_heatmap_prints_every_word_clear_of_the_others(app, tmp_path, groups):
    """The heatmap is laid out here (no matplotlib): printed by WeasyPrint, no word of it —
    look-fors, cells, group names, title — overlaps another or leaves the chart, with names
    the charts' font lacks (an emoji, Korean) and a word wider than its column."""
    from weasyprint import HTML

    report = _heatmap_report(groups)
    names = ["학교 📚 Lincoln", "Superintendent's-demonstration-magnet-academy", "WWWW MMMM WWWW"]
    for row, name in zip(report["groups"]["rows"], names, strict=False):
        row["label"] = name
    report["scope"]["at_least_label"] = "Proficient-or-better-than-the-district-expects-of-anyone"
    with app.test_request_context():
        svg = str(charts.heatmap(report))
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    # A wide margin, so that a word pushed out of the chart is still on the page to be seen.
    page = f"@page {{ size: {width + 200}pt {height + 200}pt; margin: 100pt }} body {{ margin: 0 }}"
    html = f"<style>{page}</style>{svg}"
    path = tmp_path / "heatmap.pdf"
    path.write_bytes(HTML(string=html).write_pdf())
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    words = [
        (float(a), float(b), float(c), float(d), word)
        for a, b, c, d, word in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', boxes
        )
    ]
    assert len(words) > 100
    for x0, y0, x1, y1, word in words:
        assert min(x0, y0) >= 99.5 and x1 <= width + 100.5 and y1 <= height + 100.5, word
    for i, (ax0, ay0, ax1, ay1, a) in enumerate(words):
        for bx0, by0, bx1, by1, b in words[i + 1 :]:
            overlap_x = min(ax1, bx1) - max(ax0, bx0)
            overlap_y = min(ay1, by1) - max(ay0, by0)
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (a, b)


def test_text_width_agrees_with_matplotlib_measuring_the_same_font():
    """The drawn charts place text by their own measure: within 2 % of matplotlib's unhinted
    layout of the same words in the same font and size (as a PDF draws them; kerning is the
    difference)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    from observe.core import charts as core

    renderer = TextToPath()
    font = FontProperties(family=core.FONT, size=7)
    for words in ("Students explain their reasoning, aloud or in writing.", "100% ▲", "AP",
                  "Inclusión de educación especial — ¿Qué?", "WAVE 1,234,567"):  # fmt: skip
        theirs, _, _ = renderer.get_text_width_height_descent(words, font, ismath=False)
        assert abs(core.text_width(words, 7) - theirs) <= 0.02 * theirs + 0.5, words


def test_the_heatmap_gives_way_to_the_table_when_its_cells_cannot_hold_their_figures(
    app, client, sign_in, demo_admin
):
    with app.test_request_context():
        assert charts.heatmap(_heatmap_report(12)) is not None  # a district's dozen schools
        assert charts.heatmap(_heatmap_report(40)) is None
    sign_in(demo_admin)
    page = client.get("/reports/summary?by=school").get_data(as_text=True)
    assert 'id="chart-heatmap-title"' in page  # the demo's eight schools fit
    assert "Too many groups to chart" not in page
