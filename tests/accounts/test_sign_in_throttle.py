"""Guessing passwords is throttled: per email, and more generously per network address."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import delete, func, select

from observe.accounts import operations
from observe.accounts.models import SignInFailure
from observe.core.models import utcnow
from observe.extensions import db
from tests.conftest import PASSWORD

TOO_MANY = "Too many failed sign-ins for this email or from this network."


def attempt(client, email: str, password: str, address: str = "10.0.0.7"):
    return client.post_form(
        "/sign-in",
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def failures() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SignInFailure))


def test_five_wrong_passwords_hold_the_account_even_from_the_right_one(client, create_user):
    create_user(email="maya@example.org")
    for _ in range(operations.FAILURES_PER_EMAIL):
        assert attempt(client, "maya@example.org", "wrong password").status_code == 401
    response = attempt(client, "MAYA@example.org", PASSWORD)  # the right one, too late
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert TOO_MANY in page and "Try again in 15 minutes" in page
    assert int(response.headers["Retry-After"]) in range(890, 901)
    assert client.get("/").status_code == 302  # not signed in
    assert failures() == operations.FAILURES_PER_EMAIL  # a refused attempt is not counted


def test_the_hold_is_for_that_email_only(client, create_user):
    create_user(email="maya@example.org")
    create_user(email="omar@example.org")
    for _ in range(operations.FAILURES_PER_EMAIL):
        attempt(client, "maya@example.org", "wrong password")
    assert attempt(client, "omar@example.org", PASSWORD).status_code == 302


def test_an_unknown_email_is_held_alike_so_holds_reveal_no_accounts(client):
    for _ in range(operations.FAILURES_PER_EMAIL):
        assert attempt(client, "nobody@example.org", "guess").status_code == 401
    assert attempt(client, "nobody@example.org", "guess").status_code == 429


def test_the_hold_ends_as_failures_leave_the_window(client, create_user):
    create_user(email="maya@example.org")
    long_ago = utcnow() - operations.FAILURE_WINDOW - timedelta(seconds=1)
    db.session.add_all(
        SignInFailure(email="maya@example.org", address="10.0.0.7", at=long_ago)
        for _ in range(operations.FAILURES_PER_EMAIL)
    )
    db.session.commit()
    assert attempt(client, "maya@example.org", "wrong password").status_code == 401
    assert failures() == 1  # those past the window were cleared away
    # Four minutes left on the oldest of five recent failures: the page says so.
    recent = utcnow() - operations.FAILURE_WINDOW + timedelta(minutes=4)
    db.session.add_all(
        SignInFailure(email="maya@example.org", address="10.0.0.7", at=recent)
        for _ in range(operations.FAILURES_PER_EMAIL - 1)
    )
    db.session.commit()
    assert "Try again in 4 minutes" in attempt(client, "maya@example.org", PASSWORD).get_data(
        as_text=True
    )


def test_signing_in_clears_the_emails_failures(client, create_user):
    create_user(email="maya@example.org")
    for _ in range(operations.FAILURES_PER_EMAIL - 1):
        attempt(client, "maya@example.org", "wrong password")
    assert attempt(client, "maya@example.org", PASSWORD).status_code == 302
    assert failures() == 0


def test_one_address_guessing_many_emails_is_held(client, create_user):
    create_user(email="maya@example.org")
    now = utcnow()
    db.session.add_all(
        SignInFailure(email=f"guess{i}@example.org", address="203.0.113.9", at=now)
        for i in range(operations.FAILURES_PER_ADDRESS)
    )
    db.session.commit()
    assert attempt(client, "maya@example.org", PASSWORD, "203.0.113.9").status_code == 429
    # The same person from the school's network is not held.
    assert attempt(client, "maya@example.org", PASSWORD, "10.0.0.7").status_code == 302


def test_a_new_password_ends_the_hold(app, client, create_user):
    create_user(email="maya@example.org")
    for _ in range(operations.FAILURES_PER_EMAIL):
        attempt(client, "maya@example.org", "wrong password")
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "maya@example.org"],
        env={"OBSERVE_PASSWORD": "a brand new password"},
    )
    assert result.exit_code == 0, result.output
    assert attempt(client, "maya@example.org", "a brand new password").status_code == 302


def test_guesses_sent_all_at_once_still_meet_the_limit(app):
    """Each attempt is counted before its password is checked, so attempts made at the same
    moment cannot all slip past the count."""
    statuses: list[int] = []

    def guess() -> None:
        with app.app_context():
            client = app.test_client()
            statuses.append(attempt(client, "maya@example.org", "wrong password").status_code)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [401] * operations.FAILURES_PER_EMAIL + [429] * 7


def test_an_ipv6_client_is_counted_by_its_network(client):
    """One client holds a whole /64: changing the last half of the address changes nothing."""
    for i in range(operations.FAILURES_PER_ADDRESS):
        db.session.add(
            SignInFailure(email=f"guess{i}@example.org", address="2001:db8:5:7::/64", at=utcnow())
        )
    db.session.commit()
    response = attempt(client, "someone@example.org", "guess", "2001:db8:5:7:a:b:c:d")
    assert response.status_code == 429
    other_network = attempt(client, "someone@example.org", "guess", "2001:db8:5:8::1")
    assert other_network.status_code == 401


def test_an_overlong_email_is_held_like_any_other(client):
    email = "x" * 300 + "@example.org"
    for _ in range(operations.FAILURES_PER_EMAIL):
        assert attempt(client, email, "guess").status_code == 401
    assert attempt(client, email, "guess").status_code == 429


# --- Device cookies: the real user, on a browser they have signed in from, is never held by
# failures made elsewhere; an attacker anywhere else still is (docs/security.md). ---


def a_known_browser(app, user_email: str):
    """A browser (a tablet) that has signed in as ``user_email`` before, then signed out."""
    browser = app.test_client()
    assert attempt(browser, user_email, PASSWORD, "10.0.0.7").status_code == 302
    assert browser.get_cookie("observe_device", path="/sign-in") is not None
    browser.post_form("/sign-out", {}, token_from="/settings")
    return browser


def test_failures_from_elsewhere_never_hold_the_real_user_on_their_own_tablet(app, create_user):
    create_user(email="maya@example.org")
    tablet = a_known_browser(app, "maya@example.org")
    attacker = app.test_client()
    for i in range(operations.FAILURES_PER_EMAIL):
        response = attempt(attacker, "maya@example.org", "guess", f"198.51.100.{i}")
        assert response.status_code == 401
    # The attacker is held, even with the right password ...
    assert attempt(attacker, "maya@example.org", PASSWORD, "198.51.100.9").status_code == 429
    # ... the real user on their tablet is not, and their success does not free the attacker.
    assert attempt(tablet, "MAYA@example.org", PASSWORD, "10.0.0.7").status_code == 302
    assert attempt(attacker, "maya@example.org", "guess", "198.51.100.9").status_code == 429


def test_a_known_tablet_is_not_held_by_its_networks_failures(app, create_user):
    create_user(email="maya@example.org")
    tablet = a_known_browser(app, "maya@example.org")
    db.session.add_all(
        SignInFailure(email=f"guess{i}@example.org", address="203.0.113.9", at=utcnow())
        for i in range(operations.FAILURES_PER_ADDRESS)
    )
    db.session.commit()
    stranger = app.test_client()
    assert attempt(stranger, "maya@example.org", PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(tablet, "maya@example.org", PASSWORD, "203.0.113.9").status_code == 302


def test_guessing_on_a_stolen_tablet_holds_that_tablet_only(app, create_user):
    create_user(email="maya@example.org")
    stolen = a_known_browser(app, "maya@example.org")
    for _ in range(operations.FAILURES_PER_DEVICE):
        assert attempt(stolen, "maya@example.org", "guess").status_code == 401
    held = attempt(stolen, "maya@example.org", PASSWORD)
    assert held.status_code == 429 and TOO_MANY in held.get_data(as_text=True)
    # The thief's failures cost the real user nothing on a new laptop.
    assert attempt(app.test_client(), "maya@example.org", PASSWORD).status_code == 302


def test_a_forged_or_someone_elses_device_cookie_earns_no_trust(app, create_user):
    create_user(email="maya@example.org")
    create_user(email="mallory@example.org")
    # Mallory signs in to her own account: her cookie names her email only.
    mallory = a_known_browser(app, "mallory@example.org")
    forged = app.test_client()
    forged.set_cookie("observe_device", "eyJuIjoieCIsImUiOlsibWF5YUBleGFtcGxlLm9yZyJdfQ.x.y",
                      path="/sign-in")  # fmt: skip
    for client in (mallory, forged):
        for _ in range(operations.FAILURES_PER_EMAIL):
            attempt(client, "maya@example.org", "guess")
        assert attempt(client, "maya@example.org", PASSWORD).status_code == 429
        db.session.execute(delete(SignInFailure))
        db.session.commit()
    # Her cookie does not name Maya's email ... and still works for her own.
    assert attempt(mallory, "mallory@example.org", PASSWORD).status_code == 302


def test_one_browser_remembers_several_people(app, create_user):
    """A shared tablet cart: each person who signed in on it is known there."""
    create_user(email="maya@example.org")
    create_user(email="omar@example.org")
    cart = a_known_browser(app, "maya@example.org")
    assert attempt(cart, "omar@example.org", PASSWORD).status_code == 302
    cart.post_form("/sign-out", {}, token_from="/settings")
    attacker = app.test_client()
    for email in ("maya@example.org", "omar@example.org"):
        for _ in range(operations.FAILURES_PER_EMAIL):
            attempt(attacker, email, "guess", "198.51.100.1")
    for email in ("maya@example.org", "omar@example.org"):
        assert attempt(cart, email, PASSWORD).status_code == 302
        cart.post_form("/sign-out", {}, token_from="/settings")
