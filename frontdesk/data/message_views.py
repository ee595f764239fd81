"""What the messaging screens read: outbox pages, one message's text, a customer's messages
in their timeline, and what the compose and consent dialogs need.

Read-only use cases over :mod:`frontdesk.data.messaging` (which does the sending, queueing
and consent rules); screens call these through ``run_read``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from frontdesk.data.customers import get_by_code
from frontdesk.data.errors import NotFound, ValidationFailed
from frontdesk.data.messaging import consent as consent_rules
from frontdesk.data.messaging import outbox as box
from frontdesk.data.messaging import templates as tpl
from frontdesk.data.messaging.config import load_config
from frontdesk.data.models import (
    Channel,
    ConsentPurpose,
    Customer,
    MessageStatus,
    MessageTemplate,
    Newsletter,
    OutboxMessage,
    Purpose,
    Staff,
)

PAGE = 200
STATUSES = tuple(s.value for s in MessageStatus)
CHANNEL_LABEL = {"email": "Email", "sms": "SMS", "whatsapp": "WhatsApp"}


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    status: str
    channel: str
    purpose: str
    to: str
    subject: str
    customer_id: int | None
    customer: str  # "C-000123 Maria Garcia"
    attempts: int
    error: str
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def retryable(self) -> bool:
        return self.status in (MessageStatus.FAILED.value, MessageStatus.SKIPPED.value)


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    next_before: int | None  # pass as ``before_id`` for the next page; None: no more
    counts: dict[str, int] = field(default_factory=dict)  # every status, whole outbox
    customer: str = ""  # the customer filtered on, as shown


def _filled_subjects(
    session: Session,
    messages: list[OutboxMessage],
    letters: dict[int, str],
    people: dict[int, Customer],
) -> dict[int, str]:
    """Each not yet written newsletter message's subject, filled for its recipient (the
    placeholders its subject uses, for the page's recipients in a few statements)."""
    waiting = [
        m
        for m in messages
        if m.newsletter_id is not None
        and not m.subject
        and m.body is None
        and m.customer_id in people
        and tpl.placeholders_in(letters.get(m.newsletter_id))
    ]
    if not waiting:
        return {}
    used: set[str] = set()
    for m in waiting:
        used |= tpl.placeholders_in(letters[m.newsletter_id or 0])
    recipients = {m.customer_id: people[m.customer_id or 0] for m in waiting}
    values = tpl.values_for_many(
        session=session,
        customers=list(recipients.values()),
        business_name=load_config(session=session).business_name,
        needed=used,
    )
    return {
        m.id or 0: tpl.fill(letters[m.newsletter_id or 0], values[m.customer_id or 0])
        for m in waiting
        if m.customer_id in values
    }


def _rows(session: Session, messages: list[OutboxMessage]) -> list[OutboxRow]:
    customer_ids = {m.customer_id for m in messages if m.customer_id is not None}
    people: dict[int, Customer] = {}
    if customer_ids:
        people = {
            c.id: c
            for c in session.exec(select(Customer).where(col(Customer.id).in_(customer_ids)))
            if c.id is not None
        }
    letter_ids = {m.newsletter_id for m in messages if m.newsletter_id is not None}
    letters: dict[int, str] = {}
    if letter_ids:
        letters = {
            n.id: n.subject
            for n in session.exec(select(Newsletter).where(col(Newsletter.id).in_(letter_ids)))
            if n.id is not None
        }
    # A queued newsletter's subject is filled for its recipient when it is sent: the list
    # shows it filled as well ("Spring offers for Maria", not "... for {first_name}").
    filled = _filled_subjects(session, messages, letters, people)
    rows = []
    for m in messages:
        assert m.id is not None
        person = people.get(m.customer_id or 0)
        who = f"{person.code} {person.label}".strip() if person else "—"
        subject = m.subject or ""
        if not subject and m.newsletter_id is not None:
            subject = filled.get(m.id, letters.get(m.newsletter_id, ""))
        if not subject and m.body:
            subject = m.body.splitlines()[0][:80] if m.body.strip() else ""
        rows.append(
            OutboxRow(
                id=m.id,
                created_at=_aware(m.created_at) or m.created_at,
                status=m.status,
                channel=m.channel,
                purpose=m.purpose,
                to=m.to_address,
                subject=subject,
                customer_id=m.customer_id,
                customer=who,
                attempts=m.attempts,
                error=m.last_error or "",
                sent_at=_aware(m.sent_at),
                next_attempt_at=_aware(m.next_attempt_at),
            )
        )
    return rows


