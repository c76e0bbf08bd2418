"""A real SMTP server for tests (aiosmtpd's Controller, on a local port in its own thread) that
keeps every message it accepted, parsed."""
from __future__ import annotations

import email
import email.policy
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: email.message.EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",)) if self.message.is_multipart() else self.message
        return part.get_content()


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)


class _Store:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp_server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK: queued"


@contextmanager
def smtp_server():
    with socket.socket() as probe:  # a free port: the controller checks itself by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = SmtpServer(host="127.0.0.1", port=port)
    controller = Controller(_Store(store), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield store
    finally:
        controller.stop()
