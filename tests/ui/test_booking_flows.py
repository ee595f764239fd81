"""Pilot tests of the desk's busiest moment: a caller wants an appointment, or pays.

Every key is pressed as a fast typist presses them (``burst``: all at once, no pause); the
tests assert on what was saved and on what the screen shows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, OptionList, Select

from frontdesk import app as app_module
from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import notes
from frontdesk.data import picker as picker_data
from frontdesk.data.booking_flow import next_quarter
from frontdesk.data.models import (
    Booking,
    Category,
    Customer,
    Order,
    OrderLine,
    Payment,
    Service,
    Staff,
)
from frontdesk.screens.booking import NewBookingScreen, local_tz
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.order import NewOrderScreen
from frontdesk.screens.profile import ProfileScreen
from frontdesk.screens.quick_add import QuickAddModal
from frontdesk.widgets.customer_picker import CustomerPicker
from tests.actors import ADMIN
from tests.ui.conftest import NOW, SIZE, make_app, settle
from tests.ui.conftest import burst as post_keys

# The README's walk-in flow, key for key: "from the directory, `b`, type the phone (10 keys),
# `ctrl+n`, type the first name (5), `ctrl+s`, service `enter` `w` `enter`, staff `tab`
# `enter` `down` `enter`, `tab` `tab` to the time, type `1030` (4), `ctrl+s` — 32 keys".
WALK_IN_PHONE = "2025550143"
WALK_IN_NAME = "Tessa"
WALK_IN = [
    "b",
    *WALK_IN_PHONE,
    "ctrl+n",
    *WALK_IN_NAME,
    "ctrl+s",
    "enter", "w", "enter",
    "tab", "enter", "down", "enter",
    "tab", "tab",
    *"1030",
    "ctrl+s",
]  # fmt: skip


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a loaded test machine a key can take longer than the app's 0.5 s watchdog to come
    back, and the next key would then be let through early (out of order). These tests are
    about where keys land, not about the watchdog: give it room."""
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


async def burst(pilot: Any, *parts: str) -> None:
    """All the keys at once (``conftest.burst``), then wait until the app has handled every
    one of them (a slow machine can take longer than the fixed pause) and settled."""
    await post_keys(pilot, *parts, settle_after=False)
    app = pilot.app
    for _ in range(400):  # at most 20 s
        await settle(pilot)
        if not app._key_backlog and app._key_in_flight is None:
            break
        await pilot.pause(0.05)
    await settle(pilot, 0.1)


def text_of(widget: Any) -> str:
    return str(widget.render())


def picker(app: Any) -> CustomerPicker:
    return app.screen.query_one(CustomerPicker)


def rita(engine: Engine) -> Staff:
    with Session(engine) as s:
        return s.exec(select(Staff).where(col(Staff.username) == "rita")).one()


def first_therapist(engine: Engine, branch_id: int | None) -> Staff:
    """The staff member `down` lands on in the staff list (therapists first, by name)."""
    with Session(engine) as s:
        staff = s.exec(
            select(Staff)
            .where(col(Staff.branch_id) == branch_id, col(Staff.active).is_(True))
            .order_by(col(Staff.name))
        ).all()
    return sorted(staff, key=lambda m: (m.role != "therapist", m.name))[0]


def live_customer(engine: Engine, offset: int = 0) -> Customer:
    with Session(engine) as s:
        customer = s.exec(
            select(Customer)
            .where(
                col(Customer.blocked).is_(False),
                col(Customer.deleted_at).is_(None),
                col(Customer.merged_into_id).is_(None),
            )
            .order_by(col(Customer.id))
            .offset(offset)
        ).first()
        assert customer is not None
        return customer


def service_named(engine: Engine, name: str) -> Service:
    with Session(engine) as s:
        return s.exec(select(Service).where(col(Service.name) == name)).one()


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as s:
        return len(s.exec(select(model)).all())


# --------------------------------------------------------------------------- booking


