"""The outbox: every message is a row, queued -> sending -> sent / failed (-> retried).

Queueing
    :func:`enqueue` inserts a message under its idempotency key (unique in the table); a key
    that exists already queues nothing, so running ``frontdesk notify`` twice, from two
    terminals at once, or after a crash never queues a reminder twice.

Sending (:func:`send_queue`)
    Messages are *claimed* in batches (:data:`CLAIM_BATCH`), each batch in one write
    transaction (``status`` queued/failed-due -> ``sending`` with ``claimed_by`` =
    host:pid:token; on PostgreSQL ``FOR UPDATE SKIP LOCKED``, on SQLite the IMMEDIATE write
    transaction serialises claimers), so two processes never send the same message. Just
    before a message can reach the server (SMTP ``DATA``, the Twilio request) its
    ``handed_over_at`` is committed (one small transaction a message); after the server
    accepted it the row is marked ``sent``, :data:`SENT_BATCH` marks in one statement (or
    ``failed`` with the server's reason at once). See :class:`_Log`.

    Consent, blocking and (for reminders) the booking are checked again at the claim: a
    message whose customer withdrew consent or was blocked, or whose booking was moved or
    cancelled after it was queued, becomes ``skipped`` (with the reason) instead of sent.

Failures
    A transient failure (4xx, timeout, refused connection) leaves the row ``failed`` with
    ``next_attempt_at`` (back-off 1 min, 5 min, 30 min, 2 h, 12 h) until
    :data:`MAX_ATTEMPTS`; a permanent one (5xx) or the last attempt leaves it ``failed`` with
    no next attempt. ``frontdesk outbox retry ID`` (:func:`retry`) queues a failed or skipped
    message again.

A process killed while sending (the exactly-once rule, :func:`recover_stale`)
    A row left in ``sending`` by a process that is gone (same host and its pid no longer
    runs, or claimed more than :data:`STALE_AFTER` ago) is recovered by the next run:

    - never handed over (``handed_over_at`` is NULL): the server cannot have it; it is
      queued again and sent by this run;
    - handed over: the server may have accepted it in the instant before the process died.
      It is marked ``failed`` ("interrupted after it was handed to the server ...") and NOT
      sent again automatically: a person checks and retries it by hand. This is the only
      case where a message can end up unsent, and no message is ever sent twice by Frontdesk.
      Because "sent" marks are written together, a kill can leave up to SENT_BATCH messages
      the server did accept in this state (besides the one each connection was handing over).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import sys
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, bindparam, func, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from frontdesk.data.db import FairConnection
from frontdesk.data.errors import BlockedCustomer, NotFound, ValidationFailed
from frontdesk.data.messaging import consent as consent_rules
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.messaging.config import MessagingConfig, load_config, secret
from frontdesk.data.messaging.providers import Outgoing, Provider, SendFailed
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Channel,
    Customer,
    MessageStatus,
    Newsletter,
    OutboxMessage,
    Purpose,
    Staff,
    utcnow,
)
from frontdesk.data.retry import is_conflict, write_transaction
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line, clean_multiline

MAX_ATTEMPTS = 5
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
STALE_AFTER = timedelta(minutes=15)
UNSUBSCRIBE_PURPOSES = frozenset({Purpose.NEWSLETTER.value, Purpose.MARKETING.value})
INTERRUPTED = (
    "interrupted after it was handed to the server at {at} UTC: it may have been delivered, "
    "so it is not sent again automatically — check, then retry it by hand"
)


def _now(now: datetime | None) -> datetime:
    moment = now or utcnow()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def message_id_for(key: str, sender_email: str) -> str:
    """The stable Message-ID of the message with idempotency key ``key``."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = sender_email.rpartition("@")[2] or "frontdesk.invalid"
    return f"<{digest}@{domain}>"


# --------------------------------------------------------------------------- queueing


