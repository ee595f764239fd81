from __future__ import annotations

import phonenumbers
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from frontdesk.data.check import run_checks
from frontdesk.data.demo import generate
from frontdesk.data.models import Booking, Customer
from frontdesk.data.validation import normalise_email


def test_demo_data_is_valid_and_consistent(any_engine: Engine) -> None:
    summary = generate(engine=any_engine, customers=600, seed=3, batch_size=250)
    assert summary.customers == 600
    assert summary.bookings > 600 and summary.orders > 0 and summary.refunds >= 0
    assert summary.enrolments > 0 and summary.notes > 0
    with Session(any_engine) as s:
        people = s.exec(select(Customer)).all()
        assert len(people) == 600
        countries = {c.phone_country for c in people if c.phone}
        assert len(countries) >= 5
        for c in people:
            assert c.phone or c.email
            if c.phone:
                assert phonenumbers.is_valid_number(phonenumbers.parse(c.phone, None)), c.phone
            if c.email:
                email = normalise_email(c.email)
                assert email is not None and email.key == c.email_key
        statuses = {b.status for b in s.exec(select(Booking)).all()}
        assert statuses == {"pending", "confirmed", "completed", "cancelled", "no_show"}
    with any_engine.connect() as conn:
        overlaps = conn.execute(
            text(
                "SELECT COUNT(*) FROM booking a JOIN booking b ON a.staff_id = b.staff_id "
                "AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at"
            )
        ).scalar_one()
        same_customer = conn.execute(
            text(
                "SELECT COUNT(*) FROM booking a JOIN booking b ON a.customer_id = b.customer_id "
                "AND a.id < b.id AND a.start_at < b.end_at AND b.start_at < a.end_at"
            )
        ).scalar_one()
    assert overlaps == 0
    assert same_customer == 0
    report = run_checks(any_engine)
    assert report.ok, report.failed


def test_demo_is_repeatable_and_adds_more(engine: Engine) -> None:
    generate(engine=engine, customers=100, seed=5)
    generate(engine=engine, customers=100, seed=6)
    with Session(engine) as s:
        assert len(s.exec(select(Customer)).all()) == 200
    assert run_checks(engine).ok


def test_check_reports_a_broken_ledger(engine: Engine) -> None:
    generate(engine=engine, customers=200, seed=2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE loyalty_enrolment SET balance = balance + 7 WHERE id = 1"))
    report = run_checks(engine)
    assert not report.ok
    assert any("ledger" in line for line in report.failed)


def test_larger_demos_plant_duplicates_the_finder_finds(engine: Engine) -> None:
    from frontdesk.data.merge import find_duplicates

    summary = generate(engine=engine, customers=1500, seed=5)
    assert summary.duplicates == 3  # one customer in 500 entered twice
    with Session(engine) as s:
        planted = {c.code for c in s.exec(select(Customer).where(Customer.id > 1500))}
        found = {code for g in find_duplicates(session=s) for code in g.codes}
    assert len(planted) == 3 and planted <= found
    assert run_checks(engine).ok


def test_the_demo_has_a_day_of_work_today(engine: Engine) -> None:
    from datetime import UTC, datetime

    from frontdesk.data.day_sheet import load_day_sheet

    now = datetime(2026, 11, 26, 11, 20, tzinfo=UTC)
    generate(engine=engine, customers=300, seed=5, now=now, today_sheet=True)
    with Session(engine) as s:
        sheets = [
            load_day_sheet(session=s, viewer=None, day=now.date(), now=now, branch_id=b, tz=UTC)
            for b in s.execute(text("SELECT id FROM branch")).scalars()
        ]
    assert run_checks(engine).ok
    rows = [r for sheet in sheets for r in sheet.rows]
    assert len(rows) >= 10
    statuses = {r.status for r in rows if r.end_at <= now}
    assert statuses <= {"completed", "no_show"} and "completed" in statuses
    assert sum(r.late for r in rows) == 1  # one customer is late
    assert any(r.arrived_at is not None and r.start_at <= now < r.end_at for r in rows)
    assert any(r.start_at > now and r.status in ("pending", "confirmed") for r in rows)
    # Without it (tests, scripts), today is left as it was.
    later = datetime(2027, 3, 10, 11, 20, tzinfo=UTC)
    generate(engine=engine, customers=50, seed=6, now=later)
    with Session(engine) as s:
        day = load_day_sheet(session=s, viewer=None, day=later.date(), now=later, tz=UTC)
    assert day.rows == []
