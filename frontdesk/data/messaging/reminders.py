"""What is due: appointment reminders, birthday and anniversary messages, and ``notify``.

- Reminders: bookings that are pending or confirmed and start within the next
  ``reminder_hours`` (business setting, default 24) of the business clock (``time_zone``
  setting; booking times are the branch's wall-clock time), for customers with reminder
  consent, on their preferred channel. The idempotency key holds the booking's start
  (``reminder:<booking id>:<YYYYmmddTHHMM>``): a moved booking gets its own reminder, and the
  reminder queued for the old time is skipped at sending (see outbox).
- Birthdays and anniversaries: on the day in the business time zone, from
  :data:`SEND_FROM_HOUR` o'clock, with birthday consent; 29 February is celebrated on
  28 February in other years. Keys ``birthday:<customer id>:<year>`` and
  ``anniversary:<customer id>:<year>``.

Texts come from the templates named ``reminder``, ``birthday`` and ``anniversary`` when they
exist (for SMS/WhatsApp: ``reminder-sms`` ... first), else from the defaults below.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, extract, or_
from sqlmodel import Session, col, select

from frontdesk.data.messaging import consent as consent_rules
from frontdesk.data.messaging import outbox
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.messaging.config import MessagingConfig, load_config
from frontdesk.data.messaging.providers import Provider
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Channel,
    Customer,
    MessageTemplate,
    OutboxMessage,
    Purpose,
    utcnow,
)
from frontdesk.data.retry import write_transaction

SEND_FROM_HOUR = 9
# SMTP connections (and Twilio clients) `frontdesk notify` sends over at once.
NOTIFY_CONNECTIONS = 4

DEFAULT_TEXTS: dict[str, tuple[str, str]] = {
    Purpose.REMINDER.value: (
        "Reminder: {service} on {next_booking_date} at {next_booking_time}",
        "Hello {first_name},\n\nA reminder of your appointment for {service} at {branch} on "
        "{next_booking_date} at {next_booking_time}.\n\nSee you soon,\n{business_name}",
    ),
    Purpose.BIRTHDAY.value: (
        "Happy birthday, {first_name}!",
        "Hello {first_name},\n\nEveryone at {business_name} wishes you a very happy "
        "birthday!\n\n{business_name}",
    ),
    Purpose.ANNIVERSARY.value: (
        "Happy anniversary, {first_name}!",
        "Hello {first_name},\n\nEveryone at {business_name} wishes you a happy "
        "anniversary!\n\n{business_name}",
    ),
}


@dataclass(frozen=True)
class Planned:
    """A message that is due (what ``notify --dry-run`` lists)."""

    key: str
    customer_id: int
    customer_code: str
    purpose: str
    channel: str
    to: str
    booking_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "customer": self.customer_code,
            "purpose": self.purpose,
            "channel": self.channel,
            "to": self.to,
            "booking_id": self.booking_id,
        }


def local_now(cfg: MessagingConfig, now: datetime | None = None) -> datetime:
    """The business's wall-clock time, labelled UTC as booking times are stored."""
    moment = now or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(cfg.zone).replace(tzinfo=UTC)


def _ready(cfg: MessagingConfig) -> dict[str, bool]:
    return {c.value: cfg.ready(c.value) for c in Channel}


def _existing(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            session.exec(
                select(OutboxMessage.idempotency_key).where(
                    col(OutboxMessage.idempotency_key).in_(chunk)
                )
            ).all()
        )
    return found


def due_reminders(
    *, session: Session, cfg: MessagingConfig, now: datetime | None = None
) -> Iterator[tuple[Planned, Booking, Customer]]:
    start = local_now(cfg, now)
    end = start + timedelta(hours=cfg.reminder_hours)
    rows = session.exec(
        select(Booking, Customer)
        .join(Customer, col(Customer.id) == col(Booking.customer_id))
        .where(
            col(Booking.start_at) > start,
            col(Booking.start_at) <= end,
            col(Booking.status).in_([BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]),
            col(Customer.consent_reminders).is_(True),
            col(Customer.blocked).is_(False),
        )
        .order_by(col(Booking.start_at), col(Booking.id))
    ).all()
    ready = _ready(cfg)
    for booking, customer in rows:
        channel = consent_rules.preferred_channel(customer, ready)
        if channel is None or consent_rules.refusal(customer, Purpose.REMINDER.value, channel):
            continue
        assert booking.id is not None and customer.id is not None
        key = f"reminder:{booking.id}:{booking.start_at:%Y%m%dT%H%M}"
        address = consent_rules.address_for(customer, channel) or ""
        planned = Planned(
            key, customer.id, customer.code, Purpose.REMINDER.value, channel, address, booking.id
        )
        yield planned, booking, customer


