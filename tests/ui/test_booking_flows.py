"""Pilot tests of the desk's busiest moment: a caller wants an appointment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, OptionList, Select, Static

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data.models import Booking, Customer, Order, Payment, Refund, Service, Staff
from frontdesk.screens.booking import NewBookingScreen, local_tz
from frontdesk.screens.order import NewOrderScreen
from frontdesk.screens.profile import ProfileScreen
from frontdesk.screens.quick_add import QuickAddModal
from frontdesk.widgets.customer_picker import CustomerPicker
from tests.ui.conftest import NOW, SIZE, make_app, settle, type_text


async def open_booking(pilot: Any) -> None:
    """Press b in the directory: the highlighted customer is pre-filled; typing replaces them."""
    pilot.app.screen.query_one("#customers", DataTable).focus()
    await pilot.press("b")
    await settle(pilot)
    assert pilot.app.screen.query_one(CustomerPicker).customer is not None
    assert pilot.app.focused is pilot.app.screen.query_one("#picker-input")


def staff_and_service(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        service = s.exec(select(Service).where(col(Service.name) == "Women's cut")).one()
        staff = s.exec(
            select(Staff).where(col(Staff.role) == "therapist").order_by(col(Staff.id))
        ).first()
        assert staff is not None
        return service.id or 0, staff.id or 0, staff.branch_id or 0


async def fill_booking(
    pilot: Any, service_id: int, staff_id: int, branch_id: int, when: str, at: str
) -> None:
    screen = pilot.app.screen
    screen.query_one("#bk-branch", Select).value = branch_id
    await pilot.pause()
    screen.query_one("#bk-service", Select).value = service_id
    screen.query_one("#bk-staff", Select).value = staff_id
    screen.query_one("#bk-date", Input).value = when
    screen.query_one("#bk-time", Input).value = at
    await settle(pilot)


async def test_walk_in_new_customer_is_booked(demo_engine: Engine) -> None:
    service_id, staff_id, branch_id = staff_and_service(demo_engine)
    day = (NOW + timedelta(days=30)).astimezone(local_tz()).date().isoformat()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_booking(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        await type_text(pilot, "+44 7400 999111")
        hint = str(app.screen.query_one("#picker-hint", Static).render())
        assert "No customer matches" in hint and "ctrl+n" in hint
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, QuickAddModal)
        assert app.screen.query_one("#q-phone", Input).value == "+44 7400 999111"
        await type_text(pilot, "Walker")  # first name field has focus
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.match.name == "Walker"
        assert app.focused is app.screen.query_one("#bk-service")
        await fill_booking(pilot, service_id, staff_id, branch_id, day, "10:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        with Session(demo_engine) as s:
            customer = s.exec(select(Customer).where(col(Customer.phone) == "+447400999111")).one()
            assert customer.created_via == "booking" and customer.first_name == "Walker"
            booking = s.exec(select(Booking).where(col(Booking.customer_id) == customer.id)).one()
            assert (booking.service_id, booking.staff_id, booking.status) == (
                service_id,
                staff_id,
                "confirmed",
            )
            code = customer.code
        assert code in app.screen.title
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#b-table", DataTable)
        assert table.row_count == 1 and "Women's cut" in str(table.get_row_at(0)[0])
        # ...and the new customer is in the directory search at once.
        found = app.read(lambda s: svc.search(session=s, text="+447400999111"))
        assert [c.code for c in found] == [code]


async def test_existing_customer_by_partial_phone(demo_engine: Engine) -> None:
    service_id, staff_id, branch_id = staff_and_service(demo_engine)
    with Session(demo_engine) as s:
        target = s.exec(
            select(Customer)
            .where(col(Customer.phone).is_not(None), col(Customer.blocked).is_(False))
            .order_by(col(Customer.id))
        ).first()
        assert target is not None and target.phone
        fragment, target_id = target.phone[-7:], target.id
    day = (NOW + timedelta(days=31)).astimezone(local_tz()).date().isoformat()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_booking(pilot)
        await type_text(pilot, fragment)
        options = app.screen.query_one("#picker-matches", OptionList)
        assert options.option_count >= 1
        await pilot.press("down")
        await pilot.pause()
        index = next(
            i
            for i in range(options.option_count)
            if options.get_option_at_index(i).id == str(target_id)
        )
        options.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.match.id == target_id
        await fill_booking(pilot, service_id, staff_id, branch_id, day, "11:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        assert s.exec(
            select(Booking).where(
                col(Booking.customer_id) == target_id, col(Booking.notes).is_(None)
            )
        ).all()


async def test_duplicate_email_in_inline_modal_links_existing(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        existing = s.exec(
            select(Customer).where(
                col(Customer.email).is_not(None), col(Customer.blocked).is_(False)
            )
        ).first()
        assert existing is not None and existing.email
        email, existing_id, count = existing.email, existing.id, len(s.exec(select(Customer)).all())
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_booking(pilot)
        await type_text(pilot, "Zed Newcomer")
        await pilot.press("ctrl+n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, QuickAddModal)
        assert modal.query_one("#q-first_name", Input).value == "Zed"
        assert modal.query_one("#q-last_name", Input).value == "Newcomer"
        modal.query_one("#q-email", Input).value = email.upper()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QuickAddModal)
        assert "ctrl+l uses" in str(app.screen.query_one("#q-duplicate", Label).render())
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.match.id == existing_id
    with Session(demo_engine) as s:
        assert len(s.exec(select(Customer)).all()) == count  # nobody new


async def test_cancel_inline_modal_keeps_typed_text(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_booking(pilot)
        await type_text(pilot, "Nobody Here")
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        assert app.screen.query_one("#picker-input", Input).value == "Nobody Here"


async def test_blocked_customer_is_refused(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        blocked = s.exec(select(Customer).where(col(Customer.blocked).is_(True))).first()
        assert blocked is not None
        code, reason = blocked.code, blocked.blocked_reason or ""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_booking(pilot)
        await type_text(pilot, code)
        options = app.screen.query_one("#picker-matches", OptionList)
        assert "BLOCKED" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")  # the only match
        await settle(pilot)
        assert app.screen.query_one(CustomerPicker).customer is None
        hint = str(app.screen.query_one("#picker-hint", Static).render())
        assert "cannot be booked" in hint and reason in hint


async def test_double_booked_staff_is_refused_with_a_suggestion(demo_engine: Engine) -> None:
    service_id, staff_id, branch_id = staff_and_service(demo_engine)
    start = (
        (NOW + timedelta(days=40))
        .astimezone(local_tz())
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )
    with Session(demo_engine) as s:
        other = s.exec(select(Customer).where(col(Customer.blocked).is_(False)).offset(3)).first()
        assert other is not None
        bk.create_booking(
            session=s,
            customer_id=other.id or 0,
            service_id=service_id,
            branch_id=branch_id,
            staff_id=staff_id,
            start_at=start,
        )
        s.commit()
        taker = s.exec(select(Customer).where(col(Customer.blocked).is_(False)).offset(4)).first()
        assert taker is not None
        taker_id = taker.id or 0
        before = len(s.exec(select(Booking)).all())
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(taker_id)
        await settle(pilot)
        await fill_booking(
            pilot, service_id, staff_id, branch_id, start.date().isoformat(), "10:30"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        problem = str(app.screen.query_one("#bk-problem", Static).render())
        assert "is busy" in problem and "ctrl+t" in problem
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.screen.query_one("#bk-time", Input).value == "11:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        assert len(s.exec(select(Booking)).all()) == before + 1


async def test_follow_up_copies_last_visit(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        row = s.exec(
            select(Booking).where(col(Booking.status) == "completed").order_by(col(Booking.id))
        ).first()
        assert row is not None
        customer_id = row.customer_id
        template = bk.follow_up_template(session=s, customer_id=customer_id)
        assert template is not None
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(customer_id)
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        assert screen.query_one("#bk-service", Select).value == template.service_id
        assert screen.query_one("#bk-staff", Select).value == template.staff_id


async def test_status_changes_from_the_profile(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        row = s.exec(
            select(Booking).where(col(Booking.status) == "confirmed").order_by(col(Booking.id))
        ).first()
        assert row is not None
        customer_id, booking_id = row.customer_id, row.id
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(customer_id)
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#b-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(booking_id)))
        table.focus()
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")  # create its order too
        await settle(pilot)
    with Session(demo_engine) as s:
        assert s.get(Booking, booking_id).status == "completed"  # type: ignore[union-attr]
        order = s.exec(select(Order).where(col(Order.booking_id) == booking_id)).one()
        assert order.status == "open"


async def test_order_with_payment_and_partial_refund(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        customer = s.exec(
            select(Customer).where(col(Customer.blocked).is_(False)).offset(10)
        ).first()
        assert customer is not None
        customer_id = customer.id or 0
        service = s.exec(select(Service).where(col(Service.name) == "Colour")).one()
        service_id = service.id
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_order(customer_id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NewOrderScreen)
        screen.query_one("#or-item", Select).value = service_id
        await settle(pilot)
        assert screen.query_one("#or-price", Input).value == "90.00"
        await pilot.press("ctrl+l")
        await settle(pilot)
        screen.query_one("#or-kind", Select).value = "product"
        await settle(pilot)
        screen.query_one("#or-desc", Input).value = "Shampoo"
        screen.query_one("#or-qty", Input).value = "2"
        screen.query_one("#or-price", Input).value = "12.50"
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert "Total 115.00" in str(screen.query_one("#or-total", Static).render())
        screen.query_one("#or-amount", Input).value = "100"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        with Session(demo_engine) as s:
            order = s.exec(
                select(Order)
                .where(col(Order.customer_id) == customer_id)
                .order_by(col(Order.id).desc())
            ).first()
            assert order is not None and order.total_cents == 11500 and order.status == "part_paid"
            order_id = order.id
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#o-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(order_id)))
        table.focus()
        await pilot.press("R")
        await settle(pilot)
        await type_text(pilot, "20")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "Colour faded")
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen.profile
        assert shown is not None
        shown_income = shown.stats.income_cents
    with Session(demo_engine) as s:
        refunds = s.exec(select(Refund).where(col(Refund.order_id) == order_id)).all()
        assert [r.amount_cents for r in refunds] == [2000] and refunds[0].reason == "Colour faded"
        assert s.get(Order, order_id).status == "part_refunded"  # type: ignore[union-attr]
        assert (
            sum(
                p.amount_cents
                for p in s.exec(select(Payment).where(col(Payment.order_id) == order_id))
            )
            == 10000
        )
        from frontdesk.data import profile

        c = svc.get_customer(session=s, customer_id=customer_id)
        expected = profile.customer_stats(session=s, customer=c, now=NOW).income_cents
    assert shown_income == expected
