"""Pilot tests of the "Deleted customers" screen: a customer deleted some time ago is found
from the directory (``U``) by part of their name and restored (``r``, ``y``) with the bookings
the delete cancelled; a hostile name is shown literally; a restore refused because their
phone is another live customer's now changes nothing and says so. Keys at full speed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import bookings as bk
from frontdesk.data import customers as svc
from frontdesk.data import delete_flow as flow
from frontdesk.data.models import Booking, Customer
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.deleted import DeletedScreen
from frontdesk.screens.directory import DirectoryScreen
from tests.actors import ADMIN, DESK
from tests.ui.conftest import NOW, SIZE, add_therapist, burst, make_app, settle, wait_until
from tests.ui.test_delete_flows import maria_with_bookings, messages, screen_text

HOSTILE = "[bold]Aaron [VIP]"


def add_and_delete(engine: Engine, first: str, last: str, phone: str) -> tuple[int, str]:
    """A customer deleted through the service (as another desk would): (id, code)."""
    with Session(engine) as s:
        customer = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name=first, last_name=last, phone=phone),
            actor=ADMIN,
        )
        flow.delete_customers(session=s, customer_ids=[customer.id or 0], actor=DESK, now=NOW)
        s.commit()
        return customer.id or 0, customer.code


def deleted_at(engine: Engine, customer_id: int) -> Any:
    with Session(engine) as s:
        customer = s.get(Customer, customer_id)
        assert customer is not None
        return customer.deleted_at


def listed(app: Any) -> list[str]:
    screen = app.screen
    assert isinstance(screen, DeletedScreen)
    return [row.name for row in screen.rows.values()]


async def test_find_and_restore_a_deleted_customer(demo_engine: Engine) -> None:
    aaron, code = add_and_delete(demo_engine, "[bold]Aaron", "[VIP]", "+31 6 11112222")
    add_and_delete(demo_engine, "Berta", "Gone", "+31 6 11113333")
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # From the directory: U, part of the name, to the list, restore, yes — all at once.
        await burst(pilot, "U", "aaro", "enter", "r")
        assert isinstance(app.screen, ConfirmModal)
        assert str(app.screen.question).startswith(f"Restore {code} {HOSTILE}?")
        await burst(pilot, "y")
        await wait_until(pilot, lambda: deleted_at(demo_engine, aaron) is None)
        await wait_until(pilot, lambda: "Restored 1 customer" in messages(app))
        assert isinstance(app.screen, DeletedScreen)
        assert listed(app) == []  # the row is gone (the search still says "aaro")
        assert "No deleted customer matches aaro" in screen_text(app)

        # The search cleared: Berta is still there, Aaron is not.
        await burst(pilot, "slash", *["backspace"] * 4)
        await wait_until(pilot, lambda: listed(app) == ["Berta Gone"])

        # Back in the directory, Aaron is found again.
        await burst(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "slash", "aaron", "enter")
        directory = app.screen
        await wait_until(pilot, lambda: aaron in [c.id for c in directory.rows])
        assert HOSTILE in screen_text(app)


async def test_hostile_and_long_names_are_shown_literally(demo_engine: Engine) -> None:
    add_and_delete(demo_engine, "[bold]Aaron", "[VIP]", "+31 6 11112222")
    long_name = "L" + "o" * 98 + "ng"  # 101 characters with the first name
    add_and_delete(demo_engine, "Zed", long_name[:100], "+31 6 11114444")
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "U")
        assert isinstance(app.screen, DeletedScreen)
        await wait_until(pilot, lambda: len(listed(app)) == 2)
        shown = screen_text(app)
        assert HOSTILE in shown and "[/bold]" not in shown
        assert "Zed Loooo" in shown and "…" in shown  # cut to its column, not the table
        assert "2 deleted customers, most recently deleted first" in shown
        assert "Test desk" in shown  # who deleted them


async def test_a_refused_restore_changes_nothing(demo_engine: Engine) -> None:
    aaron, code = add_and_delete(demo_engine, "Aaron", "Taken", "+31 6 11112222")
    with Session(demo_engine) as s:  # meanwhile the number went to someone else
        other = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Olga", last_name="Other", phone="+31611112222"),
            actor=ADMIN,
        )
        s.commit()
        other_code = other.code
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "U", "taken", "enter", "r", "y")
        await wait_until(pilot, lambda: any("Not restored" in m for m in messages(app)))
        [said] = [n for n in app._notifications if "Not restored" in str(n.message)]
        assert said.severity == "error"
        assert f"{code} Aaron Taken" in str(said.message)
        assert f"{other_code} Olga Other already has this phone" in str(said.message)
        assert deleted_at(demo_engine, aaron) is not None
        assert not any(m.startswith("Restored") for m in messages(app))
        assert isinstance(app.screen, DeletedScreen)
        # The list is read again (a customer erased meanwhile would leave it): still there.
        await wait_until(pilot, lambda: listed(app) == ["Aaron Taken"])


async def test_restore_says_which_bookings_could_not_be_reopened(demo_engine: Engine) -> None:
    maria = maria_with_bookings(demo_engine)
    with Session(demo_engine) as s:
        flow.delete_customers(session=s, customer_ids=[maria["id"]], actor=DESK, now=NOW)
        other = s.exec(select(Customer).where(svc.live()).order_by(col(Customer.id))).first()
        assert other is not None
        bk.create_booking(  # the first slot is taken meanwhile
            session=s,
            customer_id=other.id or 0,
            service_id=maria["service"],
            branch_id=maria["branch"],
            staff_id=maria["staff"],
            start_at=maria["first_at"],
            actor=ADMIN,
        )
        other_code = other.code
        s.commit()
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "U", "lopez", "down", "enter", "y")  # enter on a row restores too
        await wait_until(pilot, lambda: deleted_at(demo_engine, maria["id"]) is None)
        await wait_until(pilot, lambda: any(m.startswith("Restored") for m in messages(app)))
        said = messages(app)
        assert "Restored 1 customer; 1 booking re-opened; 1 booking could not be re-opened" in said
        [why] = [m for m in said if m.startswith(f"Booking #{maria['bookings'][0]} (")]
        assert f"slot taken by {other_code}" in why
        with Session(demo_engine) as s:
            second = s.get(Booking, maria["bookings"][1])
            assert second is not None and second.status == "confirmed"


async def test_only_the_roles_that_delete_see_it(demo_engine: Engine) -> None:
    add_therapist(demo_engine)
    desk = make_app(demo_engine, staff="rita")
    async with desk.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in desk.get_system_commands(desk.screen)]
        assert "Deleted customers" in titles
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Deleted customers" not in titles
        await burst(pilot, "U")
        assert isinstance(app.screen, DirectoryScreen)
        app.action_deleted_customers()  # the palette's command refuses too
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert any("may not delete customers" in m for m in messages(app))
