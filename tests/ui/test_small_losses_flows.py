"""Pilot tests of issue 11, "small ways input is lost", keys pressed as a fast typist does.

A refused number stays in its dialog with the message under the field; a booking already past
is asked about; the ledger search finds what its cells show; enrolment notes are shown; alert
notes read as one plain line; the timeline reads as a person would say it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, Markdown, Static

from frontdesk.data import customers as svc
from frontdesk.data import notes as note_svc
from frontdesk.data import rewards
from frontdesk.data.models import (
    Booking,
    Customer,
    LoyaltyEnrolment,
    NoteCategory,
    Payment,
    Refund,
    Staff,
)
from frontdesk.screens.booking import NewBookingScreen, local_tz
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.profile import EnrolModal, PaymentModal, ProfileScreen
from frontdesk.screens.profile.modals import RefundModal
from tests.ui.conftest import NOW, SIZE, burst, make_app, settle
from tests.ui.test_profile_flows import cells, make_hostile, open_profile, screen_text


def value(app: Any, selector: str) -> str:
    return app.screen.query_one(selector, Input).value


def message(app: Any, selector: str) -> str:
    label = app.screen.query_one(selector, Label)
    return str(label.render()) if label.display else ""


# --------------------------------------------------------------------------- numbers


async def test_refund_keeps_what_was_typed_and_says_why_under_the_amount(
    demo_engine: Engine,
) -> None:
    who = make_hostile(demo_engine, blocked=False)
    order_id = who.orders[0]
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "p", "30", "enter")  # paid 30.00
        assert isinstance(app.screen, ProfileScreen)
        await burst(pilot, "R", "ten", "enter")
        assert isinstance(app.screen, RefundModal)
        assert "not an amount" in message(app, "#m-amount-error")
        assert app.focused is app.screen.query_one("#m-amount")
        # fixed, with a reason: more than was paid is refused by the service, on the amount
        await burst(pilot, "end", "ctrl+u", "50", "tab", "Colour [faded]", "enter")
        assert isinstance(app.screen, RefundModal)
        assert "at most 30.00" in message(app, "#m-amount-error").lower()
        assert value(app, "#m-amount") == "50" and value(app, "#m-reason") == "Colour [faded]"
        assert app.focused is app.screen.query_one("#m-amount")
        await burst(pilot, "end", "ctrl+u", "10", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        row = next(r for r in cells(app, "#o-table") if r[0] == f"#{order_id}")
        assert row[5:] == ["30.00", "10.00", "part refunded"]
    with Session(demo_engine) as s:
        refunds = s.exec(select(Refund).where(col(Refund.order_id) == order_id)).all()
        assert [(r.amount_cents, r.reason) for r in refunds] == [(1000, "Colour [faded]")]


async def test_payment_over_the_total_stays_in_the_dialog(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "3", "p", "5000", "enter")
        assert isinstance(app.screen, PaymentModal)
        assert message(app, "#m-amount-error")  # said under the amount
        assert value(app, "#m-amount") == "5000"
        await burst(pilot, "escape")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        assert not s.exec(select(Payment).where(col(Payment.order_id).in_(who.orders))).all()


async def test_enrol_refuses_a_bad_balance_under_the_field_then_shows_the_notes(
    demo_engine: Engine,
) -> None:
    with Session(demo_engine) as s:
        enrolled = set(s.exec(select(LoyaltyEnrolment.customer_id)).all())
        cid = next(
            c.id or 0
            for c in s.exec(select(Customer).order_by(col(Customer.id)))
            if c.id not in enrolled and c.is_live
        )
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, cid, "4", "n")
        assert isinstance(app.screen, EnrolModal)
        await burst(
            pilot, "tab", "end", "ctrl+u", "lots", "tab", "tab", "Met at the **summer** fair"
        )
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, EnrolModal)
        assert "not a starting balance" in message(app, "#m-balance-error")
        assert value(app, "#m-notes") == "Met at the **summer** fair"
        await burst(pilot, "end", "ctrl+u", "20", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
        row = cells(app, "#r-enrolments")[0]
        assert row[:2] == ["Reward points", "20 points"]
        assert row[-1] == "Met at the summer fair"
    with Session(demo_engine) as s:
        e = s.exec(select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.customer_id) == cid)).one()
        assert (e.balance, e.notes) == (20, "Met at the **summer** fair")


async def test_ledger_search_finds_what_the_points_column_shows(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        for points, reason in ((25, "Birthday"), (1000, "Big spender"), (-25, "Free tea")):
            rewards.change_points(
                session=s,
                enrolment_id=who.enrolments[0],
                points=points,
                reason=reason,
                actor=rita,
            )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "4", "slash", "+25")
        assert [r[3:5] for r in cells(app, "#r-table")] == [["added", "Birthday"]]
        await burst(pilot, "end", "ctrl+u", "+1,000")
        assert [r[4] for r in cells(app, "#r-table")] == ["Big spender"]
        await burst(pilot, "end", "ctrl+u", "-25")
        assert [r[4] for r in cells(app, "#r-table")] == ["Free tea"]


# --------------------------------------------------------------------------- bookings


def _today_service_keys() -> list[str]:
    return ["enter", "enter", "w", "enter"]  # keep the customer, a service starting with w


async def test_booking_already_past_asks_then_back_keeps_everything(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    today = NOW.astimezone(local_tz()).date().isoformat()
    past = (NOW.astimezone(local_tz()).hour - 2) % 24
    time = f"{past:02d}:00"
    before = _count(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(who.id)
        await burst(pilot, *_today_service_keys(), "tab", "tab", today, "tab", time)
        await burst(pilot, "tab", "Came in early", "ctrl+s")
        assert isinstance(app.screen, ConfirmModal)
        question = str(app.screen.query_one("#question", Label).render())
        assert f"{time} is already past" in question and "walk-in" in question
        await burst(pilot, "n")
        assert isinstance(app.screen, NewBookingScreen)
        assert (value(app, "#bk-date"), value(app, "#bk-time")) == (today, time)
        assert value(app, "#bk-notes") == "Came in early"
        assert "already past" in str(app.screen.query_one("#bke-time", Label).render())
        assert _count(demo_engine) == before  # nothing saved
        await burst(pilot, "ctrl+s", "y")
        assert isinstance(app.screen, ProfileScreen)
        said = [str(n.message) for n in app._notifications]
    with Session(demo_engine) as s:
        booking = s.exec(
            select(Booking).where(col(Booking.customer_id) == who.id).order_by(col(Booking.id))
        ).all()[-1]
        assert (booking.status, booking.source, booking.notes) == (
            "completed",
            "walk-in",
            "Came in early",
        )
    assert _count(demo_engine) == before + 1
    # Said once, as what it is (it was also announced as "confirmed").
    assert f"Booking #{booking.id} recorded as a walk-in that happened" in said
    assert not any("confirmed" in line for line in said)


async def test_booking_later_today_is_booked_without_a_question(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    local = NOW.astimezone(local_tz())
    today = local.date().isoformat()
    time = f"{min(local.hour + 2, 23):02d}:00"
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_booking(who.id)
        await burst(pilot, *_today_service_keys(), "tab", "tab", today, "tab", time, "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    with Session(demo_engine) as s:
        booking = s.exec(
            select(Booking).where(col(Booking.customer_id) == who.id).order_by(col(Booking.id))
        ).all()[-1]
        assert (booking.status, booking.source) == ("confirmed", "desk")


def _count(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Booking)).all())


# --------------------------------------------------------------------------- notes


PATCH = "# Patch test\n- **Severe** nut allergy [x]"


async def test_alert_note_is_one_plain_line_and_the_note_renders_markdown(
    demo_engine: Engine,
) -> None:
    who = make_hostile(demo_engine, blocked=False)
    with Session(demo_engine) as s:
        alert = s.exec(select(NoteCategory).where(col(NoteCategory.is_alert).is_(True))).first()
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        note_svc.add_note(
            session=s,
            customer_id=who.id,
            body=PATCH,
            category_id=alert.id if alert else None,
            is_alert=True,
            pinned=True,
            actor=rita,
        )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_profile(pilot, who.id, "5")
        header = str(app.screen.query_one("#p-alerts", Static).render())
        assert "⚠ Patch test · Severe nut allergy [x]" in header
        assert "#" not in header and "**" not in header
        summaries = [r[2] for r in cells(app, "#n-table")]
        assert "Patch test · Severe nut allergy [x]" in summaries
        # the note itself (the preview of the highlighted note) renders the Markdown
        first = summaries.index("Patch test · Severe nut allergy [x]")
        await burst(pilot, "home", *["down"] * first)
        preview = app.screen.query_one("#n-preview-body", Markdown)
        assert preview.source == PATCH
        shown = screen_text(app)
        assert "Patch test" in shown and "**Severe**" not in shown
        # booking card: the picker's alert line is the summary too
        app.new_booking(who.id)
        await settle(pilot)
        await settle(pilot, 0.3)
        card = str(app.screen.query_one("#picker-selected", Static).render())
        assert "⚠ Patch test · Severe nut allergy [x]" in card


# --------------------------------------------------------------------------- timeline


async def test_timeline_reads_as_a_person_would_say_it(demo_engine: Engine) -> None:
    who = make_hostile(demo_engine, blocked=False)
    with Session(demo_engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        svc.block_customer(session=s, customer_id=who.id, reason="owes [money]", actor=rita)
        svc.unblock_customer(session=s, customer_id=who.id, actor=rita)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_profile(pilot, who.id, "6")
        texts = [r[2] for r in cells(app, "#t-table")]
        assert "Blocked by Rita Reception: owes [money]" in texts
        assert "Unblocked by Rita Reception" in texts
        joined = "\n".join(texts)
        assert "True" not in joined and "blocked:" not in joined
        table = app.screen.query_one("#t-table", DataTable)
        assert table.row_count == len(texts)


async def test_order_payment_that_is_not_an_amount_is_refused_next_to_it(
    demo_engine: Engine,
) -> None:
    from frontdesk.data.models import Order
    from frontdesk.screens.order import NewOrderScreen

    who = make_hostile(demo_engine, blocked=False)
    with Session(demo_engine) as s:
        before = len(s.exec(select(Order)).all())
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.new_order(who.id)
        await burst(pilot, "enter", "tab", "enter", "c", "enter", "ctrl+l")
        amount = app.screen.query_one("#or-amount", Input)
        amount.focus()
        await burst(pilot, "end", "ctrl+u", "ten", "ctrl+s")
        assert isinstance(app.screen, NewOrderScreen)
        assert "not an amount" in str(app.screen.query_one("#ore-amount", Label).render())
        assert value(app, "#or-amount") == "ten"
        assert app.screen.query_one("#or-lines", DataTable).row_count == 1  # the line stays
    with Session(demo_engine) as s:
        assert len(s.exec(select(Order)).all()) == before