def load_outbox_page(
    *,
    session: Session,
    status: str | None = None,
    customer: str = "",
    before_id: int | None = None,
    limit: int = PAGE,
    through_id: int | None = None,
) -> OutboxPage:
    """A page of the outbox, newest first, filtered by status and customer code.

    ``customer`` is a customer code as typed ("c-12", "C-000012"); an unknown code is refused
    (ValidationFailed on "customer"). ``through_id``: longer than ``limit`` if need be, in
    steps of a page, until it reaches that message (a refresh keeps the highlighted one)."""
    customer_id: int | None = None
    shown = ""
    if customer.strip():
        try:
            found = get_by_code(session=session, code=customer)
        except NotFound:
            raise ValidationFailed(
                "customer", f"no customer with code {customer.strip()}"
            ) from None
        customer_id = found.id
        shown = f"{found.code} {found.label}"
    messages = box.list_messages(
        session=session,
        status=status or None,
        customer_id=customer_id,
        limit=limit + 1,
        before_id=before_id,
    )
    while through_id is not None and len(messages) > limit:
        if (messages[limit - 1].id or 0) <= through_id:
            break
        limit += PAGE
        messages += box.list_messages(
            session=session,
            status=status or None,
            customer_id=customer_id,
            limit=limit + 1 - len(messages),
            before_id=messages[-1].id,
        )
    more = len(messages) > limit
    messages = messages[:limit]
    next_before = messages[-1].id if more and messages else None
    counts = box.status_counts(session=session) if before_id is None else {}
    return OutboxPage(_rows(session, messages), next_before, counts, shown)


@dataclass(frozen=True)
class MessageView:
    row: OutboxRow
    subject: str
    text: str


def load_message(*, session: Session, message_id: int) -> MessageView:
    """One message as it was (or will be) sent: subject and plain text."""
    message = box.get_message(session=session, message_id=message_id)
    [row] = _rows(session, [message])
    rendered = box.message_text(session=session, message=message)
    return MessageView(row, rendered.subject, rendered.text)


# --------------------------------------------------------------------------- timeline


def message_items(
    *, session: Session, customer_id: int, limit: int = 200
) -> list[tuple[datetime, str]]:
    """A customer's messages for their timeline (when, and the line: what, to where, and where
    it stands)."""
    messages = box.list_messages(session=session, customer_id=customer_id, limit=limit)
    items = []
    for row in _rows(session, messages):
        status = row.status
        if row.status == MessageStatus.FAILED.value and row.error:
            status = f"failed: {row.error[:80]}"
        what = row.purpose if row.purpose != Purpose.TRANSACTIONAL.value else "message"
        channel = CHANNEL_LABEL.get(row.channel, row.channel)
        subject = f" “{row.subject}”" if row.subject else ""
        at = row.sent_at or row.created_at
        items.append((at, f"{channel} {what}{subject} to {row.to} — {status}"))
    return items


# --------------------------------------------------------------------------- compose


@dataclass(frozen=True)
class ComposeInfo:
    """What the compose dialog needs: who, the templates, and why each channel is refused."""

    customer_id: int
    label: str
    code: str
    email: str
    phone: str
    templates: list[MessageTemplate]
    # channel -> reason a transactional message would be refused (None: it can be sent)
    refusals: dict[str, str | None]
    # channel -> reason a marketing message would be refused
    marketing_refusals: dict[str, str | None]
    ready: dict[str, bool]  # channel -> set up in settings (else it waits in the outbox)
    preferred: str | None


def load_compose_info(*, session: Session, customer_id: int) -> ComposeInfo:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    cfg = load_config(session=session)
    channels = [c.value for c in Channel]
    return ComposeInfo(
        customer_id=customer_id,
        label=customer.label,
        code=customer.code,
        email=customer.email or "",
        phone=customer.phone or "",
        templates=tpl.list_templates(session=session),
        refusals={
            c: consent_rules.refusal(customer, Purpose.TRANSACTIONAL.value, c) for c in channels
        },
        marketing_refusals={
            c: consent_rules.refusal(customer, Purpose.MARKETING.value, c) for c in channels
        },
        ready={c: cfg.ready(c) for c in channels},
        preferred=consent_rules.preferred_channel(customer),
    )


# --------------------------------------------------------------------------- consent


@dataclass(frozen=True)
class ConsentLine:
    at: datetime
    purpose: str
    granted: bool
    source: str
    by: str


@dataclass(frozen=True)
class ConsentInfo:
    customer_id: int
    label: str
    granted: dict[str, bool]  # purpose -> on/off
    history: list[ConsentLine]
    preferred_channel: str | None = None  # as chosen (None: automatic)
    email: str = ""
    phone: str = ""


def load_consent_info(*, session: Session, customer_id: int, limit: int = 50) -> ConsentInfo:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    granted = {
        p.value: bool(getattr(customer, consent_rules.CONSENT_FIELD[p.value]))
        for p in ConsentPurpose
    }
    changes = consent_rules.history(session=session, customer_id=customer_id)[:limit]
    staff_ids = {c.staff_id for c in changes if c.staff_id is not None}
    names: dict[int, str] = {}
    if staff_ids:
        names = {
            s.id: s.name
            for s in session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))
            if s.id is not None
        }
    lines = [
        ConsentLine(
            at=_aware(c.at) or c.at,
            purpose=c.purpose,
            granted=c.granted,
            source=c.source,
            by=names.get(c.staff_id or 0, "—"),
        )
        for c in changes
    ]
    return ConsentInfo(
        customer_id,
        customer.label,
        granted,
        lines,
        preferred_channel=customer.preferred_channel,
        email=customer.email or "",
        phone=customer.phone or "",
    )
