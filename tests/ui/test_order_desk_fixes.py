"""Pilot tests of three order bugs a tester found, keys pressed as a fast receptionist does.

- A product line: the (empty) item list must not take the focus, so that the name typed after
  ``tab`` lands in the description and every later field keeps its place.
- The payment dialog opens with the amount still due (selected: typing replaces it).
- The refund dialog says what was paid and what can still be refunded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import Input, Label

from frontdesk.data import orders as od
from frontdesk.data.models import Order, OrderLine, Payment, Refund, Staff
from frontdesk.screens.order import NewOrderScreen
from frontdesk.screens.profile import PaymentModal, ProfileScreen
from frontdesk.screens.profile.modals import RefundModal
from tests.ui.conftest import SIZE, burst, make_app, settle
from tests.ui.test_booking_flows import live_customer
from tests.ui.test_profile_flows import make_hostile, open_profile

PRODUCT = ("enter", "down", "down", "enter")  # the kind list, from Service to Product


def title(app: Any) -> str:
    return str(app.screen.query_one(".dialog-title", Label).render())


def latest_order(engine: Engine, customer_id: int) -> Order:
    with Session(engine) as s:
        order = s.exec(
            select(Order)
            .where(col(Order.customer_id) == customer_id)
            .order_by(col(Order.id).desc())
        ).first()
        assert order is not None
        return order


def lines_of(engine: Engine, order_id: int) -> list[tuple[str, str, int, int, int, int]]:
    with Session(engine) as s:
        rows = s.exec(
            select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
        ).all()
        return [
            (x.kind, x.description, x.quantity, x.unit_price_cents, x.discount_cents, x.total_cents)
            for x in rows
        ]


# --------------------------------------------------------------------------- product line


async def test_product_name_typed_after_tab_lands_in_the_description(demo_engine: Engine) -> None:
    """Kind Product, tab, the name, tab 2, tab 15, tab 5 (the discount), ctrl+l: the line is
    Shampoo x2 at 15.00 less 5.00; nothing typed is lost."""
    target = live_customer(demo_engine, offset=12)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot,
            "o",
            target.code, "enter",  # the customer; the focus moves to the kind
            *PRODUCT,
            "tab", "Shampoo",  # the item list of a product is empty: skipped
            "tab", "2",  # quantity
            "tab", "15",  # unit price
            "tab", "5",  # discount
            "ctrl+l",
        )  # fmt: skip
        screen = app.screen
        assert isinstance(screen, NewOrderScreen)
        assert app.focused is screen.query_one("#or-desc")  # ready for the next product
        # A second product straight away, typed the same way.
        await burst(pilot, "Conditioner [large]", "tab", "tab", "8.50", "ctrl+l", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen), app.screen
    order = latest_order(demo_engine, target.id or 0)
    assert lines_of(demo_engine, order.id or 0) == [
        ("product", "Shampoo", 2, 1500, 500, 2500),
        ("product", "Conditioner [large]", 1, 850, 0, 850),
    ]
    assert order.total_cents == 3350


async def test_typing_on_the_empty_item_list_adds_to_the_description(demo_engine: Engine) -> None:
    """Back on the (empty) item list of a product, what is typed goes on after the name."""
    target = live_customer(demo_engine, offset=14)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "o", target.code, "enter", *PRODUCT, "tab", "tab", "Sham")
        await burst(pilot, "shift+tab", "poo", "tab", "3", "tab", "4", "ctrl+l", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen), app.screen
    order = latest_order(demo_engine, target.id or 0)
    assert lines_of(demo_engine, order.id or 0) == [("product", "Shampoo", 3, 400, 0, 1200)]


async def test_back_to_a_service_the_item_list_takes_the_focus_again(demo_engine: Engine) -> None:
    target = live_customer(demo_engine, offset=13)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "o", target.code, "enter", *PRODUCT, "enter", "up", "up", "enter")
        assert isinstance(app.screen, NewOrderScreen)
        await burst(pilot, "tab", "enter", "c", "enter", "ctrl+l", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen), app.screen
    order = latest_order(demo_engine, target.id or 0)
    assert [(k, d) for k, d, *_ in lines_of(demo_engine, order.id or 0)] == [("service", "Colour")]


# --------------------------------------------------------------------------- payment dialog


async def test_payment_dialog_offers_the_amount_due_and_enter_takes_it(
    demo_engine: Engine,
) -> None:
    who = make_hostile(demo_engine, blocked=False)
    order_id = who.orders[0]
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        total = od.money_of(session=s, order_id=order_id).total
        od.take_payment(session=s, order_id=order_id, amount_cents=total - 2000, actor=rita)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "p")
        assert isinstance(app.screen, PaymentModal)
        assert app.screen.query_one("#m-amount", Input).value == "20.00"
        await burst(pilot, "enter")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        paid = s.exec(select(Payment.amount_cents).where(col(Payment.order_id) == order_id)).all()
        assert sorted(paid) == sorted([total - 2000, 2000])
        assert od.money_of(session=s, order_id=order_id).due == 0


async def test_typing_in_the_payment_dialog_replaces_the_amount_due(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    order_id = who.orders[0]
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "p", "12.5", "tab", "enter", "down", "enter")
        assert isinstance(app.screen, PaymentModal)
        assert app.screen.query_one("#m-amount", Input).value == "12.5"
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        payments = s.exec(select(Payment).where(col(Payment.order_id) == order_id)).all()
        assert [(p.amount_cents, p.method) for p in payments] == [(1250, "cash")]


async def test_payment_dialog_of_a_paid_then_refunded_order_offers_nothing(
    demo_engine: Engine,
) -> None:
    """Refunded money is not due again (the service refuses it): no amount is offered."""
    who = make_hostile(demo_engine, blocked=False)
    order_id = who.orders[0]
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        total = od.money_of(session=s, order_id=order_id).total
        od.take_payment(session=s, order_id=order_id, amount_cents=total, actor=rita)
        od.refund(session=s, order_id=order_id, amount_cents=1000, reason="Faded", actor=rita)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "p")
        assert isinstance(app.screen, PaymentModal)
        assert app.screen.query_one("#m-amount", Input).value == ""
        assert title(app) == f"Take a payment on order #{order_id} (due 0.00)"


# --------------------------------------------------------------------------- refund dialog


async def test_refund_dialog_says_what_was_paid_and_what_can_still_be_refunded(
    demo_engine: Engine,
) -> None:
    who = make_hostile(demo_engine, blocked=False)
    order_id = who.orders[0]
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        total = od.money_of(session=s, order_id=order_id).total
        od.take_payment(session=s, order_id=order_id, amount_cents=total, actor=rita)
        od.refund(session=s, order_id=order_id, amount_cents=1050, reason="Faded", actor=rita)
        s.commit()
    paid, left = f"{total / 100:,.2f}", f"{(total - 1050) / 100:,.2f}"
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "R")
        assert isinstance(app.screen, RefundModal)
        assert (
            title(app) == f"Refund on order #{order_id} (paid {paid}, {left} can still be refunded)"
        )
        await burst(pilot, "escape")
    with Session(demo_engine) as s:
        assert len(s.exec(select(Refund).where(col(Refund.order_id) == order_id)).all()) == 1