def enqueue(
    *,
    session: Session,
    key: str,
    customer: Customer,
    purpose: str,
    channel: str,
    subject: str | None,
    body: str | None,
    html: str | None = None,
    booking_id: int | None = None,
    template: str | None = None,
    actor: Staff | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one message under ``key``; None when ``key`` was queued before (nothing done).

    The consent rules are checked here (and again when sending); a refused message raises
    ValidationFailed("to", reason) — callers that sweep many customers check
    :func:`consent.refusal` first."""
    reason = consent_rules.refusal(customer, purpose, channel)
    if reason is not None:
        raise ValidationFailed("to", reason)
    address = consent_rules.address_for(customer, channel)
    assert address is not None and customer.id is not None
    moment = _now(now)
    values = dict(
        idempotency_key=key,
        customer_id=customer.id,
        channel=channel,
        purpose=purpose,
        template=template,
        subject=subject,
        body=body,
        html=html,
        to_address=address,
        status=MessageStatus.QUEUED.value,
        attempts=0,
        next_attempt_at=moment,
        booking_id=booking_id,
        created_at=moment,
        created_by_id=actor.id if actor else None,
    )
    inserted = insert_ignoring_duplicates(session, [values])
    if not inserted:
        return None
    return session.exec(
        select(OutboxMessage).where(col(OutboxMessage.idempotency_key) == key)
    ).one()


def insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows; rows whose idempotency key exists are left out. Returns how many
    were inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    keys = [r["idempotency_key"] for r in rows]
    there = set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.idempotency_key).in_(keys)
            )
        ).all()
    )
    session.execute(stmt, rows)
    session.flush()
    return len(set(keys) - there)


@dataclass(frozen=True)
class Draft:
    """What a direct message will look like (the profile's preview)."""

    channel: str
    to: str
    subject: str
    text: str
    html: str | None


def draft_direct(
    *,
    session: Session,
    customer_id: int,
    channel: str = Channel.EMAIL.value,
    subject: str | None = None,
    body: str | None = None,
    template_name: str | None = None,
    purpose: str = Purpose.TRANSACTIONAL.value,
) -> Draft:
    """Render a one-off message to a customer (free text or a template) without queueing it.

    Raises BlockedCustomer for a blocked customer, ValidationFailed("to", ...) when the
    consent rules refuse it or the channel has no address, ValidationFailed on bad text."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    if customer.blocked:
        raise BlockedCustomer(customer)
    if channel not in {c.value for c in Channel}:
        raise ValidationFailed("channel", "must be email, sms or whatsapp")
    if purpose not in {Purpose.TRANSACTIONAL.value, Purpose.MARKETING.value}:
        raise ValidationFailed("purpose", "a message from the desk is transactional or marketing")
    reason = consent_rules.refusal(customer, purpose, channel)
    if reason is not None:
        raise ValidationFailed("to", reason)
    cfg = load_config(session=session)
    if template_name:
        template = tpl.get_template(session=session, name=template_name)
        subject = subject or template.subject
        body = template.body
    clean_subject = clean_line("subject", subject, max_length=300) or ""
    clean_body = clean_multiline("body", body)
    if not clean_body:
        raise ValidationFailed("body", "must not be empty")
    if channel == Channel.EMAIL.value and not clean_subject:
        raise ValidationFailed("subject", "an email needs a subject")
    tpl.check_template(clean_subject, field="subject")
    tpl.check_template(clean_body, field="body")
    values = tpl.values_for(session=session, customer=customer, business_name=cfg.business_name)
    rendered = tpl.render(subject=clean_subject, body=clean_body, values=values)
    address = consent_rules.address_for(customer, channel) or ""
    html = rendered.html if channel == Channel.EMAIL.value else None
    return Draft(channel, address, rendered.subject, rendered.text, html)


def send_direct(
    *,
    session: Session,
    customer_id: int,
    actor: Staff | None,
    channel: str = Channel.EMAIL.value,
    subject: str | None = None,
    body: str | None = None,
    template_name: str | None = None,
    purpose: str = Purpose.TRANSACTIONAL.value,
    idempotency_key: str | None = None,
) -> OutboxMessage:
    """Queue a one-off message to one customer ("messages.send"); the caller commits.

    Transactional (the default) needs no consent but is never sent to a blocked customer;
    ``purpose="marketing"`` needs marketing consent. Pass ``idempotency_key`` (e.g. made when
    the compose form opened) so that a double submit queues one message."""
    require(actor, "messages.send")
    draft = draft_direct(
        session=session,
        customer_id=customer_id,
        channel=channel,
        subject=subject,
        body=body,
        template_name=template_name,
        purpose=purpose,
    )
    customer = session.get(Customer, customer_id)
    assert customer is not None
    key = idempotency_key or f"direct:{uuid.uuid4().hex}"
    found = enqueue(
        session=session,
        key=key,
        customer=customer,
        purpose=purpose,
        channel=channel,
        subject=draft.subject,
        body=draft.text,
        html=draft.html,
        template=template_name,
        actor=actor,
    )
    if found is None:  # the same key again: the message queued the first time
        found = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key) == key)
        ).one()
    return found


# --------------------------------------------------------------------------- reading


def list_messages(
    *,
    session: Session,
    status: str | None = None,
    customer_id: int | None = None,
    limit: int = 200,
    before_id: int | None = None,
) -> list[OutboxMessage]:
    """Messages newest first (keyset: pass the last id seen as ``before_id``)."""
    stmt = select(OutboxMessage)
    if status:
        if status not in {s.value for s in MessageStatus}:
            raise ValidationFailed("status", "must be queued, sending, sent, failed or skipped")
        stmt = stmt.where(col(OutboxMessage.status) == status)
    if customer_id is not None:
        stmt = stmt.where(col(OutboxMessage.customer_id) == customer_id)
    if before_id is not None:
        stmt = stmt.where(col(OutboxMessage.id) < before_id)
    return list(session.exec(stmt.order_by(col(OutboxMessage.id).desc()).limit(limit)))


def get_message(*, session: Session, message_id: int) -> OutboxMessage:
    found = session.get(OutboxMessage, message_id)
    if found is None:
        raise NotFound("message", message_id)
    return found


def status_counts(*, session: Session) -> dict[str, int]:
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    counts = {s.value: 0 for s in MessageStatus}
    counts.update({str(s): int(n) for s, n in rows})
    return counts


def message_text(*, session: Session, message: OutboxMessage) -> tpl.Rendered:
    """The subject, text and HTML of a message (a newsletter's, filled for its recipient)."""
    if message.newsletter_id is not None and message.body is None:
        letter = session.get(Newsletter, message.newsletter_id)
        customer = session.get(Customer, message.customer_id) if message.customer_id else None
        if letter is not None and customer is not None:
            cfg = load_config(session=session)
            values = tpl.values_for(
                session=session, customer=customer, business_name=cfg.business_name
            )
            return tpl.render(subject=letter.subject, body=letter.body, values=values)
    return tpl.Rendered(message.subject or "", message.body or "", message.html or "")


def retry(*, session: Session, message_id: int, actor: Staff | None) -> OutboxMessage:
    """Queue a failed or skipped message again, now, with a fresh count of attempts."""
    require(actor, "messages.send")
    message = get_message(session=session, message_id=message_id)
    if message.status not in (MessageStatus.FAILED.value, MessageStatus.SKIPPED.value):
        raise ValidationFailed("status", f"message {message_id} is {message.status}, not failed")
    message.status = MessageStatus.QUEUED.value
    message.attempts = 0
    message.next_attempt_at = _now(None)
    message.handed_over_at = None
    message.claimed_by = None
    session.add(message)
    session.flush()
    return message


# --------------------------------------------------------------------------- sending


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# The senders running in this process (their claims are never stale here).
_LIVE: set[str] = set()


def _gone(claimed_by: str | None, me: str) -> bool:
    """The claiming process ran on this host and no longer runs."""
    if not claimed_by or claimed_by == me or claimed_by in _LIVE:
        return False
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # an earlier process with our pid (or an earlier run in this one)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_stale(
    engine: Engine,
    *,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
    me: str | None = None,
) -> tuple[int, int]:
    """Rows left in 'sending' by a process that is gone: (queued again, marked failed)."""
    moment = _now(now)
    me = me or ""

    def work(session: Session) -> tuple[int, int]:
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) == MessageStatus.SENDING.value)
        ).all()
        requeued = failed = 0
        for row in rows:
            old = row.claimed_at is not None and row.claimed_at < moment - stale_after
            if not (old or _gone(row.claimed_by, me)):
                continue
            if row.handed_over_at is None:
                row.status = MessageStatus.QUEUED.value
                row.next_attempt_at = moment
                row.attempts = max(0, row.attempts - 1)
                requeued += 1
            else:
                row.status = MessageStatus.FAILED.value
                row.next_attempt_at = None
                row.last_error = INTERRUPTED.format(at=f"{row.handed_over_at:%Y-%m-%d %H:%M:%S}")
                failed += 1
            row.claimed_by = None
            session.add(row)
        return requeued, failed

    return write_transaction(engine, work)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # failures this run (retried later or given up)
    skipped: int = 0  # consent withdrawn, blocked, booking moved or cancelled ...
    requeued_stale: int = 0
    interrupted: int = 0  # found handed over by a dead process: failed, not resent
    waiting: dict[str, int] = field(default_factory=dict)  # channel not set up: still queued
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "requeued_stale": self.requeued_stale,
            "interrupted": self.interrupted,
            "waiting": dict(self.waiting),
            "errors": list(self.errors),
        }


