"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests.

``oidc-provider-mock`` is a working provider (discovery, JWKS, an authorization page, the token
endpoint with PKCE, signed ID tokens); any client id and secret work with it. It cannot send a
bad ID token, so ``Provider.tamper`` rewrites the ID token its token endpoint answers with —
re-signed with the provider's own private key (a token the provider *could* have sent: wrong
audience, wrong issuer, expired, another nonce) or with a key it never published (a forgery).
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, quote

import authlib.deprecate  # noqa: F401 (see Provider.__init__)
import flask
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

Claims = dict[str, Any]


def _payload(token: str) -> Claims:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Provider:
    def __init__(self) -> None:
        # Authlib's deprecation notices about the modules this provider imports are filtered
        # by message (pyproject.toml). authlib.deprecate runs warnings.simplefilter("always")
        # on import, ahead of every filter then in place: it is imported with this module, at
        # collection, so that pytest's filters for each test come first; the provider itself
        # is imported here, inside a test's filters.
        import oidc_provider_mock

        self.app = oidc_provider_mock.app(require_nonce=True)
        with self.app.test_request_context():
            self.app.preprocess_request()  # sets the provider's storage on flask.g
            published = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
        self.key = RSAKey.import_key(published)
        self.kid = published["kid"]
        self.edit: Callable[[Claims], Claims] | None = None
        self.sign_with: RSAKey | None = None
        self.tokens_issued = 0
        self.token_requests: list[dict[str, str]] = []
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _wsgi(self, environ, start_response):
        if environ["PATH_INFO"] != "/oauth2/token" or environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        # What the client sent (the PKCE verifier among it): the provider does not check PKCE,
        # so the tests check what observe sends.
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        self.token_requests.append({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        body = b"".join(self.app(environ, capture))
        answer = json.loads(body) if body.startswith(b"{") else {}
        if "id_token" in answer:
            self.tokens_issued += 1
            if self.edit is not None:
                claims = self.edit(_payload(answer["id_token"]))
                header = {"alg": "RS256", "kid": self.kid}
                answer["id_token"] = jwt.encode(header, claims, self.sign_with or self.key)
                body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    @contextmanager
    def tamper(
        self, edit: Callable[[Claims], Claims], sign_with: RSAKey | None = None
    ) -> Iterator[None]:
        """ID tokens answered meanwhile have ``edit`` applied to their claims."""
        self.edit, self.sign_with = edit, sign_with
        try:
            yield
        finally:
            self.edit, self.sign_with = None, None

    def add_user(self, email: str, **claims: Any) -> str:
        """A person the provider knows (their sub is their email); returns the sub. A claim
        given as None is left out."""
        claims = {"email": email, "email_verified": True, "name": "Pat Provider", **claims}
        claims = {name: value for name, value in claims.items() if value is not None}
        response = requests.put(f"{self.url}/users/{quote(email)}", json=claims, timeout=5)
        assert response.status_code == 204, response.text
        return email

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign ``sub`` in on the provider's page; returns where it sends the browser back."""
        response = requests.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]


@contextmanager
def running_provider() -> Iterator[Provider]:
    provider = Provider()
    provider.thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.thread.join(timeout=5)
