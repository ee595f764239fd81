"""Loyalty: programs, enrolments and the append-only points ledger.

Every change of a balance is one ledger entry written in the same transaction as the new
balance; the enrolment row is locked first (row lock on PostgreSQL, the IMMEDIATE write lock
on SQLite), so two terminals redeeming at once cannot overdraw it. A request id makes a retried
request apply once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from frontdesk.data import audit
from frontdesk.data.errors import InsufficientPoints, InvalidState, NotFound, ValidationFailed
from frontdesk.data.models import (
    Customer,
    LedgerAction,
    LoyaltyEnrolment,
    LoyaltyProgram,
    PointsEntry,
    Staff,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.validation import check_text, clean_line, clean_multiline

# The most points a balance, a change or a starting balance can be, and an earning rule's
# points per visit or per currency unit: far beyond any loyalty scheme, and inside the
# databases' whole numbers (PostgreSQL's INTEGER ends at 2,147,483,647; a number past
# SQLite's stopped an import with an error report).
MAX_POINTS = 1_000_000_000
MAX_EARNING = 1_000_000
MAX_EXPIRY_DAYS = 36_500  # a hundred years


def check_points(field: str, points: int, *, most: int = MAX_POINTS) -> int:
    """``points`` if it is within the ceiling (either sign), else ValidationFailed."""
    if abs(points) > most:
        raise ValidationFailed(field, f"is too large (at most {most:,})")
    return points


# --------------------------------------------------------------------------- programs


def list_programs(*, session: Session, active_only: bool = False) -> list[LoyaltyProgram]:
    stmt = select(LoyaltyProgram).order_by(
        col(LoyaltyProgram.is_default).desc(), col(LoyaltyProgram.name)
    )
    if active_only:
        stmt = stmt.where(col(LoyaltyProgram.active).is_(True))
    return list(session.exec(stmt))


def default_program(*, session: Session) -> LoyaltyProgram:
    program = session.exec(
        select(LoyaltyProgram).where(col(LoyaltyProgram.is_default).is_(True))
    ).first()
    if program is None:
        raise NotFound("loyalty program", "default")
    return program


def save_program(
    *,
    session: Session,
    name: str,
    unit: str = "points",
    active: bool = True,
    default_expiry_days: int | None = None,
    points_per_currency_unit: int = 0,
    points_per_visit: int = 0,
    program_id: int | None = None,
    actor: Staff | None,
) -> LoyaltyProgram:
    """Create or change a loyalty program (a setting: admins)."""
    require(actor, "settings")
    clean = clean_line("name", name, max_length=100)
    if not clean:
        raise ValidationFailed("name", "Program name is required")
    unit_text = clean_line("unit", unit, max_length=30) or "points"
    if default_expiry_days is not None and default_expiry_days <= 0:
        raise ValidationFailed("default_expiry_days", "must be a positive number of days")
    if default_expiry_days is not None and default_expiry_days > MAX_EXPIRY_DAYS:
        raise ValidationFailed("default_expiry_days", f"at most {MAX_EXPIRY_DAYS:,} days")
    if points_per_currency_unit < 0 or points_per_visit < 0:
        raise ValidationFailed("earning", "earning rules cannot be negative")
    check_points("points_per_currency_unit", points_per_currency_unit, most=MAX_EARNING)
    check_points("points_per_visit", points_per_visit, most=MAX_EARNING)
    clash = session.exec(select(LoyaltyProgram).where(col(LoyaltyProgram.name) == clean)).first()
    if clash is not None and clash.id != program_id:
        raise ValidationFailed("name", f"A program called {clean!r} already exists")
    program = session.get(LoyaltyProgram, program_id) if program_id else LoyaltyProgram(name=clean)
    if program is None:
        raise NotFound("loyalty program", program_id)
    before = _program_values(program) if program_id else None
    program.name = clean
    program.unit = unit_text
    program.active = active
    program.default_expiry_days = default_expiry_days
    program.points_per_currency_unit = points_per_currency_unit
    program.points_per_visit = points_per_visit
    session.add(program)
    session.flush()
    audit.record_item(
        session=session,
        actor=actor,
        entity="loyalty_program",
        entity_id=program.id or 0,
        before=before,
        after=_program_values(program),
    )
    return program


def _program_values(program: LoyaltyProgram) -> dict[str, Any]:
    """A program's audited values."""
    return {
        "name": program.name,
        "unit": program.unit,
        "active": bool(program.active),
        "default_expiry_days": program.default_expiry_days,
        "points_per_currency_unit": program.points_per_currency_unit,
        "points_per_visit": program.points_per_visit,
    }


