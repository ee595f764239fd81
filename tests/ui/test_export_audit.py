"""An export from the directory (E) goes in the audit log, with its file name and count."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data.audit_text import describe_data_event
from frontdesk.data.models import AuditEvent
from frontdesk.screens.export_dialog import ExportModal
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until
from tests.ui.test_export_flows import messages


async def test_a_desk_export_is_recorded(demo_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "three [b].csv"
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "space", "space", "space", "E")
        assert isinstance(app.screen, ExportModal)
        await burst(pilot, str(out), "enter")
        await wait_until(pilot, lambda: out.exists())
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert any(f"Exported 3 customers to {out}" in m for m in messages(app))
    with Session(demo_engine) as s:
        (event,) = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == "export")).all()
    assert event.actor_id is not None and event.actor_name
    assert describe_data_event(event.action, event.actor_name, event.changes) == (
        f"Export of 3 customers by {event.actor_name}: three [b].csv"
    )