def default_providers(cfg: MessagingConfig) -> dict[str, Provider]:
    """The providers for the channels that are set up."""
    out: dict[str, Provider] = {}
    if cfg.email_ready:
        from frontdesk.data.messaging.smtp import SmtpProvider

        out["email"] = SmtpProvider(cfg, secret("smtp_password"))
    if cfg.sms_ready or cfg.whatsapp_ready:
        from frontdesk.data.messaging.twilio import TwilioProvider

        twilio = TwilioProvider(cfg, secret("twilio_auth_token"))
        if cfg.sms_ready:
            out["sms"] = twilio
        if cfg.whatsapp_ready:
            out["whatsapp"] = twilio
    return out


def _still_wanted(
    session: Session, row: _Row, customers: Mapping[int, consent_rules.RecipientRow]
) -> str | None:
    """Why a claimed message must not go out any more, or None (``customers``: the claimed
    batch's, loaded together)."""
    customer = customers.get(row.customer_id) if row.customer_id else None
    if customer is None:
        return "the customer no longer exists"
    reason = consent_rules.refusal(customer, row.purpose, row.channel)
    if reason is not None:
        return reason
    if consent_rules.address_for(customer, row.channel) != row.to_address:
        return "the customer's address changed after the message was queued"
    if row.purpose == Purpose.REMINDER.value:
        booking = session.get(Booking, row.booking_id) if row.booking_id else None
        if booking is None:
            return "the booking no longer exists"
        if booking.status not in (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value):
            return f"the booking is {booking.status.replace('_', '-')}"
        if not row.idempotency_key.endswith(f":{booking.start_at:%Y%m%dT%H%M}"):
            return "the booking was moved after the reminder was queued"
    return None


# The columns of an outbox row the sender reads at the claim (rows, not ORM objects: a
# newsletter claims 100,000).
_CLAIM_COLUMNS = (
    "id",
    "channel",
    "to_address",
    "subject",
    "body",
    "html",
    "newsletter_id",
    "customer_id",
    "booking_id",
    "purpose",
    "idempotency_key",
)


@dataclass(slots=True, frozen=True)
class _Row:
    """The claim's columns of one outbox row."""

    id: int
    channel: str
    to_address: str
    subject: str | None
    body: str | None
    html: str | None
    newsletter_id: int | None
    customer_id: int | None
    booking_id: int | None
    purpose: str
    idempotency_key: str
    message_id: str  # computed from the key at the claim (not a column read)


def _claimed_row(values: Any, sender_email: str) -> _Row:
    """A claimed row (the columns of :data:`_CLAIM_COLUMNS`, in order) with its Message-ID."""
    return _Row(*(*values, message_id_for(values[-1], sender_email)))


CLAIM_BATCH = 100


@dataclass
class _Claimed:
    """A claimed message: skipped at the claim, built, or (a newsletter's) built when its
    turn comes — rendering a batch at once would hold the interpreter for milliseconds, in
    which the other connections' replies wait and the server idles."""

    row: _Row
    skipped: bool = False
    outgoing: Outgoing | None = None
    subject: str | None = None  # the rendered subject to keep on the row (a newsletter's)
    letter: Newsletter | None = None  # with ``values``: rendered by :meth:`ready`
    values: dict[str, str] | None = None

    @property
    def id(self) -> int:
        return self.row.id

    def ready(self) -> Outgoing:
        if self.outgoing is None:
            assert self.letter is not None and self.values is not None
            rendered = tpl.render(
                subject=self.letter.subject, body=self.letter.body, values=self.values
            )
            self.outgoing, self.subject = _outgoing(self.row, rendered)
        return self.outgoing


