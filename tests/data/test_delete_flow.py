"""Delete cancels future bookings (slot freed), undo re-opens them where the slot is free,
and only the roles that may delete can (issue 11)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.cli import main
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import delete_flow as flow
from frontdesk.data import directory
from frontdesk.data.db import open_database
from frontdesk.data.models import (
    AuditEvent,
    Booking,
    Branch,
    Customer,
    Order,
    Service,
    ServiceType,
    Staff,
)
from frontdesk.data.roles import BULK_DELETE_LIMIT, NotAllowed
from tests.actors import ADMIN

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(any_session: Session) -> dict[str, int]:
    s = any_session
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    s.add_all([branch, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500)
    nina = Staff(name="Nina", role="therapist", branch_id=branch.id)
    rita = Staff(name="Rita", role="reception", branch_id=branch.id)
    ada = Staff(name="Ada", role="admin", branch_id=branch.id)
    s.add_all([cut, nina, rita, ada])
    s.flush()
    maria = svc.create_customer(
        actor=ADMIN,
        session=s,
        data=svc.CustomerCreate(first_name="Maria", last_name="Lopez", email="maria@example.com"),
    )
    bob = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Bob", email="bob@example.com")
    )
    ids = {
        "branch": branch.id or 0,
        "cut": cut.id or 0,
        "nina": nina.id or 0,
        "rita": rita.id or 0,
        "ada": ada.id or 0,
        "maria": maria.id or 0,
        "bob": bob.id or 0,
    }
    s.commit()
    return ids


def staff(s: Session, shop: dict[str, int], who: str) -> Staff:
    found = s.get(Staff, shop[who])
    assert found is not None
    return found


def book(
    s: Session, shop: dict[str, int], who: int, start: datetime, status: str = "confirmed"
) -> int:
    b = bk.create_booking(
        session=s,
        customer_id=who,
        service_id=shop["cut"],
        branch_id=shop["branch"],
        staff_id=shop["nina"],
        start_at=start,
        status=status,
        actor=s.get(Staff, shop["rita"]),
    )
    s.commit()
    return b.id or 0


def status_of(s: Session, booking_id: int) -> tuple[str, str | None]:
    s.expire_all()
    b = s.get(Booking, booking_id)
    assert b is not None
    return b.status, b.cancellation_reason


def test_preview_counts_future_bookings_and_open_orders(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    maria = shop["maria"]
    book(s, shop, maria, SOON)
    book(s, shop, maria, SOON + timedelta(days=1), status="pending")
    past = book(s, shop, maria, NOW - timedelta(days=3))
    bk.change_status(session=s, booking_id=past, action="complete", actor=staff(s, shop, "rita"))
    s.add(Order(customer_id=maria, branch_id=shop["branch"], total_cents=4500))
    s.add(Order(customer_id=maria, branch_id=shop["branch"], status="paid"))
    s.commit()
    preview = flow.delete_preview(session=s, customer_ids=[maria], now=NOW)
    assert (preview.future_bookings, preview.open_orders) == (2, 1)
    assert preview.label == "Maria Lopez"
    assert preview.question == (
        "Delete Maria Lopez? 2 future bookings will be cancelled; 1 open order stays open."
    )
    nothing = flow.delete_preview(session=s, customer_ids=[shop["bob"]], now=NOW)
    assert nothing.question == "Delete Bob? No future bookings or open orders."
    both = flow.delete_preview(session=s, customer_ids=[maria, shop["bob"]], now=NOW)
    assert both.label == "2 customers" and both.future_bookings == 2


def test_delete_cancels_future_bookings_and_frees_the_slot(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    maria, bob = shop["maria"], shop["bob"]
    future = book(s, shop, maria, SOON)
    past = book(s, shop, maria, NOW - timedelta(days=3))
    rita = staff(s, shop, "rita")
    out = flow.delete_customers(session=s, customer_ids=[maria], actor=rita, now=NOW)
    s.commit()
    assert out.changed_ids == [maria] and out.cancelled == [future]
    assert status_of(s, future) == ("cancelled", "customer deleted")
    assert status_of(s, past)[0] == "confirmed"  # the past is left as it was
    c = s.get(Customer, maria)
    assert c is not None and c.deleted_at is not None
    # The slot is free: Bob can be booked with Nina at the same time.
    book(s, shop, bob, SOON)
    # What was cancelled is in the audit log, for the undo.
    receipt = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == flow.RECEIPT)).one()
    assert receipt.customer_id == maria
    assert receipt.changes == {"bookings": [None, [[future, "confirmed"]]]}


def test_undo_reopens_bookings_and_reports_a_slot_taken(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    maria, bob = shop["maria"], shop["bob"]
    first = book(s, shop, maria, SOON)
    second = book(s, shop, maria, SOON + timedelta(days=1), status="pending")
    rita = staff(s, shop, "rita")
    flow.delete_customers(session=s, customer_ids=[maria], actor=rita, now=NOW)
    s.commit()
    taken = book(s, shop, bob, SOON + timedelta(minutes=30))  # overlaps the first
    out = flow.restore_customers(session=s, customer_ids=[maria], actor=rita, now=NOW)
    s.commit()
    assert out.changed_ids == [maria]
    assert out.reopened == [second]
    assert status_of(s, second) == ("pending", None)  # back to what it was
    assert status_of(s, first) == ("cancelled", "customer deleted")
    [missed] = out.not_restored
    assert missed.booking_id == first and missed.why == "slot taken"
    assert missed.taken_by is not None and missed.taken_by.booking_id == taken
    line = missed.describe()
    assert f"Booking #{first}" in line and "slot taken by" in line and "Bob" in line
    assert out.summary == (
        "Restored 1 customer; 1 booking re-opened; 1 booking could not be re-opened"
    )
    c = s.get(Customer, maria)
    assert c is not None and c.deleted_at is None
    # A second delete + undo does not re-use the first receipt.
    flow.delete_customers(session=s, customer_ids=[maria], actor=rita, now=NOW)
    s.commit()
    again = flow.restore_customers(session=s, customer_ids=[maria], actor=rita, now=NOW)
    s.commit()
    assert again.reopened == [second] and again.not_restored == []


def test_undo_after_the_time_passed_says_so(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    maria = shop["maria"]
    first = book(s, shop, maria, SOON)
    ada = staff(s, shop, "ada")
    flow.delete_customers(session=s, customer_ids=[maria], actor=ada, now=NOW)
    s.commit()
    out = flow.restore_customers(
        session=s, customer_ids=[maria], actor=ada, now=SOON + timedelta(hours=2)
    )
    s.commit()
    assert [n.why for n in out.not_restored] == ["its time has passed"]
    assert status_of(s, first)[0] == "cancelled"


def test_roles(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    maria = shop["maria"]
    nina, rita, ada = (staff(s, shop, w) for w in ("nina", "rita", "ada"))
    with pytest.raises(NotAllowed):
        flow.delete_customers(session=s, customer_ids=[maria], actor=nina)
    with pytest.raises(NotAllowed):
        flow.delete_customers(session=s, customer_ids=[maria], actor=None)
    with pytest.raises(NotAllowed):
        flow.delete_customers(session=s, customer_ids=[maria], actor=nina, bulk=True)
    with pytest.raises(NotAllowed):
        flow.restore_customers(session=s, customer_ids=[maria], actor=nina)
    s.rollback()
    many = [
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name=f"P{i}", email=f"p{i}@example.com"),
        ).id
        or 0
        for i in range(BULK_DELETE_LIMIT + 1)
    ]
    s.commit()
    with pytest.raises(NotAllowed, match="more than 20"):
        flow.delete_customers(session=s, customer_ids=many, actor=rita, bulk=True)
    s.rollback()
    assert s.exec(select(Customer).where(col(Customer.deleted_at).is_not(None))).all() == []
    # Reception may bulk-delete up to the limit; an admin any number.
    out = flow.delete_customers(
        session=s, customer_ids=many[:BULK_DELETE_LIMIT], actor=rita, bulk=True
    )
    assert len(out.changed_ids) == BULK_DELETE_LIMIT
    out = flow.delete_customers(session=s, customer_ids=many, actor=ada, bulk=True)
    assert out.changed_ids == [many[-1]]  # the others were deleted already
    s.commit()


def test_bulk_through_the_directory_service(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        branch = Branch(name="Main")
        stype = ServiceType(name="Hair")
        s.add_all([branch, stype])
        s.flush()
        cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60)
        nina = Staff(name="Nina", role="therapist")
        ada = Staff(name="Ada", role="admin")
        s.add_all([cut, nina, ada])
        s.flush()
        people = [
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(first_name=f"P{i}", email=f"p{i}@example.com"),
            ).id
            or 0
            for i in range(3)
        ]
        booking = bk.create_booking(
            session=s,
            customer_id=people[0],
            service_id=cut.id or 0,
            branch_id=branch.id or 0,
            staff_id=nina.id,
            start_at=datetime.now(UTC) + timedelta(days=2),
            actor=ada,
        )
        s.commit()
        booking_id = booking.id or 0
        s.refresh(nina)
        s.refresh(ada)
        s.expunge_all()
    with pytest.raises(NotAllowed):
        directory.apply_bulk(
            engine=any_engine,
            request=directory.BulkRequest(action="delete"),
            customer_ids=people,
            actor=nina,
        )
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="delete"),
        customer_ids=people,
        actor=ada,
    )
    assert sorted(out.changed_ids) == people
    assert "1 future booking cancelled" in out.summary
    out = directory.apply_bulk(
        engine=any_engine,
        request=directory.BulkRequest(action="restore"),
        customer_ids=people,
        actor=ada,
    )
    assert sorted(out.changed_ids) == people
    with Session(any_engine) as s:
        assert status_of(s, booking_id) == ("confirmed", None)


def test_find_deleted_by_code(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    maria = s.get(Customer, shop["maria"])
    assert maria is not None
    flow.delete_customers(
        session=s, customer_ids=[shop["maria"]], actor=staff(s, shop, "rita"), now=NOW
    )
    s.commit()
    assert [c.id for c in flow.find_deleted(session=s, text=maria.code)] == [shop["maria"]]
    assert [c.id for c in flow.find_deleted(session=s, text="MARIA@example.com")] == [shop["maria"]]
    assert flow.find_deleted(session=s, text="Maria") == []


# --------------------------------------------------------------------------- CLI


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_cli_delete_show_find_restore(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    engine = open_database(db)
    with Session(engine) as s:
        branch = Branch(name="Main")
        stype = ServiceType(name="Hair")
        s.add_all([branch, stype])
        s.flush()
        cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60)
        nina = Staff(name="Nina", role="therapist", username="nina")
        rita = Staff(name="Rita", role="reception", username="rita")
        s.add_all([cut, nina, rita])
        s.flush()
        maria = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(
                first_name="Maria", last_name="[b]Lopez[/b]", email="maria@example.com"
            ),
            actor=rita,
        )
        bk.create_booking(
            session=s,
            customer_id=maria.id or 0,
            service_id=cut.id or 0,
            branch_id=branch.id or 0,
            staff_id=nina.id,
            start_at=datetime.now(UTC) + timedelta(days=3),
            actor=rita,
        )
        code = maria.code
        s.commit()
    engine.dispose()

    _, out, _ = cli("--staff", "rita", "customers", "show", "--db", db, code, "--json")
    assert json.loads(out)["deleted"] is False and json.loads(out)["deleted_at"] is None
    status, _, err = cli("--staff", "nina", "customers", "delete", "--db", db, code, "--yes")
    assert status == 1 and "may not delete customers" in err
    status, out, _ = cli("customers", "delete", "--db", db, code, "--staff", "rita", "--yes")
    assert status == 0
    assert "Delete Maria [b]Lopez[/b]? 1 future booking will be cancelled." in out
    assert (
        f"Deleted 1 customer; 1 future booking cancelled. Undo: frontdesk customers restore {code}"
        in out
    )

    status, out, _ = cli("--staff", "rita", "customers", "show", "--db", db, code, "--json")
    shown = json.loads(out)
    assert status == 0 and shown["deleted"] is True and shown["deleted_at"]
    status, out, _ = cli("--staff", "rita", "customers", "show", "--db", db, code)
    assert status == 0 and out.startswith("DELETED on ")
    status, out, _ = cli("--staff", "rita", "customers", "find", "--db", db, code, "--json")
    [found] = json.loads(out)
    assert found["code"] == code and found["deleted"] is True
    status, out, _ = cli("--staff", "rita", "customers", "find", "--db", db, "maria@example.com")
    assert status == 0 and "DELETED" in out and f"{code} is DELETED" in out
    # Search by name leaves deleted customers out (as the directory does).
    assert (
        cli("--staff", "rita", "customers", "find", "--db", db, "Maria", "--json")[1].strip()
        == "[]"
    )

    status, out, _ = cli("customers", "restore", "--db", db, code, "--staff", "rita")
    assert status == 0 and "Restored 1 customer; 1 booking re-opened" in out
    assert (
        json.loads(cli("--staff", "rita", "customers", "show", "--db", db, code, "--json")[1])[
            "deleted"
        ]
        is False
    )


def test_two_terminals_delete_the_same_customer_at_once(
    any_engine: Engine, any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    maria = shop["maria"]
    future = book(s, shop, maria, SOON)
    s.close()
    barrier = threading.Barrier(2)
    results: list[object] = []

    rita = Staff(id=shop["rita"], name="Rita", role="reception")  # not attached to a session

    def terminal() -> None:
        barrier.wait(10)  # before either opens a transaction (SQLite: the write lock)
        with Session(any_engine) as mine:
            try:
                out = flow.delete_customers(session=mine, customer_ids=[maria], actor=rita, now=NOW)
                mine.commit()
                results.append(out.changed_ids)
            except Exception as exc:  # pragma: no cover - the failure is the assertion
                results.append(exc)

    threads = [threading.Thread(target=terminal) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(str, results)) == sorted(["[]", f"[{maria}]"])
    with Session(any_engine) as check:
        assert status_of(check, future) == ("cancelled", "customer deleted")
        receipts = check.exec(
            select(AuditEvent).where(col(AuditEvent.entity) == flow.RECEIPT)
        ).all()
        assert len(receipts) == 1
