"""Service tests: booking rules, status changes, orders, payments, refunds, exact statistics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from frontdesk.data import booking_flow as flow
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import order_flow, picker, profile
from frontdesk.data import orders as od
from frontdesk.data.errors import (
    BlockedCustomer,
    DoubleBooked,
    DuplicateCustomer,
    InvalidState,
    ValidationFailed,
)
from frontdesk.data.models import (
    AuditEvent,
    Branch,
    Category,
    Order,
    Service,
    ServiceType,
    Staff,
)
from tests.actors import ADMIN

DAY = datetime(2026, 12, 1, tzinfo=UTC)
# The desk's clock when visits are marked done or no-show: the day after (their time has passed).
AFTER = DAY + timedelta(days=1)


@pytest.fixture
def shop(any_session: Session) -> dict[str, int]:
    s = any_session
    branch = Branch(name="Main")
    stype = ServiceType(name="Hair")
    s.add_all([branch, stype])
    s.flush()
    cut = Service(service_type_id=stype.id or 0, name="Cut", duration_minutes=60, price_cents=4500)
    nina = Staff(name="Nina", role="therapist", branch_id=branch.id)
    omar = Staff(name="Omar", role="therapist", branch_id=branch.id)
    s.add_all([cut, nina, omar])
    s.flush()
    ann = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Ann", email="ann@example.com")
    )
    bob = svc.create_customer(
        actor=ADMIN, session=s, data=svc.CustomerCreate(first_name="Bob", email="bob@example.com")
    )
    ids = {
        "branch": branch.id or 0,
        "cut": cut.id or 0,
        "nina": nina.id or 0,
        "omar": omar.id or 0,
        "ann": ann.id or 0,
        "bob": bob.id or 0,
    }
    s.commit()
    return ids


def book(s: Session, shop: dict[str, int], who: str, staff: str, start: datetime) -> int:
    b = bk.create_booking(
        session=s,
        customer_id=shop[who],
        service_id=shop["cut"],
        branch_id=shop["branch"],
        staff_id=shop[staff],
        start_at=start,
        actor=ADMIN,
    )
    s.commit()
    return b.id or 0


def test_booking_takes_service_duration_and_price(
    any_session: Session, shop: dict[str, int]
) -> None:
    bid = book(any_session, shop, "ann", "nina", DAY.replace(hour=10))
    b = bk.get_booking(session=any_session, booking_id=bid)
    assert b.price_cents == 4500 and b.status == "confirmed"
    assert bk._aware(b.end_at) - bk._aware(b.start_at) == timedelta(minutes=60)


def test_staff_cannot_be_double_booked(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    book(s, shop, "ann", "nina", DAY.replace(hour=10))
    with pytest.raises(DoubleBooked) as err:
        bk.create_booking(
            session=s,
            customer_id=shop["bob"],
            service_id=shop["cut"],
            branch_id=shop["branch"],
            staff_id=shop["nina"],
            start_at=DAY.replace(hour=10, minute=30),
            actor=ADMIN,
        )
    assert err.value.conflict.customer_name == "Ann" and err.value.conflict.service == "Cut"
    assert err.value.suggestion is not None and err.value.suggestion >= DAY.replace(hour=11)
    s.rollback()
    # Another staff member at the same time is fine; so is back-to-back (Ann: Bob is with
    # Omar until 11:30, and a customer is not booked twice at once).
    book(s, shop, "bob", "omar", DAY.replace(hour=10, minute=30))
    book(s, shop, "ann", "nina", DAY.replace(hour=11))


def test_cancelled_bookings_free_the_slot(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    bid = book(s, shop, "ann", "nina", DAY.replace(hour=10))
    bk.change_status(session=s, booking_id=bid, action="cancel", reason="Ill", actor=ADMIN)
    s.commit()
    book(s, shop, "bob", "nina", DAY.replace(hour=10))


def test_blocked_customer_cannot_be_booked(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    svc.block_customer(session=s, customer_id=shop["ann"], reason="Unpaid bills", actor=ADMIN)
    s.commit()
    with pytest.raises(BlockedCustomer, match="Unpaid bills"):
        book(s, shop, "ann", "nina", DAY.replace(hour=10))


def test_status_changes_are_checked_and_audited(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    bid = book(s, shop, "ann", "nina", DAY.replace(hour=10))
    with pytest.raises(ValidationFailed, match="why"):
        bk.change_status(session=s, booking_id=bid, action="cancel", reason=" ", actor=ADMIN)
    s.rollback()
    later = DAY.replace(hour=15)
    moved = bk.change_status(
        session=s, booking_id=bid, action="reschedule", new_start=later, actor=ADMIN
    )
    assert bk._aware(moved.start_at) == later
    bk.change_status(session=s, booking_id=bid, action="complete", actor=ADMIN, now=AFTER)
    s.commit()
    with pytest.raises(InvalidState):
        bk.change_status(session=s, booking_id=bid, action="cancel", reason="late", actor=ADMIN)
    s.rollback()
    other = book(s, shop, "bob", "omar", DAY.replace(hour=9))
    book(s, shop, "ann", "omar", DAY.replace(hour=12))
    with pytest.raises(DoubleBooked):
        bk.change_status(
            session=s,
            booking_id=other,
            action="reschedule",
            new_start=DAY.replace(hour=12, minute=30),
            actor=ADMIN,
        )
    s.rollback()
    bk.change_status(session=s, booking_id=other, action="no_show", actor=ADMIN, now=AFTER)
    s.commit()
    actions = s.exec(
        select(AuditEvent.action)
        .where(col(AuditEvent.entity) == "booking")
        .order_by(col(AuditEvent.id))
    ).all()
    assert actions == ["create", "reschedule", "complete", "create", "create", "no_show"]
    texts = [i.text for i in profile.timeline(session=s, customer_id=shop["ann"])]
    assert any("rescheduled" in t for t in texts) and any("completed" in t for t in texts)


def test_follow_up_template(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    assert bk.follow_up_template(session=s, customer_id=shop["ann"]) is None
    bid = book(s, shop, "ann", "omar", DAY.replace(hour=10))
    bk.change_status(session=s, booking_id=bid, action="complete", actor=ADMIN, now=AFTER)
    s.commit()
    template = bk.follow_up_template(session=s, customer_id=shop["ann"])
    assert (
        template is not None
        and template.staff_id == shop["omar"]
        and template.service_id == shop["cut"]
    )


def test_suggestion_respects_opening_hours(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    tz = UTC
    book(s, shop, "ann", "nina", DAY.replace(hour=18))
    when = bk.suggest_free_time(
        session=s,
        staff_id=shop["nina"],
        start_at=DAY.replace(hour=18),
        duration=timedelta(hours=1),
        tz=tz,
    )
    assert when == (DAY + timedelta(days=1)).replace(hour=9)


def product_order(
    s: Session, shop: dict[str, int], description: str, *, quantity: int, discount_cents: int
) -> od.Order:
    """Ann's order of a product at 12.50 each, with a discount."""
    return od.create_order(
        session=s,
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        lines=[
            od.LineInput(
                kind="product",
                description=description,
                quantity=quantity,
                unit_price_cents=1250,
                discount_cents=discount_cents,
            )
        ],
        actor=ADMIN,
    )