def _outgoing(row: _Row, rendered: tpl.Rendered) -> tuple[Outgoing, str | None]:
    """The message to send, and the subject to keep on the row where it had none."""
    subject = rendered.subject[:300] if row.subject is None and rendered.subject else None
    outgoing = Outgoing(
        channel=row.channel,
        to=row.to_address,
        subject=rendered.subject,
        text=rendered.text,
        html=(rendered.html or None) if row.channel == Channel.EMAIL.value else None,
        message_id=row.message_id,
        unsubscribe=row.purpose in UNSUBSCRIBE_PURPOSES,
    )
    return outgoing, subject


_SENDING = MessageStatus.SENDING.value
_MINE = f"id = :mid AND claimed_by = :me AND status = '{_SENDING}'"
# The sending loop's frequent writes, as plain statements (a newsletter makes 100,000 of each;
# building them with the ORM cost more than the write itself).
_HAND_OVER = text(
    f"UPDATE outbox SET handed_over_at = :at, subject = COALESCE(subject, :subject) WHERE {_MINE}"
).bindparams(bindparam("at", type_=DateTime()))
_SENT = text(
    f"UPDATE outbox SET status = '{MessageStatus.SENT.value}', sent_at = :at,"
    f" provider_id = :provider_id, last_error = NULL, next_attempt_at = NULL WHERE {_MINE}"
).bindparams(bindparam("at", type_=DateTime()))
# The same two on SQLite's own cursor (the hand-over is the one write a message makes).
_HAND_OVER_SQLITE = (
    "UPDATE outbox SET handed_over_at = ?, subject = COALESCE(subject, ?)"
    f" WHERE id = ? AND claimed_by = ? AND status = '{_SENDING}'"
)
_SENT_SQLITE = (
    f"UPDATE outbox SET status = '{MessageStatus.SENT.value}', sent_at = ?, provider_id = ?,"
    " last_error = NULL, next_attempt_at = NULL"
    f" WHERE id = ? AND claimed_by = ? AND status = '{_SENDING}'"
)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a datetime in SQLite
# The claim on SQLite's own cursor: in the run's write turn, which every hand-over waits for.
_CLAIM_SQLITE = (
    f"SELECT {', '.join(_CLAIM_COLUMNS)} FROM outbox WHERE status = ?"
    " AND next_attempt_at IS NOT NULL AND next_attempt_at <= ? AND channel IN ({channels})"
    " ORDER BY next_attempt_at LIMIT ?"
)
_CLAIMED_SQLITE = (
    f"UPDATE outbox SET status = '{_SENDING}', claimed_by = ?, claimed_at = ?,"
    " handed_over_at = NULL, attempts = attempts + 1, message_id = ? WHERE id = ?"
)
_CLAIMED = text(
    f"UPDATE outbox SET status = '{_SENDING}', claimed_by = :me, claimed_at = :at,"
    " handed_over_at = NULL, attempts = attempts + 1, message_id = :message_id"
    " WHERE id = :mid"
).bindparams(bindparam("at", type_=DateTime()))
_SKIPPED = text(  # not an attempt: the claim's count taken back
    f"UPDATE outbox SET status = '{MessageStatus.SKIPPED.value}', last_error = :reason,"
    f" next_attempt_at = NULL, attempts = attempts - 1 WHERE {_MINE}"
)


# "Sent" marks are written together, SENT_BATCH at a time (or after SENT_FLUSH_AFTER): a
# process killed while sending leaves at most these "may have been delivered" (see _Log).
SENT_BATCH = 20
SENT_FLUSH_AFTER = timedelta(seconds=1)
WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default, which every other connection keeps


