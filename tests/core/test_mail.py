"""Sending e-mail (observe/core/mail.py) through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import pytest

from observe.config import build_config
from observe.core import mail
from tests.mailbox import free_port


def test_smtp_urls_are_read():
    plain = mail.parse_smtp_url("smtp://relay.local:2525")
    assert (plain.scheme, plain.host, plain.port, plain.username) == (
        "smtp",
        "relay.local",
        2525,
        "",
    )
    login = mail.parse_smtp_url("smtp://observe%40district.org:p%3Ass@mail.district.org")
    assert (login.port, login.username, login.password) == (587, "observe@district.org", "p:ss")
    assert mail.parse_smtp_url("smtps://u:p@mail.district.org").port == 465


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.district.org", "must start smtp://"),
        ("mail.district.org:587", "must start smtp://"),
        ("smtp://:587", "names no host"),
        ("smtp://mail.district.org:99999", "port must be a number"),
    ],
)
def test_a_wrong_smtp_url_is_named(url, says):
    with pytest.raises(ValueError, match=says):
        mail.parse_smtp_url(url)


def test_a_wrong_smtp_url_stops_the_start_without_its_password(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVE_SMTP_URL", "smtpx://user:secret-pass@mail.district.org")
    with pytest.raises(RuntimeError, match="must start smtp://") as raised:
        build_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert "secret-pass" not in str(raised.value)


@pytest.mark.parametrize("url", ["observe.district.org", "ftp://x.org", "https://x.org/?a=1"])
def test_a_wrong_base_url_stops_the_start(tmp_path, monkeypatch, url):
    monkeypatch.setenv("OBSERVE_BASE_URL", url)
    with pytest.raises(RuntimeError, match="OBSERVE_BASE_URL"):
        build_config(str(tmp_path), {"SECRET_KEY": "x"})


def test_the_base_url_loses_its_trailing_slash(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVE_BASE_URL", "https://observe.district.org/")
    assert build_config(str(tmp_path), {"SECRET_KEY": "x"})["OBSERVE_BASE_URL"] == (
        "https://observe.district.org"
    )


def test_a_message_arrives(mailbox):
    mail.send("teacher@district.test", "Hello", "A body with a link https://observe.test/x\n")
    [message] = mailbox.messages
    assert message["To"] == "teacher@district.test" and message["Subject"] == "Hello"
    assert mailbox.links() == ["https://observe.test/x"]
    assert message["Message-ID"].endswith("@district.test>")


def test_no_password_goes_in_clear(app, mailbox):
    # The local server offers no STARTTLS: with credentials, observe refuses to log in.
    port = app.config["OBSERVE_SMTP_URL"].rsplit(":", 1)[1]
    app.config["OBSERVE_SMTP_URL"] = f"smtp://user:secret@127.0.0.1:{port}"
    with pytest.raises(mail.MailUnavailable, match="does not offer STARTTLS"):
        mail.send("teacher@district.test", "Hello", "body")
    assert mailbox.messages == []


def test_unset_settings_are_named(app):
    app.config.update(OBSERVE_SMTP_URL="", OBSERVE_MAIL_FROM="")
    with pytest.raises(mail.MailUnavailable, match="OBSERVE_SMTP_URL and OBSERVE_MAIL_FROM"):
        mail.send("teacher@district.test", "Hello", "body")
    with pytest.raises(mail.MailUnavailable, match="OBSERVE_BASE_URL"):
        mail.link("/feedback/t/x")


def test_an_unreachable_server_is_unavailable(app, mailbox):
    app.config["OBSERVE_SMTP_URL"] = f"smtps://127.0.0.1:{free_port()}"
    with pytest.raises(mail.MailUnavailable, match="could not be reached") as raised:
        mail.send("teacher@district.test", "Hello", "body")
    assert raised.value.status == 503 and raised.value.retry_after > 0
