"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the tests of what observe e-mails: the app
is pointed at it, and every message it accepts is kept, parsed, in ``Mailbox.messages``."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

SETTINGS = ("OBSERVE_SMTP_URL", "OBSERVE_MAIL_FROM", "OBSERVE_BASE_URL")
LINK = re.compile(r"https?://\S+")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.refuse = False  # answer 451 to every message: the server is up but failing

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 Requested action aborted: local error in processing"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def body(self, index: int = -1) -> str:
        part = self.messages[index].get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    def links(self, index: int = -1) -> list[str]:
        return LINK.findall(self.body(index))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(app: Flask) -> Iterator[Mailbox]:
    """The app sends through a real SMTP server on 127.0.0.1 for this test; links are built on
    https://observe.test (a browser test sets OBSERVE_BASE_URL to the live server)."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {name: app.config.get(name) for name in SETTINGS}
    app.config.update(
        OBSERVE_SMTP_URL=f"smtp://127.0.0.1:{controller.port}",
        OBSERVE_MAIL_FROM="observe@district.test",
        OBSERVE_BASE_URL="https://observe.test",
    )
    try:
        yield box
    finally:
        app.config.update(saved)
        controller.stop()
