"""Email over SMTP: one connection kept open for a run (smtplib connects, STARTTLS or TLS,
login; the transaction itself is written and read on the socket), one message at a time.

Each message has a plain-text part and an HTML part, the business name as sender name, a
``Reply-To``, a stable ``Message-ID`` (the same on every attempt, so a receiving system can
recognise a repeat) and, for newsletters and marketing, ``List-Unsubscribe`` (a mailto: the
address of the ``unsubscribe_email`` setting; `frontdesk unsubscribe EMAIL` processes it).
"""

from __future__ import annotations

import base64
import io
import random
import re
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from functools import lru_cache
from urllib.parse import quote

from frontdesk.data.messaging.config import MessagingConfig
from frontdesk.data.messaging.providers import Outgoing, SendFailed

_CRLF = compat32.clone(linesep="\r\n")
_MAXLINE = 8192  # smtplib's


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


_PART_HEAD = (
    'Content-Type: text/{kind}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    "Content-Transfer-Encoding: base64\r\n"
)


@lru_cache(maxsize=8)
def _from_line(name: str, email: str) -> bytes:
    return _line("From", formataddr((name, email), charset="utf-8"))


def _line(name: str, value: str) -> bytes:
    """One header as the compat32 generator writes it (``fold_binary``): a short ASCII value on
    the header's line, a longer one without spaces on the next line; the rest folded by the
    email package itself (the tests compare all three)."""
    if value.isascii() and "\r" not in value and "\n" not in value:
        if len(name) + len(value) <= 76:
            return f"{name}: {value}\r\n".encode()
        if value.isprintable() and " " not in value:
            return f"{name}: \r\n {value}\r\n".encode()
    return _CRLF.fold_binary(name, value)


def _subject_line(subject: str) -> bytes:
    """The Subject header: ASCII as it is; otherwise RFC 2047 encoded words (UTF-8, base64),
    each of whole characters and short enough for its own line. The email package's own
    encoder (shortest of base64 and quoted-printable) costs a newsletter more than the rest
    of a message."""
    if subject.isascii():
        return _line("Subject", subject)
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in subject:
        width = len(char.encode("utf-8", "surrogatepass"))
        if chunk and size + width > 42:  # 42 bytes: 56 characters of base64, 68 a word
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    encoded = (
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8", "surrogatepass")).decode() + "?="
        for w in words
    )
    return ("Subject: " + "\r\n ".join(encoded) + "\r\n").encode()