# --------------------------------------------------------------------------- enrolments


def _live_enrolment(session: Session, customer_id: int, program_id: int) -> LoyaltyEnrolment | None:
    return session.exec(
        select(LoyaltyEnrolment).where(
            col(LoyaltyEnrolment.customer_id) == customer_id,
            col(LoyaltyEnrolment.program_id) == program_id,
            col(LoyaltyEnrolment.removed_at).is_(None),
        )
    ).first()


def enrol(
    *,
    session: Session,
    customer_id: int,
    program_id: int,
    starting_balance: int = 0,
    expires_on: date | None = None,
    notes: str | None = None,
    actor: Staff | None,
    today: date | None = None,
) -> LoyaltyEnrolment:
    require(actor, "rewards")
    notes_text = clean_multiline("notes", notes)
    # The customer's row is locked first: two desks enrolling the same customer at once
    # queue here, and the second is told "already enrolled" instead of a raw key violation.
    customer = session.exec(
        select(Customer)
        .where(col(Customer.id) == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if customer is None or not customer.is_live:
        raise ValidationFailed("customer_id", "no such customer")
    program = session.get(LoyaltyProgram, program_id)
    if program is None or not program.active:
        raise ValidationFailed("program_id", "choose an active program")
    if starting_balance < 0:
        raise ValidationFailed("starting_balance", "cannot be negative")
    check_points("starting_balance", starting_balance)
    if _live_enrolment(session, customer_id, program_id) is not None:
        raise ValidationFailed(
            "program_id", f"{customer.full_name} is already enrolled in {program.name}"
        )
    if expires_on is None and program.default_expiry_days:
        expires_on = (today or date.today()) + timedelta(days=program.default_expiry_days)
    else:
        _check_expiry(expires_on, today)
    enrolment = LoyaltyEnrolment(
        customer_id=customer_id,
        program_id=program_id,
        balance=0,
        expires_on=expires_on,
        notes=notes_text,
        enrolled_by_id=actor.id if actor else None,
    )
    session.add(enrolment)
    session.flush()
    if starting_balance:
        _append(session, enrolment, starting_balance, LedgerAction.ADDED, "Starting balance", actor)
    audit.record(
        session=session,
        actor=actor,
        entity="enrolment",
        entity_id=enrolment.id or 0,
        action="enrol",
        customer_id=customer_id,
        changes={"program": (None, program.name), "balance": (None, starting_balance)},
    )
    return enrolment


def get_enrolment(*, session: Session, enrolment_id: int, lock: bool = False) -> LoyaltyEnrolment:
    stmt = select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.id) == enrolment_id)
    if lock:
        stmt = stmt.with_for_update()
    enrolment = session.exec(stmt).first()
    if enrolment is None:
        raise NotFound("enrolment", enrolment_id)
    session.refresh(enrolment)
    return enrolment


def _check_expiry(expires_on: date | None, today: date | None) -> None:
    """Points cannot be given an expiry date already gone: they would be spendable until the
    next write-off and then taken away (a typo of the year did just that)."""
    if expires_on is not None and expires_on < (today or date.today()):
        raise ValidationFailed("expires_on", "is in the past: give today or a later day")


def change_expiry(
    *,
    session: Session,
    enrolment_id: int,
    expires_on: date | None,
    actor: Staff | None,
    today: date | None = None,
) -> LoyaltyEnrolment:
    require(actor, "rewards")
    _check_expiry(expires_on, today)
    enrolment = get_enrolment(session=session, enrolment_id=enrolment_id, lock=True)
    before = enrolment.expires_on
    enrolment.expires_on = expires_on
    _save_enrolment(session, enrolment, "expiry", {"expires_on": (before, expires_on)}, actor)
    return enrolment


