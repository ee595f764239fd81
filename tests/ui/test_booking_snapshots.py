"""Snapshot tests of the new-booking and new-order screens and the inline add-customer modal,
reached with the keys a receptionist presses, with hostile data in them.

The picker lists names with markup (``[/]``, ``[link=...]``), a 100-character name, a VIP whose
stored colour is ``gold`` (drawn, never a crash), a blocked customer with a reason in brackets
and an alert note: all shown literally. Render the SVGs with /work/shared/tools/snap2png and
look at them before accepting (``--snapshot-update``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from textual.pilot import Pilot

from frontdesk import app as app_module
from frontdesk.data import customers as svc
from frontdesk.data import notes
from frontdesk.data.models import Category, Customer
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, make_app, settle
from tests.ui.conftest import burst as post_keys

Run = Callable[[Pilot[None]], Awaitable[None]]
LONG = "Hostile" + "x" * 93
# After the customer: service (type to find), staff, date, time, notes.
FILL_BOOKING = [
    "enter", "w", "enter",
    "tab", "enter", "down", "enter",
    "tab", "2026-12-01",
    "tab", "1030",
    "tab", "Prefers [quiet] room",
]  # fmt: skip
# After the customer: Colour at its catalogue price, then two of a product.
TWO_LINES = [
    "tab", "enter", "c", "enter", "ctrl+l",
    "shift+tab", "enter", "down", "down", "enter",
    "tab", "tab", "Shampoo [travel]", "tab", "2", "tab", "12.50", "ctrl+l",
]  # fmt: skip


@pytest.fixture(autouse=True)
def patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded test machine must not let keys overtake each other (see test_booking_flows).
    monkeypatch.setattr(app_module, "KEY_WATCHDOG", 5.0)


@pytest.fixture
def hostile_engine(demo_engine: Engine) -> Iterator[Engine]:
    """Demo data plus customers called "... Hostile" with markup, a long name, a VIP drawn in
    a stored 'gold', an alert, and a blocked one."""
    with Session(demo_engine) as s:
        vip = s.exec(select(Category).where(col(Category.name) == "VIP")).first()
        made = []
        for number, first in enumerate(
            ["[/]Maria", "[link=file:///etc/passwd]x[/link]", LONG, "[bold red]Vip", "Blocked"]
        ):
            made.append(
                svc.create_customer(
                    actor=ADMIN,
                    session=s,
                    data=svc.CustomerCreate(
                        first_name=first,
                        last_name="Hostile",
                        email=f"hostile{number}@example.com",
                        phone=f"+1202555{number:04d}",
                        category_id=vip.id if vip is not None and number == 3 else None,
                    ),
                )
            )
        notes.add_note(
            session=s, customer_id=made[3].id, body="Allergy: [nuts]", is_alert=True, actor=ADMIN
        )
        svc.block_customer(
            session=s, customer_id=made[4].id or 0, reason="Unpaid: [bills] [/]", actor=ADMIN
        )
        s.commit()
        if vip is not None:
            # As older versions stored it: a CSS name the renderer does not know.
            s.execute(update(Category).where(col(Category.id) == vip.id).values(colour="gold"))
            s.commit()
    yield demo_engine


def keys(*parts: str) -> Run:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await post_keys(pilot, *parts, settle_after=False)
        app: Any = pilot.app
        for _ in range(400):
            await settle(pilot)
            if not app._key_backlog and app._key_in_flight is None:
                break
            await pilot.pause(0.05)
        await settle(pilot, 0.2)

    return run


def code_of(engine: Engine, first_name: str) -> str:
    with Session(engine) as s:
        return s.exec(select(Customer).where(col(Customer.first_name) == first_name)).one().code


def test_booking_picker_with_hostile_matches(snap_compare: Any, hostile_engine: Engine) -> None:
    assert snap_compare(
        make_app(hostile_engine), terminal_size=SIZE, run_before=keys("b", "hostile")
    )


def test_booking_filled_for_a_vip_with_an_alert(snap_compare: Any, hostile_engine: Engine) -> None:
    code = code_of(hostile_engine, "[bold red]Vip")
    assert snap_compare(
        make_app(hostile_engine),
        terminal_size=SIZE,
        run_before=keys("b", code, "enter", *FILL_BOOKING),
    )


def test_booking_refuses_a_blocked_customer(snap_compare: Any, hostile_engine: Engine) -> None:
    code = code_of(hostile_engine, "Blocked")
    assert snap_compare(
        make_app(hostile_engine),
        terminal_size=SIZE,
        run_before=keys("b", code, "enter", "ctrl+s"),
    )


def test_order_with_two_lines(snap_compare: Any, hostile_engine: Engine) -> None:
    code = code_of(hostile_engine, "[/]Maria")
    assert snap_compare(
        make_app(hostile_engine),
        terminal_size=SIZE,
        run_before=keys("o", code, "enter", *TWO_LINES),
    )


def test_quick_add_modal_prefilled(snap_compare: Any, hostile_engine: Engine) -> None:
    assert snap_compare(
        make_app(hostile_engine),
        terminal_size=SIZE,
        run_before=keys("b", "[Zed] Newcomer 202 555 0199", "ctrl+n"),
    )


def test_quick_add_modal_offers_the_existing_customer(
    snap_compare: Any, hostile_engine: Engine
) -> None:
    assert snap_compare(
        make_app(hostile_engine),
        terminal_size=SIZE,
        run_before=keys("b", "Zed", "ctrl+n", "tab", "tab", *"+12025550000", "ctrl+s"),
    )
