"""The template filters in the reader's language: English as it always was, Spanish by CLDR."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask_babel import refresh

from observe.core import formatting


@pytest.fixture
def reading(app):
    """A request from a browser that asks for ``language``."""

    @contextmanager
    def within(language: str) -> Iterator[None]:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            # The test's app context (and its g, where Flask-Babel keeps the locale it chose)
            # outlives each request here, unlike in production.
            refresh()
            yield
        refresh()

    return within


def test_english_is_unchanged(reading):
    with reading("en-US"):
        assert formatting.percent(0.42) == "42%"
        assert formatting.percent(0.005) == "0%"  # rounded as Python always did here
        assert formatting.percent(12.34) == "1234%"  # no grouping
        assert formatting.decimal(3.5, 1) == "3.5"
        assert formatting.decimal(-0.25) == "\u22120.25"
        assert formatting.decimal(1234.5) == "1234.50"
        assert formatting.signed(0.123) == "+0.12"
        # The sign goes with the figure as written: what rounds to zero is plain zero.
        assert formatting.signed(0.0004, 1) == formatting.signed(-0.0004, 1) == "0.0"
        assert formatting.signed(-0.06, 1) == "\u22120.1"
        assert formatting.number(250003) == "250,003"
        assert formatting.number(999) == "999"
        assert formatting.number(None) == "—"
        assert formatting.percent(None) == "undefined"
        assert formatting.decimal(None) == "undefined"


def test_spanish_follows_cldr(reading):
    with reading("es-MX,es"):
        assert formatting.percent(0.42) == "42\u00a0%"
        assert formatting.decimal(3.5, 1) == "3,5"
        assert formatting.decimal(-0.25) == "\u22120,25"
        assert formatting.signed(0.5) == "+0,50"
        assert formatting.number(250003) == "250.003"
        assert formatting.percent(None) == "indefinido"
        assert formatting.signed(None) == "indefinido"


def test_dates_with_the_month_named_in_the_readers_language(reading):
    moment = datetime(2026, 12, 3, 18, 5, tzinfo=UTC)
    with reading("en"):
        english = formatting.local_time(moment, "%-d %B %Y, %H:%M")
        assert english.startswith("3 December 2026, ")
    with reading("es"):
        spanish = formatting.local_time(moment, "%-d %B %Y, %H:%M")
        assert spanish.startswith("3 de diciembre de 2026, ")
        assert spanish.endswith(english.rsplit(" ", 1)[-1])  # the same clock time
        # Numeric dates read the same in both.
        assert formatting.local_time(moment, "%Y-%m-%d") == "2026-12-03"


def test_outside_a_request_english(app):
    with app.app_context():
        assert formatting.percent(0.5) == "50%"
        assert formatting.decimal(None) == "undefined"


def test_days_with_the_month_named(reading):
    from datetime import date

    with reading("en"):
        assert formatting.day(date(2026, 9, 2), "%b %-d") == "Sep 2"
        assert formatting.day(date(2026, 9, 2)) == "2 September 2026"
    with reading("es"):
        assert formatting.day(date(2026, 9, 2), "%b %-d") == "2 sept"
        assert formatting.day(date(2026, 9, 2)) == "2 de septiembre de 2026"
        assert formatting.day(date(2026, 9, 2), "%Y-%m-%d") == "2026-09-02"
