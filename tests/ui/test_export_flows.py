"""Pilot tests of the export dialog (E in the directory): the desk exports a selection, an
admin everything, and CSV values are protected for spreadsheets unless asked for as stored."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from frontdesk.data import customers as svc
from frontdesk.data.models import Customer
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.export_dialog import ExportModal
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys


def exported(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def messages(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


def _formula_customer(engine: Engine) -> None:
    """The first customer of the directory gets a city a spreadsheet would run."""
    with Session(engine) as s:
        first = s.exec(select(Customer).order_by(col(Customer.sort_key))).first()
        assert first is not None
        svc.update_customer(
            session=s,
            customer_id=first.id or 0,
            data=svc.CustomerUpdate(city="=HYPERLINK(1)"),
            expected_version=first.version,
            actor=ADMIN,
        )
        s.commit()


async def test_reception_exports_a_selection_protected(demo_engine: Engine, tmp_path: Path) -> None:
    _formula_customer(demo_engine)
    out = tmp_path / "three.csv"
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "space", "space", "space", "E")
        assert isinstance(app.screen, ExportModal)
        await burst(pilot, str(out), "enter")
        await wait_until(pilot, lambda: out.exists())
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert any(f"Exported 3 customers to {out}" in m for m in messages(app))
    rows = exported(out)
    assert len(rows) == 3 and "'=HYPERLINK(1)" in {r["City"] for r in rows}
    assert out.stat().st_mode & 0o777 == 0o600


async def test_reception_may_not_export_everything(demo_engine: Engine, tmp_path: Path) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "E")
        assert isinstance(app.screen, DirectoryScreen)  # no dialog: refused plainly
        assert any("may not export more than 500 customers" in m for m in messages(app))
    assert list(tmp_path.glob("*.csv")) == []


async def test_admin_exports_everything_as_stored(demo_engine: Engine, tmp_path: Path) -> None:
    _formula_customer(demo_engine)
    out = tmp_path / "all.csv"
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "E")
        modal = app.screen
        assert isinstance(modal, ExportModal)
        # Path, then "CSV values": exactly as stored (the second option); ctrl+s exports.
        await burst(pilot, str(out), "tab", "enter")
        await burst(pilot, "down", "enter")
        assert modal.query_one("#export-values").value == "plain"  # type: ignore[attr-defined]
        await burst(pilot, "ctrl+s")
        await wait_until(pilot, lambda: out.exists())
        await settle(pilot)
        with Session(demo_engine) as s:
            live = len(s.exec(select(Customer).where(svc.live())).all())
        assert any(f"Exported {live:,} customers" in m for m in messages(app))
    rows = exported(out)
    assert len(rows) == live
    assert "=HYPERLINK(1)" in {r["City"] for r in rows}


async def test_export_dialog_asks_for_a_path_and_escape_cancels(
    demo_engine: Engine, tmp_path: Path
) -> None:
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "E", "enter")
        modal = app.screen
        assert isinstance(modal, ExportModal)
        assert "Type the file to write." in str(modal.query_one("#export-path-error").render())
        await burst(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)


async def test_a_therapist_cannot_open_the_export(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        from frontdesk.data.models import Staff

        therapist = s.exec(select(Staff).where(Staff.role == "therapist")).first()
        assert therapist is not None and therapist.username
        name = therapist.username
    app = make_app(demo_engine, staff=name)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offered = {b.binding.action for b in app.active_bindings.values()}
        assert "export" not in offered  # not offered; the key does nothing
        await burst(pilot, "space", "E")
        assert isinstance(app.screen, DirectoryScreen) and not app.screen.selected


def under_the_field(modal: object) -> str:
    return str(modal.query_one("#export-path-error").render())  # type: ignore[attr-defined]


def typed_path(modal: object) -> str:
    return str(modal.query_one("#export-path").value)  # type: ignore[attr-defined]


async def test_an_existing_file_is_replaced_only_after_yes(
    demo_engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "important.csv"
    out.write_text("keep me\n")
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "space", "space", "E", str(out), "enter")
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        assert f"{out} already exists. Replace it?" in str(confirm.query_one("#question").render())
        await keys(pilot, "n")  # keep it: back in the dialog, the path as typed
        modal = app.screen
        assert isinstance(modal, ExportModal)
        assert typed_path(modal) == str(out)
        assert "already exists: not replaced" in under_the_field(modal)
        assert out.read_text() == "keep me\n"

        await keys(pilot, "enter")  # asked again; this time: replace it
        assert isinstance(app.screen, ConfirmModal)
        await keys(pilot, "y")
        await wait_until(pilot, lambda: out.read_text(encoding="utf-8-sig").startswith("Code,"))
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert any(f"Exported 2 customers to {out}" in m for m in messages(app))
    assert len(exported(out)) == 2
    assert out.stat().st_mode & 0o777 == 0o600


async def test_the_database_itself_is_refused_under_the_field(
    demo_engine: Engine, tmp_path: Path
) -> None:
    database = demo_engine.url.database
    assert database
    before = live_count(demo_engine)
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "E", database, "enter")
        modal = app.screen
        assert isinstance(modal, ExportModal)  # still open, nothing asked
        assert "is the database in use" in under_the_field(modal)
        assert typed_path(modal) == database
        assert app.focused is modal.query_one("#export-path")

        # A path that cannot be written stays too, with the reason, and can be corrected.
        await keys(pilot, "ctrl+a", "ctrl+k", "/nonexistent/dir/x.csv", "enter")
        assert isinstance(app.screen, ExportModal)
        assert "there is no folder /nonexistent/dir" in under_the_field(modal)
        assert typed_path(modal) == "/nonexistent/dir/x.csv"
        out = tmp_path / "fine.csv"
        await keys(pilot, "ctrl+a", "ctrl+k", str(out), "enter")
        await wait_until(pilot, lambda: out.exists())
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
    assert live_count(demo_engine) == before
    assert len(exported(out)) == before


def live_count(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Customer).where(svc.live())).all())
