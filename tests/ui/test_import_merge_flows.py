"""Pilot tests of the import wizard and the merge screen."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, ProgressBar, Static

from frontdesk.data import customers as svc
from frontdesk.data.models import Customer
from frontdesk.screens.common import ChoiceModal, ConfirmModal
from frontdesk.screens.import_wizard import ImportScreen
from frontdesk.screens.merge import DuplicatesScreen, MergeScreen
from tests.ui.conftest import SIZE, make_app, settle

FIXTURES = Path(__file__).parent.parent / "fixtures"


async def test_import_wizard_mapping_preview_and_run(empty_engine: Engine) -> None:
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImportScreen(str(FIXTURES / "shopify.csv")))
        await settle(pilot, 0.3)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        summary = str(screen.query_one("#im-summary", Static).render())
        assert "Preview" in summary and "would import 2 new of 2 rows" in summary
        with Session(empty_engine) as s:
            assert s.exec(select(Customer)).all() == []  # the preview wrote nothing
        table = screen.query_one("#im-mapping", DataTable)
        assert str(table.get_row_at(table.get_row_index("Note"))[2]) == "note"
        # Send the City column nowhere instead.
        table.focus()
        table.move_cursor(row=table.get_row_index("City"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("end", "up", "enter")  # "(ignore)" is just above "into a note"
        await settle(pilot, 0.3)
        assert app.screen.mapping["City"] == "ignore"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot, 0.3)
        assert "Imported 2 new of 2 rows" in str(
            app.screen.query_one("#im-summary", Static).render()
        )
        bar = app.screen.query_one("#im-progress", ProgressBar)
        assert bar.display and bar.total == 2 and bar.progress == 2
    with Session(empty_engine) as s:
        people = s.exec(select(Customer).order_by(col(Customer.id))).all()
        assert [c.first_name for c in people] == ["Bruce", "Selina"]
        assert people[0].city is None  # the City column was ignored


async def test_merge_screen_from_the_directory(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        a = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Zora", last_name="Quill", email="zora@example.com"),
        )
        b = svc.create_customer(
            session=s,
            data=svc.CustomerCreate(
                first_name="Zora", last_name="Quil", phone="+14155550199", city="Oakland"
            ),
        )
        s.commit()
        a_id, b_id, b_code = a.id or 0, b.id or 0, b.code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#search", Input).value = "zora"
        await settle(pilot, 0.3)
        table = app.screen.query_one("#customers", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("space", "space", "m")
        await settle(pilot)
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen)
        assert [c.id for c in merge_screen.people] == sorted([a_id, b_id])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    with Session(demo_engine) as s:
        survivor = svc.get_by_code(session=s, code=b_code)
        assert survivor.id == min(a_id, b_id)
        assert (
            survivor.email == "zora@example.com"
            and survivor.phone == "+14155550199"
            and survivor.city == "Oakland"
        )


async def test_duplicates_screen_lists_and_ignores(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Yves", last_name="Tanguy", phone="+14155550111"),
        )
        svc.create_customer(
            session=s,
            data=svc.CustomerCreate(first_name="Yves", last_name="Tangui", phone="+16505550111"),
        )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_duplicates()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        table = screen.query_one("#dup-table", DataTable)
        rows = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        index = next(i for i, r in enumerate(rows) if "Yves Tanguy" in r and "Yves Tangui" in r)
        table.focus()
        table.move_cursor(row=index)
        await pilot.press("i")
        await settle(pilot)
        rows = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert not any("Yves Tanguy" in r for r in rows)
