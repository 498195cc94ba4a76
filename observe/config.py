"""Configuration: defaults, then the environment, then what a caller (a test) passes in."""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _number(name: str, default: float, low: float, high: float, what: str) -> float:
    """A number setting within [low, high]; anything else (NaN included) stops the start."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise RuntimeError(f"{name} must be {what}, not {value!r}")
    return number


def _share(name: str, default: float) -> float:
    return _number(name, default, 0.0, 1.0, "a number from 0 to 1")


def _whole(name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """A whole-number setting within [low, high]; anything else stops the start, naming it."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        what = f"whole number of {unit}" if unit else "whole number"
        raise RuntimeError(f"{name} must be a {what} from {low} to {high}, not {value!r}")
    return int(value)


def _days(name: str, default: int) -> int:
    return _whole(name, default, 1, 36_500, "days")


def _seconds(name: str, default: float, high: float) -> float:
    return _number(name, default, 0.0, high, f"a number of seconds from 0 to {high:g}")


def _smtp_url() -> str:
    """``OBSERVE_SMTP_URL`` checked when the app starts: a misspelt one stops it, saying why."""
    from observe.core.mail import parse_smtp_url

    url = os.environ.get("OBSERVE_SMTP_URL", "").strip()
    if url:
        try:
            parse_smtp_url(url)
        except ValueError as error:
            raise RuntimeError(str(error)) from None
    return url


def _base_url() -> str:
    from observe.core.mail import check_base_url

    url = os.environ.get("OBSERVE_BASE_URL", "").strip()
    if not url:
        return ""
    try:
        return check_base_url(url)
    except ValueError as error:
        raise RuntimeError(str(error)) from None


def database_url(instance_path: str) -> str:
    """``DATABASE_URL`` when set, else an SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "observe.sqlite3")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_private_sqlite_file(uri: str) -> None:
    """Create an SQLite database file readable by its owner only (0600), before SQLite would
    create it with the process's umask (often 0644: anyone on the machine could read every
    walkthrough). SQLite gives its -wal and -shm files the database file's permissions. An
    existing file is left as its owner set it (docs/deployment.md says how to check)."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or url.query.get("uri"):
        return  # a URI filename: SQLite's own syntax, left to it
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another worker made it, with the same care
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def secret_key(instance_path: str) -> str:
    """``OBSERVE_SECRET_KEY`` when set, else a key generated once into the instance folder.

    There is never a built-in default: a known key would let anyone forge a session cookie.
    """
    from_env = os.environ.get("OBSERVE_SECRET_KEY", "").strip()
    if from_env:
        return from_env
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when several gunicorn workers start at once, exactly one writes the key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret key")
    return key