def _base64(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


def email_bytes(
    message: Outgoing,
    cfg: MessagingConfig,
    *,
    boundary: str | None = None,
    date: str | None = None,
) -> bytes:
    """The bytes of :func:`build_email`'s message (``as_bytes``), written directly: the same
    headers, parts and encodings without building the objects, several times faster — what a
    newsletter of 100,000 feels. ``boundary`` and ``date`` are for the tests that compare."""
    head = [
        _from_line(cfg.sender_name, cfg.sender_email),
        _line("To", message.to),
        _subject_line(message.subject),
        _line("Date", date or formatdate(localtime=False)),
        _line("Message-ID", message.message_id),
    ]
    if cfg.reply_to:
        head.append(_line("Reply-To", cfg.reply_to))
    if message.unsubscribe and cfg.unsubscribe_email:
        subject = quote(f"unsubscribe {message.to}")
        head.append(
            _line("List-Unsubscribe", f"<mailto:{cfg.unsubscribe_email}?subject={subject}>")
        )
    for key, value in message.headers.items():
        head.append(_line(key, _header(value)))
    text = _base64(message.text or "")
    if not message.html:
        return b"".join([_PART_HEAD.format(kind="plain").encode(), *head, b"\r\n", text])
    if boundary is None:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
    mark = b"--" + boundary.encode()
    return b"".join(
        [
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'.encode(),
            b"MIME-Version: 1.0\r\n",
            *head,
            b"\r\n",
            mark,
            b"\r\n",
            _PART_HEAD.format(kind="plain").encode(),
            b"\r\n",
            text,
            b"\r\n",
            mark,
            b"\r\n",
            _PART_HEAD.format(kind="html").encode(),
            b"\r\n",
            _base64(message.html),
            b"\r\n",
            mark,
            b"--\r\n",
        ]
    )


_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def _quoted(address: str) -> str:
    """``smtplib.quoteaddr``: the address in angle brackets. A plain address (no spaces,
    brackets, quotes or comments) is already what its parser would make of it, so the parser,
    which costs more than the rest of a command, is skipped for it."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA text as SMTP sends it: leading dots doubled, ended by CRLF "." CRLF. (The
    messages Frontdesk writes seldom have a line that starts with a dot: a search in C finds
    that first.)"""
    text = data
    if data.startswith(b".") or b"\n." in data:
        text = re.sub(rb"(?m)^\.", b"..", data)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text + b".\r\n"


def wire_bytes(message: Outgoing, cfg: MessagingConfig) -> bytes:
    """The DATA text of ``message`` as it goes on the wire (dot-stuffed, with its end)."""
    return _dot_stuffed(email_bytes(message, cfg))


def _reason(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(body.split())}"[:480]


class SmtpProvider:
    """Sends email through the configured SMTP server; reuses one connection."""

    def __init__(self, cfg: MessagingConfig, password: str | None) -> None:
        self.cfg = cfg
        self.password = password
        self._conn: smtplib.SMTP | None = None
        self._buffer = b""  # read past the end of a reply (none from a server that waits)

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

    # The transaction (MAIL, RCPT, DATA, the text) on the socket itself: smtplib's command and
    # reply plumbing (a buffered file, a line at a time) costs more processor than the rest of
    # a newsletter message. Connecting, STARTTLS, login and QUIT stay smtplib's. Errors are
    # raised as smtplib raises them, so that one set of handlers maps them.

    def _command(self, conn: smtplib.SMTP, line: str) -> None:
        self._text(conn, f"{line}\r\n".encode("ascii"))  # as smtplib's putcmd

    def _text(self, conn: smtplib.SMTP, data: bytes) -> None:
        sock = conn.sock
        if sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        try:
            sock.sendall(data)
        except OSError:
            conn.close()
            raise smtplib.SMTPServerDisconnected("Server not connected") from None

    def _reply(self, conn: smtplib.SMTP) -> tuple[int, bytes]:
        """One reply (all its lines), as smtplib's ``getreply`` returns it."""
        sock = conn.sock
        if sock is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        while True:
            try:
                found = self.take_reply()
            except smtplib.SMTPResponseException:
                conn.close()
                raise
            if found is not None:
                return found
            try:
                chunk = sock.recv(8192)
            except OSError as exc:
                conn.close()
                self._buffer = b""
                raise smtplib.SMTPServerDisconnected(
                    "Connection unexpectedly closed: " + str(exc)
                ) from None
            if not chunk:
                conn.close()
                self._buffer = b""
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            self._buffer += chunk

    # The connection as the one-thread sender (smtp_mux) drives it: it writes the
    # transaction's commands itself and hands over what it reads as it comes.

    @property
    def sock(self) -> socket.socket | None:
        """The open connection's socket (None: not connected)."""
        return self._conn.sock if self._conn is not None else None

    def ensure_connected(self) -> bool:
        """Connect (EHLO, STARTTLS, login) unless connected; True if this made a new
        connection. Raises SendFailed."""
        if self._conn is not None:
            return False
        self._conn = self._connect()
        self._buffer = b""
        return True

    def write(self, data: bytes) -> None:
        """``data`` on the connection (raises ``smtplib.SMTPServerDisconnected``)."""
        if self._conn is None:
            raise smtplib.SMTPServerDisconnected("please run connect() first")
        self._text(self._conn, data)

    def received(self, data: bytes) -> None:
        """Bytes read from :attr:`sock`, for :meth:`take_reply`."""
        self._buffer += data

    def take_reply(self) -> tuple[int, bytes] | None:
        """The first whole reply in what was read (taken from it), or None if it is not all
        there yet. Raises ``SMTPResponseException`` (500) for a line longer than smtplib
        allows."""
        buf = self._buffer
        lines: list[bytes] = []
        code = -1
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0 or end - start > _MAXLINE:
                if len(buf) - start > _MAXLINE:
                    self._buffer = b""
                    raise smtplib.SMTPResponseException(500, "Line too long.")
                return None
            line = buf[start : end + 1]
            start = end + 1
            lines.append(line[4:].strip(b" \t\r\n"))
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
                break
            if line[3:4] != b"-":
                break
        self._buffer = buf[start:]
        return code, b"\n".join(lines)

    def send(self, message: Outgoing, *, handing_over: Callable[[], None]) -> str | None:
        data = wire_bytes(message, self.cfg)
        for attempt in (1, 2):
            handed = False
            fresh = self._conn is None
            if self._conn is None:
                self._conn = self._connect()
                self._buffer = b""
            conn = self._conn
            try:
                self._command(conn, f"MAIL FROM:{_quoted(self.cfg.sender_email)}")
                code, resp = self._reply(conn)
                if code != 250:
                    self.reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                self._command(conn, f"RCPT TO:{_quoted(message.to)}")
                code, resp = self._reply(conn)
                if code not in (250, 251):
                    self.reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                self._command(conn, "DATA")
                # The hand-over is written while the server answers DATA: before the text can
                # reach it, and in the time of the round trip.
                try:
                    handing_over()
                except BaseException:
                    self.drop()  # the server waits for a text that will not come
                    raise
                code, resp = self._reply(conn)
                if code != 354:
                    self.reset()
                    raise SendFailed(_reason(code, resp), transient=code < 500)
                # The server waits for the text: from here on it may keep the message.
                handed = True
                self._text(conn, data)
                code, resp = self._reply(conn)
            except smtplib.SMTPServerDisconnected:
                self.drop()
                if attempt == 1 and not fresh and not handed:
                    continue  # an idle connection the server closed: once more, new one
                raise SendFailed(
                    "the server closed the connection", transient=True, uncertain=handed
                ) from None
            except smtplib.SMTPResponseException as exc:
                self.reset()
                raise SendFailed(
                    _reason(exc.smtp_code, exc.smtp_error), transient=exc.smtp_code < 500
                ) from None
            except TimeoutError:
                self.drop()
                raise SendFailed(
                    f"no answer from {self.cfg.smtp_host} within {self.cfg.smtp_timeout} s",
                    transient=True,
                    uncertain=handed,
                ) from None
            except OSError as exc:
                self.drop()
                raise SendFailed(
                    f"connection lost: {exc}", transient=True, uncertain=handed
                ) from None
            if code != 250:
                self.reset()
                raise SendFailed(_reason(code, resp), transient=code < 500)
            return message.message_id
        raise AssertionError("unreachable")  # pragma: no cover

    def reset(self) -> None:
        """Abandon the transaction under way (RSET); the connection dropped if that fails."""
        if self._conn is None:
            return
        try:
            self._command(self._conn, "RSET")
            self._reply(self._conn)
        except (OSError, smtplib.SMTPException):
            self.drop()

    def drop(self) -> None:
        """Close the connection without QUIT (it is not to be used again)."""
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
