"""The languages observe speaks: English, the language its messages are written in, and
Spanish, with room for more (docs/languages.md).

Messages are marked with Flask-Babel's ``gettext`` (``_`` in templates) and kept in Babel
catalogs under ``observe/translations``. The language of a request is the reader's own choice
when they have made one (``g.language``, set by the accounts feature from the user's setting),
else the best match for the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, get_locale, gettext

from observe.paths import TRANSLATIONS

# The languages with a complete catalog, in the order a language menu lists them.
LANGUAGES = ("en", "es")
DEFAULT = "en"
# Each language named in itself, as a language menu shows it (never translated: a reader lost
# in a language they cannot read still finds their own).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

babel = Babel()


def select_locale() -> str:
    """The language of this request (outside a request, English)."""
    if not has_request_context():
        return DEFAULT
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def current_language() -> str:
    """The language this request is answered in, as ``<html lang>`` names it."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def language_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a person's language setting ("" follows the browser)."""
    if value == "" or value in LANGUAGES:
        return None
    names = ", ".join(f"{code} ({name})" for code, name in LANGUAGE_NAMES.items())
    return str(
        gettext(
            "“%(value)s” is not a language observe speaks; choose one of %(names)s, "
            "or the browser's language.",
            value=value[:20],
            names=names,
        )
    )


# What a page, PDF or e-mail preview in the reader's language is: a cache in front of the app
# must not hand one reader's language to another. The language follows the browser's header,
# or the person's setting, which the session cookie names.
_WORDED = ("text/html", "application/pdf", "application/json")


def vary_by_language(response: Response) -> Response:
    """Say that this response's words depend on ``Accept-Language`` and the signed-in person.
    Not the tablet app's shell: it is the same for everyone (the app picks its own words), and
    the service worker's cache matches it by the headers a Vary names."""
    if response.mimetype in _WORDED and request.blueprint != "tablet":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS),
        default_timezone=app.config["OBSERVE_TIMEZONE"],
    )
    app.add_template_global(current_language)
    app.after_request(vary_by_language)
