"""The languages observe speaks: English, the language its messages are written in, and
Spanish, with room for more (docs/languages.md).

Messages are marked with Flask-Babel's ``gettext`` (``_`` in templates) and kept in Babel
catalogs under ``observe/translations``. The language of a request is the reader's own choice
when they have made one (``g.language``, set by the accounts feature from the user's setting),
else the best match for the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_babel import Babel

from observe.paths import TRANSLATIONS

# The languages with a complete catalog, in the order a language menu lists them.
LANGUAGES = ("en", "es")
DEFAULT = "en"

babel = Babel()


def select_locale() -> str:
    """The language of this request (outside a request, English)."""
    if not has_request_context():
        return DEFAULT
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS),
        default_timezone=app.config["OBSERVE_TIMEZONE"],
    )