def remove_enrolment(
    *, session: Session, enrolment_id: int, actor: Staff | None
) -> LoyaltyEnrolment:
    """End an enrolment. Its ledger stays in the history; its balance no longer counts."""
    require(actor, "rewards")
    enrolment = get_enrolment(session=session, enrolment_id=enrolment_id, lock=True)
    if enrolment.removed_at is not None:
        return enrolment
    enrolment.removed_at = utcnow()
    _save_enrolment(
        session, enrolment, "remove", {"removed_at": (None, enrolment.removed_at)}, actor
    )
    return enrolment


def _save_enrolment(
    session: Session,
    enrolment: LoyaltyEnrolment,
    action: str,
    changes: dict[str, Any],
    actor: Staff | None,
) -> None:
    """Bump the version, flush and audit a change of an enrolment (not of its balance)."""
    enrolment.version += 1
    session.add(enrolment)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="enrolment",
        entity_id=enrolment.id or 0,
        action=action,
        customer_id=enrolment.customer_id,
        changes=changes,
    )


# --------------------------------------------------------------------------- the ledger


def _append(
    session: Session,
    enrolment: LoyaltyEnrolment,
    delta: int,
    action: LedgerAction | str,
    reason: str | None,
    actor: Staff | None,
    *,
    booking_id: int | None = None,
    order_id: int | None = None,
    request_id: str | None = None,
    at: datetime | None = None,
) -> PointsEntry:
    if delta == 0:
        raise ValidationFailed("points", "must not be zero")
    new_balance = enrolment.balance + check_points("points", delta)
    if new_balance < 0:
        raise InsufficientPoints(enrolment.balance, -delta)
    if new_balance > MAX_POINTS:
        raise ValidationFailed("points", f"would make the balance over {MAX_POINTS:,}")
    entry = PointsEntry(
        enrolment_id=enrolment.id or 0,
        customer_id=enrolment.customer_id,
        program_id=enrolment.program_id,
        points=delta,
        action=LedgerAction(action).value,
        reason=clean_line("reason", reason, max_length=300),
        booking_id=booking_id,
        order_id=order_id,
        balance_after=new_balance,
        by_id=actor.id if actor else None,
        request_id=request_id,
        at=at or utcnow(),
    )
    enrolment.balance = new_balance
    enrolment.version += 1
    session.add(enrolment)
    session.add(entry)
    session.flush()
    return entry


def change_points(
    *,
    session: Session,
    enrolment_id: int,
    points: int,
    reason: str,
    actor: Staff | None,
    action: LedgerAction | str | None = None,
    booking_id: int | None = None,
    order_id: int | None = None,
    request_id: str | None = None,
) -> PointsEntry:
    """Add (points > 0) or redeem (points < 0) with a reason. Idempotent per request id."""
    require(actor, "rewards")
    if len(check_text("request_id", request_id) or "") > 64:
        raise ValidationFailed("request_id", "is too long (64 characters at most)")
    if request_id:
        done = session.exec(
            select(PointsEntry).where(col(PointsEntry.request_id) == request_id)
        ).first()
        if done is not None:
            return done
    if not clean_line("reason", reason, max_length=300):
        raise ValidationFailed("reason", "Give a reason")
    enrolment = get_enrolment(session=session, enrolment_id=enrolment_id, lock=True)
    if enrolment.removed_at is not None:
        raise InvalidState("this enrolment was removed")
    kind = action or (LedgerAction.ADDED if points > 0 else LedgerAction.REDEEMED)
    try:
        with session.begin_nested():
            return _append(
                session,
                enrolment,
                points,
                kind,
                reason,
                actor,
                booking_id=booking_id,
                order_id=order_id,
                request_id=request_id,
            )
    except IntegrityError:
        # The same request id was applied by someone else meanwhile.
        if request_id:
            done = session.exec(
                select(PointsEntry).where(col(PointsEntry.request_id) == request_id)
            ).first()
            if done is not None:
                return done
        raise