async def test_walk_in_flow_as_in_the_readme(demo_engine: Engine) -> None:
    assert len(WALK_IN) == 32
    operator = rita(demo_engine)
    therapist = first_therapist(demo_engine, operator.branch_id)
    women_cut = service_named(demo_engine, "Women's cut")
    with Session(demo_engine) as s:
        assert not s.exec(select(Customer).where(col(Customer.phone) == "+12025550143")).all()
    # The desk's clock is before 10:30 (a start already past would be asked about).
    early = NOW.astimezone(local_tz()).replace(hour=8, minute=0)
    app = app_module.FrontdeskApp(engine=demo_engine, staff="rita", clock=lambda: early)
    async with app.run_test(size=SIZE) as pilot:
        # One burst from the moment the app starts: nothing is waited for.
        await burst(pilot, *WALK_IN)
        await settle(pilot, 0.3)
        assert isinstance(app.screen, ProfileScreen), app.screen
        with Session(demo_engine) as s:
            customer = s.exec(select(Customer).where(col(Customer.phone) == "+12025550143")).one()
            assert (customer.first_name, customer.created_via) == (WALK_IN_NAME, "booking")
            booking = s.exec(select(Booking).where(col(Booking.customer_id) == customer.id)).one()
            code = customer.code
        start = booking.start_at.replace(tzinfo=booking.start_at.tzinfo or local_tz())
        local = start.astimezone(local_tz())
        assert (local.hour, local.minute) == (10, 30)
        assert local.date() == next_quarter(NOW).date()
        assert (booking.service_id, booking.staff_id, booking.status) == (
            women_cut.id,
            therapist.id,
            "confirmed",
        )
        assert booking.branch_id == operator.branch_id
        # The booking lands in the new customer's profile, which opens at once.
        assert code in str(app.screen.title)
        assert f"Booking #{booking.id} confirmed" in [str(n.message) for n in app._notifications]
        # ...and the directory below it did not receive a stray key.
        directory = app.screen_stack[1]
        assert isinstance(directory, DirectoryScreen)
        assert directory.query_one("#search", Input).value == ""


async def test_booking_an_existing_customer_typed_ahead(demo_engine: Engine) -> None:
    """Code, enter, service, staff, date, time and notes in one burst from the directory."""
    target = live_customer(demo_engine, offset=5)
    colour = service_named(demo_engine, "Colour")
    therapist = first_therapist(demo_engine, rita(demo_engine).branch_id)
    day = (NOW + timedelta(days=30)).astimezone(local_tz()).date().isoformat()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot,
            "b",
            target.code,
            "enter",  # before the results arrive: it waits for them, then picks the match
            "enter", "c", "enter",  # service: type to find "Colour"
            "tab", "enter", "down", "enter",  # staff
            "tab", day,
            "tab", "1100",
            "tab", "Prefers [quiet] room",
            "ctrl+s",
        )  # fmt: skip
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen), app.screen
        assert target.code in str(app.screen.title)
    with Session(demo_engine) as s:
        booking = s.exec(
            select(Booking)
            .where(col(Booking.customer_id) == target.id)
            .order_by(col(Booking.id).desc())
        ).first()
        assert booking is not None
        assert (booking.service_id, booking.staff_id) == (colour.id, therapist.id)
        assert booking.notes == "Prefers [quiet] room"
        start = booking.start_at.replace(tzinfo=booking.start_at.tzinfo or local_tz())
        assert start.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M") == f"{day} 11:00"


async def test_down_and_enter_before_the_results_pick_the_first_match(
    demo_engine: Engine,
) -> None:
    target = live_customer(demo_engine, offset=7)
    assert target.phone
    fragment = target.phone[-7:]
    with Session(demo_engine) as s:
        expected = picker_data.matches(session=s, text=fragment)[0]
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", fragment, "down", "enter")
        assert isinstance(app.screen, NewBookingScreen)
        chosen = picker(app).customer
        if expected.blocked:
            assert chosen is None
            assert "cannot be booked" in text_of(app.screen.query_one("#picker-hint"))
        else:
            assert chosen is not None and chosen.match.id == expected.id
            assert app.focused is app.screen.query_one("#bk-service")


