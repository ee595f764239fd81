"""Pilot tests: what a receptionist does in the directory, asserted on screen and in the DB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Label, Select, Static

from frontdesk.data import customers as svc
from frontdesk.data.models import AuditEvent, Customer
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.filters import FilterModal
from frontdesk.screens.profile import ProfileScreen
from tests.ui.conftest import SIZE, make_app, settle, type_text


def rows(app: Any) -> list[list[str]]:
    table = app.screen.query_one("#customers", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def codes(app: Any) -> list[str]:
    return [r[1] for r in rows(app)]


async def test_search_and_open_a_profile(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        target = s.exec(
            select(Customer).where(col(Customer.phone).is_not(None)).order_by(col(Customer.id))
        ).first()
        assert target is not None and target.phone
        target_code, target_name = target.code, target.full_name
        fragment = target.phone[-6:]
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert app.focused is app.screen.query_one("#search")
        assert len(rows(app)) == 100  # first page only
        await type_text(pilot, fragment)
        assert target_code in codes(app)
        count = str(app.screen.query_one("#count", Label).render())
        assert "match" in count
        await type_text(pilot, "")  # nothing more typed; results stay
        await pilot.press("down")
        await pilot.pause()
        table = app.screen.query_one("#customers", DataTable)
        assert app.focused is table and table.cursor_row == 0
        index = codes(app).index(target_code)
        table.move_cursor(row=index)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert target_code in app.screen.title
        assert target_name.split()[0] in str(app.screen.query_one("#p-name", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)


async def test_search_by_code_email_and_empty_state(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "c-12")
        assert codes(app)[0] == "C-000012"
        search = app.screen.query_one("#search", Input)
        search.value = ""
        await type_text(pilot, "zzqx")
        empty = app.screen.query_one("#empty", Static)
        assert empty.display
        assert "No customers match 'zzqx' — press n to add one" in str(empty.render())
        assert "0 matches" in str(app.screen.query_one("#count", Label).render())


async def test_paging_loads_more_on_scroll(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        table.focus()
        assert table.row_count == 100
        table.move_cursor(row=95)
        await settle(pilot)
        assert table.row_count == 200
        listed = codes(app)
        assert len(set(listed)) == 200
        with Session(demo_engine) as s:
            expected = [c.code for c in svc.directory_page(session=s, limit=200)]
        assert listed == expected


async def test_quick_filter_and_filter_panel_with_chips(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#status", Select).value = "inactive"
        await settle(pilot)
        with Session(demo_engine) as s:
            inactive = {
                c.code for c in s.exec(select(Customer).where(col(Customer.status) == "inactive"))
            }
        assert set(codes(app)) == inactive
        assert "status: inactive" in str(app.screen.query_one("#chips", Label).render())
        app.screen.query_one("#status", Select).clear()
        await settle(pilot)
        # Advanced panel: blocked customers only.
        await pilot.press("escape")  # leave the search box focus as it is
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FilterModal)
        app.screen.query_one("#fl-blocked", Select).value = "yes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        with Session(demo_engine) as s:
            blocked = {
                c.code for c in s.exec(select(Customer).where(col(Customer.blocked).is_(True)))
            }
        assert blocked and set(codes(app)) == blocked
        assert "blocked" in str(app.screen.query_one("#chips", Label).render())
        await pilot.press("x")  # clear the last chip
        await settle(pilot)
        assert len(rows(app)) == 100
        assert str(app.screen.query_one("#chips", Label).render()).strip() == ""


async def test_filter_panel_close_discards(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#fl-blocked", Select).value = "yes"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert len(rows(app)) == 100


async def test_bulk_set_status_and_delete_with_undo(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        table.focus()
        first_two = codes(app)[:2]
        await pilot.press("space", "space")
        await pilot.pause()
        assert "2 selected" in str(app.screen.query_one("#count", Label).render())
        assert rows(app)[0][0] == "●"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "enter")  # "Set status: inactive"
        await settle(pilot)
        with Session(demo_engine) as s:
            statuses = {
                c.code: c.status
                for c in s.exec(select(Customer).where(col(Customer.code).in_(first_two)))
            }
            assert statuses == dict.fromkeys(first_two, "inactive")
            events = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "status")).all()
            assert len(events) == 2 and all(e.actor_name == "Rita Reception" for e in events)
        # Delete both (confirmation), then undo.
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("end", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not set(first_two) & set(codes(app))
        with Session(demo_engine) as s:
            assert all(svc.get_by_code(session=s, code=c).deleted_at is not None for c in first_two)
        await pilot.press("u")
        await settle(pilot)
        with Session(demo_engine) as s:
            assert all(svc.get_by_code(session=s, code=c).deleted_at is None for c in first_two)
        assert set(first_two) <= set(codes(app))


async def test_bulk_block_asks_for_a_reason(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        first = codes(app)[0]
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("down", "down", "down", "down", "down", "enter")  # Block…
        await settle(pilot)
        await pilot.press("enter")  # empty reason is refused
        await pilot.pause()
        assert "cannot be empty" in str(app.screen.query_one("#answer-error", Label).render())
        await type_text(pilot, "Abusive on the phone")
        await pilot.press("enter")
        await settle(pilot)
        with Session(demo_engine) as s:
            c = svc.get_by_code(session=s, code=first)
            assert c.blocked and c.blocked_reason == "Abusive on the phone"
        assert "✖" in rows(app)[0][8]


async def test_select_all_matching(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#status", Select).value = "inactive"
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("ctrl+a")
        await settle(pilot)
        with Session(demo_engine) as s:
            inactive = s.exec(select(Customer.id).where(col(Customer.status) == "inactive")).all()
        assert isinstance(app.screen, DirectoryScreen)
        assert app.screen.selected == set(inactive)


async def test_command_palette_jumps_to_a_customer(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        target = s.exec(select(Customer).order_by(col(Customer.id)).offset(5)).first()
        assert target is not None
        code = target.code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, code)
        await settle(pilot, 0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert code in app.screen.title


async def test_staff_member_shows_in_the_header(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "Rita Reception · reception"
    unknown = make_app(demo_engine, staff="nobody")
    async with unknown.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "unknown staff" in unknown.sub_title


async def test_help_panel_lists_keys(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_works_at_80x24(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(rows(app)) == 100
        await type_text(pilot, "smith")
        assert rows(app)
