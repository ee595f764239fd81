"""Stress (bounded in time): four desks at once create, edit, book, redeem and merge the same
handful of customers, on SQLite and on PostgreSQL. Only the refusals a desk is meant to see
(duplicate, changed meanwhile, slot taken, not enough points, already merged) may happen:
never "database is locked", a deadlock or a raw integrity error; afterwards no duplicate,
the ledger adds up and the integrity check passes."""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from frontdesk.data import customers as svc
from frontdesk.data import rewards
from frontdesk.data.bookings import create_booking
from frontdesk.data.check import run_checks
from frontdesk.data.errors import FrontdeskError
from frontdesk.data.merge import merge_customers
from frontdesk.data.models import Customer, LoyaltyEnrolment, Service, ServiceType, Staff
from frontdesk.data.retry import write_transaction
from frontdesk.data.staff import create_staff

SECONDS = 6.0
DESKS = 4
MIN_DONE = 8  # changes each desk makes before it stops (see desk())
KINDS = ("create", "edit", "book", "points", "merge")
PHONES = [f"+3161234{n:04d}" for n in range(12)]


def _url(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=False)


def desk(url: str, seed: int, out: mp.Queue) -> None:
    from frontdesk.data.db import open_database

    engine = open_database(url)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    unexpected: list[str] = []
    with Session(engine, expire_on_commit=False) as s:
        me = s.exec(select(Staff).where(col(Staff.username) == "stress")).one()
        service = s.exec(select(Service)).first()
        assert service is not None and service.id is not None
        service_id: int = service.id
        program = rewards.default_program(session=s)
    deadline = time.monotonic() + SECONDS
    # At least MIN_DONE changes each (a busy machine did 15 in all in the six seconds), but
    # never past the hard deadline: desks that stop getting work done still fail the test.
    hard_deadline = deadline + 4 * SECONDS
    while time.monotonic() < deadline or (
        sum(counts.get(k, 0) for k in KINDS) < MIN_DONE and time.monotonic() < hard_deadline
    ):
        kind = rng.choice(list(KINDS))

        def op(s: Session, kind: str = kind) -> None:
            live = [
                i
                for i in s.exec(
                    select(Customer.id).where(
                        col(Customer.deleted_at).is_(None),
                        col(Customer.merged_into_id).is_(None),
                    )
                )
                if i is not None
            ]
            pick = rng.choice(live) if live else None
            if kind == "create" or pick is None:
                svc.create_customer(
                    session=s,
                    data=svc.CustomerCreate(first_name=f"Desk{seed}", phone=rng.choice(PHONES)),
                    actor=me,
                )
            elif kind == "edit":
                current = svc.get_customer(session=s, customer_id=pick)
                svc.update_customer(
                    session=s,
                    customer_id=pick,
                    data=svc.CustomerUpdate(city=f"City {rng.randint(1, 99)}"),
                    expected_version=current.version,
                    actor=me,
                )
            elif kind == "book":
                start = datetime(2030, 1, 7, 9, tzinfo=UTC) + timedelta(hours=rng.randint(0, 8))
                create_booking(
                    session=s,
                    customer_id=pick,
                    service_id=service_id,
                    branch_id=me.branch_id or 1,
                    staff_id=me.id,
                    start_at=start,
                    actor=me,
                )
            elif kind == "points":
                enrolment = s.exec(
                    select(LoyaltyEnrolment).where(
                        col(LoyaltyEnrolment.customer_id) == pick,
                        col(LoyaltyEnrolment.removed_at).is_(None),
                    )
                ).first()
                if enrolment is None:
                    enrolment = rewards.enrol(
                        session=s,
                        customer_id=pick,
                        program_id=program.id or 0,
                        starting_balance=50,
                        actor=me,
                    )
                rewards.change_points(
                    session=s,
                    enrolment_id=enrolment.id or 0,
                    points=rng.choice([-30, -10, 20]),
                    reason="stress",
                    actor=me,
                )
            else:
                if len(live) < 2:
                    return
                survivor, other = rng.sample(live, 2)
                merge_customers(session=s, survivor_id=survivor, other_ids=[other], actor=me)

        try:
            write_transaction(engine, op)
            counts[kind] = counts.get(kind, 0) + 1
        except FrontdeskError as exc:  # a refusal a desk is meant to see
            counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
        except Exception as exc:
            unexpected.append(f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    engine.dispose()
    out.put((counts, unexpected))


def test_desks_at_once_keep_every_invariant(any_engine: Engine) -> None:
    with Session(any_engine) as s:
        admin = create_staff(session=s, name="Stress Desk", role="admin", username="stress")
        kind = ServiceType(name="Hair")
        s.add(kind)
        s.flush()
        s.add(
            Service(service_type_id=kind.id or 0, name="Cut", duration_minutes=60, price_cents=3000)
        )
        s.commit()
        assert admin.id
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=desk, args=(_url(any_engine), n, out)) for n in range(DESKS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=SECONDS + 120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    unexpected = [u for _, errors in results for u in errors]
    assert unexpected == []
    done = sum(
        counts.get(k, 0)
        for counts, _ in results
        for k in ("create", "edit", "book", "points", "merge")
    )
    assert done > 20  # the desks really worked
    report = run_checks(any_engine)
    assert report.ok, report.failed
    with Session(any_engine) as s:
        live_phones = s.exec(
            select(Customer.phone, func.count())
            .where(col(Customer.deleted_at).is_(None), col(Customer.merged_into_id).is_(None))
            .group_by(col(Customer.phone))
            .having(func.count() > 1)
        ).all()
        assert live_phones == []