class _Log:
    """The writes of one run's sending loops (one per connection), made in turn.

    Each message's hand-over is written before the message can reach the server (the
    exactly-once rule). Loops that ask at the same moment share one transaction (the first to
    get the turn writes every hand-over waiting, the others find theirs written): never later
    than its message needs it, fewer transactions. "Sent" marks wait for a later write: the
    hand-over that finds :data:`SENT_BATCH` of them waiting (or the oldest older than
    :data:`SENT_FLUSH_AFTER`), a failure, a claim or the end of the run — one statement for
    many messages. Until it is written a message reads "sending" with its hand-over time: a
    process killed then leaves it to the interrupted-after-hand-over rule (marked "may have
    been delivered", never resent), so a kill can leave up to SENT_BATCH messages the server
    took in that state, besides the one each connection was handing over.

    The turn is this process's: its loops never wait on each other through the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._turn = threading.Lock()  # one write of this run at a time
        self._guard = threading.Lock()  # the lists and counters below
        self._marks: list[dict[str, Any]] = []  # hand-overs asked for, not written yet
        self._sent: list[dict[str, Any]] = []  # "sent" marks not written yet
        self._asked = 0
        self._written = 0  # every hand-over asked up to this count is written
        self._conn: Connection | None = None

    def sent(self, mark: dict[str, Any]) -> None:
        with self._guard:
            self._sent.append(mark)

    def write(
        self,
        work: Callable[[Session], Any] | None = None,
        *,
        on_sqlite: Callable[[sqlite3.Cursor], Any] | None = None,
    ) -> Any:
        """``work`` in one write transaction, after the "sent" marks waiting; on SQLite
        ``on_sqlite`` instead, where given (the same work on SQLite's own cursor)."""
        with self._turn:
            with self._guard:
                sent, self._sent = self._sent, []

            def run(session: Session) -> Any:
                if sent:
                    session.execute(_SENT, sent)
                return work(session) if work is not None else None

            try:
                raw = self._raw() if on_sqlite is not None else None
                if raw is not None and on_sqlite is not None:
                    return self._sqlite_transaction(raw, sent, on_sqlite)
                return write_transaction(self.engine, run)
            except BaseException:
                with self._guard:
                    self._sent[:0] = sent
                raise

    def _raw(self) -> FairConnection | None:
        """SQLite's own connection, kept for this run's writes (None on other databases).

        Its commits never checkpoint the WAL (copying a thousand pages to the database file
        and syncing it, in the middle of a hand-over, stalled every connection for
        milliseconds): the run's claims and the desk's writes, on other connections, do."""
        if self._conn is None:
            self._conn = self.engine.connect()
            raw = self._conn.connection.dbapi_connection
            if isinstance(raw, FairConnection):
                raw.execute("PRAGMA wal_autocheckpoint=0")
        raw = self._conn.connection.dbapi_connection
        return raw if isinstance(raw, FairConnection) else None

    def hand_over(self, mark: dict[str, Any]) -> None:
        """Write ``mark`` (a hand-over) before returning, with any others waiting."""
        with self._guard:
            self._marks.append(mark)
            self._asked += 1
            ticket = self._asked
        with self._turn:
            if self._written >= ticket:  # written by a loop that had the turn
                return
            with self._guard:
                marks, self._marks = self._marks, []
                upto = self._asked
                sent = self._due(mark["at"])
            try:
                self._write(marks, sent)
            except BaseException:
                with self._guard:  # the others' marks wait for the next turn; ours failed
                    self._marks[:0] = [m for m in marks if m is not mark]
                    self._sent[:0] = sent
                raise
            self._written = upto

    def hand_over_all(self, marks: list[dict[str, Any]]) -> None:
        """Write ``marks`` (the hand-overs of several messages) in one transaction before
        returning (the one-thread sender: its connections that reached DATA together)."""
        with self._turn:
            with self._guard:
                sent = self._due(marks[-1]["at"])
            try:
                self._write(marks, sent)
            except BaseException:
                with self._guard:
                    self._sent[:0] = sent
                raise

    def _due(self, at: datetime) -> list[dict[str, Any]]:
        """The "sent" marks to write with a hand-over at ``at`` (taken), or none yet."""
        waiting = self._sent
        if len(waiting) >= SENT_BATCH or (waiting and at - waiting[0]["at"] >= SENT_FLUSH_AFTER):
            self._sent = []
            return waiting
        return []

    def _write(self, marks: list[dict[str, Any]], sent: list[dict[str, Any]]) -> None:
        """On a connection kept for it: the one write per message, as light as a write can
        be."""
        raw = self._raw()
        if raw is not None:  # SQLite: its own cursor, in the writers' turn
            self._sqlite_transaction(
                raw,
                sent,
                lambda cursor: cursor.executemany(
                    _HAND_OVER_SQLITE,
                    [
                        (m["at"].strftime(_SQLITE_TIME), m["subject"], m["mid"], m["me"])
                        for m in marks
                    ],
                ),
            )
            return
        assert self._conn is not None
        conn = self._conn
        try:
            with conn.begin():
                if sent:
                    conn.execute(_SENT, sent)
                conn.execute(_HAND_OVER, marks)
        except DBAPIError as exc:
            if not is_conflict(exc):
                raise

            def again(session: Session) -> None:  # a conflict (PostgreSQL): the retrying path
                if sent:
                    session.execute(_SENT, sent)
                session.execute(_HAND_OVER, marks)

            write_transaction(self.engine, again)

    @staticmethod
    def _sqlite_transaction(
        raw: FairConnection,
        sent: list[dict[str, Any]],
        work: Callable[[sqlite3.Cursor], Any],
    ) -> Any:
        """``work`` after the "sent" marks, in one transaction as the engine makes it (the
        writers' turn, ``BEGIN IMMEDIATE``) on the SQLite connection itself: a fraction of the
        cost through SQLAlchemy, which the sending loop's frequent writes feel."""
        raw.take_turn()
        cursor = raw.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            if sent:
                cursor.executemany(
                    _SENT_SQLITE,
                    [
                        (m["at"].strftime(_SQLITE_TIME), m["provider_id"], m["mid"], m["me"])
                        for m in sent
                    ],
                )
            result = work(cursor)
            raw.commit()  # ends the turn
            return result
        except BaseException:
            raw.rollback()  # ends the turn
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        if self._conn is not None:
            raw = self._conn.connection.dbapi_connection
            try:
                if isinstance(raw, FairConnection):  # back to the pool as it came
                    raw.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
            finally:
                self._conn.close()
                self._conn = None


class _Writer:
    """One sending loop's writes, through the run's :class:`_Log`."""

    def __init__(self, log: _Log, me: str) -> None:
        self.log = log
        self.me = me

    def write(
        self,
        work: Callable[[Session], Any] | None = None,
        *,
        on_sqlite: Callable[[sqlite3.Cursor], Any] | None = None,
    ) -> Any:
        return self.log.write(work, on_sqlite=on_sqlite)

    def sent(self, message_id: int, provider_id: str | None) -> None:
        self.log.sent(
            {"mid": message_id, "me": self.me, "at": _now(None), "provider_id": provider_id}
        )

    def handed_over(self, message_id: int, subject: str | None) -> None:
        self.log.hand_over({"mid": message_id, "me": self.me, "at": _now(None), "subject": subject})

    def all_handed_over(self, messages: list[tuple[int, str | None]]) -> None:
        at = _now(None)
        self.log.hand_over_all(
            [{"mid": mid, "me": self.me, "at": at, "subject": subject} for mid, subject in messages]
        )

    def failed(
        self, message_id: int, exc: SendFailed, now: datetime, subject: str | None = None
    ) -> None:
        def work(session: Session) -> None:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.claimed_by != self.me:
                return
            if row.status != MessageStatus.SENDING.value:
                return
            if row.subject is None and subject is not None:
                row.subject = subject
            row.status = MessageStatus.FAILED.value
            row.last_error = exc.reason[:500]
            if exc.uncertain:
                row.last_error = (
                    f"{exc.reason} — after the message was handed to the server: it may have "
                    "been delivered, so it is not sent again automatically"
                )[:500]
                row.next_attempt_at = None
            elif exc.transient and row.attempts < MAX_ATTEMPTS:
                row.next_attempt_at = now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
            else:
                row.next_attempt_at = None
            session.add(row)

        self.write(work)

    def release(self, message_ids: list[int]) -> None:
        """Claimed but not tried (the run stopped early): queued again as they were."""
        if not message_ids:
            self.write()
            return

        def work(session: Session) -> None:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(message_ids),
                    col(OutboxMessage.claimed_by) == self.me,
                    col(OutboxMessage.status) == MessageStatus.SENDING.value,
                    col(OutboxMessage.handed_over_at).is_(None),
                )
                .values(
                    status=MessageStatus.QUEUED.value,
                    claimed_by=None,
                    attempts=col(OutboxMessage.attempts) - 1,
                )
            )

        self.write(work)


