"""The screens hide and refuse what the operator's role cannot do (DESIGN.md section 7)."""

from __future__ import annotations

import os
from unittest.mock import patch

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from frontdesk.data import roles
from frontdesk.screens.directory import DirectoryScreen
from tests.ui.conftest import NOW, SIZE, add_therapist, burst, make_app, settle


def test_the_role_table() -> None:
    from frontdesk.data.models import Staff

    admin = Staff(name="A", role="admin")
    desk = Staff(name="R", role="reception")
    therapist = Staff(name="T", role="therapist")
    assert roles.allowed(admin, "settings")
    assert not roles.allowed(desk, "settings")
    assert roles.allowed(desk, "book") and roles.allowed(desk, "import")
    assert not roles.allowed(therapist, "book") and roles.allowed(therapist, "notes")
    assert not roles.allowed(desk, "merge.many") and roles.allowed(admin, "merge.many")
    assert roles.allowed(None, "read") and not roles.allowed(None, "book")
    assert "may not change settings" in str(roles.NotAllowed("settings", desk))


async def test_reception_cannot_open_settings(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.operator is not None and app.operator.role == "reception"
        await burst(pilot, "escape", "S")
        assert isinstance(app.screen, DirectoryScreen)
        assert any("may not change settings" in n.message for n in app._notifications)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Settings" not in commands and "New booking" in commands


async def test_a_therapist_cannot_book_or_order(demo_engine: Engine) -> None:
    add_therapist(demo_engine)
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "b")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "o", "I")
        assert isinstance(app.screen, DirectoryScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "New booking" not in commands and "New order" not in commands


async def test_a_key_the_role_may_not_use_is_hidden_and_says_why(demo_engine: Engine) -> None:
    """A therapist's keys panel lists none of the keys their role may not use (the app's b,
    o, D ... and the directory's n, U ...); pressed anyway, at full speed, each says why and
    opens nothing. Typed into the search box, the same letters are text."""
    add_therapist(demo_engine)
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        shown = {b.binding.action for b in screen.active_bindings.values()}
        for hidden in ("new", "deleted", "merge", "new_booking", "new_order", "duplicates"):
            assert hidden not in shown
        assert "day_sheet" in shown and "filters" in shown  # what a therapist may do stays
        await burst(pilot, "escape", "n", "U", "o", "D", "b")
        assert app.screen is screen
        said = [n.message for n in app._notifications]
        for why in (
            "may not add or change customers",
            "may not delete customers",
            "may not take orders",
            "may not merge customers",
            "may not book appointments",
        ):
            assert any(why in m for m in said), (why, said)
        app._notifications.clear()
        await burst(pilot, "slash", "n", "o", "b")
        assert screen.query_one("#search", Input).value == "nob"
        assert not app._notifications
        # The day sheet's keys with an argument ("change('complete')") say why too; with
        # the branch filter focused, a letter is no action for anyone and says nothing.
        await burst(pilot, "escape", "escape", "T", "d", "x")
        sheet = app.screen
        assert type(sheet).__name__ == "DaySheetScreen"
        said = [n.message for n in app._notifications]
        assert len(said) == 2 and all("may not book appointments" in m for m in said), said
        app._notifications.clear()
        await burst(pilot, "B", "b")
        assert isinstance(app.focused, Select)
        assert app.screen is sheet and not app._notifications


async def test_an_admin_opens_settings(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "S")
        assert type(app.screen).__name__ == "SettingsScreen"


def _busy_customer(engine: Engine) -> tuple[int, str, str, int]:
    """A customer with an open booking by a therapist, bookings by other staff too, a paid
    order and points (what a therapist must not change): (customer id, the therapist's
    username, their name, how many of the customer's bookings are theirs)."""
    from sqlalchemy import text

    with Session(engine) as s:
        row = s.execute(
            text(
                "SELECT b.customer_id, st.username, st.name,"
                " (SELECT COUNT(*) FROM booking x WHERE x.customer_id = b.customer_id"
                "  AND x.staff_id = st.id)"
                " FROM booking b JOIN staff st ON st.id = b.staff_id"
                " AND st.role = 'therapist' AND st.username IS NOT NULL"
                " JOIN loyalty_enrolment e ON e.customer_id = b.customer_id AND e.balance > 0"
                "  AND e.removed_at IS NULL"
                " WHERE b.status IN ('pending', 'confirmed')"
                " AND EXISTS (SELECT 1 FROM payment p JOIN orders o ON o.id = p.order_id"
                "  WHERE o.customer_id = b.customer_id)"
                " AND EXISTS (SELECT 1 FROM booking y WHERE y.customer_id = b.customer_id"
                "  AND y.staff_id != st.id)"
                " ORDER BY b.customer_id LIMIT 1"
            )
        ).first()
    assert row is not None, "the demo data has such a customer"
    return int(row[0]), str(row[1]), str(row[2]), int(row[3])


def _state(engine: Engine) -> tuple[object, ...]:
    """Everything a profile key could change (counts and statuses)."""
    from sqlalchemy import text

    queries = (
        "SELECT COUNT(*) FROM audit_event",
        "SELECT group_concat(status) FROM (SELECT status FROM booking ORDER BY id)",
        "SELECT group_concat(status) FROM (SELECT status FROM orders ORDER BY id)",
        "SELECT COUNT(*) FROM payment",
        "SELECT COUNT(*) FROM refund",
        "SELECT COUNT(*) FROM points_entry",
        "SELECT COUNT(*) FROM loyalty_enrolment WHERE removed_at IS NULL",
        "SELECT COUNT(*) FROM customer WHERE deleted_at IS NULL",
    )
    with Session(engine) as s:
        return tuple(s.execute(text(q)).scalar() for q in queries)


def _points_earned_on_payment(engine: Engine, customer_id: int) -> str:
    """Give the customer points for one of their orders (as a program earning per
    currency unit does); returns the entry's reason."""
    from frontdesk.data import rewards
    from frontdesk.data.models import LoyaltyEnrolment, Order
    from tests.actors import DESK

    reason = "Earned on payment of order"
    with Session(engine) as s:
        enrolment = s.exec(
            select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.customer_id) == customer_id)
        ).first()
        order = s.exec(select(Order).where(col(Order.customer_id) == customer_id)).first()
        assert enrolment is not None and order is not None
        with patch.object(rewards, "utcnow", lambda: NOW):  # pictures keep their date
            rewards.change_points(
                session=s,
                enrolment_id=enrolment.id or 0,
                points=45,
                reason=reason,
                order_id=order.id,
                actor=DESK,
            )
        s.commit()
    return reason