def _on_this_day(column: Any, today: date) -> Any:
    day = (extract("month", column) == today.month) & (extract("day", column) == today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        leap = (extract("month", column) == 2) & (extract("day", column) == 29)
        return or_(day, leap)
    return day


def due_greetings(
    *, session: Session, cfg: MessagingConfig, now: datetime | None = None
) -> Iterator[tuple[Planned, Customer]]:
    here = local_now(cfg, now)
    if here.hour < SEND_FROM_HOUR:
        return
    today = here.date()
    ready = _ready(cfg)
    for purpose, column in (
        (Purpose.BIRTHDAY.value, col(Customer.date_of_birth)),
        (Purpose.ANNIVERSARY.value, col(Customer.anniversary)),
    ):
        rows = session.exec(
            select(Customer).where(
                column.is_not(None),
                _on_this_day(column, today),
                col(Customer.consent_birthday).is_(True),
                col(Customer.blocked).is_(False),
                col(Customer.deleted_at).is_(None),
                col(Customer.merged_into_id).is_(None),
            )
        ).all()
        for customer in rows:
            channel = consent_rules.preferred_channel(customer, ready)
            if channel is None or consent_rules.refusal(customer, purpose, channel):
                continue
            assert customer.id is not None
            key = f"{purpose}:{customer.id}:{today.year}"
            address = consent_rules.address_for(customer, channel) or ""
            yield Planned(key, customer.id, customer.code, purpose, channel, address), customer


def _texts(session: Session, purpose: str, channel: str) -> tuple[str | None, str, str | None]:
    names = [f"{purpose}-{channel}", purpose] if channel != "email" else [purpose]
    for name in names:
        found = session.exec(
            select(MessageTemplate).where(col(MessageTemplate.name) == name)
        ).first()
        if found is not None:
            return found.subject, found.body, found.name
    subject, body = DEFAULT_TEXTS[purpose]
    return subject, body, None


@dataclass
class QueueReport:
    queued: list[Planned] = field(default_factory=list)
    already: int = 0  # due, but queued by an earlier run

    def as_dict(self) -> dict[str, Any]:
        return {"queued": [p.as_dict() for p in self.queued], "already_queued": self.already}


def queue_due(engine: Engine, *, now: datetime | None = None, dry_run: bool = False) -> QueueReport:
    """Queue every reminder, birthday and anniversary message that is due (once per key)."""

    def work(session: Session) -> QueueReport:
        cfg = load_config(session=session)
        report = QueueReport()
        items: list[tuple[Planned, Customer, Booking | None]] = [
            (p, c, b) for p, b, c in due_reminders(session=session, cfg=cfg, now=now)
        ]
        items += [(p, c, None) for p, c in due_greetings(session=session, cfg=cfg, now=now)]
        existing = _existing(session, [p.key for p, _c, _b in items])
        for planned, customer, booking in items:
            if planned.key in existing:
                report.already += 1
                continue
            report.queued.append(planned)
            if dry_run:
                continue
            subject, body, template = _texts(session, planned.purpose, planned.channel)
            values = tpl.values_for(
                session=session, customer=customer, business_name=cfg.business_name, now=now
            )
            if booking is not None:
                values.update(tpl.booking_values(session=session, booking=booking))
            rendered = tpl.render(subject=subject, body=body, values=values)
            outbox.enqueue(
                session=session,
                key=planned.key,
                customer=customer,
                purpose=planned.purpose,
                channel=planned.channel,
                subject=rendered.subject,
                body=rendered.text,
                html=rendered.html if planned.channel == Channel.EMAIL.value else None,
                booking_id=planned.booking_id,
                template=template,
                now=now,
            )
        if dry_run:
            session.rollback()
        return report

    return write_transaction(engine, work)


@dataclass
class NotifyReport:
    queue: QueueReport
    send: outbox.SendReport | None
    due_to_send: int = 0  # dry run: messages the send step would try

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.queue.as_dict(),
            "send": self.send.as_dict() if self.send else None,
            "due_to_send": self.due_to_send,
        }


def notify(
    engine: Engine,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    providers: dict[str, Provider] | None = None,
    stale_after: timedelta = outbox.STALE_AFTER,
) -> NotifyReport:
    """Queue what is due, then send the outbox once (``frontdesk notify``)."""
    queued = queue_due(engine, now=now, dry_run=dry_run)
    if dry_run:
        with Session(engine) as session:
            moment = outbox._now(now)
            due = session.exec(
                select(OutboxMessage.id).where(
                    col(OutboxMessage.status).in_(["queued", "failed"]),
                    col(OutboxMessage.next_attempt_at).is_not(None),
                    col(OutboxMessage.next_attempt_at) <= moment,
                )
            ).all()
        return NotifyReport(queued, None, len(due) + len(queued.queued))
    sent = outbox.send_queue(
        engine,
        providers=providers,
        now=now,
        stale_after=stale_after,
        connections=NOTIFY_CONNECTIONS,
    )
    return NotifyReport(queued, sent)


__all__ = ["NotifyReport", "Planned", "QueueReport", "notify", "queue_due", "write_transaction"]