class _Texts:
    """Rendering of claimed messages, with what is shared between them loaded once."""

    def __init__(self, cfg: MessagingConfig) -> None:
        self.cfg = cfg
        self.letters: dict[int, tuple[Newsletter, set[str]]] = {}
        self.values: dict[int, dict[str, str]] = {}
        # The batch's customers (the columns a message needs), read together.
        self.customers: dict[int, consent_rules.RecipientRow] = {}

    def prepare(self, session: Session, rows: list[_Row]) -> None:
        """Load what a batch of messages needs in a few queries."""
        self.values = {}
        wanted = {row.customer_id for row in rows if row.customer_id is not None}
        self.customers = consent_rules.recipients(session=session, ids=wanted)
        used: set[str] = set()
        ids: list[int] = []
        for row in rows:
            if row.newsletter_id is None or row.body is not None or row.customer_id is None:
                continue
            letter = self._letter(session, row.newsletter_id)
            if letter is not None:
                used |= letter[1]
                ids.append(row.customer_id)
        if not ids:
            return
        self.values = tpl.values_for_many(
            session=session,
            customers=[self.customers[i] for i in ids if i in self.customers],
            business_name=self.cfg.business_name,
            needed=used,
        )

    def _letter(self, session: Session, letter_id: int) -> tuple[Newsletter, set[str]] | None:
        if letter_id not in self.letters:
            letter = session.get(Newsletter, letter_id)
            if letter is None:
                return None
            used = tpl.placeholders_in(letter.subject) | tpl.placeholders_in(letter.body)
            self.letters[letter_id] = (letter, used)
        return self.letters[letter_id]

    def prepared(
        self, session: Session, row: _Row
    ) -> tpl.Rendered | tuple[Newsletter, dict[str, str]]:
        """A newsletter message's letter and values (its batch's, else read now), rendered
        when its turn comes; any other message rendered now."""
        if row.newsletter_id is None or row.body is not None:
            return tpl.Rendered(row.subject or "", row.body or "", row.html or "")
        found = self._letter(session, row.newsletter_id)
        if found is None:
            return tpl.Rendered(row.subject or "", "", "")
        letter, used = found
        values = self.values.get(row.customer_id or 0)
        if values is None:
            customer = session.get(Customer, row.customer_id) if row.customer_id else None
            if customer is None:
                return tpl.Rendered(letter.subject, "", "")
            values = tpl.values_for(
                session=session,
                customer=customer,
                business_name=self.cfg.business_name,
                needed=used,
            )
        return letter, values


_CLAIM_SELECT: Any = None


def _claim_statement() -> Any:
    """The claim's select (built once: a newsletter runs it a thousand times)."""
    global _CLAIM_SELECT
    if _CLAIM_SELECT is None:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        _CLAIM_SELECT = (
            sa_select(*(table.c[name] for name in _CLAIM_COLUMNS))
            .where(
                table.c.status == bindparam("status"),
                table.c.next_attempt_at.is_not(None),
                table.c.next_attempt_at <= bindparam("now", type_=table.c.next_attempt_at.type),
                table.c.channel.in_(bindparam("channels", expanding=True)),
            )
            .order_by(table.c.next_attempt_at)
            .limit(bindparam("size"))
            .with_for_update(skip_locked=True)
        )
    return _CLAIM_SELECT


