"""The screens hide and refuse what the operator's role cannot do (DESIGN.md section 7)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk.data import roles
from frontdesk.data.staff import create_staff
from frontdesk.screens.directory import DirectoryScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle


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
    with Session(demo_engine) as s:
        create_staff(
            session=s, name="Tara Therapist", role="therapist", username="tara", actor=ADMIN
        )
        s.commit()
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "b")
        assert isinstance(app.screen, DirectoryScreen)
        await burst(pilot, "o", "I")
        assert isinstance(app.screen, DirectoryScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "New booking" not in commands and "New order" not in commands


async def test_an_admin_opens_settings(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "escape", "S")
        assert type(app.screen).__name__ == "SettingsScreen"


def _busy_customer(engine: Engine) -> int:
    """A customer with an open booking, a paid order and points (what a therapist must not
    change)."""
    from sqlalchemy import text

    with Session(engine) as s:
        row = s.execute(
            text(
                "SELECT b.customer_id FROM booking b"
                " JOIN loyalty_enrolment e ON e.customer_id = b.customer_id AND e.balance > 0"
                "  AND e.removed_at IS NULL"
                " JOIN payment p ON p.order_id IN"
                "  (SELECT id FROM orders o WHERE o.customer_id = b.customer_id)"
                " WHERE b.status IN ('pending', 'confirmed')"
                " ORDER BY b.customer_id LIMIT 1"
            )
        ).first()
    assert row is not None, "the demo data has a customer with a booking, payment and points"
    return int(row[0])


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


def _actions(app: object) -> set[str]:
    """The actions the footer offers now (bindings a role may not use are hidden)."""
    return {b.binding.action for b in app.active_bindings.values()}  # type: ignore[attr-defined]


async def test_a_therapists_profile_offers_no_booking_order_or_points_keys(
    demo_engine: Engine,
) -> None:
    from frontdesk.screens.profile import ProfileScreen

    with Session(demo_engine) as s:
        create_staff(
            session=s, name="Tara Therapist", role="therapist", username="tara", actor=ADMIN
        )
        s.commit()
    customer_id = _busy_customer(demo_engine)
    before = _state(demo_engine)
    app = make_app(demo_engine, staff="tara")
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

        tabs = {
            "2": {"change('confirm')", "change('complete')", "change('cancel')"},
            "3": {"pay", "refund", "cancel"},
            "4": {"enrol", "points(1)", "points(-1)", "expiry", "remove"},
        }
        keys = {"2": "cdxwt", "3": "pRX", "4": "nartX"}
        for tab, hidden in tabs.items():
            await burst(pilot, tab)
            shown = _actions(app)
            assert not shown & hidden, (tab, shown)
            await burst(pilot, *keys[tab])
            assert isinstance(app.screen, ProfileScreen), (tab, app.screen)
            assert len(app.screen_stack) == depth, (tab, app.screen_stack)

        # Notes are for everyone on the staff: the notes tab offers "Add note".
        await burst(pilot, "5")
        assert "add" in _actions(app)
    assert _state(demo_engine) == before  # nothing was changed
