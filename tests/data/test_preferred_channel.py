"""The preferred channel (issue 15): set from the desk, refused without its address or role,
recorded in the audit log, and used by automatic messages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.message_views import load_consent_info
from frontdesk.data.messaging import consent
from frontdesk.data.models import AuditEvent, Customer
from frontdesk.data.roles import NotAllowed
from tests.actors import ADMIN, DESK, THERAPIST


def add(engine: Engine, first: str, **values: Any) -> int:
    with Session(engine) as s:
        c = svc.create_customer(
            session=s, actor=ADMIN, data=svc.CustomerCreate(first_name=first, **values)
        )
        s.commit()
        return c.id or 0


def choose(engine: Engine, customer_id: int, channel: str | None, actor: Any = DESK) -> None:
    with Session(engine) as s:
        consent.set_preferred_channel(
            session=s, customer_id=customer_id, channel=channel, actor=actor
        )
        s.commit()


def stored(engine: Engine, customer_id: int) -> Customer:
    with Session(engine) as s:
        found = s.get(Customer, customer_id)
        assert found is not None
        return found


def test_set_shown_used_and_audited(engine: Engine) -> None:
    pat = add(engine, "Pat", phone="+31612345678", email="pat@example.com")
    choose(engine, pat, "whatsapp")
    assert stored(engine, pat).preferred_channel == "whatsapp"
    assert consent.preferred_channel(stored(engine, pat)) == "whatsapp"
    with Session(engine) as s:
        info = load_consent_info(session=s, customer_id=pat)
        assert info.preferred_channel == "whatsapp" and info.phone == "+31612345678"
        [entry] = s.exec(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "customer",
                col(AuditEvent.entity_id) == pat,
                col(AuditEvent.action) == "update",
            )
        ).all()
        assert entry.changes and "preferred_channel" in entry.changes
    choose(engine, pat, None)  # back to automatic: email when there is one
    assert stored(engine, pat).preferred_channel is None
    assert consent.preferred_channel(stored(engine, pat)) == "email"


@pytest.mark.parametrize(
    ("values", "channel", "words"),
    [
        ({"email": "only@example.com"}, "sms", "SMS needs a phone number"),
        ({"email": "only@example.com"}, "whatsapp", "WhatsApp needs a phone number"),
        ({"phone": "+31612345678"}, "email", "Email needs an email address"),
        ({"email": "x@example.com"}, "fax", "must be email, sms or whatsapp"),
    ],
)
def test_a_channel_without_its_address_is_refused(
    engine: Engine, values: dict[str, str], channel: str, words: str
) -> None:
    who = add(engine, "Sam", **values)
    with pytest.raises(ValidationFailed) as refused:
        choose(engine, who, channel)
    assert refused.value.field == "preferred_channel"
    assert words in refused.value.message
    assert stored(engine, who).preferred_channel is None


def test_only_the_desk_sets_it(engine: Engine) -> None:
    who = add(engine, "Tess", phone="+31612345678")
    with pytest.raises(NotAllowed):
        choose(engine, who, "sms", actor=THERAPIST)
    assert stored(engine, who).preferred_channel is None