def _claim(
    writer: _Writer,
    channels: Iterable[str],
    texts: _Texts,
    now: datetime,
    size: int,
) -> list[_Claimed]:
    """Claim up to ``size`` due messages in one short write transaction (it takes the rows
    and marks them "sending", with the "sent" marks waiting), then check and render them
    after it: the render holds no write lock, so the other connections' hand-overs and the
    desk's writes do not wait for it. A message no longer wanted is marked skipped in a
    second write; a message's rendered subject (a newsletter's, for the lists) is written
    with its hand-over."""
    channels = list(channels)
    sender = texts.cfg.sender_email
    statuses = (MessageStatus.QUEUED.value, MessageStatus.FAILED.value)

    def work(session: Session) -> list[_Row]:
        taken: list[_Row] = []
        for status in statuses:
            if len(taken) >= size:
                break
            found = session.execute(
                _claim_statement(),
                {"status": status, "now": now, "channels": channels, "size": size - len(taken)},
            )
            taken += [_claimed_row(row, sender) for row in found.all()]
        if taken:  # one statement for the batch
            session.execute(
                _CLAIMED,
                [
                    {"mid": row.id, "me": writer.me, "at": now, "message_id": row.message_id}
                    for row in taken
                ],
            )
        return taken

    def on_sqlite(cursor: sqlite3.Cursor) -> list[_Row]:  # the same, on SQLite's own cursor
        taken: list[_Row] = []
        at = now.strftime(_SQLITE_TIME)
        select = _CLAIM_SQLITE.format(channels=", ".join("?" * len(channels)))
        for status in statuses:
            if len(taken) >= size:
                break
            found = cursor.execute(select, (status, at, *channels, size - len(taken)))
            taken += [_claimed_row(row, sender) for row in found.fetchall()]
        if taken:
            cursor.executemany(
                _CLAIMED_SQLITE, [(writer.me, at, row.message_id, row.id) for row in taken]
            )
        return taken

    rows: list[_Row] = writer.write(work, on_sqlite=on_sqlite)
    if not rows:
        return []
    out: list[_Claimed] = []
    skips: list[dict[str, Any]] = []
    with Session(writer.log.engine) as session:
        texts.prepare(session, rows)
        for row in rows:
            why_not = _still_wanted(session, row, texts.customers)
            if why_not is not None:
                skips.append({"mid": row.id, "me": writer.me, "reason": why_not[:500]})
                out.append(_Claimed(row, skipped=True))
                continue
            prepared = texts.prepared(session, row)
            if isinstance(prepared, tpl.Rendered):
                outgoing, subject = _outgoing(row, prepared)
                out.append(_Claimed(row, outgoing=outgoing, subject=subject))
            else:
                out.append(_Claimed(row, letter=prepared[0], values=prepared[1]))
    if skips:
        writer.write(lambda session: session.execute(_SKIPPED, skips))
    return out


