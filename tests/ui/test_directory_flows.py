"""Pilot tests: what a receptionist does in the directory, keys pressed as typed (no pause),
asserted on screen and in the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from sqlalchemy import Engine, text
from sqlmodel import Session, col, func, select
from textual.widgets import DataTable, Input, Select, Static

from frontdesk.data import customers as svc
from frontdesk.data import directory
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.models import AuditEvent, Category, Customer, Note
from frontdesk.screens.booking import NewBookingScreen
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.filters import FilterModal
from frontdesk.screens.profile import ProfileScreen
from tests.actors import ADMIN
from tests.ui.conftest import (
    NOW,
    SIZE,
    add_therapist,
    all_keys_handled,
    burst,
    make_app,
    settle,
    wait_until,
)


@pytest.fixture(autouse=True)
def _patient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key whose handling takes longer than the app's watchdog (0.5 s) lets the next key
    overtake it. On a loaded test machine a tab into a scrolled field can take that long:
    tests of key order must not depend on the load, so they give each key 5 s."""
    monkeypatch.setattr("frontdesk.app.KEY_WATCHDOG", 5.0)


async def keys(pilot: Any, *parts: str) -> None:
    """Type ``parts`` at once (as :func:`burst`), then wait until every key was handled."""
    await burst(pilot, *parts, settle_after=False)
    await typed_out(pilot)


async def typed_out(pilot: Any, limit: float = 30.0) -> None:
    app = pilot.app
    await pilot.pause(0.02)  # the app takes the keys from its queue into its backlog
    waited = 0.0
    while not all_keys_handled(app) and waited < limit:
        await pilot.pause(0.02)
        waited += 0.02
    await settle(pilot, 0.3)
    # The directory's exact count follows its rows (after a pause in typing).
    while getattr(app.screen, "counting", False) and waited < limit:
        await settle(pilot, 0.1)
        waited += 0.1


def table(app: Any) -> DataTable[Any]:
    return app.screen.query_one("#customers", DataTable)  # type: ignore[no-any-return]


def rows(app: Any) -> list[list[str]]:
    t = table(app)
    return [[str(cell) for cell in t.get_row_at(i)] for i in range(t.row_count)]


async def open_panel(pilot: Any, field: str) -> tuple[FilterModal, list[str]]:
    """Open the filter panel (``f``): the panel and the tabs a receptionist presses to reach
    ``field`` (the panel's own order)."""
    await keys(pilot, "f")
    modal = pilot.app.screen
    assert isinstance(modal, FilterModal)
    return modal, ["tab"] * modal.focus_chain.index(modal.query_one(field))


def codes(app: Any) -> list[str]:
    return [r[1] for r in rows(app)]


def highlighted_code(app: Any) -> str:
    t = table(app)
    return str(t.get_row_at(t.cursor_row)[1])


def label(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def live_count(engine: Engine, **where: Any) -> int:
    with Session(engine) as s:
        stmt = select(func.count()).select_from(Customer).where(svc.live())
        for key, value in where.items():
            stmt = stmt.where(getattr(Customer, key) == value)
        return int(s.exec(stmt).one())


@pytest.fixture
def big_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(tmp_path / "big.db")
    generate(engine=engine, customers=2100, seed=5, now=NOW)
    yield engine
    engine.dispose()


async def test_starts_in_the_table_and_searches_from_slash(demo_engine: Engine) -> None:
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
        assert app.focused is table(app)  # letters are actions at once (README walk-in)
        assert len(rows(app)) == 100  # first page only
        assert label(app, "#count") == f"{live_count(demo_engine):,} customers"
        await keys(pilot, "/", fragment)
        search = app.screen.query_one("#search", Input)
        assert app.focused is search and search.value == fragment
        assert target_code in codes(app)
        assert "match" in label(app, "#count")
        # `/` in the search box selects what was typed: the next letters replace it.
        await keys(pilot, "/", "zzqx")
        assert search.value == "zzqx" and "/" not in search.value
        assert "No customers match 'zzqx'" in label(app, "#empty")
        await keys(pilot, "/", fragment, "down")
        assert app.focused is table(app) and table(app).cursor_row == 0
        index = codes(app).index(target_code)
        await keys(pilot, *["down"] * index, "enter")
        assert isinstance(app.screen, ProfileScreen)
        assert target_code in app.screen.title
        assert target_name.split()[0] in label(app, "#p-name")
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)


