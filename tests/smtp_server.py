"""A real SMTP server (aiosmtpd) on 127.0.0.1, in a thread, for the tests of notify.email: the
mail server at the edge of the world (STYLE 14). It requires a login and keeps what it receives."""

import email
import threading
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Mailbox:
    """An aiosmtpd handler that keeps what it receives. ``nobody@`` addresses are refused
    (550), ``busy@`` ones deferred (451); a ``Subject: flaky`` message is deferred at its
    first DATA."""

    def __init__(self, login: tuple[str, str]) -> None:
        self.login = login
        self.messages: list[tuple[str, list[str], Message]] = []
        self.logins: list[str] = []
        self.deferred: list[Message] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            if message["Subject"] == "flaky" and not self.deferred:
                self.deferred.append(message)
                return "451 4.3.2 try again later"
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login, password = (
            value.decode() if isinstance(value, bytes) else value
            for value in (auth_data.login, auth_data.password)
        )
        if (login, password) != self.login:
            return AuthResult(success=False, handled=False)  # the server answers 535
        self.logins.append(login)
        return AuthResult(success=True)


def smtp_server(port: int, login: tuple[str, str]) -> tuple[Controller, Mailbox]:
    """A started server on 127.0.0.1:``port`` that takes only ``login`` (user, password)."""
    mailbox = Mailbox(login)
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_required=True,
        auth_require_tls=False,  # AUTH over plain text: a test server without a certificate
    )
    controller.start()
    return controller, mailbox