async def test_double_booked_staff_is_refused_with_a_suggestion(demo_engine: Engine) -> None:
    women_cut = service_named(demo_engine, "Women's cut")
    operator = rita(demo_engine)
    therapist = first_therapist(demo_engine, operator.branch_id)
    start = (
        (NOW + timedelta(days=40))
        .astimezone(local_tz())
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )
    other = live_customer(demo_engine, offset=3)
    taker = live_customer(demo_engine, offset=4)
    with Session(demo_engine) as s:
        bk.create_booking(
            session=s,
            customer_id=other.id or 0,
            service_id=women_cut.id or 0,
            branch_id=operator.branch_id or 0,
            staff_id=therapist.id,
            start_at=start,
            actor=ADMIN,
        )
        s.commit()
    before = count(demo_engine, Booking)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(taker.id)
        await burst(
            pilot,
            "enter",  # keep the pre-filled customer and move on to the service
            "enter", "w", "enter",
            "tab", "enter", "down", "enter",
            "tab", start.date().isoformat(),
            "tab", "10:30",
            "ctrl+s",
        )  # fmt: skip
        assert isinstance(app.screen, NewBookingScreen)
        problem = text_of(app.screen.query_one("#bk-problem"))
        assert "is busy" in problem and "ctrl+t" in problem
        assert other.full_name in problem
        await burst(pilot, "ctrl+t", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    assert count(demo_engine, Booking) == before + 1
    with Session(demo_engine) as s:
        booking = s.exec(
            select(Booking).where(col(Booking.customer_id) == taker.id).order_by(col(Booking.id))
        ).all()[-1]
        local = booking.start_at.replace(tzinfo=booking.start_at.tzinfo or local_tz())
        assert local.astimezone(local_tz()).strftime("%H:%M") == "11:00"


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
        await burst(pilot, "B")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        assert screen.query_one("#bk-service", Select).value == template.service_id
        assert screen.query_one("#bk-staff", Select).value == template.staff_id
        # Nothing entered by hand: escape leaves without asking.
        await burst(pilot, "escape")
        assert isinstance(app.screen, ProfileScreen)


# --------------------------------------------------------------------------- quick add


async def test_quick_add_with_a_taken_phone_offers_the_existing_customer(
    demo_engine: Engine,
) -> None:
    existing = live_customer(demo_engine, offset=12)
    assert existing.phone
    with Session(demo_engine) as s:
        # A name that markup would eat: the offer must show it as typed.
        row = s.get(Customer, existing.id)
        assert row is not None
        row.first_name, row.last_name = "[b]Ann[/b]", "[/] O'Hara"
        s.add(row)
        s.commit()
    before = count(demo_engine, Customer)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", "Zed", "ctrl+n", "tab", "tab", *existing.phone, "ctrl+s")
        modal = app.screen
        assert isinstance(modal, QuickAddModal)
        assert modal.query_one("#q-first_name", Input).value == "Zed"
        offer = text_of(modal.query_one("#q-duplicate", Label))
        assert f"ctrl+l uses {existing.code} [b]Ann[/b] [/] O'Hara for this instead" in offer
        assert "already has this phone" in text_of(modal.query_one("#qe-phone", Label))
        await burst(pilot, "ctrl+l")
        assert isinstance(app.screen, NewBookingScreen)
        chosen = picker(app).customer
        assert chosen is not None and chosen.match.id == existing.id
        assert "[b]Ann[/b] [/] O'Hara" in text_of(app.screen.query_one("#picker-selected"))
        assert app.focused is app.screen.query_one("#bk-service")
    assert count(demo_engine, Customer) == before  # nobody new


async def test_quick_add_escape_keeps_the_typed_text(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", "Nobody Here", "ctrl+n", "escape", "!")
        assert isinstance(app.screen, NewBookingScreen)
        # The key after escape landed in the picker again, after the typed text.
        assert app.screen.query_one("#picker-input", Input).value == "Nobody Here!"


async def test_quick_add_from_an_order_links_the_new_customer(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "o", "Quinn Ordway quinn@example.com", "ctrl+n", "ctrl+s")
        assert isinstance(app.screen, NewOrderScreen)
        chosen = picker(app).customer
        assert chosen is not None and chosen.match.name == "Quinn Ordway"
        assert app.focused is app.screen.query_one("#or-kind")
    with Session(demo_engine) as s:
        customer = s.exec(select(Customer).where(col(Customer.first_name) == "Quinn")).one()
        assert (customer.last_name, customer.email, customer.created_via) == (
            "Ordway",
            "quinn@example.com",
            "order",
        )


# --------------------------------------------------------------------------- order


async def test_order_with_two_lines_and_a_payment(demo_engine: Engine) -> None:
    target = live_customer(demo_engine, offset=10)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot,
            "o",
            target.code, "enter",  # the customer; focus moves to the kind of the first line
            "tab", "enter", "c", "enter",  # item: Colour (catalogue price 90.00)
            "ctrl+l",  # focus moves to the item of the next line
            "shift+tab", "enter", "down", "down", "enter",  # kind: product
            "tab", "tab", "Shampoo [travel]",
            "tab", "2",
            "tab", "12.50",
            "ctrl+l",  # focus moves to the description of the next product
            "tab", "tab", "tab", "tab",  # quantity, price, discount, lines table
            "tab", "enter", "down", "enter",  # method: cash
            "tab", "100",
            "ctrl+s",
        )  # fmt: skip
        assert isinstance(app.screen, ProfileScreen), app.screen
        assert target.code in str(app.screen.title)
    with Session(demo_engine) as s:
        order = s.exec(
            select(Order).where(col(Order.customer_id) == target.id).order_by(col(Order.id).desc())
        ).first()
        assert order is not None
        assert (order.total_cents, order.status) == (11500, "part_paid")
        lines = s.exec(
            select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id))
        ).all()
        assert [(x.description, x.quantity, x.total_cents) for x in lines] == [
            ("Colour", 1, 9000),
            ("Shampoo [travel]", 2, 2500),
        ]
        payments = s.exec(select(Payment).where(col(Payment.order_id) == order.id)).all()
        assert [(p.amount_cents, p.method) for p in payments] == [(10000, "cash")]


