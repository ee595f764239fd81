"""The audit log's read model: admins only, newest first, filters, pages that never overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data import customers as svc
from frontdesk.data.audit_log import load_audit_page, parse_filter
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import AuditEvent, Staff
from frontdesk.data.roles import NotAllowed
from frontdesk.data.staff import create_staff


@pytest.fixture
def people(engine: Engine) -> dict[str, Staff]:
    with Session(engine, expire_on_commit=False) as s:
        alex = create_staff(session=s, name="Alex", role="admin", username="alex")
        rita = create_staff(session=s, name="Rita [desk]", role="reception", actor=alex)
        tara = create_staff(session=s, name="Tara", role="therapist", actor=alex)
        s.commit()
        return {"alex": alex, "rita": rita, "tara": tara}


def add(s: Session, first: str, actor: Staff) -> int:
    c = svc.create_customer(
        session=s,
        data=svc.CustomerCreate(first_name=first, email=f"{first.lower()}@example.com"),
        actor=actor,
    )
    s.flush()
    return c.id or 0


def test_only_admins_read_the_log(engine: Engine, people: dict[str, Staff]) -> None:
    with Session(engine) as s:
        # Only the staff Alex added so far, as a person reads it.
        assert [r.what for r in load_audit_page(session=s, viewer=people["alex"]).rows] == [
            "Staff member added by Alex: Tara (role therapist)",
            "Staff member added by Alex: Rita [desk] (role reception)",
        ]
        for who in ("rita", "tara"):
            with pytest.raises(NotAllowed, match="may not see the audit log"):
                load_audit_page(session=s, viewer=people[who])
        with pytest.raises(NotAllowed):
            load_audit_page(session=s, viewer=None)


def test_newest_first_filtered_and_paged(engine: Engine, people: dict[str, Staff]) -> None:
    alex, rita = people["alex"], people["rita"]
    with Session(engine) as s:
        ana = add(s, "Ana", rita)
        ben = add(s, "Ben", alex)
        for i in range(30):
            customer = svc.get_customer(session=s, customer_id=ana)
            svc.update_customer(
                session=s,
                customer_id=ana,
                data=svc.CustomerUpdate(display_name=f"Ana {i}"),
                expected_version=customer.version,
                actor=rita,
            )
        s.commit()
        # Pages of 7 cover every event once, newest first.
        seen: list[int] = []
        before = None
        while True:
            page = load_audit_page(session=s, viewer=alex, before=before, limit=7)
            seen += [r.id for r in page.rows]
            if page.next_before is None:
                break
            before = page.next_before
        every = [e.id for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()))]
        assert seen == every and len(seen) == 34  # and the two staff members Alex added
        # By customer (code), by staff member, by action.
        ben_code = svc.get_customer(session=s, customer_id=ben).code
        only_ben = parse_filter(session=s, customer=ben_code.lower())
        rows = load_audit_page(session=s, viewer=alex, where=only_ben).rows
        assert [r.customer_code for r in rows] == [ben_code]
        by_rita = load_audit_page(
            session=s, viewer=alex, where=parse_filter(session=s, actor_id=rita.id)
        ).rows
        assert len(by_rita) == 31 and {r.who for r in by_rita} == {"Rita [desk]"}
        creates = load_audit_page(
            session=s, viewer=alex, where=parse_filter(session=s, action="create")
        ).rows
        assert len(creates) == 4  # two customers, two staff members
        # What changed reads as a person says it.
        assert "Display name" in by_rita[0].what and "Ana 29" in by_rita[0].what


def test_dates_filter_whole_days(engine: Engine, people: dict[str, Staff]) -> None:
    alex = people["alex"]
    with Session(engine) as s:
        cid = add(s, "Cleo", alex)
        old = audit.record(
            session=s, actor=alex, entity="customer", entity_id=cid, action="block", customer_id=cid
        )
        old.at = datetime(2026, 1, 15, 23, 59, tzinfo=UTC)
        s.commit()
        today = datetime.now(UTC).date()
        jan = parse_filter(session=s, since="2026-01-15", until="2026-01-15")
        assert [r.action for r in load_audit_page(session=s, viewer=alex, where=jan).rows] == [
            "block"
        ]
        recent = parse_filter(session=s, since=(today - timedelta(days=1)).isoformat())
        assert [r.entity for r in load_audit_page(session=s, viewer=alex, where=recent).rows] == [
            "customer",  # Cleo
            "staff",  # Tara and Rita, added today too
            "staff",
        ]
        assert parse_filter(session=s, since=" ").since is None
        # The calendar's last and first days are days like others (the last one crashed).
        edges = parse_filter(session=s, since="0001-01-01", until="9999-12-31")
        assert len(load_audit_page(session=s, viewer=alex, where=edges).rows) == 4


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"since": "15/01/2026"}, "from", "is not a date"),
        ({"until": "tomorrow"}, "to", "is not a date"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "to", "before the first day"),
        ({"customer": "C-999999"}, "customer", "no customer has the code"),
        ({"customer": "C-\x1b[31m"}, "customer", "control"),
    ],
)
def test_bad_filters_name_their_field(
    engine: Engine, kwargs: dict[str, str], field: str, message: str
) -> None:
    with Session(engine) as s, pytest.raises(ValidationFailed) as caught:
        parse_filter(session=s, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field and message in caught.value.message
