"""Benchmark the tablet app's shell: its transfer size, and how fast a form is usable offline.

Run on demand:  .venv/bin/python scripts/bench_app.py
Starts gunicorn on a throwaway SQLite database with the demo district, signs in with Debian's
Chromium, and measures (1) the bytes of everything the service worker precaches (the app page,
the manifest, JS, CSS and icons) as the server sends them to a browser asking for gzip, which
is what the budget counts (observe/tablet/views.py, SHELL_BUDGET_BYTES), and decoded; and (2)
the time from navigating to a draft's form with no network to the moment its level buttons can be
tapped, median of several cold starts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from observe.tablet.views import SHELL_BUDGET_BYTES

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
PASSWORD = "bench-password-1"


def serve(workdir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "OBSERVE_SECRET_KEY": "bench",
        "OBSERVE_SECURE_COOKIES": "0",
        "OBSERVE_DEMO_PASSWORD": PASSWORD,
    }
    for command in (["db", "upgrade"], ["demo", "--observations", "60"]):
        subprocess.run([VENV / "observe", *command], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [VENV / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def shell_size(base: str) -> tuple[int, int, list[tuple[str, int]]]:
    worker = urllib.request.urlopen(base + "/sw.js").read().decode()
    start = worker.index("const PRECACHE = ") + len("const PRECACHE = ")
    urls = json.loads(worker[start : worker.index(";", start)])
    files = []
    packed = 0
    for url in urls:
        request = urllib.request.Request(base + url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            sent = response.read()
            packed += len(sent)
            gzipped = response.headers.get("Content-Encoding") == "gzip"
        files.append((url, gzip.decompress(sent) if gzipped else sent))
    raw = sum(len(body) for _, body in files)
    return raw, packed, [(url, len(body)) for url, body in files]


def offline_form_times(base: str, runs: int) -> list[float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        page = context.new_page()
        page.goto(base + "/app/")
        page.get_by_label("Email").fill("coach.north@riverbend.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Start a walkthrough").click()
        page.locator("[data-school]").first.click()
        page.locator("[data-classroom]").nth(1).click()
        page.get_by_role("button", name="Begin").click()
        page.locator(".level").first.wait_for()
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        form_url = page.url
        page.close()
        context.set_offline(True)
        times = []
        for _ in range(runs):
            cold = context.new_page()
            started = time.perf_counter()
            cold.goto(form_url)
            cold.locator(".level:enabled").first.wait_for()
            times.append(time.perf_counter() - started)
            cold.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--port", type=int, default=5093)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="observe-bench-app-"))
    server = serve(workdir, args.port)
    try:
        base = f"http://127.0.0.1:{args.port}"
        raw, packed, files = shell_size(base)
        times = offline_form_times(base, args.runs)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    print("App shell: everything the service worker precaches (page, manifest, JS, CSS, icons)")
    for url, size in files:
        print(f"  {url:<40} {size:>8,} bytes")
    kinds: dict[str, int] = {}
    for url, size in files:
        kind = url.rsplit(".", 1)[-1] if "/static/" in url else "page and manifest"
        kinds[kind] = kinds.get(kind, 0) + size
    print("  by kind: " + ", ".join(f"{kind} {size:,}" for kind, size in sorted(kinds.items())))
    verdict = "PASS" if packed <= SHELL_BUDGET_BYTES else "OVER"
    print(
        f"  total {packed:,} bytes sent (gzip where the server compresses), {raw:,} uncompressed; "
        f"budget <= {SHELL_BUDGET_BYTES:,} sent: {verdict}"
    )
    print(
        f"Offline cold start to a usable form, {len(times)} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