def expire_points(
    *, session: Session, today: date | None = None, actor: Staff | None = None
) -> int:
    """Write off the balance of every enrolment past its expiry date, by an explicit entry.

    A system action (the app runs it on opening): it needs no actor and checks no role."""
    today = today or date.today()
    due = session.exec(
        select(LoyaltyEnrolment.id).where(
            col(LoyaltyEnrolment.removed_at).is_(None),
            col(LoyaltyEnrolment.expires_on) < today,
            col(LoyaltyEnrolment.balance) > 0,
        )
    ).all()
    count = 0
    for enrolment_id in due:
        enrolment = get_enrolment(session=session, enrolment_id=enrolment_id or 0, lock=True)
        if (
            enrolment.balance > 0
            and enrolment.expires_on is not None
            and enrolment.expires_on < today
        ):
            _append(
                session,
                enrolment,
                -enrolment.balance,
                LedgerAction.EXPIRED,
                f"Expired on {enrolment.expires_on}",
                actor,
            )
            count += 1
    return count


def bulk_enrol(
    *,
    engine: Engine,
    customer_ids: list[int],
    program_id: int,
    starting_balance: int = 0,
    actor: Staff | None,
) -> tuple[int, int]:
    """Enrol many customers (batches of 500); returns (enrolled, already enrolled or skipped)."""
    require(actor, "rewards")
    if starting_balance < 0:
        raise ValidationFailed("starting_balance", "cannot be negative")
    check_points("starting_balance", starting_balance)  # (not a reason to skip everyone)
    enrolled = skipped = 0
    for start in range(0, len(customer_ids), 500):
        with Session(engine) as session:
            for cid in customer_ids[start : start + 500]:
                try:
                    with session.begin_nested():
                        enrol(
                            session=session,
                            customer_id=cid,
                            program_id=program_id,
                            starting_balance=starting_balance,
                            actor=actor,
                        )
                    enrolled += 1
                except ValidationFailed:
                    skipped += 1
            session.commit()
    return enrolled, skipped


# --------------------------------------------------------------------------- earning rules


def _enrolments_earning(
    session: Session, customer_id: int
) -> list[tuple[LoyaltyEnrolment, LoyaltyProgram]]:
    rows = session.exec(
        select(LoyaltyEnrolment, LoyaltyProgram)
        .join(LoyaltyProgram, col(LoyaltyProgram.id) == col(LoyaltyEnrolment.program_id))
        .where(
            col(LoyaltyEnrolment.customer_id) == customer_id,
            col(LoyaltyEnrolment.removed_at).is_(None),
            col(LoyaltyProgram.active).is_(True),
        )
    ).all()
    return [(e, p) for e, p in rows]


def earn_for_payment(
    *,
    session: Session,
    customer_id: int,
    order_id: int,
    amount_cents: int,
    actor: Staff | None = None,
) -> list[PointsEntry]:
    """Points per currency unit paid (whole units), for each program with that rule."""
    out = []
    for enrolment, program in _enrolments_earning(session, customer_id):
        points = program.points_per_currency_unit * (amount_cents // 100)
        if points > 0:
            locked = get_enrolment(session=session, enrolment_id=enrolment.id or 0, lock=True)
            out.append(
                _append(
                    session,
                    locked,
                    points,
                    LedgerAction.ADDED,
                    "Earned on payment",
                    actor,
                    order_id=order_id,
                )
            )
    return out


def reverse_for_refund(
    *,
    session: Session,
    customer_id: int,
    order_id: int,
    amount_cents: int,
    actor: Staff | None = None,
) -> list[PointsEntry]:
    """Take back what a refunded amount earned (never below zero)."""
    out = []
    for enrolment, program in _enrolments_earning(session, customer_id):
        points = program.points_per_currency_unit * (amount_cents // 100)
        locked = get_enrolment(session=session, enrolment_id=enrolment.id or 0, lock=True)
        take = min(points, locked.balance)
        if take > 0:
            out.append(
                _append(
                    session,
                    locked,
                    -take,
                    LedgerAction.ADJUSTED,
                    "Reversed on refund",
                    actor,
                    order_id=order_id,
                )
            )
    return out


def earn_for_visit(
    *, session: Session, customer_id: int, booking_id: int, actor: Staff | None = None
) -> list[PointsEntry]:
    out = []
    for enrolment, program in _enrolments_earning(session, customer_id):
        if program.points_per_visit > 0:
            locked = get_enrolment(session=session, enrolment_id=enrolment.id or 0, lock=True)
            out.append(
                _append(
                    session,
                    locked,
                    program.points_per_visit,
                    LedgerAction.ADDED,
                    "Visit completed",
                    actor,
                    booking_id=booking_id,
                )
            )
    return out