def test_order_payment_partial_refund_and_statistics(
    any_session: Session, shop: dict[str, int]
) -> None:
    s = any_session
    bid = book(s, shop, "ann", "nina", DAY.replace(hour=10))
    bk.change_status(session=s, booking_id=bid, action="complete", actor=ADMIN, now=AFTER)
    order = od.order_for_booking(session=s, booking_id=bid, actor=ADMIN)
    assert order.total_cents == 4500 and order.status == "open"
    assert (
        od.order_for_booking(session=s, booking_id=bid, actor=ADMIN).id == order.id
    )  # one order per booking
    extra = product_order(s, shop, "Shampoo", quantity=2, discount_cents=500)
    assert extra.total_cents == 2000
    od.take_payment(
        session=s, order_id=order.id or 0, amount_cents=2000, method="cash", actor=ADMIN
    )
    assert od.get_order(session=s, order_id=order.id or 0).status == "part_paid"
    with pytest.raises(ValidationFailed, match=r"25\.00 is due"):
        od.take_payment(session=s, order_id=order.id or 0, amount_cents=3000, actor=ADMIN)
    od.take_payment(
        session=s, order_id=order.id or 0, amount_cents=2500, method="card", actor=ADMIN
    )
    assert od.get_order(session=s, order_id=order.id or 0).status == "paid"
    with pytest.raises(ValidationFailed, match="why"):
        od.refund(session=s, order_id=order.id or 0, amount_cents=500, reason="", actor=ADMIN)
    od.refund(session=s, order_id=order.id or 0, amount_cents=1000, reason="Ran late", actor=ADMIN)
    assert od.get_order(session=s, order_id=order.id or 0).status == "part_refunded"
    with pytest.raises(ValidationFailed, match=r"at most 35\.00"):
        od.refund(session=s, order_id=order.id or 0, amount_cents=4000, reason="x", actor=ADMIN)
    with pytest.raises(InvalidState):
        od.cancel_order(session=s, order_id=order.id or 0, reason="mistake", actor=ADMIN)
    od.cancel_order(session=s, order_id=extra.id or 0, reason="Entered twice", actor=ADMIN)
    s.commit()
    ann = svc.get_customer(session=s, customer_id=shop["ann"])
    stats = profile.customer_stats(session=s, customer=ann, now=DAY + timedelta(days=1))
    assert (
        stats.visits == 1
        and stats.income_cents == 4500 - 1000
        and stats.average_visit_cents == 3500
    )
    orders = profile.list_orders(session=s, customer_id=shop["ann"])
    by_id = {o.id: o for o in orders}
    assert by_id[order.id or 0].paid_cents == 4500 and by_id[order.id or 0].refunded_cents == 1000
    assert by_id[extra.id or 0].status == "cancelled"
    kinds = [i.kind for i in profile.timeline(session=s, customer_id=shop["ann"])]
    assert kinds.count("payment") == 2 and kinds.count("refund") == 1