async def test_letters_in_the_search_box_and_selects_are_text(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "/", "neb ofa")
        assert isinstance(app.screen, DirectoryScreen)  # no form, no booking, no order
        assert app.screen.query_one("#search", Input).value == "neb ofa"
        await keys(pilot, "tab", "e", "n", "b")  # the category select: type-to-search
        assert isinstance(app.screen, DirectoryScreen)
        assert app.focused is app.screen.query_one("#category", Select)
        await keys(pilot, "tab", "f", "x")  # the status select
        assert isinstance(app.screen, DirectoryScreen)
        assert app.focused is app.screen.query_one("#status", Select)


async def test_escape_clears_the_search_and_letters_are_actions_again(
    demo_engine: Engine,
) -> None:
    """``escape`` after a search (from the results or from the box itself) shows the whole
    list, focused: the ``b`` typed at once opens a booking (it was typed into the search)."""
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        everyone = label(app, "#count")
        await keys(pilot, "/", "zzqx", "enter", "escape", "b")
        assert isinstance(app.screen, NewBookingScreen)
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)
        search = app.screen.query_one("#search", Input)
        assert search.value == "" and label(app, "#count") == everyone
        await keys(pilot, "/", "smi", "escape", "b")  # escape in the box itself
        assert isinstance(app.screen, NewBookingScreen)
        await keys(pilot, "escape")
        assert search.value == "" and app.focused is table(app)


