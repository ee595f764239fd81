"""Who may receive what: the consent rules, and the history of every consent change.

The customer row keeps the current consent (``consent_reminders``, ``consent_birthday``,
``consent_marketing``, ``consent_newsletter``); ``consent_change`` keeps its history (when,
who, from where). :func:`record_changes` is called by the customer services whenever a
consent field changes, so every way of changing one (desk form, bulk, import, merge, erase,
unsubscribe request) leaves a line.

The rules (:func:`refusal`), checked when a message is queued and again just before it is
sent:

- a blocked, deleted, merged or erased customer receives nothing, whatever the purpose;
- reminders need ``consent_reminders``; birthday and anniversary messages ``consent_birthday``;
  marketing ``consent_marketing``; newsletters ``consent_newsletter``;
- a *transactional* message (a one-off email or SMS written at the desk to this customer,
  e.g. "your voucher is ready") needs no marketing consent, but is never sent to a blocked
  customer either; it must not be used for promotions (that is ``marketing``);
- a channel needs its address: email an email address, SMS/WhatsApp a mobile phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data.messaging.consent_log import (
    CONSENT_FIELD,
    FIELD_PURPOSE,
    consent_source,
)
from frontdesk.data.models import (
    Channel,
    ConsentChange,
    ConsentSource,
    Customer,
    Purpose,
    Staff,
    utcnow,
)

# The consent a message purpose needs (None: none needed).
NEEDS: dict[str, str | None] = {
    Purpose.TRANSACTIONAL.value: None,
    Purpose.REMINDER.value: "consent_reminders",
    Purpose.BIRTHDAY.value: "consent_birthday",
    Purpose.ANNIVERSARY.value: "consent_birthday",
    Purpose.MARKETING.value: "consent_marketing",
    Purpose.NEWSLETTER.value: "consent_newsletter",
}


class Recipient(Protocol):
    """What the rules read of a customer: a :class:`Customer`, or the few columns the sender
    loads for a batch (:class:`RecipientRow`)."""

    @property
    def blocked(self) -> bool: ...
    @property
    def deleted_at(self) -> datetime | None: ...
    @property
    def merged_into_id(self) -> int | None: ...
    @property
    def erased_at(self) -> datetime | None: ...
    @property
    def consent_reminders(self) -> bool: ...
    @property
    def consent_birthday(self) -> bool: ...
    @property
    def consent_marketing(self) -> bool: ...
    @property
    def consent_newsletter(self) -> bool: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...


# The columns of a customer a message needs (the rules, the address, the placeholders).
RECIPIENT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "phone",
    "blocked",
    "deleted_at",
    "merged_into_id",
    "erased_at",
    "consent_reminders",
    "consent_birthday",
    "consent_marketing",
    "consent_newsletter",
    "home_branch_id",
)


@dataclass(slots=True, frozen=True)
class RecipientRow:
    """Those columns of one customer, read for a batch of messages without building the
    whole :class:`Customer` (a newsletter reads 100,000)."""

    id: int
    first_name: str
    last_name: str | None
    display_name: str | None
    email: str | None
    phone: str | None
    blocked: bool
    deleted_at: datetime | None
    merged_into_id: int | None
    erased_at: datetime | None
    consent_reminders: bool
    consent_birthday: bool
    consent_marketing: bool
    consent_newsletter: bool
    home_branch_id: int | None

    @property
    def label(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self.display_name or full


_RECIPIENTS: Any = None


def recipients(*, session: Session, ids: Iterable[int]) -> dict[int, RecipientRow]:
    """:class:`RecipientRow` of the customers ``ids``, by id, in one query (the statement
    built once)."""
    global _RECIPIENTS
    if _RECIPIENTS is None:
        table = Customer.__table__  # type: ignore[attr-defined]
        _RECIPIENTS = sa_select(*(table.c[name] for name in RECIPIENT_COLUMNS)).where(
            table.c.id.in_(bindparam("ids", expanding=True))
        )
    rows = session.execute(_RECIPIENTS, {"ids": list(ids)}).all()
    return {row[0]: RecipientRow(*row) for row in rows}


def address_for(customer: Recipient, channel: str) -> str | None:
    if channel == Channel.EMAIL.value:
        return customer.email or None
    return customer.phone or None


def refusal(customer: Recipient, purpose: str, channel: str) -> str | None:
    """Why ``customer`` may not receive a ``purpose`` message on ``channel``, or None."""
    if customer.blocked:
        return "the customer is blocked (receives nothing)"
    if customer.deleted_at is not None or customer.merged_into_id is not None:
        return "the customer is deleted or merged"
    if customer.erased_at is not None:
        return "the customer's personal data was erased"
    needed = NEEDS.get(purpose, "consent_marketing")
    if needed is not None and not getattr(customer, needed):
        return f"no consent for {FIELD_PURPOSE[needed].replace('_', ' ')}"
    if address_for(customer, channel) is None:
        return "no email address" if channel == Channel.EMAIL.value else "no mobile phone"
    return None


def preferred_channel(customer: Customer, ready: Mapping[str, bool] | None = None) -> str | None:
    """The channel to reach ``customer`` on: their preferred one when it has an address (and,
    given ``ready``, is configured), else email, else SMS; None when there is none."""
    order = [customer.preferred_channel] if customer.preferred_channel else []
    order += [Channel.EMAIL.value, Channel.SMS.value]
    for channel in order:
        if channel is None or address_for(customer, channel) is None:
            continue
        if ready is not None and not ready.get(channel, False):
            continue
        return channel
    return None


def history(*, session: Session, customer_id: int) -> list[ConsentChange]:
    """A customer's consent changes, newest first."""
    return list(
        session.exec(
            select(ConsentChange)
            .where(col(ConsentChange.customer_id) == customer_id)
            .order_by(col(ConsentChange.at).desc(), col(ConsentChange.id).desc())
        )
    )


