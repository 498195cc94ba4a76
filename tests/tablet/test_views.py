"""The tablet app's shell (observe/tablet/views.py): the page, the service worker that keeps it
offline, and the manifest that installs it."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from pathlib import Path

from observe import paths
from observe.tablet import views

# Relative imports, static or dynamic: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`.
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")


def _precached(client) -> list[str]:
    body = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"PRECACHE\s*=\s*(\[.*?\]);", body, re.S).group(1))


def test_the_service_worker_is_never_answered_from_a_cache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"


def test_every_module_the_app_imports_is_kept_offline(client):
    """Each ES module, followed from the app page (and the sign-out guard every page loads)
    through every import, exists and is in the precache: an app split into more modules, in
    any folder, still starts with no network."""
    precached = set(_precached(client))
    assert {"/app/", "/manifest.webmanifest"} <= precached
    page = client.get("/app/").get_data(as_text=True)
    entries = re.findall(r'<script type="module" src="([^"]+)"', page)
    assert entries == ["/static/js/app.js"], "the page loads the app as one module"
    todo = [*entries, "/static/js/sign-out-guard.js"]
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        assert url in precached, f"{url} is not precached, so the app would not start offline"
        source = paths.STATIC / url.removeprefix("/static/")
        assert source.is_file(), f"{url} is imported but does not exist"
        for relative in IMPORT.findall(source.read_text(encoding="utf-8")):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(url), relative)))
    # The walk itself works: it reaches the screens in their folder and the shared modules.
    assert {"/static/js/screens/form.js", "/static/js/router.js", "/static/js/store.js"} <= seen


def test_a_changed_file_makes_a_new_version(client, app, monkeypatch, tmp_path: Path):
    before = client.get("/sw.js").get_data(as_text=True)
    copy = tmp_path / "static"
    shutil.copytree(paths.STATIC, copy)
    monkeypatch.setattr(paths, "STATIC", copy)
    views._static_files.cache_clear()
    views._files_digest.cache_clear()
    try:
        with app.test_request_context():
            unchanged = views.app_version()
        first_module = sorted((copy / "js").rglob("*.js"))[0]
        first_module.write_text(first_module.read_text() + "\n// changed\n")
        views._files_digest.cache_clear()
        with app.test_request_context():
            changed = views.app_version()
    finally:
        views._static_files.cache_clear()
        views._files_digest.cache_clear()
    assert unchanged in before
    assert changed != unchanged


def test_the_manifest_installs_the_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["start_url"] == "/app/"
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"any", "192x192", "512x512"}
