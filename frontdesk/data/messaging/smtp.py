"""Email over SMTP (smtplib): one connection kept open for a run, STARTTLS or TLS, login.

Each message has a plain-text part and an HTML part, the business name as sender name, a
``Reply-To``, a stable ``Message-ID`` (the same on every attempt, so a receiving system can
recognise a repeat) and, for newsletters and marketing, ``List-Unsubscribe`` (a mailto: the
address of the ``unsubscribe_email`` setting; `frontdesk unsubscribe EMAIL` processes it).
"""

from __future__ import annotations

import io
import re
import smtplib
import ssl
from collections.abc import Callable
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from urllib.parse import quote

from frontdesk.data.messaging.config import MessagingConfig
from frontdesk.data.messaging.providers import Outgoing, SendFailed

_CRLF = compat32.clone(linesep="\r\n")


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def build_email(message: Outgoing, cfg: MessagingConfig) -> Message:
    """The MIME message (plain text + HTML alternative). Built with the compat32 classes:
    several times cheaper than EmailMessage's header objects, which a newsletter feels."""
    text = MIMEText(message.text or "", "plain", "utf-8")
    msg: Message
    if message.html:
        msg = MIMEMultipart("alternative")
        msg.attach(text)
        msg.attach(MIMEText(message.html, "html", "utf-8"))
    else:
        msg = text
    msg["From"] = formataddr((cfg.sender_name, cfg.sender_email), charset="utf-8")
    msg["To"] = message.to
    msg["Subject"] = _header(message.subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message.message_id
    if cfg.reply_to:
        msg["Reply-To"] = cfg.reply_to
    if message.unsubscribe and cfg.unsubscribe_email:
        subject = quote(f"unsubscribe {message.to}")
        msg["List-Unsubscribe"] = f"<mailto:{cfg.unsubscribe_email}?subject={subject}>"
    for key, value in message.headers.items():
        msg[key] = _header(value)
    return msg


def as_bytes(msg: Message) -> bytes:
    """The message with CRLF line ends, as SMTP DATA wants it."""
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_CRLF).flatten(msg)
    return out.getvalue()


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA text as SMTP sends it: leading dots doubled, ended by CRLF "." CRLF."""
    text = re.sub(rb"(?m)^\.", b"..", data)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text + b".\r\n"


def _reason(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(body.split())}"[:480]


class SmtpProvider:
    """Sends email through the configured SMTP server; reuses one connection."""

    def __init__(self, cfg: MessagingConfig, password: str | None) -> None:
        self.cfg = cfg
        self.password = password
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        try:
            conn: smtplib.SMTP
            if cfg.smtp_security == "tls":
                conn = smtplib.SMTP_SSL(
                    cfg.smtp_host,
                    cfg.smtp_port,
                    timeout=cfg.smtp_timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout)
            conn.ehlo()
            if cfg.smtp_security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if cfg.smtp_user:
                conn.login(cfg.smtp_user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(
                "login refused: " + _reason(exc.smtp_code, exc.smtp_error), transient=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailed(
                _reason(exc.smtp_code, exc.smtp_error), transient=exc.smtp_code < 500
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed("the server does not offer STARTTLS", transient=True) from None
        except smtplib.SMTPServerDisconnected as exc:
            if "timed out" not in str(exc):
                raise SendFailed(
                    f"{cfg.smtp_host}:{cfg.smtp_port} closed the connection: {exc}",
                    transient=True,
                ) from None
            raise SendFailed(
                f"no answer from {cfg.smtp_host}:{cfg.smtp_port} within {cfg.smtp_timeout} s",
                transient=True,
            ) from None
        except TimeoutError:
            raise SendFailed(
                f"no answer from {cfg.smtp_host}:{cfg.smtp_port} within {cfg.smtp_timeout} s",
                transient=True,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(
                f"cannot connect to {cfg.smtp_host}:{cfg.smtp_port}: {exc}", transient=True
            ) from None
        return conn

    def send(self, message: Outgoing, *, handing_over: Callable[[], None]) -> str | None:
        data = as_bytes(build_email(message, self.cfg))
        for attempt in (1, 2):
            handed = False
            fresh = self._conn is None
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            try:
                code, resp = conn.mail(self.cfg.sender_email)
                if code != 250:
                    self._reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                code, resp = conn.rcpt(message.to)
                if code not in (250, 251):
                    self._reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                code, resp = conn.docmd("data")
                if code != 354:
                    self._reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                # The server waits for the text: from here on it may keep the message.
                handing_over()
                handed = True
                conn.send(_dot_stuffed(data))
                code, resp = conn.getreply()
            except smtplib.SMTPServerDisconnected:
                self._drop()
                if attempt == 1 and not fresh and not handed:
                    continue  # an idle connection the server closed: once more, new one
                raise SendFailed(
                    "the server closed the connection", transient=True, uncertain=handed
                ) from None
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise SendFailed(
                    _reason(exc.smtp_code, exc.smtp_error), transient=exc.smtp_code < 500
                ) from None
            except TimeoutError:
                self._drop()
                raise SendFailed(
                    f"no answer from {self.cfg.smtp_host} within {self.cfg.smtp_timeout} s",
                    transient=True,
                    uncertain=handed,
                ) from None
            except OSError as exc:
                self._drop()
                raise SendFailed(
                    f"connection lost: {exc}", transient=True, uncertain=handed
                ) from None
            if code != 250:
                self._reset()
                raise SendFailed(_reason(code, resp), transient=code < 500)
            return message.message_id
        raise AssertionError("unreachable")  # pragma: no cover

    def _reset(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            try:
                conn.close()
            except OSError:
                pass
