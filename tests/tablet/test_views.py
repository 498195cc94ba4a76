"""The tablet app's shell: the service worker precaches every module the app imports, so the
app starts with no network whatever folder a module lives in."""

from __future__ import annotations

import json
import posixpath
import re

from flask.testing import FlaskClient

from observe import paths

# Relative imports, static or dynamic: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`.
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")


def imported_modules(entry: str) -> set[str]:
    """Every module reachable from `entry` (a path under static/) by relative imports."""
    found, waiting = set(), [entry]
    while waiting:
        module = waiting.pop()
        if module in found:
            continue
        found.add(module)
        source = (paths.STATIC / module).read_text(encoding="utf-8")
        for target in IMPORT.findall(source):
            waiting.append(posixpath.normpath(posixpath.join(posixpath.dirname(module), target)))
    return found


def precached(client: FlaskClient) -> list[str]:
    worker = client.get("/sw.js").get_data(as_text=True)
    start = worker.index("const PRECACHE = ") + len("const PRECACHE = ")
    return json.loads(worker[start : worker.index(";", start)])


def test_the_service_worker_precaches_every_module_the_app_imports(client: FlaskClient) -> None:
    modules = imported_modules("js/app.js") | imported_modules("js/sign-out-guard.js")
    # The walk itself works: it reaches the screens in their folder and the shared modules.
    assert {"js/screens/form.js", "js/screens/home.js", "js/router.js", "js/store.js"} <= modules
    urls = set(precached(client))
    missing = sorted(m for m in modules if f"/static/{m}" not in urls)
    assert missing == [], f"not precached, so the app would not start offline: {missing}"
    assert "/app/" in urls


def test_the_app_page_loads_its_entry_module(client: FlaskClient) -> None:
    page = client.get("/app/").get_data(as_text=True)
    assert '<script type="module" src="/static/js/app.js"></script>' in page