class _Claims:
    """The run's claimed messages, shared by its sending loops (one per connection). When
    they run low, the first loop to notice claims the next batch while the others go on
    sending what is left, so a claim never stops every connection at once."""

    def __init__(
        self,
        writer: _Writer,
        texts: _Texts,
        channels: list[str],
        now: datetime | None,
        limit: int | None,
        batch: int,
        loops: int,
    ) -> None:
        self.writer = writer
        self.texts = texts
        self.channels = channels
        self.now = now
        self.budget = limit  # messages still to claim (None: all that are due)
        self.batch = batch
        self.low = 0 if loops == 1 else min(batch // 2, 8 * loops)  # claim at this many
        self.items: deque[_Claimed] = deque()
        self.turn = threading.Condition()
        self.claiming = False
        self.done = False  # nothing more is due (or the budget is spent)
        self.ahead: threading.Thread | None = None  # claims made by a thread of their own
        self.stopped = False
        self.failure: BaseException | None = None

    def next(self) -> _Claimed | None:
        """The next message to send, or None when there is none."""
        if self.ahead is not None:
            return self._next_ahead()
        while True:
            with self.turn:
                while self.claiming and not self.items:
                    self.turn.wait()
                if self.done or self.claiming or len(self.items) > self.low:
                    return self.items.popleft() if self.items else None
                self.claiming = True
            self._claim_batch()

    def _claim_batch(self) -> None:
        """Claim the next batch (``claiming`` set by the caller) and add it to the items."""
        size = self.batch if self.budget is None else min(self.batch, self.budget)
        got: list[_Claimed] = []
        try:
            if size > 0:
                got = _claim(self.writer, self.channels, self.texts, _now(self.now), size)
        finally:
            self._got(got)

    def _got(self, got: list[_Claimed]) -> None:
        with self.turn:
            self.items.extend(got)
            if self.budget is not None:
                self.budget -= len(got)
            self.done = not got
            self.claiming = False
            self.turn.notify_all()

    def claim_ahead(self) -> None:
        """From now on batches are claimed by a thread of their own, a batch ahead of need:
        for the one-thread sender, in which a claim made inline would keep every connection
        waiting. :meth:`stop` ends it."""
        self.low = self.batch
        self.ahead = threading.Thread(target=self._claim_ahead, name="frontdesk-claims")
        self.ahead.start()

    def _claim_ahead(self) -> None:
        try:
            while True:
                with self.turn:
                    while not (self.stopped or self.done) and len(self.items) > self.low:
                        self.turn.wait()
                    if self.stopped or self.done:
                        return
                    self.claiming = True
                self._claim_batch()
        except BaseException as exc:
            with self.turn:
                self.failure = exc
                self.done = True
                self.turn.notify_all()

    def _next_ahead(self) -> _Claimed | None:
        with self.turn:
            while not self.items and not self.done:
                self.turn.wait()
            if self.failure is not None:
                raise self.failure
            if not self.items:
                return None
            item = self.items.popleft()
            if len(self.items) <= self.low and not self.claiming:
                self.turn.notify_all()
            return item

    def stop(self) -> None:
        """Ends the claims made ahead (after the batch being claimed, if any)."""
        if self.ahead is None:
            return
        with self.turn:
            self.stopped = True
            self.turn.notify_all()
        self.ahead.join()

    def left(self) -> list[int]:
        """Claimed and not tried (the run stopped early): to be queued again."""
        with self.turn:
            return [c.id for c in self.items if not c.skipped]


# While the one-thread sender runs, the claims' thread gives the interpreter back within this
# time when the sender asks for it. Python's default, 5 ms, is what the server answers ~15
# commands in; the sender releases the interpreter at each of its socket and database calls,
# and each time it could wait that long to get it back.
SWITCH_INTERVAL = 0.00005
# Over several connections (``frontdesk notify``, a newsletter) the sender looks for the
# server's next reply for this long before its thread sleeps (see SmtpMux._poll): measured on
# a 2-core machine, 96% of the server's rate instead of 87-90%, for about 45% more processor
# time in the sending process. The app's sender (one connection, beside the desk) sleeps.
POLL = 0.0001


def _close(providers: Mapping[str, Provider]) -> None:
    for provider in {id(p): p for p in providers.values()}.values():
        provider.close()


def send_queue(
    engine: Engine,
    *,
    providers: Mapping[str, Provider] | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    stale_after: timedelta = STALE_AFTER,
    progress: Callable[[SendReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch: int = CLAIM_BATCH,
    connections: int = 1,
) -> SendReport:
    """Send what is due in the outbox once, then return (for ``frontdesk notify`` and the
    app's background sender). ``providers`` default to the configured ones; channels without
    a provider stay queued (counted in ``waiting``). ``should_stop`` is asked between
    messages; messages claimed but not tried are queued again. ``connections`` > 1 sends
    over that many connections at once (only with the configured providers) — what hides the
    round trips of a distant server. With the configured providers and email set up, email
    goes through one thread driving its SMTP connections (smtp_mux) and the other channels'
    messages are sent on the way; without email, a thread per connection."""
    report = SendReport()
    report.requeued_stale, report.interrupted = recover_stale(
        engine, now=now, stale_after=stale_after, me=worker_name()
    )
    with Session(engine) as session:
        cfg = load_config(session=session)
    lock = threading.Lock()
    log = _Log(engine)
    me = worker_name()  # the run's name on the rows it claims (its loops share them)
    writer = _Writer(log, me)
    ready = set(default_providers(cfg).keys()) if providers is None else set(providers)
    count = max(1, connections) if providers is None else 1
    claims = _Claims(writer, _Texts(cfg), sorted(ready), now, limit, batch, count)

    def record(item: _Claimed, provider_id: str | None, failure: SendFailed | None) -> None:
        if failure is not None:
            writer.failed(item.id, failure, _now(now), item.subject)
        else:
            writer.sent(item.id, provider_id)
        with lock:
            if failure is not None:
                report.failed += 1
                report.errors.append(f"{item.id}: {failure.reason}")
            else:
                report.sent += 1
            if progress is not None:
                progress(report)

    def deliver(item: _Claimed, provider: Provider) -> None:
        try:
            provider_id = provider.send(
                item.ready(),
                handing_over=lambda: writer.handed_over(item.id, item.subject),
            )
        except SendFailed as exc:
            record(item, None, exc)
        else:
            record(item, provider_id, None)

    def take(chosen: Mapping[str, Provider], channel: str | None = None) -> _Claimed | None:
        """The next message to send; with ``channel``, the next of that channel (the others
        sent on the way)."""
        while True:
            if should_stop is not None and should_stop():
                return None
            item = claims.next()
            if item is None:
                return None
            if item.skipped:
                with lock:
                    report.skipped += 1
                continue
            if channel is None or item.row.channel == channel:
                return item
            deliver(item, chosen[item.row.channel])

    def loop() -> None:
        own = providers is None
        chosen: Mapping[str, Provider] = default_providers(cfg) if providers is None else providers
        try:
            while chosen:
                item = take(chosen)
                if item is None:
                    break
                deliver(item, chosen[item.row.channel])
        finally:
            if own:
                _close(chosen)

    def multiplexed() -> None:
        """Email over ``count`` connections from this thread (see smtp_mux); the other
        channels' messages sent one by one on the way. Over several connections the next batch
        is claimed ahead by a thread of its own."""
        from frontdesk.data.messaging.smtp import SmtpProvider, wire_bytes
        from frontdesk.data.messaging.smtp_mux import SmtpMux

        def message(item: _Claimed) -> tuple[Outgoing, bytes]:
            outgoing = item.ready()
            return outgoing, wire_bytes(outgoing, cfg)

        chosen = default_providers(cfg)
        password = secret("smtp_password")
        smtp = [SmtpProvider(cfg, password) for _ in range(count)]
        mux: SmtpMux[_Claimed] = SmtpMux(
            smtp,
            take=lambda: take(chosen, Channel.EMAIL.value),
            message=message,
            hand_over=lambda items: writer.all_handed_over([(i.id, i.subject) for i in items]),
            sent=lambda item, provider_id: record(item, provider_id, None),
            failed=lambda item, exc: record(item, None, exc),
            stop=should_stop,
            poll=POLL if count > 1 else 0.0,
        )
        switch = sys.getswitchinterval()
        if count > 1:  # a claim made inline would keep the other connections waiting
            sys.setswitchinterval(SWITCH_INTERVAL)
            claims.claim_ahead()
        try:
            mux.run()
        finally:
            try:  # taken and not finished (an error, or asked to stop): queued again
                if left := [item.id for item in mux.left()]:
                    writer.release(left)
            finally:
                claims.stop()
                if count > 1:
                    sys.setswitchinterval(switch)
                _close({**chosen, **{str(i): p for i, p in enumerate(smtp)}})

    _LIVE.add(me)
    try:
        if providers is None and cfg.email_ready:
            multiplexed()
        elif count == 1:
            loop()
        else:
            failures: list[BaseException] = []

            def guarded() -> None:
                try:
                    loop()
                except BaseException as exc:  # pragma: no cover - reported below
                    failures.append(exc)

            threads = [
                threading.Thread(target=guarded, name=f"frontdesk-sender-{i}", daemon=True)
                for i in range(count)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if failures:
                raise failures[0]
    finally:
        try:
            writer.release(claims.left())
        finally:
            _LIVE.discard(me)
            log.close()
    unready = [c.value for c in Channel if c.value not in ready]
    if unready:  # only the channels not set up (the queued newsletter is not counted again)
        with Session(engine) as session:
            rows = session.exec(
                select(OutboxMessage.channel, func.count())
                .where(
                    col(OutboxMessage.status) == MessageStatus.QUEUED.value,
                    col(OutboxMessage.channel).in_(unready),
                )
                .group_by(col(OutboxMessage.channel))
            ).all()
        report.waiting = {str(c): int(n) for c, n in rows}
    return report