def test_an_order_with_nothing_to_pay_is_settled(
    any_session: Session, shop: dict[str, int]
) -> None:
    """A service discounted to 0.00 stayed open for ever: a payment must be above zero."""
    s = any_session
    free = product_order(s, shop, "Sample", quantity=1, discount_cents=1250)
    assert free.total_cents == 0 and free.status == "paid"
    with pytest.raises(ValidationFailed):
        od.take_payment(session=s, order_id=free.id or 0, amount_cents=1, actor=ADMIN)
    # A mistake can still be cancelled (nothing was paid).
    od.cancel_order(session=s, order_id=free.id or 0, reason="Entered by mistake", actor=ADMIN)
    assert od.get_order(session=s, order_id=free.id or 0).status == "cancelled"


def test_order_line_validation(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    with pytest.raises(ValidationFailed, match="at least one line"):
        od.create_order(
            session=s, customer_id=shop["ann"], branch_id=shop["branch"], lines=[], actor=ADMIN
        )
    with pytest.raises(ValidationFailed, match="at least 1"):
        od.create_order(
            session=s,
            customer_id=shop["ann"],
            branch_id=shop["branch"],
            lines=[od.LineInput(kind="service", service_id=shop["cut"], quantity=0)],
            actor=ADMIN,
        )
    with pytest.raises(ValidationFailed, match="discount"):
        od.create_order(
            session=s,
            customer_id=shop["ann"],
            branch_id=shop["branch"],
            lines=[od.LineInput(kind="service", service_id=shop["cut"], discount_cents=99999)],
            actor=ADMIN,
        )
    with pytest.raises(ValidationFailed, match="describe"):
        od.create_order(
            session=s,
            customer_id=shop["ann"],
            branch_id=shop["branch"],
            lines=[od.LineInput(kind="product", unit_price_cents=100)],
            actor=ADMIN,
        )


@pytest.mark.parametrize(
    ("text", "cents"), [("45", 4500), ("45.5", 4550), ("45,50", 4550), ("1,234.56", 123456)]
)
def test_parse_money(text: str, cents: int) -> None:
    assert od.parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "-1", "abc", "1.234", "1e5"])