async def test_a_screenshot_from_the_palette_is_private(
    demo_engine: Engine, tmp_path: Path
) -> None:
    """The palette's Screenshot shows customers' names and phones: it is written only for
    its owner (0600), in the data folder, and the notice names the file."""
    import os
    import stat

    app = make_app(demo_engine, data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = codes(app)[0]
        await keys(pilot, "ctrl+p", "Screenshot")
        await pilot.pause(0.3)  # the palette's search
        await keys(pilot, "enter")
        folder = tmp_path / "screenshots"
        await wait_until(pilot, lambda: folder.exists() and any(folder.iterdir()))
        await wait_until(pilot, lambda: bool(app._notifications))
        (shot,) = folder.iterdir()
        assert stat.S_IMODE(os.stat(shot).st_mode) == 0o600
        assert first in shot.read_text(encoding="utf-8")
        assert any(str(shot) in str(n.message) for n in app._notifications)


async def test_walk_in_starts_with_b(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await keys(pilot, "b")  # typed before the first page is even shown
        assert isinstance(app.screen, NewBookingScreen)
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)
        assert app.screen.query_one("#search", Input).value == ""


async def test_search_by_code_and_empty_state(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "/", "c-12")
        assert codes(app)[0] == "C-000012"
        await keys(pilot, "/", "zzqx")
        empty = app.screen.query_one("#empty", Static)
        assert empty.display and not table(app).display
        assert "No customers match 'zzqx' — press n to add one" in label(app, "#empty")
        assert label(app, "#count") == "0 matches"
        await keys(pilot, "enter", "n")  # enter leaves the box: n adds them
        assert isinstance(app.screen, CustomerFormScreen)


async def test_paging_loads_more_on_scroll(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table(app).row_count == 100
        await keys(pilot, "pagedown", "pagedown", "pagedown", "pagedown")
        assert table(app).row_count == 200
        listed = codes(app)
        with Session(demo_engine) as s:
            expected = [c.code for c in svc.directory_page(session=s, limit=200)]
        assert listed == expected


async def test_home_and_end_reach_the_whole_result(big_engine: Engine) -> None:
    total = live_count(big_engine)
    assert total > 2000
    with Session(big_engine) as s:
        ordered = [c.code for c in svc.directory_page(session=s, limit=total + 1)]
    app = make_app(big_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert label(app, "#count") == f"{total:,} customers"  # exact, not "1,000+"
        await keys(pilot, "end")
        assert highlighted_code(app) == ordered[-1]
        assert codes(app) == ordered[-100:]
        # Scrolling up from the end reads the pages before, in order.
        await keys(pilot, *["pageup"] * 4)
        shown = codes(app)
        assert len(shown) > 100 and shown == ordered[-len(shown) :]
        assert highlighted_code(app) == ordered[ordered.index(highlighted_code(app))]
        await keys(pilot, "home")
        assert highlighted_code(app) == ordered[0] and codes(app)[:100] == ordered[:100]
        await keys(pilot, "end", "up", "up")
        assert highlighted_code(app) == ordered[-3]
        # The same over a search: the last match, and the exact number of matches.
        await keys(pilot, "/", "mail", "down", "end")
        with Session(big_engine) as s:
            matches = directory.matching_ids(
                session=s, text="mail", filters=svc.DirectoryFilter(), cap=total
            )
            last = directory.load_directory_page(session=s, text="mail", from_end=True, limit=1)
        assert len(matches) > 300
        assert label(app, "#count") == f"{len(matches):,} matches"
        assert highlighted_code(app) == last.rows[-1].code


async def test_quick_filter_and_filter_panel_with_chips(demo_engine: Engine) -> None:
    inactive_total = live_count(demo_engine, status="inactive")
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Status select: "/" to the search row, tab tab, open it; Any -> Active -> Inactive.
        # (Textual focuses an opened select's list later: the next keys wait for that.)
        await keys(pilot, "/", "tab", "tab", "enter")
        await keys(pilot, "down", "down", "enter")
        assert app.screen.query_one("#status", Select).value == "inactive"
        with Session(demo_engine) as s:
            inactive = {
                c.code
                for c in s.exec(
                    select(Customer).where(col(Customer.status) == "inactive", svc.live())
                )
            }
        assert set(codes(app)) == inactive and len(inactive) == inactive_total
        assert "status: inactive" in label(app, "#chips")
        assert label(app, "#count") == f"{inactive_total:,} matches"
        await keys(pilot, "tab", "x")  # on to the table; x clears the last chip
        assert app.screen.query_one("#status", Select).value == Select.NULL
        assert len(rows(app)) == 100
        # Advanced panel: blocked customers only (first field of the panel).
        await keys(pilot, "f", "enter")
        await keys(pilot, "down", "enter")
        await keys(pilot, "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        with Session(demo_engine) as s:
            blocked = {
                c.code
                for c in s.exec(select(Customer).where(col(Customer.blocked).is_(True), svc.live()))
            }
        assert blocked and set(codes(app)) == blocked
        assert "blocked" in label(app, "#chips")
        await keys(pilot, "x")
        assert len(rows(app)) == 100
        assert label(app, "#chips").strip() == ""


async def test_filter_panel_dates_typed_after_tab_land_where_typed(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        _modal, tabs = await open_panel(pilot, "#fl-from")
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen)
        # Everything typed at once, before the panel is even open.
        await keys(pilot, "f", *tabs, "2026-08-01", "tab", "2026-09-30", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        assert "bookings 2026-08-01 → 2026-09-30" in label(app, "#chips")
        advanced = app.screen.advanced
        assert (str(advanced.booking_from), str(advanced.booking_to)) == (
            "2026-08-01",
            "2026-09-30",
        )
        with Session(demo_engine) as s:
            expected = directory.load_directory_page(
                session=s,
                filters=svc.DirectoryFilter(extra=advanced.conditions(), now=NOW),
                limit=100,
            )
        assert codes(app) == [c.code for c in expected.rows]
        assert label(app, "#count") == f"{expected.count:,} matches"


async def test_filter_panel_refuses_a_bad_date_and_keeps_it(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        modal, tabs = await open_panel(pilot, "#fl-to")
        await keys(pilot, *tabs, "31/12", "ctrl+s")
        assert app.screen is modal
        assert "YYYY-MM-DD" in label(app, "#fl-date-error")
        assert app.focused is modal.query_one("#fl-to", Input)
        assert modal.query_one("#fl-to", Input).value == "31/12"
        await keys(pilot, "escape")
        assert isinstance(app.screen, DirectoryScreen) and len(rows(app)) == 100


async def test_bulk_set_status_and_delete_with_undo(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first_two = codes(app)[:2]
        await keys(pilot, "space", "space")
        assert "2 selected" in label(app, "#count")
        assert rows(app)[0][0] == "●" and rows(app)[2][0] == " "
        await keys(pilot, "a")
        await keys(pilot, "down", "down", "down", "down", "enter")  # status: inactive
        with Session(demo_engine) as s:
            statuses = {
                c.code: c.status
                for c in s.exec(select(Customer).where(col(Customer.code).in_(first_two)))
            }
            assert statuses == dict.fromkeys(first_two, "inactive")
            events = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "status")).all()
            assert len(events) == 2 and all(e.actor_name == "Rita Reception" for e in events)
        assert [r[7] for r in rows(app)[:2]] == ["inactive", "inactive"]
        await keys(pilot, "a")
        await keys(pilot, "end", "enter")  # delete both…
        await keys(pilot, "y")  # …confirmed
        assert not set(first_two) & set(codes(app))
        with Session(demo_engine) as s:
            assert all(svc.get_by_code(session=s, code=c).deleted_at is not None for c in first_two)
        await keys(pilot, "u")
        with Session(demo_engine) as s:
            assert all(svc.get_by_code(session=s, code=c).deleted_at is None for c in first_two)
        assert set(first_two) <= set(codes(app))


async def test_bulk_block_acts_on_the_highlighted_row(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first, third = codes(app)[0], codes(app)[2]
        await keys(pilot, "down", "down", "a")
        await keys(pilot, *["down"] * 5, "enter")  # Block… asks for the reason
        await keys(pilot, "enter")
        assert "cannot be empty" in label(app, "#answer-error")  # empty reason refused
        await keys(pilot, "Abusive on the phone", "enter")
        with Session(demo_engine) as s:
            c = svc.get_by_code(session=s, code=third)
            assert c.blocked and c.blocked_reason == "Abusive on the phone"
            assert not svc.get_by_code(session=s, code=first).blocked
        assert "✖" in rows(app)[codes(app).index(third)][8]


async def test_select_all_matching(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "/", "tab", "tab", "enter")
        await keys(pilot, "down", "down", "enter", "tab", "ctrl+a")
        with Session(demo_engine) as s:
            inactive = s.exec(
                select(Customer.id).where(col(Customer.status) == "inactive", svc.live())
            ).all()
        assert isinstance(app.screen, DirectoryScreen)
        assert app.screen.selected == set(inactive)
        assert f"{len(inactive):,} selected" in label(app, "#count")


async def test_vip_highlight_with_overview_at_160_columns(demo_engine: Engine) -> None:
    # A colour stored before colours were validated: the text renderer does not know 'gold'.
    with Session(demo_engine) as s:
        s.execute(text("UPDATE category SET colour = 'gold' WHERE name = 'VIP'"))
        vip = s.exec(select(Category).where(col(Category.name) == "VIP")).one()
        vips = {
            c.code
            for c in s.exec(select(Customer).where(col(Customer.category_id) == vip.id, svc.live()))
        }
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        overview = app.screen.query_one("#quick-overview", Static)
        assert overview.display
        index = next(i for i, code in enumerate(codes(app)) if code in vips)
        await keys(pilot, *["down"] * index, "down", "up")
        assert highlighted_code(app) in vips
        shown = overview.render()
        assert "★ VIP" in str(shown) and highlighted_code(app) in str(shown)
        # The category symbol in the table keeps a (fallback) colour.
        cat = table(app).get_row_at(index)[6]
        assert isinstance(cat, Text) and cat.plain == "★" and cat.style


async def test_hostile_names_show_literally(demo_engine: Engine) -> None:
    hostile = ["[/]", "[link=file:///etc/passwd]x[/link]", "Ö" + "a" * 99]
    with Session(demo_engine) as s:
        for i, name in enumerate(hostile):
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(
                    first_name=name, last_name="[b]Zz[/b]", email=f"hostile{i}@example.com"
                ),
            )
        c = svc.search(session=s, text="hostile1@example.com")[0]
        s.add(Note(customer_id=c.id or 0, body="Allergy: [nuts] [/]", is_alert=True))
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await keys(pilot, "/", "[b]zz", "down")
        assert label(app, "#count") == "3 matches"
        names = [r[2] for r in rows(app)]
        assert any(n.startswith("[/] [b]Zz[/b]") for n in names)
        link = next(n for n in names if n.startswith("[link=file:///etc/p"))
        assert link.endswith("… ⚠")  # cut to the column, then the alert marker
        long_name = next(n for n in names if n.startswith("Öaaa"))
        assert long_name.endswith("…")  # cut where the column ends, visibly
        for i in range(3):
            await keys(pilot, "home", *["down"] * i)
            panel: Any = app.screen.query_one("#quick-overview", Static).render()
            assert not any("link" in str(span.style) for span in panel.spans)
            assert "[b]Zz[/b]" in panel.plain
        await keys(pilot, "home")
        for _ in range(3):
            if "x[/link]" in str(app.screen.query_one("#quick-overview", Static).render()):
                break
            await keys(pilot, "down")
        shown = str(app.screen.query_one("#quick-overview", Static).render())
        assert "[link=file:///etc/passwd]x[/link] [b]Zz[/b]" in shown
        assert "⚠ Allergy: [nuts] [/]" in shown


async def test_columns_use_the_room_there_is(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        longest = max(
            len(c.email or "") for c in svc.directory_page(session=s, limit=100) if c.email
        )
    assert longest > 21
    for size, overview in (((120, 36), False), ((160, 45), True)):
        app = make_app(demo_engine)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            assert app.screen.query_one("#quick-overview").display == overview
            t = table(app)
            widths = {str(c.key.value): c.width for c in t.columns.values()}
            # The table fits the room next to the overview, without a horizontal scrollbar.
            room = size[0] - (36 if overview else 0)
            assert sum(widths.values()) <= room and t.virtual_size.width <= t.size.width
            assert widths["email"] - 1 >= 24  # not cut to 21 characters
            emails = [r[3] for r in rows(app)]
            assert sum(e.endswith("…") for e in emails) <= len(emails) // 4
            if size[0] == 160:
                await keys(pilot, "v")  # without the overview the email column grows
                wide = {str(c.key.value): c.width for c in t.columns.values()}
                assert wide["email"] - 1 >= longest and wide["name"] > widths["name"]


async def test_command_palette_jumps_to_a_customer(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        target = s.exec(select(Customer).order_by(col(Customer.id)).offset(5)).first()
        assert target is not None
        code = target.code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "ctrl+p", code)
        await settle(pilot, 0.5)
        await keys(pilot, "enter")
        assert isinstance(app.screen, ProfileScreen)
        assert code in app.screen.title


async def test_staff_member_shows_in_the_header(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "Rita Reception · reception"
    from frontdesk.data.errors import UnknownStaff
    from frontdesk.data.settings import set_setting

    with pytest.raises(UnknownStaff):  # never acts as "no one"
        make_app(demo_engine, staff="nobody")
    with Session(demo_engine) as s:
        set_setting(session=s, key="unknown_staff_read_only", value=True)
        s.commit()
    reader = make_app(demo_engine, staff="nobody")
    async with reader.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert reader.sub_title == "read-only (not on the staff list)"
        # Adding a customer is not offered; booking (the app's key) is refused, plainly.
        offered = {b.binding.action for b in reader.active_bindings.values()}
        assert "new" not in offered and "edit" not in offered
        await burst(pilot, "n", "b")
        assert isinstance(reader.screen, DirectoryScreen)
        assert any(
            "may not" in n.message or "Choose who" in n.message for n in reader._notifications
        )


async def test_a_staff_name_stored_with_control_characters_is_shown_escaped(
    demo_engine: Engine,
) -> None:
    # Written straight into the database, as older versions let it in: markup and an OSC
    # sequence that would set the terminal's title if it reached the terminal.
    with Session(demo_engine) as s:
        s.execute(
            text("UPDATE staff SET name = :name WHERE username = 'rita'"),
            {"name": "Rita [/] \x1b]0;pwned\x07R"},
        )
        s.commit()
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "Rita [/] \\x1b]0;pwned\\x07R · reception"
        screen = app.export_screenshot()
        assert "\x1b" not in screen and "\x07" not in screen
        assert "Rita [/] \\x1b]0;pwned\\x07R" in screen.replace("&#160;", " ")


async def test_a_long_staff_name_leaves_the_role_in_the_header(demo_engine: Engine) -> None:
    """A 100-character name with markup: the header cuts the name short (…) and still says
    the role, literally, at 120 columns."""
    long_name = "[b]Rita[/b] " + "Receptionist-" * 7 + "x" * 5
    long_name = long_name[:100]
    with Session(demo_engine) as s:
        s.execute(
            text("UPDATE staff SET name = :name WHERE username = 'rita'"), {"name": long_name}
        )
        s.commit()
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert str(app.sub_title).endswith("… · reception")
        assert str(app.sub_title).startswith("[b]Rita[/b] Receptionist-")
        header = app.export_screenshot().replace("&#160;", " ")
        assert "… · reception" in header


async def test_a_new_database_greets_its_first_admin(empty_engine: Engine) -> None:
    app = make_app(empty_engine, staff="maria")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "maria · admin"
        assert any("maria is its first admin" in n.message for n in app._notifications)
        await burst(pilot, "n", "Ana", "tab", "Lopez", "tab", "tab", "ana@example.com", "ctrl+s")
        assert isinstance(app.screen, ProfileScreen)
    with Session(empty_engine) as s:
        assert [c.email for c in s.exec(select(Customer))] == ["ana@example.com"]


async def test_help_panel_lists_keys(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "question_mark")
        assert app.screen.query("HelpPanel")


async def test_works_at_80x24(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(rows(app)) == 100
        await keys(pilot, "/", "smith")
        with Session(demo_engine) as s:
            expected = [c.code for c in svc.search(session=s, text="smith", limit=20)]
        assert expected and codes(app)[:20] == expected


async def test_edit_keeps_the_place_in_the_list(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, *["down"] * 150)
        code = highlighted_code(app)
        await keys(pilot, "e", "ctrl+s")  # edit, save unchanged
        assert isinstance(app.screen, DirectoryScreen)
        assert highlighted_code(app) == code


async def test_a_therapist_cannot_add_or_edit_customers(demo_engine: Engine) -> None:

    add_therapist(demo_engine)
    app = make_app(demo_engine, staff="tara")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offered = {b.binding.action for b in app.active_bindings.values()}
        assert not offered & {"new", "edit", "bulk"}, offered  # not in the footer
        for key in ("n", "e", "a"):
            await keys(pilot, key)  # and the keys do nothing
            assert isinstance(app.screen, DirectoryScreen) and len(app.screen_stack) == 2
        await keys(pilot, "enter")  # reading is for everyone
        assert isinstance(app.screen, ProfileScreen)


async def test_filter_panel_says_when_a_number_of_days_is_not_one(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        modal, tabs = await open_panel(pilot, "#fl-visited")
        await burst(pilot, *tabs, "0", "ctrl+s")
        assert app.screen is modal  # not applied, not lost
        assert label(app, "#fl-visited-error") == "A number of days: 1 or more"
        assert modal.query_one("#fl-visited", Input).value == "0"
        assert app.focused is modal.query_one("#fl-visited", Input)
        await burst(pilot, "backspace", "30", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        assert app.screen.filters.visited_within_days == 30
