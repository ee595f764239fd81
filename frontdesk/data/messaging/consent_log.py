"""The history of consent changes, kept by the customer services as they change a consent.

The low level of :mod:`frontdesk.data.messaging.consent`: the customer, merge and import
services call :func:`record_changes` (inside :func:`consent_source` to say where a change came
from); this module imports none of them back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlmodel import Session

from frontdesk.data.models import ConsentChange, ConsentPurpose, ConsentSource, Staff, utcnow

# Customer field of each consent purpose.
CONSENT_FIELD: dict[str, str] = {
    ConsentPurpose.REMINDERS.value: "consent_reminders",
    ConsentPurpose.BIRTHDAY.value: "consent_birthday",
    ConsentPurpose.MARKETING.value: "consent_marketing",
    ConsentPurpose.NEWSLETTER.value: "consent_newsletter",
}
FIELD_PURPOSE = {v: k for k, v in CONSENT_FIELD.items()}

_source: ContextVar[str] = ContextVar("consent_source", default=ConsentSource.DESK.value)


@contextmanager
def consent_source(source: str | ConsentSource) -> Iterator[None]:
    """Consent changes made inside this block are recorded with ``source`` (import ...)."""
    token = _source.set(ConsentSource(source).value)
    try:
        yield
    finally:
        _source.reset(token)


def record_changes(
    *,
    session: Session,
    customer_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    actor: Staff | None,
    source: str | None = None,
) -> list[ConsentChange]:
    """One consent_change line per consent field in ``changes`` (field: (before, after))."""
    rows = []
    for field, (before, after) in changes.items():
        purpose = FIELD_PURPOSE.get(field)
        if purpose is None or bool(before) == bool(after):
            continue
        row = ConsentChange(
            customer_id=customer_id,
            purpose=purpose,
            granted=bool(after),
            at=utcnow(),
            staff_id=actor.id if actor else None,
            source=source or _source.get(),
        )
        session.add(row)
        rows.append(row)
    return rows
