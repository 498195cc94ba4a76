"""Turning a page's template into a PDF with WeasyPrint.

The print template (``print/base.html``) wraps the same partials the page uses; the print
stylesheet (``static/css/print.css``) sets Letter or A4, page numbers, a running header with
the district, the scope and the period, and rows never split across pages. It is handed to
WeasyPrint as text and the templates link nothing, so rendering reads no URL at all: a report
never waits on the network, and nothing in a report can make the server fetch one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import click
from flask import Response, current_app, render_template

from observe import paths
from observe.errors import ServiceBusy, ValidationFailed

PAPERS = {"letter": "letter", "a4": "A4"}
# The ``--paper`` option of the ``observe report …`` commands.
PAPER = click.Choice(sorted(PAPERS), case_sensitive=False)


def write_pdf(output: Path, pdf: bytes) -> None:
    """Write a printed report for a command, and say so."""
    output.write_bytes(pdf)
    click.echo(f"Wrote {output} ({len(pdf):,} bytes).")


def paper_size(value: str | None) -> str:
    """``letter`` (the default) or ``a4``, as a CSS page size; anything else is refused."""
    key = (value or "letter").lower()
    if key not in PAPERS:
        raise ValidationFailed(
            f"paper must be letter or a4, not {value!r}", details={"paper": "letter or a4"}
        )
    return PAPERS[key]


@cache
def _print_css() -> Any:
    from weasyprint import CSS

    return CSS(string=(paths.STATIC / "css" / "print.css").read_text(encoding="utf-8"))


def render_pdf(template: str, *, paper: str | None = "letter", **context: Any) -> bytes:
    """The template rendered for print (``printing`` is true in it) as PDF bytes."""
    # Imported here: WeasyPrint takes half a second to load, which start-up need not pay.
    from weasyprint import CSS, HTML

    size = paper_size(paper)
    html = render_template(template, printing=True, **context)
    # Named pages: wide tables print on landscape pages of the same paper.
    page = CSS(string=f"@page {{ size: {size}; }} @page wide {{ size: {size} landscape; }}")
    with render_slot():
        pdf: bytes = HTML(string=html).write_pdf(stylesheets=[_print_css(), page])
        return pdf


_SLOTS_LOCK = threading.Lock()


@contextmanager
def render_slot() -> Iterator[None]:
    """One of the process's ``OBSERVE_PDF_RENDERS`` turns at WeasyPrint, or 503 if none frees
    up within ``OBSERVE_PDF_WAIT`` seconds: a PDF costs seconds of CPU, and a burst of them
    must not starve every other request of the server."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _SLOTS_LOCK:
        slots = app.extensions.get("observe_pdf_slots")
        if slots is None:
            slots = app.extensions["observe_pdf_slots"] = threading.BoundedSemaphore(
                app.config["OBSERVE_PDF_RENDERS"]
            )
    wait = app.config["OBSERVE_PDF_WAIT"]
    if not slots.acquire(timeout=wait):
        raise ServiceBusy(
            "The server is printing other reports right now; try again in a few seconds.",
            retry_after=max(1, round(wait)),
        )
    try:
        yield
    finally:
        slots.release()


def pdf_response(pdf: bytes, filename: str) -> Response:
    """A PDF download; private, since reports carry people's names."""
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
