"""Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies").

After a right password, the browser gets a long-lived cookie, signed with the app's secret key,
holding a random nonce and the emails that have signed in from that browser. A later sign-in for
one of those emails that shows the cookie is throttled by that device's own failures only
(accounts.operations.reserve_sign_in): failures made from anywhere else cannot hold the real
user out. Nothing is stored on the server; the cookie only ever reaches the sign-in page.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import Request, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE_NAME = "observe_device"
COOKIE_PATH = "/sign-in"
LIFETIME = timedelta(days=365)
MAX_EMAILS = 10  # a shared tablet cart: a few colleagues may sign in on one browser
_SALT = "observe.device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    if key is None:  # create_app always sets one (config.secret_key)
        raise RuntimeError("the app has no SECRET_KEY to sign the device cookie with")
    return URLSafeTimedSerializer(key, salt=_SALT)


def _read(request: Request) -> dict[str, Any] | None:
    value = request.cookies.get(COOKIE_NAME)
    if not value or len(value) > 4000:
        return None
    try:
        data = _serializer().loads(value, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        return None
    if not isinstance(data.get("e"), list):
        return None
    return data


def device_for(request: Request, email: str) -> str | None:
    """The nonce of this browser's device cookie when it names ``email`` (normalised), else
    None: the attempt then comes from an unknown browser."""
    data = _read(request)
    if data is None or email not in data["e"]:
        return None
    return data["n"][:32]


def remember(request: Request, response: Response, email: str) -> None:
    """After a right password for ``email``: set (or renew) the device cookie naming it."""
    data = _read(request) or {"n": secrets.token_urlsafe(16), "e": []}
    emails = [email] + [known for known in data["e"] if known != email]
    value = _serializer().dumps({"n": data["n"], "e": emails[:MAX_EMAILS]})
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