def test_parse_money_rejects(text: str) -> None:
    with pytest.raises(ValidationFailed):
        od.parse_money(text)


# --------------------------------------------------------------------------- use cases
# What the new-booking, new-order and quick-add screens call: one service per action.


def test_load_booking_form(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    nina = s.get(Staff, shop["nina"])
    form = flow.load_booking_form(
        session=s, now=DAY.replace(hour=9, minute=7), operator=nina, customer_id=shop["ann"]
    )
    assert [b.name for b in form.branches] == ["Main"] and form.branch_id == shop["branch"]
    assert [(x.name, x.duration_minutes, x.price_cents) for x in form.services] == [
        ("Cut", 60, 4500)
    ]
    assert [m.name for m in form.staff_at(shop["branch"])] == ["Nina", "Omar"]
    assert form.customer is not None and form.customer.match.name == "Ann"
    local = flow.next_quarter(DAY.replace(hour=9, minute=7))
    assert (form.day, form.time) == (local.date().isoformat(), local.strftime("%H:%M"))
    assert form.region == "US" and not form.follow_up_missing
    # A follow-up for someone without an earlier visit says so.
    again = flow.load_booking_form(session=s, now=DAY, customer_id=shop["bob"], follow_up=True)
    assert again.follow_up is None and again.follow_up_missing


def test_check_booking_names_every_bad_field() -> None:
    check = flow.check_booking(
        flow.BookingRequest(None, None, None, None, day="2026-13-01", time="25:00")
    )
    assert set(check.errors) == {"customer", "branch", "service", "date", "time"}
    assert check.start is None
    ok = flow.check_booking(flow.BookingRequest(1, 1, 1, None, day="2026-12-01", time="930"))
    assert not ok.errors and ok.start is not None and (ok.start.hour, ok.start.minute) == (9, 30)


def test_book_appointment(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    request = flow.BookingRequest(
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        service_id=shop["cut"],
        staff_id=shop["nina"],
        day="2026-12-01",
        time="10:00",
        notes="Allergy: [nuts]",
    )
    booked = flow.book_appointment(session=s, request=request, tz=UTC, actor=ADMIN)
    s.commit()
    b = bk.get_booking(session=s, booking_id=booked.booking_id)
    assert (b.customer_id, b.staff_id, b.notes) == (shop["ann"], shop["nina"], "Allergy: [nuts]")
    assert bk._aware(b.start_at) == DAY.replace(hour=10)
    # The same slot again: refused with the clash and the next free time.
    with pytest.raises(DoubleBooked) as err:
        flow.book_appointment(
            session=s,
            request=replace(request, customer_id=shop["bob"], time="10:30"),
            tz=UTC,
            actor=ADMIN,
        )
    assert err.value.suggestion == DAY.replace(hour=11)
    s.rollback()
    with pytest.raises(ValidationFailed, match="time"):
        flow.book_appointment(
            session=s, request=replace(request, time="half past"), tz=UTC, actor=ADMIN
        )
    with pytest.raises(ValidationFailed, match="notes"):
        flow.book_appointment(
            session=s, request=replace(request, staff_id=None, notes="\x1b[2J"), tz=UTC, actor=ADMIN
        )
    s.rollback()
    svc.block_customer(session=s, customer_id=shop["bob"], reason="[/] unpaid", actor=ADMIN)
    s.commit()
    with pytest.raises(BlockedCustomer, match=r"\[/\] unpaid"):
        flow.book_appointment(
            session=s,
            request=replace(request, customer_id=shop["bob"], staff_id=None),
            tz=UTC,
            actor=ADMIN,
        )


def test_price_line_and_place_order(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    form = order_flow.load_order_form(session=s, customer_id=shop["ann"])
    assert [i.name for i in form.items("service")] == ["Cut"] and form.items("product") == []
    cut = order_flow.price_line(
        session=s, draft=order_flow.LineDraft(kind="service", item_id=shop["cut"])
    )
    assert (cut.description, cut.unit_price_cents, cut.total_cents) == ("Cut", 4500, 4500)
    shampoo = order_flow.price_line(
        session=s,
        draft=order_flow.LineDraft(
            kind="product", description="Shampoo [travel]", quantity="2", unit_price="12,50"
        ),
    )
    assert shampoo.total_cents == 2500
    with pytest.raises(ValidationFailed) as err:
        order_flow.price_line(session=s, draft=order_flow.LineDraft(kind="service"))
    assert err.value.field == "item"
    with pytest.raises(ValidationFailed) as err:
        order_flow.price_line(
            session=s, draft=order_flow.LineDraft(kind="product", description="x", quantity="0")
        )
    assert err.value.field == "quantity"
    request = order_flow.OrderRequest(
        customer_id=shop["ann"],
        branch_id=shop["branch"],
        lines=[cut.line, shampoo.line],
        payment="50",
        method="cash",
    )
    placed = order_flow.place_order(session=s, request=request, actor=ADMIN)
    s.commit()
    assert (placed.total_cents, placed.paid_cents, placed.status) == (7000, 5000, "part_paid")
    money = od.money_of(session=s, order_id=placed.order_id)
    assert (money.total, money.paid) == (7000, 5000)
    # More than the total: refused, and nothing of the order is kept (one transaction).
    before = len(s.exec(select(Order)).all())
    with pytest.raises(ValidationFailed, match="more than the total") as err:
        order_flow.place_order(session=s, request=replace(request, payment="70.01"), actor=ADMIN)
    assert err.value.field == "amount"
    s.rollback()
    assert len(s.exec(select(Order)).all()) == before
    with pytest.raises(ValidationFailed, match="customer"):
        order_flow.place_order(session=s, request=replace(request, customer_id=None), actor=ADMIN)


def test_quick_add_customer_and_picker(any_session: Session, shop: dict[str, int]) -> None:
    s = any_session
    added = picker.quick_add_customer(
        session=s,
        data=svc.CustomerCreate(first_name="Tessa", phone="2025550143"),
        created_via="booking",
        actor=ADMIN,
    )
    s.commit()
    assert added.match.name == "Tessa" and added.match.phone == "+1 202-555-0143"
    assert svc.get_customer(session=s, customer_id=added.match.id).created_via == "booking"
    # The same phone again: the existing customer is named, nobody new.
    with pytest.raises(DuplicateCustomer) as err:
        picker.quick_add_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Tess", phone="(202) 555-0143"),
            actor=ADMIN,
        )
    assert err.value.existing_id == added.match.id and err.value.field == "phone"
    s.rollback()
    # What the picker lists: a blocked customer says why; a stored colour comes along.
    svc.block_customer(session=s, customer_id=shop["bob"], reason="Allergy: [nuts]", actor=ADMIN)
    vip = Category(name="Gold member", symbol="★", colour="gold")
    s.add(vip)
    s.flush()
    ann = svc.get_customer(session=s, customer_id=shop["ann"])
    ann.category_id = vip.id
    s.add(ann)
    s.commit()
    found = {m.name: m for m in picker.matches(session=s, text="example.com")}
    assert found["Bob"].blocked and found["Bob"].blocked_reason == "Allergy: [nuts]"
    assert found["Ann"].category == "★ Gold member" and found["Ann"].category_colour == "gold"
    assert picker.matches(session=s, text="   ") == []
