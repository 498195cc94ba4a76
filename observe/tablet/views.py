"""The tablet app: its page, its service worker and its manifest.

The app is ES modules and CSS served from static/, with no build step. The page is the same for
everyone (the signed-in user's data comes from the API and lives in IndexedDB), so the service
worker can cache it and start the app with no network.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for

from observe import paths
from observe.core.i18n import select_locale

bp = Blueprint("tablet", __name__)

# Everything the app needs offline, besides the page itself: every module and icon, and the
# stylesheets the app's page links (the server's pages have their own, which the app never uses).
_PRECACHED_DIRS = ("js", "css", "icons")
_LINKED_STYLESHEET = re.compile(r"filename='(css/[^']+)'")

# What the service worker precaches (the page, the manifest, JS, CSS, icons) may weigh at most
# this many bytes as sent to a browser: the server gzips the modules, stylesheets, SVG and
# manifest itself (observe/core/compression.py), so this is what a tablet downloads on
# its first visit, whatever is in front of the server. Photos are the walkthroughs' data, in
# IndexedDB, not part of the shell.
# tests/tablet/test_views_shell_size.py holds it; scripts/bench_app.py prints it.
SHELL_BUDGET_BYTES = 150_000


@cache
def _static_files() -> tuple[str, ...]:
    page = (paths.TEMPLATES / "tablet/app.html").read_text(encoding="utf-8")
    linked = set(_LINKED_STYLESHEET.findall(page))
    found = []
    for folder in _PRECACHED_DIRS:
        for path in sorted((paths.STATIC / folder).rglob("*")):
            name = path.relative_to(paths.STATIC).as_posix()
            if path.is_file() and (folder != "css" or name in linked):
                found.append(name)
    return tuple(found)


def app_language() -> str:
    """The language the app's page is in: the reader's setting, else the browser's
    (observe.core.i18n). The app reads it from ``<html lang>`` at start-up."""
    return select_locale()


def app_version() -> str:
    """A fingerprint of the app's files and page, and of what the page carries: the district's
    settings (time zone, photos on or off) and the language. A new deployment, a new setting
    or another language gets a new service worker, whose update brings the page in that
    language into the cache (the page is served from the cache, so it is the only way in)."""
    zone = current_app.config["OBSERVE_TIMEZONE"]
    photos = "photos" if current_app.config["OBSERVE_PHOTOS"] else "no-photos"
    carried = f"{_files_digest()} {zone} {photos} {app_language()}"
    return hashlib.sha256(carried.encode()).hexdigest()[:12]


@cache
def _files_digest() -> str:
    digest = hashlib.sha256()
    for name in _static_files():
        digest.update(name.encode())
        digest.update((paths.STATIC / name).read_bytes())
    for name in ("tablet/app.html", "tablet/sw.js"):
        digest.update((paths.TEMPLATES / name).read_bytes())
    return digest.hexdigest()


def precache_urls() -> list[str]:
    urls = [url_for("tablet.app"), url_for("tablet.manifest")]
    urls += [url_for("static", filename=name) for name in _static_files()]
    return urls


@bp.get("/app/")
def app() -> str:
    zone = current_app.config["OBSERVE_TIMEZONE"]
    photos = "on" if current_app.config["OBSERVE_PHOTOS"] else "off"
    return render_template(
        "tablet/app.html",
        app_version=app_version(),
        timezone=zone,
        photos=photos,
        lang=app_language(),
    )


@bp.get("/sw.js")
def service_worker() -> Response:
    body = render_template("tablet/sw.js", app_version=app_version(), precache=precache_urls())
    response = Response(body, mimetype="text/javascript")
    # Browsers check for a new service worker on navigation; never let a cache answer for it.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    response = jsonify(
        name=f"observe · {current_app.config['OBSERVE_DISTRICT_NAME']}",
        short_name="observe",
        description="Equity-focused classroom walkthroughs, offline first.",
        start_url=url_for("tablet.app"),
        scope="/",
        display="standalone",
        orientation="any",
        background_color="#f3f4f6",
        theme_color="#1d4e89",
        icons=[
            {
                "src": url_for("static", filename="icons/observe.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
            {
                "src": url_for("static", filename="icons/observe-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="icons/observe-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    )
    response.mimetype = "application/manifest+json"
    return response
