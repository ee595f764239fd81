"""Real protocol peers on loopback for the messaging tests (started and stopped by them).

- :class:`RecordingSmtp`: an aiosmtpd server that records every message it accepts, and can
  be told to answer 4xx / 5xx, or to hang (a timeout), per recipient or for everything.
- :class:`ScriptedSmtp`: a bare SMTP peer that answers from a script, for what aiosmtpd
  cannot be made to say.
- :class:`FakeTwilio`: a small HTTP server that checks Twilio-shaped requests (path, basic
  auth, form fields) and records them; it can answer errors too.

Use them as fixtures (``smtp_server``, ``twilio_server``) or as context managers (the
benchmark and subprocess tests). ``configure(session, smtp=..., twilio=...)`` points the
business settings at them.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from frontdesk.data.messaging.config import MessagingConfig
from frontdesk.data.settings import set_setting


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    peer: Any = None  # the client's (host, port): which connection brought it

    @property
    def to(self) -> str:
        return self.recipients[0]


class _Handler:
    def __init__(self, owner: RecordingSmtp) -> None:
        self.owner = owner

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.owner.rcpt_answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        if self.owner.hang_seconds:
            await asyncio.sleep(self.owner.hang_seconds)
        if self.owner.data_answer:
            return self.owner.data_answer
        if self.owner.delay:
            await asyncio.sleep(self.owner.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.owner.lock:
            self.owner.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), msg, session.peer)
            )
        return "250 Message accepted"


class RecordingSmtp:
    def __init__(self, port: int | None = None, *, login: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.logins: list[str] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.rcpt_answers: dict[str, str] = {}  # address -> e.g. "550 5.1.1 No such user"
        self.data_answer: str | None = None  # e.g. "451 4.3.0 Try again later"
        self.hang_seconds: float = 0
        self.delay: float = 0
        extra: dict[str, Any] = {}
        if login is not None:
            from aiosmtpd.smtp import AuthResult, LoginPassword

            def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
                ok = (
                    isinstance(data, LoginPassword)
                    and (
                        data.login.decode(),
                        data.password.decode(),
                    )
                    == login
                )
                if ok:
                    self.logins.append(data.login.decode())
                return AuthResult(success=ok)

            extra = {"authenticator": check, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **extra)

    def start(self) -> RecordingSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> RecordingSmtp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@dataclass
class TwilioRequest:
    path: str
    auth: tuple[str, str]
    form: dict[str, str]


@dataclass
class FakeTwilio:
    sid: str = "AC" + "0" * 32
    token: str = "secret-token"
    requests: list[TwilioRequest] = field(default_factory=list)
    answer: tuple[int, dict[str, Any]] | None = None  # force a status and JSON body
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                auth = self.headers.get("Authorization", "")
                user, _, password = (
                    base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
                    if auth.startswith("Basic ")
                    else ("", "", "")
                )
                expected = f"/2010-04-01/Accounts/{owner.sid}/Messages.json"
                status, payload = 201, {}
                if self.path != expected:
                    status, payload = 404, {"code": 20404, "message": "Not found"}
                elif (user, password) != (owner.sid, owner.token):
                    status, payload = 401, {"code": 20003, "message": "Authenticate"}
                elif not {"To", "From", "Body"} <= form.keys():
                    status, payload = 400, {"code": 21604, "message": "missing field"}
                elif owner.answer is not None:
                    status, payload = owner.answer
                else:
                    owner.requests.append(TwilioRequest(self.path, (user, password), form))
                    payload = {"sid": f"SM{len(owner.requests):032d}", "status": "queued"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class ScriptedSmtp:
    """A bare SMTP peer on loopback that answers from a script (what aiosmtpd cannot be made
    to say): replies split across packets, multi-line replies, a refused DATA command, a text
    never answered (``"."``: the answer to the end of a text), a connection closed by the
    server after some messages (``close_after``, as a server closes idle connections). Any
    number of connections, a thread each."""

    def __init__(
        self, answers: dict[str, list[bytes]] | None = None, *, close_after: int | None = None
    ) -> None:
        self.answers = answers or {}
        self.close_after = close_after
        self.commands: list[bytes] = []
        self.text: list[bytes] = []  # the lines of every message's text
        self.messages: list[bytes] = []  # each message's text, whole
        self.connections = 0
        self.turn = threading.Condition()
        self.open = 0  # connections not finished yet
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.turn:
                self.connections += 1
                self.open += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._talk(conn)
            except OSError:
                pass  # the client hung up
            finally:
                with self.turn:
                    self.open -= 1
                    self.turn.notify_all()

    def finished(self, timeout: float = 5.0) -> None:
        """Wait until every connection so far has ended, then stop listening."""
        with self.turn:
            self.turn.wait_for(lambda: self.connections > 0 and self.open == 0, timeout)
        self.listener.close()

    def _talk(self, conn: socket.socket) -> None:
        conn.sendall(b"220 scripted ready\r\n")
        buf = b""
        text: list[bytes] | None = None  # between a 354 and the lone dot
        accepted = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                if text is not None:
                    if line == b".":
                        self.messages.append(b"\r\n".join(text))
                        text = None
                        for piece in self.answers.get(".", [b"250 queued\r\n"]):
                            conn.sendall(piece)  # no pieces: the text is never answered
                        accepted += 1
                        if self.close_after is not None and accepted >= self.close_after:
                            return  # an idle connection the server closes
                    else:
                        self.text.append(line)
                        text.append(line)
                    continue
                self.commands.append(line)
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].upper().decode()
                default = [b"354 go ahead\r\n" if verb == "DATA" else b"250 ok\r\n"]
                answer = self.answers.get(verb, default)
                for piece in answer:
                    conn.sendall(piece)
                    time.sleep(0.01)  # each piece its own packet
                if verb == "DATA" and answer[-1].startswith(b"354"):
                    text = []
                if verb == "QUIT":
                    return


def scripted_config(port: int = 25, **changes: Any) -> MessagingConfig:
    """Settings for a plain SMTP server on loopback at ``port`` (``changes``: other values)."""
    return replace(
        MessagingConfig(
            business_name="Lumen",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_user="",
            smtp_timeout=5,
            sender_email="desk@lumen.example",
            sender_name="Lumen",
            reply_to="",
            unsubscribe_email="",
            reminder_hours=24,
            time_zone="UTC",
            twilio_account_sid="",
            twilio_sms_from="",
            twilio_whatsapp_from="",
            twilio_base_url="",
        ),
        **changes,
    )


def configure(
    session: Session,
    *,
    smtp: RecordingSmtp | None = None,
    twilio: FakeTwilio | None = None,
    timeout: int = 5,
) -> None:
    """Point the business settings at the loopback peers (the caller commits)."""
    set_setting(session=session, key="business_name", value="Salon Lumen")
    if smtp is not None:
        for key, value in {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_timeout": timeout,
            "sender_email": "desk@lumen.example",
            "reply_to": "hello@lumen.example",
            "unsubscribe_email": "unsubscribe@lumen.example",
        }.items():
            set_setting(session=session, key=key, value=value)
    if twilio is not None:
        for key, value in {
            "twilio_account_sid": twilio.sid,
            "twilio_sms_from": "+15005550006",
            "twilio_whatsapp_from": "+15005550007",
            "twilio_base_url": twilio.url,
        }.items():
            set_setting(session=session, key=key, value=value)


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtp]:
    server = RecordingSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def twilio_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    monkeypatch.setenv("FRONTDESK_TWILIO_AUTH_TOKEN", server.token)
    yield server
    server.stop()


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
