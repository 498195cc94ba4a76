"""Observer-adjusted comparisons on a generated district with planted leans (raters_district):
the summary's adjusted figures, the stored fit and when it is refitted, the CLI, refusals."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update

from observe.calibration.models import ObserverLean, StoredRaterFit
from observe.core.models import utcnow
from observe.extensions import db
from observe.reports import raters
from tests.reports import raters_district


def _summary(client, bearer, who, **args):
    response = client.get(
        "/api/v1/reports/summary", query_string={"by": "school", **args}, headers=bearer(who)
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _mean(row, key):
    shares = [d["share"] for d in (row[key] if key == "dimensions" else row[key]["dimensions"])
              .values() if d["share"] is not None]  # fmt: skip
    return sum(shares) / len(shares)


def test_an_observer_driven_gap_disappears_and_a_real_one_remains(client, bearer, create_user):
    district = raters_district.build(create_user)
    report = _summary(client, bearer, district.admin)
    groups = report["groups"]
    assert groups["adjustment"]["refused"] is None
    assert groups["adjustment"]["observers"] == 8
    rows = {row["key"]: row for row in groups["rows"]}
    observed = {code: _mean(rows[code], "dimensions") for code in rows}
    adjusted = {code: _mean(rows[code], "adjusted") for code in rows}
    # As observed, ALD's severe principal puts it far behind BRK (a planted 0.35 of lean).
    assert observed["BRK"] - observed["ALD"] > 0.2
    # Adjusted for who observed, the two schools are level again…
    assert abs(adjusted["BRK"] - adjusted["ALD"]) < 0.08
    # …while CED's real lead over DUN (0.20) stays.
    assert observed["CED"] - observed["DUN"] > 0.12
    assert adjusted["CED"] - adjusted["DUN"] > 0.12
    assert rows["ALD"]["adjusted"]["lean"] < -0.1 and rows["BRK"]["adjusted"]["lean"] > 0
    # Each adjusted figure carries an interval around it.
    for row in rows.values():
        for figures in row["adjusted"]["dimensions"].values():
            if figures["share"] is None:  # a dimension none of the six look-fors serves
                continue
            low, high = figures["interval"]
            assert low <= figures["share"] <= high
    # The scope adjusted the same way (review B1): its shares less the walkthrough-weighted
    # mean lean of every observer in it — here each school's equally many walkthroughs.
    scope = groups["adjustment"]["scope"]
    leans = [row["adjusted"]["lean"] for row in rows.values()]
    sizes = [row["observations"] for row in rows.values()]
    expected = sum(n * lean for n, lean in zip(sizes, leans, strict=True)) / sum(sizes)
    assert scope["lean"] == pytest.approx(expected, abs=1e-3)
    for d in report["dimensions"]:
        if d["share"] is not None:
            assert scope["dimensions"][d["name"]]["share"] == pytest.approx(
                min(1.0, max(0.0, d["share"] - scope["lean"])), abs=1e-3
            )


def test_planted_leans_are_recovered(create_user):
    district = raters_district.build(create_user, walkthroughs_per_school=300)
    fit = raters.current_fit(district.version.id, 3)
    assert fit.refused is None
    estimated = {lean.user_id: lean.lean for lean in fit.leans}
    ids = sorted(district.observers)
    planted = np.array([district.observers[i] for i in ids])
    found = np.array([estimated[i] for i in ids])
    assert np.corrcoef(planted, found)[0, 1] >= 0.9
    for lean in fit.leans:
        assert lean.standard_error > 0 and lean.walkthroughs > 0 and lean.lessons >= lean.shared


def test_the_fit_is_stored_and_read_back_until_stale(client, bearer, create_user):
    district = raters_district.build(create_user, walkthroughs_per_school=120)
    _summary(client, bearer, district.admin)
    first = db.session.scalars(select(StoredRaterFit.fitted_at)).one()
    # A second summary reads the stored fit: no refit.
    _summary(client, bearer, district.admin)
    assert db.session.scalars(select(StoredRaterFit.fitted_at)).one() == first
    # A day later it is stale: the summary answers from it, and refits after its response.
    db.session.execute(
        update(StoredRaterFit).values(fitted_at=utcnow() - timedelta(days=1, minutes=1))
    )
    db.session.commit()
    response = client.get(
        "/api/v1/reports/summary", query_string={"by": "school"}, headers=bearer(district.admin)
    )
    report = response.get_json()
    response.close()  # as a WSGI server does once the response has gone
    assert report["groups"]["adjustment"]["fitted_at"].startswith(
        str((utcnow() - timedelta(days=1)).date())
    )
    db.session.expire_all()
    refitted = db.session.scalars(select(StoredRaterFit)).one()
    assert utcnow() - refitted.fitted_at < timedelta(minutes=5)
    assert refitted.walkthroughs_counted == 4 * 120


def test_staleness_counts_new_walkthroughs_and_age():
    now = utcnow()
    fit = StoredRaterFit(walkthroughs_counted=20_000, fitted_at=now)
    assert not raters.is_stale(fit, 20_000, now)
    assert not raters.is_stale(fit, 20_999, now)  # 5% of 20,000 is the allowance
    assert raters.is_stale(fit, 21_000, now)
    assert raters.is_stale(fit, 19_000, now)
    small = StoredRaterFit(walkthroughs_counted=100, fitted_at=now)
    assert not raters.is_stale(small, 599, now)  # at least 500
    assert raters.is_stale(small, 600, now)
    assert raters.is_stale(small, 100, now + timedelta(days=1))


def test_too_little_overlap_refuses_and_says_why(client, bearer, create_user, sign_in):
    district = raters_district.build(create_user, overlap=False)
    report = _summary(client, bearer, district.admin)
    adjustment = report["groups"]["adjustment"]
    assert adjustment["refused"].startswith("Too little overlap between observers")
    assert all("adjusted" not in row for row in report["groups"]["rows"])
    assert db.session.scalar(select(func.count()).select_from(ObserverLean)) == 0
    page = sign_in(district.admin).get("/reports/summary?by=school").get_data(as_text=True)
    assert "Too little overlap between observers" in page
    assert "Observer lean" not in page


def test_the_page_and_pdf_show_both_columns(client, create_user, sign_in):
    district = raters_district.build(create_user, walkthroughs_per_school=120)
    sign_in(district.admin)
    page = client.get("/reports/summary?by=school").get_data(as_text=True)
    assert "Adjusted for who observed" in page
    assert "Observer lean" in page
    pdf = client.get("/reports/summary.pdf?by=school")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_command_fits_every_version_in_use(app, create_user):
    district = raters_district.build(create_user, walkthroughs_per_school=120)
    result = app.test_cli_runner().invoke(args=["reports", "fit-raters"])
    assert result.exit_code == 0, result.output
    assert "8 observers" in result.output
    fit = db.session.scalars(select(StoredRaterFit)).one()
    assert fit.rubric_version_id == district.version.id and fit.at_least == 3
    bad = app.test_cli_runner().invoke(args=["reports", "fit-raters", "--at-least", "9"])
    assert bad.exit_code != 0 and "9 is not a level" in bad.output
    assert db.session.scalars(select(StoredRaterFit.id)).one() == fit.id


def test_the_trends_page_shows_leans_to_leaders_and_admins_only(client, create_user, sign_in):
    district = raters_district.build(create_user, walkthroughs_per_school=120)
    raters.current_fit(district.version.id, 3)
    page = sign_in(district.admin).get("/calibration/trends").get_data(as_text=True)
    assert "Each observer's lean in everyday walkthroughs" in page
    assert "Principal ALD" in page and "severe" in page and "Coach 3" in page
    client.post_form("/sign-out", {})
    # A leader sees the observers who work in their school: their principal and the coaches.
    leader = district.principals["CED"]
    trends = client.get("/api/v1/calibration/trends", headers=_bearer_of(leader)).get_json()
    names = {o["name"] for o in trends["observer_leans"][0]["observers"]}
    assert names == {"Principal CED", "Coach 0", "Coach 1", "Coach 2", "Coach 3"}
    ald = next(o for fit in raters_trends(district.admin) for o in fit["observers"]
               if o["name"] == "Principal ALD")  # fmt: skip
    assert ald["interval"][1] < 0 and ald["clear"] and ald["walkthroughs"] > 50
    # An observer does not.
    coach = district.coaches[0]
    assert (
        client.get("/api/v1/calibration/trends", headers=_bearer_of(coach)).get_json()[
            "observer_leans"
        ]
        is None
    )
    page = sign_in(coach).get("/calibration/trends").get_data(as_text=True)
    assert "Each observer's lean" not in page


def _bearer_of(user):
    from observe.accounts import operations

    _, secret = operations.create_token(user, "tests")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def raters_trends(user):
    from observe.calibration import trends

    return trends.observer_leans(user)
