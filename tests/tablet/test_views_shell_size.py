"""The app shell stays within its budget: everything the service worker precaches — the app
page, the manifest, every JS, CSS and icon file — as the server sends it."""

from __future__ import annotations

from observe.tablet.views import SHELL_BUDGET_BYTES
from tests.tablet.test_views import _precached


def shell_bytes(client) -> dict[str, int]:
    sizes = {}
    for url in _precached(client):
        response = client.get(url)
        assert response.status_code == 200, url
        # Uncompressed: the server does not compress them, and Cache Storage keeps them whole.
        assert "Content-Encoding" not in response.headers, url
        sizes[url] = len(response.get_data())
        response.close()
    return sizes


def test_the_app_shell_fits_its_budget(client):
    sizes = shell_bytes(client)
    total = sum(sizes.values())
    kinds = {".js", ".css", ".png", ".svg"}
    assert {url[url.rindex(".") :] for url in sizes if "/static/" in url} == kinds
    assert {"/app/", "/manifest.webmanifest"} <= set(sizes)
    largest = ", ".join(f"{url} {n:,}" for url, n in sorted(sizes.items(), key=lambda i: -i[1])[:5])
    assert total <= SHELL_BUDGET_BYTES, (
        f"the app shell is {total:,} bytes, over its {SHELL_BUDGET_BYTES:,}; largest: {largest}"
    )
