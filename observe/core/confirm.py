"""Confirming an action that cannot be undone, on the server's pages, with or without
JavaScript: the page's button opens a confirmation page (a GET that changes nothing) saying
what will happen; only its form, which carries ``confirmed=yes``, does it. A POST without it —
a stale form, a second tab, a script — is sent to the confirmation page instead of acting."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import redirect, render_template, request
from werkzeug.wrappers import Response


@dataclass
class Confirmation:
    title: str  # the question, e.g. "Reveal the scores of …?"
    action: str  # where the confirming form posts
    button: str  # what the confirming button says it does
    back: str  # where "cancel" goes: the page the action was asked from
    lines: list[str] = field(default_factory=list)  # what will happen, and what cannot be undone
    names_intro: str = ""
    names: list[str] = field(default_factory=list)  # e.g. who has not submitted
    cancel: str = "Cancel"
    danger: bool = True


def confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def page(confirmation: Confirmation) -> str:
    return render_template("confirm.html", confirm=confirmation)


def ask_first(confirm_url: str) -> Response:
    """The answer to an unconfirmed POST: the confirmation page (303: fetch it with GET)."""
    return redirect(confirm_url, code=303)