async def test_order_lines_show_on_screen_and_a_line_can_be_removed(demo_engine: Engine) -> None:
    target = live_customer(demo_engine, offset=11)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_order(target.id)
        await burst(
            pilot,
            "enter",
            "tab", "enter", "c", "enter", "ctrl+l",
            "enter", "f", "enter", "ctrl+l",
        )  # fmt: skip
        screen = app.screen
        assert isinstance(screen, NewOrderScreen)
        table = screen.query_one("#or-lines", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [
            "Colour",
            "Facial",
        ]
        assert "Total 165.00" in text_of(screen.query_one("#or-total"))
        assert screen.query_one("#or-amount", Input).value == "165.00"
        # From the item: description, quantity, price, discount, then the lines table; the
        # second line highlighted, ctrl+d removes it.
        await burst(pilot, "tab", "tab", "tab", "tab", "tab", "down", "ctrl+d")
        assert app.focused is table
        assert table.row_count == 1 and "Total 90.00" in text_of(screen.query_one("#or-total"))
        assert screen.query_one("#or-amount", Input).value == "90.00"


async def test_order_line_errors_show_next_to_the_field(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_order(live_customer(demo_engine).id)
        await burst(pilot, "enter", "ctrl+l")
        assert "choose a service" in text_of(app.screen.query_one("#ore-item"))
        await burst(pilot, "tab", "enter", "c", "enter", "tab", "tab", "x", "ctrl+l")
        assert "whole number" in text_of(app.screen.query_one("#ore-quantity"))
        assert app.screen.query_one("#or-lines", DataTable).row_count == 0


# --------------------------------------------------------------------------- leaving


async def test_escape_asks_before_discarding_a_booking(demo_engine: Engine) -> None:
    before = count(demo_engine, Booking)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Nothing entered (only the pre-filled customer): escape leaves at once.
        await burst(pilot, "b", "escape")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "b", "Someone", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")  # keep editing: nothing lost
        assert isinstance(app.screen, NewBookingScreen)
        assert app.screen.query_one("#picker-input", Input).value == "Someone"
        await burst(pilot, "escape", "y")
        assert isinstance(app.screen, DirectoryScreen)
        # A changed field counts too.
        await burst(pilot, "b", "enter", "enter", "f", "enter", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "y")
        assert isinstance(app.screen, DirectoryScreen)
    assert count(demo_engine, Booking) == before


async def test_escape_asks_before_discarding_an_order(demo_engine: Engine) -> None:
    before = count(demo_engine, Order)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "o", "escape")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "o", "enter", "tab", "enter", "c", "enter", "ctrl+l")
        assert isinstance(app.screen, NewOrderScreen)
        assert app.screen.query_one("#or-lines", DataTable).row_count == 1
        await burst(pilot, "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")
        assert isinstance(app.screen, NewOrderScreen)
        assert app.screen.query_one("#or-lines", DataTable).row_count == 1
        await burst(pilot, "escape", "y")
        assert isinstance(app.screen, DirectoryScreen)
    assert count(demo_engine, Order) == before


