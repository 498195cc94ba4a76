"""Sending e-mail: one plain-text message at a time, through the server ``OBSERVE_SMTP_URL`` names.

``smtp://user:pass@host:587`` sends through STARTTLS (required when there are credentials:
a password never crosses the network in clear); ``smtps://user:pass@host:465`` opens TLS at
once; ``smtp://host:25`` with no credentials is a relay on the same machine or network, which
is used with STARTTLS when it offers it. ``OBSERVE_MAIL_FROM`` is the sender. Links in messages
are built on ``OBSERVE_BASE_URL``, the site's public address (a request's own host may be an
internal name behind a proxy, and a command has no request at all).

A server that cannot be reached, refuses the login or the recipient raises
:class:`MailUnavailable` (503, with Retry-After): the caller rolls back and the tablet tries
again later. Settings that are missing raise it too, saying which to set.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

from observe.errors import ServiceBusy

SCHEMES = {"smtp": 587, "smtps": 465}


class MailUnavailable(ServiceBusy):
    """No e-mail could be sent now: not set up, or the server could not be reached."""

    code = "mail_unavailable"

    def __init__(self, message: str, *, retry_after: int = 300) -> None:
        super().__init__(message, retry_after=retry_after)


@dataclass(frozen=True)
class SMTPSettings:
    scheme: str
    host: str
    port: int
    username: str
    password: str

    @property
    def where(self) -> str:
        """The server, for messages: never its password."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SMTPSettings:
    """``OBSERVE_SMTP_URL`` read, or a ValueError naming what is wrong (never the password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(
            "OBSERVE_SMTP_URL must start smtp:// (STARTTLS) or smtps:// (TLS), "
            f"not {parts.scheme + '://' if parts.scheme else 'with no scheme'}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError("OBSERVE_SMTP_URL's port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("OBSERVE_SMTP_URL names no host (smtp://user:pass@host:587)")
    return SMTPSettings(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or SCHEMES[parts.scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def check_base_url(url: str) -> str:
    """``OBSERVE_BASE_URL`` without its trailing slash, or a ValueError naming the problem."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(
            f"OBSERVE_BASE_URL must be the site's address, such as https://observe.district.org, "
            f"not {url!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError("OBSERVE_BASE_URL must have no ?query or #fragment")
    return url


def base_url() -> str:
    """The site's public address, for links in messages; MailUnavailable when not set."""
    url = current_app.config.get("OBSERVE_BASE_URL", "")
    if not url:
        raise MailUnavailable(
            "No link can be sent: this server does not know its public address. An "
            "administrator sets OBSERVE_BASE_URL (docs/deployment.md)."
        )
    return str(url)


def link(path: str) -> str:
    """``path`` (from ``url_for``) on the site's public address."""
    return base_url() + path


def _settings() -> tuple[SMTPSettings, str]:
    url = current_app.config.get("OBSERVE_SMTP_URL", "")
    sender = current_app.config.get("OBSERVE_MAIL_FROM", "")
    if not url or not sender:
        missing = " and ".join(
            name
            for name, value in (("OBSERVE_SMTP_URL", url), ("OBSERVE_MAIL_FROM", sender))
            if not value
        )
        raise MailUnavailable(
            f"E-mail is not set up on this server: an administrator sets {missing} "
            "(docs/deployment.md). Nothing was sent."
        )
    return parse_smtp_url(url), str(sender)


def send(to: str, subject: str, body: str) -> str:
    """Send one plain-text message; its Message-ID. MailUnavailable when it could not go."""
    settings, sender = _settings()
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # A subject is built from names people typed (a session's title, a roster's classroom):
    # a line break in one would make the header refuse to be written (a 500, nothing sent),
    # so every run of white space becomes one space.
    message["Subject"] = " ".join(subject.split())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    timeout = float(current_app.config.get("OBSERVE_SMTP_TIMEOUT", 10))
    context = ssl.create_default_context()
    try:
        if settings.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            client.ehlo()
            if settings.scheme == "smtp":
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif settings.username:
                    raise MailUnavailable(
                        "The mail server does not offer STARTTLS, and observe does not send "
                        "a password in clear (an administrator checks OBSERVE_SMTP_URL). "
                        "Nothing was sent."
                    )
            if settings.username:
                client.login(settings.username, settings.password)
            client.send_message(message)
    # The server's address goes to the log, for an administrator, not into the message, which
    # the tablet shows its observer.
    except smtplib.SMTPRecipientsRefused as error:
        current_app.logger.warning("%s refused the recipient %s: %s", settings.where, to, error)
        raise MailUnavailable(
            f"The mail server refused the address {to}. Nothing was sent."
        ) from None
    except smtplib.SMTPAuthenticationError as error:
        current_app.logger.warning("%s refused observe's login: %s", settings.where, error)
        raise MailUnavailable(
            "The mail server refused observe's user name or password (an administrator checks "
            "OBSERVE_SMTP_URL). Nothing was sent."
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.warning("mail to %s through %s failed: %s", to, settings.where, error)
        raise MailUnavailable(
            "The mail server could not be reached or refused the message; nothing was sent. "
            "Try again later."
        ) from None
    return str(message["Message-ID"])
