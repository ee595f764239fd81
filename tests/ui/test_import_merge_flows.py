"""Pilot tests of the import wizard and the merge screen."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from frontdesk.data import customers as svc
from frontdesk.data.models import Customer
from frontdesk.screens.common import ChoiceModal
from frontdesk.screens.import_wizard import ImportScreen
from frontdesk.screens.merge import DuplicatesScreen, MergeScreen
from tests.ui.conftest import SIZE, make_app, settle

FIXTURES = Path(__file__).parent.parent / "fixtures"


async def open_wizard(pilot: Pilot[None], name: str) -> ImportScreen:
    """The import wizard on a fixture file, loaded and previewed."""
    await settle(pilot)
    pilot.app.push_screen(ImportScreen(str(FIXTURES / name)))
    await settle(pilot, 0.3)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def test_import_wizard_mapping_preview_and_run(empty_engine: Engine) -> None:
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, "shopify.csv")
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
        await pilot.press("ctrl+s")  # one key merges what the screen shows
        await settle(pilot)
        assert not isinstance(app.screen, MergeScreen)
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


def _write_candidates(path: Path) -> Path:
    path.write_text(
        "First Name,Last Name,Email,Phone,City,Birthday,Notes\n"
        "Bruce,Wayne,bruce@example.com,+14155550100,Gotham City,1980-02-19,Prefers evenings\n"
        "Martha,Kyle,martha@example.com,+14155550101,,,\n"
        "Alfred,Pennyworth,selina@example.com,+14155550199,,,\n",
        encoding="utf-8",
    )
    return path


async def test_merge_candidates_are_decided_on_the_duplicates_screen(
    empty_engine: Engine, tmp_path: Path
) -> None:
    """Import as merge candidates, then merge one field by field, add one, discard one."""
    from frontdesk.data.importing import ImportOptions, run_import
    from frontdesk.data.models import MergeCandidate

    run_import(engine=empty_engine, path=FIXTURES / "shopify.csv", options=ImportOptions())
    summary = run_import(
        engine=empty_engine,
        path=_write_candidates(tmp_path / "again.csv"),
        options=ImportOptions(on_duplicate="candidate"),
    )
    assert summary.candidates == 3
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()  # not typing in the search box
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        assert screen.sub_title.endswith(" · 3 imported rows waiting")
        table = screen.query_one("#dup-table", DataTable)
        first = [str(c) for c in table.get_row_at(0)]
        assert first == [
            "imported row (again.csv record 1): same phone and email as C-000001",
            "C-000001 Bruce Wayne  ←  Bruce Wayne",
        ]
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen) and merge_screen.candidate_id is not None
        grid = merge_screen.query_one("#merge-table", DataTable)
        # Keep the imported city instead of the customer's.
        grid.focus()
        grid.move_cursor(row=grid.get_row_index("city"), column=2)
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.sub_title.endswith(" · 2 imported rows waiting")
        # Martha only shares Selina's phone: add her as a customer of her own.
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen and screen.sub_title.endswith(" · 1 imported row waiting")
        # Alfred's row is a mistake: discard it from the list.
        table.move_cursor(row=0)
        await pilot.press("x")
        await settle(pilot)
        assert "waiting" not in screen.sub_title
    with Session(empty_engine) as s:
        bruce = svc.get_by_code(session=s, code="C-000001")
        assert (bruce.city, str(bruce.date_of_birth)) == ("Gotham City", "1980-02-19")
        martha = s.exec(select(Customer).where(col(Customer.first_name) == "Martha")).one()
        assert (martha.phone, martha.email) == (None, "martha@example.com")
        assert s.exec(select(Customer).where(col(Customer.first_name) == "Alfred")).first() is None
        assert [
            c.status for c in s.exec(select(MergeCandidate).order_by(col(MergeCandidate.id)))
        ] == [
            "merged",
            "added",
            "discarded",
        ]


async def test_import_wizard_loads_the_typed_path_on_enter(empty_engine: Engine) -> None:
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        path = app.screen.query_one("#im-path", Input)
        path.focus()
        path.value = str(FIXTURES / "vagaro.tsv")
        await pilot.press("enter")
        await settle(pilot, 0.5)
        summary = str(app.screen.query_one("#im-summary", Static).render())
        assert summary.startswith("Preview (nothing written yet)")
        assert app.screen.query_one("#im-mapping", DataTable).row_count > 3


async def test_import_wizard_assigns_category_branch_and_program(demo_engine: Engine) -> None:
    from frontdesk.data.models import Branch, Category, LoyaltyEnrolment

    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, "shopify.csv")
        points = screen.query_one("#im-points", Input)
        points.value = "-5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert str(screen.query_one("#im-summary", Static).render()) == (
            "Cannot import: points: cannot be negative"
        )
        assert screen.focused is points  # the message points at the field to fix
        points.value = "50"
        screen.query_one("#im-category", Select).value = "VIP"
        screen.query_one("#im-branch", Select).value = "Harbour"
        screen.query_one("#im-program", Select).value = "Reward points"
        await pilot.press("ctrl+s")
        await settle(pilot, 0.5)
        assert "Imported 2 new of 2 rows" in str(screen.query_one("#im-summary", Static).render())
    with Session(demo_engine) as s:
        bruce = s.exec(select(Customer).where(col(Customer.email_key) == "bruce@example.com")).one()
        category = s.get(Category, bruce.category_id)
        branch = s.get(Branch, bruce.home_branch_id)
        assert (category.name if category else None, branch.name if branch else None) == (
            "VIP",
            "Harbour",
        )
        enrolment = s.exec(
            select(LoyaltyEnrolment).where(col(LoyaltyEnrolment.customer_id) == bruce.id)
        ).one()
        assert enrolment.balance == 50


async def test_import_wizard_keeps_merge_candidates(empty_engine: Engine) -> None:
    from frontdesk.data.importing import ImportOptions, run_import

    run_import(engine=empty_engine, path=FIXTURES / "shopify.csv", options=ImportOptions())
    app = make_app(empty_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, "shopify.csv")
        screen.query_one("#im-dup", Select).value = "candidate"
        await pilot.press("ctrl+r")
        await settle(pilot, 0.3)
        assert "· 2 merge candidates" in str(screen.query_one("#im-summary", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot, 0.3)
        summary = str(screen.query_one("#im-summary", Static).render())
        assert "Imported 0 new of 2 rows" in summary and "wait in the duplicates screen" in summary