# --------------------------------------------------------------------------- refusals


async def test_blocked_customer_is_refused(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        blocked = s.exec(
            select(Customer).where(
                col(Customer.blocked).is_(True), col(Customer.deleted_at).is_(None)
            )
        ).first()
        assert blocked is not None
        row = s.get(Customer, blocked.id)
        assert row is not None
        row.blocked_reason = "Allergy: [nuts] [/]"  # as typed, never as markup
        s.add(row)
        s.commit()
        code = row.code
    before = count(demo_engine, Booking)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", code)
        options = app.screen.query_one("#picker-matches", OptionList)
        prompt = str(options.get_option_at_index(0).prompt)
        assert "BLOCKED: Allergy: [nuts] [/]" in prompt
        await burst(pilot, "enter", "ctrl+s")  # the only match, then try to book anyway
        assert isinstance(app.screen, NewBookingScreen)
        assert picker(app).customer is None
        hint = text_of(app.screen.query_one("#picker-hint"))
        assert "cannot be booked" in hint and "Allergy: [nuts] [/]" in hint
        assert "Pick the customer first" in text_of(app.screen.query_one("#bk-problem"))
    assert count(demo_engine, Booking) == before


async def test_hostile_names_in_the_picker(demo_engine: Engine) -> None:
    """Markup, links, 100 characters, a VIP colour rich does not know, an alert, control
    characters stored before they were refused: all shown literally, nothing crashes."""
    long_name = "Hostile" + "x" * 93
    with Session(demo_engine) as s:
        vip = s.exec(select(Category).where(col(Category.name) == "VIP")).first()
        if vip is None:
            vip = Category(name="VIP", symbol="★", colour="gold")
        vip.colour = "gold"  # stored before colours were validated
        s.add(vip)
        s.flush()
        made = []
        for number, first in enumerate(
            ["[/]", "[link=file:///etc/passwd]x[/link]", long_name, "[bold red]Vip"]
        ):
            data = svc.CustomerCreate(
                first_name=first, last_name="Hostile", email=f"hostile{number}@example.com"
            )
            made.append(svc.create_customer(actor=ADMIN, session=s, data=data))
        made[3].category_id = vip.id
        s.add(made[3])
        notes.add_note(
            session=s, customer_id=made[3].id, body="Allergy: [nuts]", is_alert=True, actor=ADMIN
        )
        s.commit()
        vip_id, vip_code = made[3].id, made[3].code
        # A city with a terminal escape, stored before the services refused them.
        s.execute(
            text("UPDATE customer SET last_name = :v WHERE id = :id"),
            {"v": "Hostile\x1b[2J", "id": made[0].id},
        )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", "hostile")
        options = app.screen.query_one("#picker-matches", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        joined = "\n".join(prompts)
        assert "[/] Hostile\\x1b[2J" in joined
        assert "[link=file:///etc/passwd]x[/link] Hostile" in joined
        assert long_name in joined
        assert "[bold red]Vip Hostile" in joined and "⚠ alert" in joined
        vip_prompt = next(p for p in options._options if "Vip" in str(p.prompt)).prompt
        assert any("#ffd700" in str(span.style) for span in vip_prompt.spans)  # type: ignore[union-attr]
        # Pick the VIP (type the code: one match) and see the alert as written.
        await burst(pilot, "ctrl+k", vip_code, "enter")
        chosen = picker(app).customer
        assert chosen is not None and chosen.match.id == vip_id
        selected = text_of(app.screen.query_one("#picker-selected"))
        assert "[bold red]Vip Hostile" in selected and "Allergy: [nuts]" in selected
        assert isinstance(app.screen, NewBookingScreen)


# --------------------------------------------------------------------------- from the profile


async def test_order_from_the_profile_shows_there_at_once(demo_engine: Engine) -> None:
    customer = live_customer(demo_engine, offset=10)
    customer_id = customer.id or 0
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(customer_id)
        await burst(
            pilot,
            "o",
            "enter",  # keep the profile's customer
            "tab", "enter", "c", "enter", "ctrl+l",
            "ctrl+s",  # pays the whole 90.00 by card
            "3",  # the Orders tab of the profile, typed before it is back
        )  # fmt: skip
        assert isinstance(app.screen, ProfileScreen)
        with Session(demo_engine) as s:
            order = s.exec(
                select(Order)
                .where(col(Order.customer_id) == customer_id)
                .order_by(col(Order.id).desc())
            ).first()
            assert order is not None and order.total_cents == 9000 and order.status == "paid"
            payments = s.exec(select(Payment).where(col(Payment.order_id) == order.id)).all()
            assert [(p.amount_cents, p.method) for p in payments] == [(9000, "card")]
        table = app.screen.query_one("#o-table", DataTable)
        assert table.get_row_index(str(order.id)) >= 0


async def test_ctrl_k_in_another_field_is_that_fields_own(demo_engine: Engine) -> None:
    """ctrl+k clears the customer from the picker's box only; in the time field it deletes
    to the end of the line, as in any text field (it emptied the picker, and the next keys
    became a customer search)."""
    target = live_customer(demo_engine, offset=5)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "b", target.code, "enter")
        screen = app.screen
        assert isinstance(screen, NewBookingScreen)
        time_box = screen.query_one("#bk-time", Input)
        assert app.focused is screen.query_one("#bk-service")
        await burst(pilot, "tab", "tab", "tab", "ctrl+a", "ctrl+k", "1130")
        assert app.focused is time_box
        # ctrl+a went to the start of the line and ctrl+k deleted all of it.
        assert time_box.value == "1130"
        chosen = picker(app).customer
        assert app.screen is screen and chosen is not None and chosen.match.id == target.id
        await burst(pilot, "home", "ctrl+e", "9")  # ctrl+e: the end of the line, not the form
        assert app.screen is screen and time_box.value == "11309"
        # In the picker's own box it still clears the customer.
        await burst(pilot, "shift+tab", "shift+tab", "shift+tab", "shift+tab", "ctrl+k")
        assert picker(app).customer is None
