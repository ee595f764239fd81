"""The audit log screen (admins): L opens it, filters narrow it, reception never sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, Static

from frontdesk.data import customers as svc
from frontdesk.data.models import AuditEvent, Customer, Staff
from frontdesk.screens.audit import AuditScreen
from frontdesk.screens.directory import DirectoryScreen
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until


def changes(engine: Engine) -> str:
    """Three changes by the receptionist and one by the admin, at fixed times; a hostile name."""
    with Session(engine) as s:
        rita = s.exec(select(Staff).where(col(Staff.username) == "rita")).one()
        admin = s.exec(select(Staff).where(col(Staff.username) == "admin")).one()
        first = s.exec(select(Customer).order_by(col(Customer.id))).first()
        assert first is not None and first.id is not None
        for who, name in ((rita, "Ana [b]x[/b]"), (rita, "Ana 2"), (admin, "Ana 3")):
            current = svc.get_customer(session=s, customer_id=first.id)
            svc.update_customer(
                session=s,
                customer_id=first.id,
                data=svc.CustomerUpdate(display_name=name),
                expected_version=current.version,
                actor=who,
            )
        svc.create_customer(
            session=s, data=svc.CustomerCreate(first_name="Zed", email="zed@x.example"), actor=rita
        )
        s.commit()
        ids = list(s.exec(select(AuditEvent.id).order_by(col(AuditEvent.id))))
        start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        for i, event_id in enumerate(ids):
            s.exec(
                update(AuditEvent)
                .where(col(AuditEvent.id) == event_id)
                .values(at=start + timedelta(minutes=5 * i))
            )
        s.commit()
        return first.code


def table_text(app: Any) -> list[str]:
    table = app.screen.query_one("#au-table", DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_admin_reads_and_filters_the_log(demo_engine: Engine) -> None:
    code = changes(demo_engine)
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "L")
        assert isinstance(app.screen, AuditScreen)
        await wait_until(pilot, lambda: app.screen.query_one("#au-table", DataTable).row_count > 0)
        lines = table_text(app)
        assert len(lines) == 4
        assert "Zed" in lines[0] and "Ana 3" in lines[1] and "Ana [b]x[/b]" in lines[3]
        # A bad date is named next to the filters, and what was typed stays.
        await burst(pilot, "tab", "tab", "tab", "2026-13-01", "enter")
        problem = str(app.screen.query_one("#au-problem", Label).render())
        assert "from: '2026-13-01' is not a date" in problem
        # Corrected in place; then one customer by code (typed in lower case).
        await burst(pilot, "ctrl+u", "2026-11-02", "tab", "tab", code.lower(), "enter")
        await settle(pilot)
        assert str(app.screen.query_one("#au-problem", Label).render()) == ""
        lines = table_text(app)
        assert len(lines) == 3 and all(code in line for line in lines)
        count = str(app.screen.query_one("#au-count", Static).render())
        assert "3 shown" in count
        await burst(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)


async def test_reception_has_no_audit_log(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "L")
        assert isinstance(app.screen, DirectoryScreen)
        assert any("may not see the audit log" in n.message for n in app._notifications)
        assert "Audit log" not in [c.title for c in app.get_system_commands(app.screen)]
    admin = make_app(demo_engine, staff="admin")
    async with admin.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Audit log" in [c.title for c in admin.get_system_commands(admin.screen)]


def test_audit_screen_snapshot(snap_compare: Any, demo_engine: Engine) -> None:
    changes(demo_engine)

    async def open_log(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await burst(pilot, "L")
        await wait_until(
            pilot,
            lambda: (
                bool(pilot.app.screen.query("#au-table"))
                and pilot.app.screen.query_one("#au-table", DataTable).row_count == 4
            ),
        )

    assert snap_compare(
        make_app(demo_engine, staff="admin"), terminal_size=SIZE, run_before=open_log
    )
