"""The app shell stays within its budget: everything the service worker precaches — the app
page, the manifest, every JS, CSS and icon file — as the server sends it to a browser, which
asks for gzip (every browser does)."""

from __future__ import annotations

import gzip

from observe.tablet.views import SHELL_BUDGET_BYTES
from tests.tablet.test_views import _precached


def shell_bytes(client) -> dict[str, tuple[int, int]]:
    """Each precached URL: (bytes sent, bytes once decoded)."""
    sizes = {}
    for url in _precached(client):
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        body = response.get_data()
        encoded = response.headers.get("Content-Encoding")
        if url.endswith((".js", ".css", ".svg")) and "/static/" in url:
            assert encoded == "gzip", url  # the server compresses what compresses well
            assert "Accept-Encoding" in response.headers["Vary"], url
        sizes[url] = (len(body), len(gzip.decompress(body)) if encoded == "gzip" else len(body))
        response.close()
    return sizes


def test_the_app_shell_fits_its_budget(client):
    sizes = shell_bytes(client)
    total = sum(sent for sent, _ in sizes.values())
    kinds = {".js", ".css", ".png", ".svg"}
    assert {url[url.rindex(".") :] for url in sizes if "/static/" in url} == kinds
    assert {"/app/", "/manifest.webmanifest"} <= set(sizes)
    ranked = sorted(sizes.items(), key=lambda i: -i[1][0])[:5]
    largest = ", ".join(f"{url} {sent:,}" for url, (sent, _) in ranked)
    assert total <= SHELL_BUDGET_BYTES, (
        f"the app shell sends {total:,} bytes, over its {SHELL_BUDGET_BYTES:,}; largest: {largest}"
    )


def test_a_browser_that_does_not_ask_for_gzip_gets_the_files_as_they_are(client):
    url = next(u for u in _precached(client) if u.endswith("/static/js/app.js"))
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    try:
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.get_data()) == plain.get_data()
    finally:
        plain.close()
        packed.close()


def test_pages_and_json_are_not_compressed(client):
    """Only the shell's static files: pages, the API and PDFs go as before."""
    for url in ("/sign-in", "/health"):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in response.headers, url