def _text(renderable: object) -> str:
    """What a rich renderable (the overview's figures table) shows, as plain text."""
    from rich.console import Console

    console = Console(width=160, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def _actions(app: object) -> set[str]:
    """The actions the footer offers now (bindings a role may not use are hidden)."""
    return {b.binding.action for b in app.active_bindings.values()}  # type: ignore[attr-defined]


async def test_a_therapists_profile_offers_no_booking_order_or_points_keys(
    demo_engine: Engine,
) -> None:
    from frontdesk.screens.profile import ProfileScreen

    customer_id, username, name, theirs = _busy_customer(demo_engine)
    made_by_payment = _points_earned_on_payment(demo_engine, customer_id)
    before = _state(demo_engine)
    app = make_app(demo_engine, staff=username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(customer_id)
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        depth = len(app.screen_stack)
        shown = _actions(app)
        assert not shown & {"book", "follow_up", "order", "edit"}, shown
        # Their keys do nothing here; the app's own b / o say why.
        await burst(pilot, "b", "B", "o", "e")
        assert isinstance(app.screen, ProfileScreen) and len(app.screen_stack) == depth
        assert any("may not book" in n.message for n in app._notifications)

        # No money: no Orders tab (3 says why and stays), no income on the overview.
        assert not app.screen.query("TabPane#orders")
        stats = _text(app.screen.query_one("#p-stats", Static).content)
        assert "Total visits" in stats and "Total income" not in stats
        # Their own bookings with the customer only, and said so (the customer has others').
        assert "Counted from your own bookings with this customer" in stats
        upcoming = next(line for line in stats.splitlines() if "Upcoming bookings" in line)
        with Session(demo_engine) as s:
            from sqlalchemy import text

            mine = s.execute(
                text(
                    "SELECT COUNT(*) FROM booking b JOIN staff st ON st.id = b.staff_id"
                    " WHERE b.customer_id = :c AND st.username = :u"
                    " AND b.status IN ('pending', 'confirmed') AND b.start_at >= :now"
                ),
                {"c": customer_id, "u": username, "now": NOW.replace(tzinfo=None)},
            ).scalar()
        assert upcoming.split()[2] == f"{mine:,}", upcoming
        await burst(pilot, "3", "p", "R", "X")
        assert app.screen.query_one("#tabs", TabbedContent).active == "overview"
        assert any("may not see orders" in n.message for n in app._notifications)
        assert len(app.screen_stack) == depth

        tabs = {
            "2": {"change('confirm')", "change('complete')", "change('cancel')"},
            "4": {"enrol", "points(1)", "points(-1)", "expiry", "remove"},
        }
        keys = {"2": "cdxwt", "4": "nartX"}
        for tab, hidden in tabs.items():
            await burst(pilot, tab)
            if tab == "2":  # their own bookings only (the customer has others' too)
                table = app.screen.query_one("#b-table", DataTable)
                staff = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
                assert table.row_count == theirs and staff == {name}, staff
            if tab == "4":  # the ledger without the payment's points, and a line saying so
                await settle(pilot)
                ledger = app.screen.query_one("#r-table", DataTable)
                reasons = {str(ledger.get_row_at(i)[4]) for i in range(ledger.row_count)}
                assert ledger.row_count and made_by_payment not in reasons, reasons
                line = app.screen.query_one("#r-not-shown", Static)
                assert line.display and "1 entry made by payments and refunds" in str(line.render())
                totals = {str(ledger.get_row_at(i)[6]) for i in range(ledger.row_count)}
                assert totals == {""}, totals  # no running totals either
            shown = _actions(app)
            assert not shown & hidden, (tab, shown)
            await burst(pilot, *keys[tab])
            assert isinstance(app.screen, ProfileScreen), (tab, app.screen)
            assert len(app.screen_stack) == depth, (tab, app.screen_stack)

        # Her Rewards tab does not tell her to press n to enrol (she may not).
        assert "press n" not in str(app.screen.query_one("#r-empty", Static).render())

        # Notes are for everyone on the staff: the notes tab offers "Add note".
        await burst(pilot, "5")
        assert "add" in _actions(app)

        # The timeline: their own bookings, no orders, payments or refunds.
        await burst(pilot, "6")
        await settle(pilot)
        table = app.screen.query_one("#t-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows and not {"order", "payment", "refund"} & {kind for _, kind, _ in rows}
        visits = [text for _, kind, text in rows if kind == "booking" and " with " in text]
        assert visits and all(f" with {name} at " in text for text in visits), visits
    assert _state(demo_engine) == before  # nothing was changed


async def test_the_directory_footer_offers_only_what_the_role_may_do(demo_engine: Engine) -> None:
    add_therapist(demo_engine)
    desk_only = {"new", "edit", "book", "order", "bulk", "merge", "export", "undo"}
    selecting = {"toggle_select", "select_all"}
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape")  # out of the search: the directory's own keys
        assert isinstance(app.screen, DirectoryScreen)
        depth = len(app.screen_stack)
        shown = _actions(app)
        assert not shown & (desk_only | selecting | {"newsletter"}), shown
        assert {"filters", "focus_search"} <= shown
        # Hidden keys do nothing; b reaches the app's key, which says why.
        await burst(pilot, "n", "e", "space", "a", "m", "b")
        assert isinstance(app.screen, DirectoryScreen) and len(app.screen_stack) == depth
        assert not app.screen.selected
        assert any("may not book" in n.message for n in app._notifications)
        # The filter panel: no "top N by 12-month value", no "packages purchased" (money).
        await burst(pilot, "f")
        await settle(pilot)
        assert type(app.screen).__name__ == "FilterModal"
        assert not app.screen.query("#fl-top") and not app.screen.query("#fl-packages")
        assert app.screen.query("#fl-insight") and app.screen.query("#fl-services-used")
        await burst(pilot, "ctrl+s")  # applies what is there, without the hidden fields
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape")
        shown = _actions(app)
        assert desk_only | selecting <= shown, shown
        assert "newsletter" not in shown  # admins send newsletters
        await burst(pilot, "f")
        await settle(pilot)
        assert app.screen.query("#fl-top") and app.screen.query("#fl-packages")