# --------------------------------------------------------------------------- changing consent


def set_consent(
    *,
    session: Session,
    customer_id: int,
    purpose: str,
    granted: bool,
    actor: Staff | None,
    source: str | ConsentSource = ConsentSource.DESK,
) -> Customer:
    """Switch one consent of a customer ("consent.write"); audited and recorded with
    ``source``. The caller commits."""
    from frontdesk.data import customers as svc
    from frontdesk.data.errors import NotFound, ValidationFailed
    from frontdesk.data.roles import require

    require(actor, "consent.write")
    field = CONSENT_FIELD.get(purpose)
    if field is None:
        raise ValidationFailed("purpose", "must be reminders, birthday, marketing or newsletter")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    if bool(getattr(customer, field)) == granted:
        return customer
    with consent_source(source):
        return svc.update_customer(
            session=session,
            customer_id=customer_id,
            data=svc.CustomerUpdate.model_validate({field: granted}),
            expected_version=customer.version,
            actor=actor,
        )


def set_consent_bulk(
    *,
    engine: Any,
    customer_ids: list[int],
    purpose: str,
    granted: bool,
    actor: Staff | None,
    batch: int = 500,
) -> int:
    """Subscribe or unsubscribe many customers (a transaction per batch); returns how many
    changed. Deleted or merged customers are left alone."""
    from frontdesk.data.errors import FrontdeskError
    from frontdesk.data.retry import write_transaction
    from frontdesk.data.roles import require

    require(actor, "consent.write")
    changed = 0
    for start in range(0, len(customer_ids), batch):
        chunk = customer_ids[start : start + batch]

        def work(session: Session, chunk: list[int] = chunk) -> int:
            n = 0
            for cid in chunk:
                customer = session.get(Customer, cid)
                if customer is None or not customer.is_live:
                    continue
                before = getattr(customer, CONSENT_FIELD[purpose])
                try:
                    with session.begin_nested():
                        set_consent(
                            session=session,
                            customer_id=cid,
                            purpose=purpose,
                            granted=granted,
                            actor=actor,
                        )
                except FrontdeskError:
                    continue
                n += int(bool(before) != granted)
            return n

        changed += write_transaction(engine, work)
    return changed


def unsubscribe(*, session: Session, email: str, actor: Staff | None = None) -> list[Customer]:
    """Process an unsubscribe request for ``email`` (e.g. from the List-Unsubscribe mailbox):
    every live customer with that address (primary or secondary) loses newsletter and
    marketing consent, recorded with source "unsubscribe". Withdrawing consent needs no role
    (a request from the customer is always honoured). Returns the customers changed."""
    from frontdesk.data import customers as svc
    from frontdesk.data.models import ContactKind, ContactPoint
    from frontdesk.data.validation import normalise_email

    parsed = normalise_email(email, field="email")
    if parsed is None:
        from frontdesk.data.errors import ValidationFailed

        raise ValidationFailed("email", "must not be empty")
    key = parsed.key
    ids = set(
        session.exec(select(Customer.id).where(col(Customer.email_key) == key, svc.live())).all()
    )
    ids |= set(
        session.exec(
            select(ContactPoint.customer_id).where(
                col(ContactPoint.kind) == ContactKind.EMAIL.value,
                col(ContactPoint.value) == key,
            )
        ).all()
    )
    changed = []
    for cid in sorted(i for i in ids if i is not None):
        customer = session.get(Customer, cid)
        if customer is None or not customer.is_live:
            continue
        values = {
            f: False for f in ("consent_newsletter", "consent_marketing") if getattr(customer, f)
        }
        if not values:
            continue
        with consent_source(ConsentSource.UNSUBSCRIBE):
            changed.append(
                svc.update_customer(
                    session=session,
                    customer_id=cid,
                    data=svc.CustomerUpdate.model_validate(values),
                    expected_version=customer.version,
                    actor=actor,
                )
            )
    return changed


def set_preferred_channel(
    *, session: Session, customer_id: int, channel: str | None, actor: Staff | None
) -> Customer:
    """Set how a customer prefers to be reached (email, sms, whatsapp; None: automatic).

    A channel the customer has no address for is refused (email needs an email address,
    SMS/WhatsApp a phone): it could never be used."""
    from frontdesk.data import audit
    from frontdesk.data.errors import NotFound, ValidationFailed
    from frontdesk.data.roles import require

    require(actor, "customers.write")
    if channel is not None and channel not in {c.value for c in Channel}:
        raise ValidationFailed("preferred_channel", "must be email, sms or whatsapp")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    if channel is not None and address_for(customer, channel) is None:
        needed = "an email address" if channel == Channel.EMAIL.value else "a phone number"
        name = {"email": "Email", "sms": "SMS", "whatsapp": "WhatsApp"}[channel]
        raise ValidationFailed("preferred_channel", f"{name} needs {needed}: the customer has none")
    before = customer.preferred_channel
    if before == channel:
        return customer
    customer.preferred_channel = channel
    customer.version += 1
    customer.updated_at = utcnow()
    session.add(customer)
    assert customer.id is not None
    audit.record(
        session=session,
        actor=actor,
        entity="customer",
        entity_id=customer.id,
        action="update",
        customer_id=customer.id,
        changes={"preferred_channel": (before, channel)},
    )
    session.flush()
    return customer
