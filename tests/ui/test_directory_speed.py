"""The directory's table stays cheap to draw and to grow (issue 12): counts, never times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from textual.widgets import DataTable

from frontdesk.screens.directory import CustomerTable, DirectoryScreen
from tests.ui.conftest import burst, make_app, settle, wait_until
from tests.ui.test_directory_flows import keys


async def test_cells_are_drawn_as_datatable_draws_them(demo_engine: Engine) -> None:
    """The table's own cell drawing gives DataTable's segments for every kind of cell
    (coloured category, alert mark, blocked cross, empty ones), highlighted or not."""
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(CustomerTable)
        base = table.rich_style
        compared = 0
        for row in range(min(table.row_count, 40)):
            for column in range(len(table.columns)):
                width = table.ordered_columns[column].get_render_width(table)
                for cursor in (False, True):
                    for hover in (False, True):
                        table._cell_render_cache.clear()
                        ours = table._render_cell(row, column, base, width, cursor, hover)
                        table._cell_render_cache.clear()
                        theirs = DataTable._render_cell(
                            table, row, column, base, width, cursor, hover
                        )
                        assert ours == theirs, (row, column, cursor, hover)
                        compared += 1
        assert compared >= 40 * 11 * 4


async def test_scrolling_down_adds_only_the_new_rows(demo_engine: Engine) -> None:
    """Each page read while scrolling down builds its own rows' cells and no others,
    however many rows are already loaded."""
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        built: list[int] = []
        cells = screen.cells

        def counting(customer: Any) -> Any:
            built.append(customer.id)
            return cells(customer)

        screen.cells = counting  # type: ignore[method-assign,assignment]
        for _ in range(2):
            before_rows, before_built = len(screen.rows), len(built)
            table = screen.query_one(CustomerTable)
            await keys(pilot, *["down"] * (before_rows - table.cursor_row - 5))

            def grown(n: int = before_rows) -> bool:
                return len(screen.rows) > n

            await wait_until(pilot, grown)
            await settle(pilot)
            # Exactly the new rows were built, once each.
            assert len(built) - before_built == len(screen.rows) - before_rows
        assert len(set(built)) == len(built)
        assert screen.loaded_ids == {c.id: i for i, c in enumerate(screen.rows)}


async def test_typing_in_the_search_box_lays_out_nothing(demo_engine: Engine) -> None:
    """A key typed in the search box repaints the box; the screen is laid out again only
    when the table's size changes (Textual's Input laid out the whole screen on every key,
    its text width being its virtual size)."""
    from textual.screen import Screen

    app = make_app(demo_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        await keys(pilot, "slash", "M", "a")  # the table has its narrowed size now
        await settle(pilot)
        layouts: list[str] = []
        original = Screen._refresh_layout

        def counting(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
            layouts.append(type(self).__name__)
            original(self, *args, **kwargs)

        table = screen.query_one(CustomerTable)
        sizes = {table.virtual_size}
        Screen._refresh_layout = counting  # type: ignore[method-assign]
        try:
            for key in "ria lo":
                await keys(pilot, "space" if key == " " else key)
                await settle(pilot)
                sizes.add(table.virtual_size)
        finally:
            Screen._refresh_layout = original  # type: ignore[method-assign]
        assert screen.query_text == "Maria lo"
        assert len(layouts) <= len(sizes)  # one per change of the table's size, at most


async def test_a_key_typed_after_a_pause_searches_at_once(demo_engine: Engine) -> None:
    """No wait for more keys when nothing is being read: the search starts with the key
    (it waited 30 ms for a pause in the typing: every key of a slow typist paid for it);
    keys typed while a search is read wait for a pause, and the latest text wins."""
    app = make_app(demo_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        await pilot.press("slash")
        await settle(pilot)
        searched: list[str] = []
        run_search = screen.run_search

        def counting(text: str) -> None:
            searched.append(text)
            run_search(text)

        screen.run_search = counting  # type: ignore[method-assign]
        await pilot.press("M")
        assert screen.query_text == "M"
        assert screen._debounce is None  # the search started with the key: no timer waited
        await burst(pilot, "a", "r", "i")  # at once, as a fast typist
        await settle(pilot, 0.1)
        assert screen.query_text == "Mari"
        assert searched[0] == "M" and searched[-1] == "Mari"  # the latest text wins


async def test_opening_counts_every_customer_once_shown_with_the_rows(
    demo_engine: Engine, monkeypatch: Any
) -> None:
    """The count of every customer starts when the directory opens (beside the lookups and
    the first page, not after them) and is the one shown: one count, never shown before the
    rows it counts."""
    from frontdesk.data import directory as data
    from frontdesk.screens import directory as screen_module

    counted: list[str] = []
    count = data.count_directory

    def counting(**kwargs: Any) -> int:
        counted.append(kwargs.get("text", ""))
        return count(**kwargs)

    monkeypatch.setattr(screen_module, "count_directory", counting)
    reads: list[str] = []
    run_read = DirectoryScreen.run_read

    def recording(self: Any, work: Any, then: Any = None, **kwargs: Any) -> Any:
        reads.append(kwargs.get("group", "read"))
        return run_read(self, work, then, **kwargs)

    monkeypatch.setattr(DirectoryScreen, "run_read", recording)
    app = make_app(demo_engine)
    shown_early: list[bool] = []
    async with app.run_test(size=(160, 40)) as pilot:
        while not isinstance(app.screen, DirectoryScreen) or app.screen.count is None:
            current = app.screen
            if isinstance(current, DirectoryScreen):
                shown_early.append(current.count is not None and not current.rows)
            await pilot.pause(0.001)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        with demo_engine.connect() as conn:
            live = conn.exec_driver_sql(
                "SELECT count(*) FROM customer WHERE deleted_at IS NULL AND merged_into_id IS NULL"
            ).scalar_one()
        assert screen.count == live
        assert counted == [""]  # one count, the one started on opening
        # asked for before the first page (which waits for the lookups), not after it
        assert reads.index("directory-count") < reads.index("directory")
        assert not any(shown_early)
        assert not screen.counting
        assert str(screen.query_one("#count").render()).startswith(f"{live:,} customers")
        # Typing, then clearing the box, counts again (the opening count is used once).
        await keys(pilot, "slash", "M", "a")
        await settle(pilot, 0.5)
        await keys(pilot, "escape")
        await settle(pilot, 0.5)
        assert screen.query_text == "" and screen.count == live
        assert counted[-1] == "" and len(counted) >= 3


async def test_a_new_number_of_rows_lays_out_nothing(demo_engine: Engine) -> None:
    """From 100 rows browsing to 50 found and back: the table's box stays, so the screen is
    not laid out again (it was, for every new number of rows: the slowest keystrokes); the
    scrollbar follows the rows."""
    from textual.screen import Screen

    app = make_app(demo_engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DirectoryScreen)
        table = screen.query_one(CustomerTable)
        await keys(pilot, "slash")
        await settle(pilot)
        assert len(screen.rows) == 100 and table.show_vertical_scrollbar
        layouts: list[str] = []
        original = Screen._refresh_layout

        def counting(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
            layouts.append(type(self).__name__)
            original(self, *args, **kwargs)

        heights: list[int] = []
        Screen._refresh_layout = counting  # type: ignore[method-assign]
        try:
            for key in ("a", "ctrl+u"):
                await keys(pilot, key)
                await settle(pilot)
                heights.append(table.virtual_size.height)
                assert table.vertical_scrollbar.window_virtual_size == heights[-1]
                assert table.show_vertical_scrollbar
        finally:
            Screen._refresh_layout = original  # type: ignore[method-assign]
        assert screen.query_text == "" and len(screen.rows) == 100
        assert heights[0] < heights[1]  # 50 rows found, then 100 again
        assert layouts == []