def build_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": overrides.pop("SQLALCHEMY_DATABASE_URI", None)
        or database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Cookies: not readable by scripts, not sent on cross-site posts, HTTPS-only unless a
        # plain-HTTP install (the quick start on a laptop) turns that off explicitly.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("OBSERVE_SECURE_COOKIES", True),
        "SESSION_COOKIE_NAME": "observe_session",
        # Observers sign in on a tablet and walk for weeks; the session outlives a school day.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        # A CSRF token lives as long as the session: a form left open on a tablet stays usable.
        "WTF_CSRF_TIME_LIMIT": None,
        # CSRF is checked by our own before_request hook so bearer-token requests can skip it.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_SSL_STRICT": True,
        "OBSERVE_DISTRICT_NAME": os.environ.get("OBSERVE_DISTRICT_NAME", "observe"),
        # The district's time zone (an IANA name): the days and months people read (see
        # observe/core/clock.py). Times are stored in UTC whatever it is.
        "OBSERVE_TIMEZONE": os.environ.get("OBSERVE_TIMEZONE", "").strip() or "UTC",
        "OBSERVE_RUBRICS_DIR": os.environ.get("OBSERVE_RUBRICS_DIR", ""),
        # Photos of student work as evidence (docs/deployment.md): "off" refuses uploads and
        # hides the tablet's camera; the files live in a directory (the instance folder's
        # photos/ unless set), at most OBSERVE_PHOTO_MAX_BYTES each.
        "OBSERVE_PHOTOS": _flag("OBSERVE_PHOTOS", True),
        "OBSERVE_PHOTO_DIR": os.environ.get("OBSERVE_PHOTO_DIR", "").strip()
        or str(Path(instance_path) / "photos"),
        # An S3-compatible bucket instead of the directory (boto3, the `s3` extra); the endpoint
        # only for a store other than AWS (MinIO, Ceph). Credentials: boto3's own variables.
        "OBSERVE_PHOTO_BUCKET": os.environ.get("OBSERVE_PHOTO_BUCKET", "").strip(),
        "OBSERVE_PHOTO_S3_ENDPOINT": os.environ.get("OBSERVE_PHOTO_S3_ENDPOINT", "").strip(),
        "OBSERVE_PHOTO_MAX_BYTES": _whole(
            "OBSERVE_PHOTO_MAX_BYTES", 5 * 1024 * 1024, 10_000, 16 * 1024 * 1024, "bytes"
        ),
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # PDFs rendered at once per server process, and how long a request waits for a turn
        # before it answers 503 (docs/reports.md).
        "OBSERVE_PDF_RENDERS": _whole("OBSERVE_PDF_RENDERS", 2, 1, 64),
        "OBSERVE_PDF_WAIT": _seconds("OBSERVE_PDF_WAIT", 5.0, 300.0),
        # How many reverse proxies (nginx, a load balancer) stand in front of the app and set
        # X-Forwarded-For/-Proto/-Host; 0 trusts no such header.
        "OBSERVE_PROXY_HOPS": _whole("OBSERVE_PROXY_HOPS", 0, 0, 10),
        # The calibration report's flags (docs/agreement.md): alpha at or above the first is
        # reliable, at or above the second tentative, below it "discuss"; within-one agreement
        # must also reach the third.
        "OBSERVE_ALPHA_RELIABLE": _share("OBSERVE_ALPHA_RELIABLE", 0.80),
        "OBSERVE_ALPHA_TENTATIVE": _share("OBSERVE_ALPHA_TENTATIVE", 0.667),
        "OBSERVE_WITHIN_ONE_TARGET": _share("OBSERVE_WITHIN_ONE_TARGET", 0.80),
        # Reports show no group (a school, a course level, a month) with fewer walkthroughs
        # than this, so that no classroom can be singled out from an aggregate.
        "OBSERVE_MIN_GROUP_SIZE": _whole("OBSERVE_MIN_GROUP_SIZE", 10, 1, 100_000),
        # ... and none from fewer distinct classrooms than this (a whole-school visit counts
        # its school), so that a group is never one or two teachers however often they were seen.
        "OBSERVE_MIN_CLASSROOMS": _whole("OBSERVE_MIN_CLASSROOMS", 3, 1, 100_000),
        # A per-look-for cell shows a share and interval only on this many ratings; else its n.
        "OBSERVE_MIN_CELL_RATINGS": _whole("OBSERVE_MIN_CELL_RATINGS", 10, 1, 100_000),
        # What the summary keeps in memory between requests (reports/cache.py), in megabytes
        # per server process; 0 keeps nothing.
        "OBSERVE_REPORT_CACHE_MB": _whole("OBSERVE_REPORT_CACHE_MB", 256, 0, 1_000_000),
        # How long audit events are kept: `observe audit purge` removes older ones (two school
        # years by default; a district's records policy may ask for more).
        "OBSERVE_AUDIT_RETENTION_DAYS": _days("OBSERVE_AUDIT_RETENTION_DAYS", 730),
        # Single sign-on with OpenID Connect (docs/deployment.md); checked, with the password
        # sign-in setting, by observe.accounts.oidc.settings_from when the app starts.
        "OBSERVE_OIDC_ISSUER": os.environ.get("OBSERVE_OIDC_ISSUER", ""),
        "OBSERVE_OIDC_CLIENT_ID": os.environ.get("OBSERVE_OIDC_CLIENT_ID", ""),
        "OBSERVE_OIDC_CLIENT_SECRET": os.environ.get("OBSERVE_OIDC_CLIENT_SECRET", ""),
        "OBSERVE_OIDC_NAME": os.environ.get("OBSERVE_OIDC_NAME", ""),
        "OBSERVE_OIDC_ALLOWED_DOMAINS": os.environ.get("OBSERVE_OIDC_ALLOWED_DOMAINS", ""),
        # "on": everyone may sign in with a password; "admins": district admins only (a way in
        # when the provider is down), everyone else through single sign-on.
        "OBSERVE_PASSWORD_SIGN_IN": os.environ.get("OBSERVE_PASSWORD_SIGN_IN", "on"),
        # E-mail (observe/core/mail.py, docs/deployment.md): the server to send through
        # (smtp://user:pass@host:587 with STARTTLS, smtps:// for TLS at once), the sender, and
        # how long to wait for the server. Unset: nothing is e-mailed, and saying so is a 503.
        "OBSERVE_SMTP_URL": _smtp_url(),
        "OBSERVE_MAIL_FROM": os.environ.get("OBSERVE_MAIL_FROM", "").strip(),
        "OBSERVE_SMTP_TIMEOUT": _seconds("OBSERVE_SMTP_TIMEOUT", 10.0, 120.0),
        # The site's public address: links in e-mails are built on it.
        "OBSERVE_BASE_URL": _base_url(),
        # How long the link a teacher is e-mailed to read their feedback keeps working.
        "OBSERVE_FEEDBACK_LINK_DAYS": _days("OBSERVE_FEEDBACK_LINK_DAYS", 30),
    }
    if "SECRET_KEY" not in overrides:
        config["SECRET_KEY"] = secret_key(instance_path)
    config.update(overrides)
    return config
