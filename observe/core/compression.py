"""The tablet app's shell goes gzip-compressed to browsers that ask (every browser does): its
modules, stylesheets, SVG icon, manifest and service worker. That is what keeps the shell
within its budget on a building's Wi-Fi (observe/tablet/views.py, SHELL_BUDGET_BYTES), whatever
stands in front of the server. Pages, the JSON API and PDFs go as they always did.

A few lines rather than a library: the files are small (the largest is 25 KB), so each is read
whole and compressed at once, and the file is closed as any response's is."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSED_TYPES = frozenset(
    {"text/javascript", "application/javascript", "text/css", "image/svg+xml",
     "application/manifest+json"}
)  # fmt: skip
COMPRESSED_ENDPOINTS = frozenset({"static", "tablet.service_worker", "tablet.manifest"})
LEVEL = 6  # gzip's default: within a few per cent of 9, at a fraction of the time


def register_compression(app: Flask) -> None:
    @app.after_request
    def compress(response: Response) -> Response:
        if (
            request.endpoint not in COMPRESSED_ENDPOINTS
            or response.status_code != 200
            or response.mimetype not in COMPRESSED_TYPES
            or "Content-Encoding" in response.headers
        ):
            return response
        response.vary.add("Accept-Encoding")
        if not request.accept_encodings["gzip"]:  # its quality: 0 when not asked for
            return response
        response.direct_passthrough = False
        response.set_data(gzip.compress(response.get_data(), LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        etag, weak = response.get_etag()
        if etag and not weak:
            # The same file in another encoding: no longer byte-for-byte what the tag named.
            response.set_etag(etag, weak=True)
        return response
