"""Pilot tests of the import wizard, the duplicates screen and the merge screen.

Keys are sent as a fast typist sends them (``burst``: all at once); the assertions look at
the database and at what the screen shows. The data hurts: names with markup, control
characters in a file, several rows when a key acts on "the highlighted one".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, ProgressBar

from frontdesk.data import candidates
from frontdesk.data import customers as svc
from frontdesk.data.importing import ImportOptions, run_import
from frontdesk.data.models import Branch, Category, Customer, LoyaltyEnrolment, MergeCandidate
from frontdesk.screens.common import ChoiceModal
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.import_wizard import ImportScreen
from frontdesk.screens.merge import DuplicatesScreen, MergeScreen
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle

FIXTURES = Path(__file__).parent.parent / "fixtures"
HOSTILE = "[/]Maria [link=file:///etc/passwd]x[/link]"


@pytest.fixture
def desk_engine(empty_engine: Engine) -> Engine:
    """An empty database with one receptionist (rita): no customers yet, someone at the desk."""
    from frontdesk.data.staff import create_staff

    with Session(empty_engine) as s:
        create_staff(
            session=s, name="Rita Reception", role="reception", username="rita", actor=ADMIN
        )
        s.commit()
    return empty_engine


def fixture(tmp_path: Path, name: str) -> Path:
    """A copy of a fixture file (an import writes its error file next to the file)."""
    copy = tmp_path / name
    shutil.copy(FIXTURES / name, copy)
    return copy


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector).render())  # type: ignore[attr-defined]


def rows(table: DataTable[object]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def previewed(pilot: Pilot[None], screen: ImportScreen) -> None:
    """Wait until the wizard has said what the file holds (its preview or why not)."""
    for _ in range(100):
        summary = text_of(screen, "#im-summary")
        if summary and not summary.endswith("…"):
            return
        await settle(pilot, 0.05)
    raise AssertionError(f"no preview: {text_of(screen, '#im-summary')!r}")


async def open_wizard(pilot: Pilot[None], path: Path) -> ImportScreen:
    """I from the directory, the path typed, enter: the file is read and previewed."""
    await settle(pilot)
    await burst(pilot, "I")
    await burst(pilot, str(path), "enter")
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    await previewed(pilot, screen)
    return screen


async def test_import_wizard_mapping_preview_and_run(desk_engine: Engine, tmp_path: Path) -> None:
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "I", str(fixture(tmp_path, "shopify.csv")), "enter")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        await previewed(pilot, screen)
        summary = text_of(screen, "#im-summary")
        assert "Preview" in summary and "would import 2 new of 2 rows" in summary
        with Session(desk_engine) as s:
            assert s.exec(select(Customer)).all() == []  # the preview wrote nothing
        table = screen.query_one("#im-mapping", DataTable)
        assert ["Note", "Masked", "note"] in rows(table)
        # shift+tab from the path reaches the mapping; City is the seventh column.
        await burst(pilot, "shift+tab", *["down"] * 6)
        assert screen.focused is table and rows(table)[table.cursor_row][0] == "City"
        await burst(pilot, "enter")
        assert isinstance(app.screen, ChoiceModal)
        await burst(pilot, "end", "up", "enter")  # "(ignore)" is just above "into a note"
        assert screen.mapping["City"] == "ignore"
        assert rows(table)[table.cursor_row] == ["City", "Gotham", "ignore"]
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        assert "Imported 2 new of 2 rows" in text_of(screen, "#im-summary")
        bar = screen.query_one("#im-progress", ProgressBar)
        assert bar.display and bar.total == 2 and bar.progress == 2
    with Session(desk_engine) as s:
        people = s.exec(select(Customer).order_by(col(Customer.id))).all()
        assert [c.first_name for c in people] == ["Bruce", "Selina"]
        assert people[0].city is None  # the City column was ignored


async def test_the_progress_bar_ends_full(desk_engine: Engine, tmp_path: Path) -> None:
    """The bar counts an estimate of the rows (lines, here two more than the records: a note
    over three lines); once the import is done it is full (it stayed at 87%)."""
    path = tmp_path / "notes.csv"
    path.write_text(
        'First Name,Email,Note\nAda,ada@example.com,"one\ntwo\nthree"\nBo,bo@example.com,x\n',
        encoding="utf-8",
    )
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        for _ in range(40):
            if "Imported" in text_of(screen, "#im-summary"):
                break
            await settle(pilot, 0.05)
        assert "Imported 2 new of 2 rows" in text_of(screen, "#im-summary")
        bar = screen.query_one("#im-progress", ProgressBar)
        await settle(pilot)
        assert bar.display and bar.total is not None and bar.progress == bar.total


async def test_import_wizard_loads_the_typed_path_on_enter(
    desk_engine: Engine, tmp_path: Path
) -> None:
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, fixture(tmp_path, "vagaro.tsv"))
        assert text_of(screen, "#im-summary").startswith("Preview (nothing written yet)")
        assert screen.query_one("#im-mapping", DataTable).row_count > 3


async def test_import_wizard_says_when_there_is_no_file(desk_engine: Engine) -> None:
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, Path("/nowhere/clients.csv"))
        message = screen.query_one("#im-path-msg", Label)
        assert message.display and "no file at /nowhere/clients.csv" in str(message.render())
        assert screen.focused is screen.query_one("#im-path", Input)
        await burst(pilot, "x")  # typing clears the message
        assert not message.display


async def test_import_wizard_assigns_category_branch_and_program(
    demo_engine: Engine, tmp_path: Path
) -> None:
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, fixture(tmp_path, "shopify.csv"))
        points = screen.query_one("#im-points", Input)
        # To the points (8 fields on), a negative number, back one field, import.
        await burst(pilot, *["tab"] * 8, "backspace", "-5", "shift+tab", "ctrl+s")
        assert text_of(screen, "#im-summary") == "Cannot import: points: cannot be negative"
        assert "cannot be negative" in text_of(screen, "#im-points-msg")
        assert screen.focused is points  # the message points at the field to fix
        # Fix it, then choose a category, a branch and a program by typing in the menus.
        await burst(pilot, "backspace", "backspace", "50", "shift+tab", "shift+tab", "shift+tab")
        await burst(pilot, "enter", "VIP", "enter", "tab", "enter", "Harbour", "enter")
        await burst(pilot, "tab", "enter", "Reward", "enter")
        # ctrl+s in a burst of its own: a choice made in a Select's menu reaches the Select by
        # messages that the app's key queue does not wait for (reported to the lead).
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        assert "Imported 2 new of 2 rows" in text_of(screen, "#im-summary")
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


async def test_import_wizard_keeps_merge_candidates(desk_engine: Engine, tmp_path: Path) -> None:
    path = fixture(tmp_path, "shopify.csv")
    run_import(engine=desk_engine, path=path, options=ImportOptions())
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        # "When a customer already exists" is the fourth field; its last choice.
        await burst(pilot, "tab", "tab", "tab", "enter", "end", "enter")
        await previewed(pilot, screen)
        assert "· 2 merge candidates" in text_of(screen, "#im-summary")
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        summary = text_of(screen, "#im-summary")
        assert "Imported 0 new of 2 rows" in summary and "wait in the duplicates screen" in summary


async def test_import_wizard_shows_hostile_file_data_literally(
    desk_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(
        f"First Name,Last Name,Email,{HOSTILE},{HOSTILE}\n"
        f"{HOSTILE},Lopez,maria@example.com,[b]bold?,again\n"
        "Evil\x1b[2J\x1b]0;pwned\x07,Row,evil@example.com,,\n",
        encoding="utf-8",
    )
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        table = screen.query_one("#im-mapping", DataTable)
        assert rows(table)[3][:2] == [HOSTILE, "[b]bold?"]  # a header repeated: both shown
        assert rows(table)[4][:2] == [HOSTILE, "again"]
        summary = text_of(screen, "#im-summary")
        assert "1 invalid" in summary and "\\x1b" in summary and "\x1b" not in summary
        # The column's menu names it literally.
        await burst(pilot, "shift+tab", "down", "down", "down", "enter")
        assert isinstance(app.screen, ChoiceModal)
        assert HOSTILE in text_of(app.screen, "#question")
        await burst(pilot, "escape", "ctrl+s")
        await previewed(pilot, screen)
        assert "Imported 1 new of 2 rows" in text_of(screen, "#im-summary")
    with Session(desk_engine) as s:
        assert [c.first_name for c in s.exec(select(Customer))] == [HOSTILE]


async def test_merge_screen_from_the_directory(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        a = svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="Zora", last_name=HOSTILE, email="zora@example.com"),
        )
        b = svc.create_customer(
            actor=ADMIN,
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
        await burst(pilot, "slash", "zora")
        await burst(pilot, "down", "space", "space", "m")
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen)
        assert [c.id for c in merge_screen.people] == sorted([a_id, b_id])
        grid = merge_screen.query_one("#merge-table", DataTable)
        last_name = rows(grid)[grid.get_row_index("last_name")]
        assert last_name == ["last name", f"✔ {HOSTILE}", "  Quil"]
        await burst(pilot, "ctrl+s")  # one key merges what the screen shows
        assert isinstance(app.screen, DirectoryScreen)
    with Session(demo_engine) as s:
        survivor = svc.get_by_code(session=s, code=b_code)
        assert survivor.id == min(a_id, b_id)
        assert (
            survivor.email == "zora@example.com"
            and survivor.phone == "+14155550199"
            and survivor.city == "Oakland"
            and survivor.last_name == HOSTILE
        )


async def test_merge_keeps_the_value_chosen_with_enter(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        ids = [
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(
                    first_name="Ines", last_name="Duarte", city=city, email=email
                ),
            ).id
            or 0
            for city, email in (("Porto", "ines@example.com"), ("Lisboa", "ines.d@example.com"))
        ]
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(MergeScreen(ids))
        # Typed before the screen has its rows: they wait, then land on the loaded table.
        await burst(pilot, "home", settle_after=False)
        await settle(pilot)
        grid = app.screen.query_one("#merge-table", DataTable)
        city_row = grid.get_row_index("city")
        await burst(pilot, *["down"] * city_row, "right", "right", "enter")
        assert rows(grid)[city_row] == ["city", "  Porto", "✔ Lisboa"]
        await burst(pilot, "ctrl+s")
    with Session(demo_engine) as s:
        assert svc.get_customer(session=s, customer_id=min(ids)).city == "Lisboa"


async def test_duplicates_screen_lists_and_ignores(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        for first, last, phone in (
            ("Anouk", "Aimee", "+14155550122"),
            ("Anouk", "Aimée", "+16505550122"),
            ("Yves", "Tanguy", "+14155550111"),
        ):
            svc.create_customer(
                actor=ADMIN,
                session=s,
                data=svc.CustomerCreate(first_name=first, last_name=last, phone=phone),
            )
        svc.create_customer(
            actor=ADMIN,
            session=s,
            data=svc.CustomerCreate(first_name="Yves", last_name="Tangui", phone="+16505550111"),
        )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "D")
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        table = screen.query_one("#dup-table", DataTable)
        before = rows(table)
        assert len(before) >= 2
        index = next(
            i for i, r in enumerate(before) if "Yves Tanguy" in r[1] and "Yves Tangui" in r[1]
        )
        await burst(pilot, *["down"] * index, "i")
        after = rows(table)
        assert not any("Yves Tanguy" in r[1] for r in after)
        assert len(after) == len(before) - 1  # only the highlighted line went


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
    desk_engine: Engine, tmp_path: Path
) -> None:
    """Import as merge candidates, then merge one field by field, add one, discard one."""
    run_import(engine=desk_engine, path=fixture(tmp_path, "shopify.csv"), options=ImportOptions())
    summary = run_import(
        engine=desk_engine,
        path=_write_candidates(tmp_path / "again.csv"),
        options=ImportOptions(on_duplicate="candidate"),
    )
    assert summary.candidates == 3
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "D")
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        assert (screen.sub_title or "").endswith(" · 3 imported rows waiting")
        table = screen.query_one("#dup-table", DataTable)
        assert rows(table)[0] == [
            "imported row (again.csv record 1): same phone and email as C-000001",
            "C-000001 Bruce Wayne  ←  Bruce Wayne",
        ]
        await burst(pilot, "enter")
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen) and merge_screen.candidate_id is not None
        assert "Prefers evenings" in text_of(merge_screen, "#merge-help")
        grid = merge_screen.query_one("#merge-table", DataTable)
        # Keep the imported city instead of the customer's.
        await burst(pilot, *["down"] * grid.get_row_index("city"), "right", "right", "enter")
        await burst(pilot, "ctrl+s")
        assert app.screen is screen and (screen.sub_title or "").endswith(
            " · 2 imported rows waiting"
        )
        # Martha only shares Selina's phone: add her as a customer of her own.
        await burst(pilot, "home", "enter")
        await burst(pilot, "a")
        assert app.screen is screen and (screen.sub_title or "").endswith(
            " · 1 imported row waiting"
        )
        # Alfred's row is a mistake: discard it from the list.
        await burst(pilot, "home", "x")
        assert "waiting" not in (screen.sub_title or "")
    with Session(desk_engine) as s:
        bruce = svc.get_by_code(session=s, code="C-000001")
        assert (bruce.city, str(bruce.date_of_birth)) == ("Gotham City", "1980-02-19")
        martha = s.exec(select(Customer).where(col(Customer.first_name) == "Martha")).one()
        assert (martha.phone, martha.email) == (None, "martha@example.com")
        assert s.exec(select(Customer).where(col(Customer.first_name) == "Alfred")).first() is None
        assert [
            c.status for c in s.exec(select(MergeCandidate).order_by(col(MergeCandidate.id)))
        ] == ["merged", "added", "discarded"]


async def test_hostile_imported_row_is_shown_literally(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        customer = svc.get_customer(session=s, customer_id=3)
        candidates.record_candidate(
            session=s,
            customer_id=3,
            values={
                "first_name": HOSTILE,
                "last_name": customer.last_name,
                "phone": customer.phone,
                "city": "[red]Springfield",
            },
            extras={"note": "Allergy: [nuts] [/]", "tags": ["[b]new"]},
            reason=f"same phone as {customer.code}",
            source="[/]clients.csv record 12",
        )
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "D")
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        first = rows(screen.query_one("#dup-table", DataTable))[0]
        assert "([/]clients.csv record 12)" in first[0] and f"←  {HOSTILE} " in first[1]
        await burst(pilot, "enter")
        merge_screen = app.screen
        assert isinstance(merge_screen, MergeScreen)
        help_text = text_of(merge_screen, "#merge-help")
        assert "note “Allergy: [nuts] [/]”" in help_text and "tags [b]new" in help_text
        grid = merge_screen.query_one("#merge-table", DataTable)
        assert rows(grid)[grid.get_row_index("first_name")][2].endswith(HOSTILE)
        assert rows(grid)[grid.get_row_index("city")][2].endswith("[red]Springfield")
        labels = [str(column.label) for column in grid.columns.values()]
        assert labels[-1] == "IMPORTED ([/]clients.csv record 12)"


async def test_import_wizard_keeps_a_customer_whose_birthday_cannot_be_read(
    desk_engine: Engine, tmp_path: Path
) -> None:
    """Outlook's file as it is: 0/0/00 is no date, a US file reads month first by its
    country, and the one unreadable birthday is a warning, not a refused customer."""
    path = fixture(tmp_path, "outlook_full.csv")
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        await burst(pilot, "tab", "US", "ctrl+s")
        await previewed(pilot, screen)
        summary = text_of(screen, "#im-summary")
        assert "Imported 4 new of 4 rows" in summary and "0 invalid" in summary
        assert "1 with a warning" in summary
        assert "record 4: warning: date_of_birth: '31/31/1990' is not a date" in summary
        assert "outlook_full.errors.csv" in summary
    errors = tmp_path / "outlook_full.errors.csv"
    assert errors.stat().st_mode & 0o777 == 0o600
    with Session(desk_engine) as s:
        found = {c.first_name: c for c in s.exec(select(Customer))}
    assert set(found) == {"Jane", "John", "Mary", "Bad"}
    assert str(found["John"].date_of_birth) == "1980-03-04"  # US: month first
    assert found["Jane"].date_of_birth is None and found["Bad"].date_of_birth is None


async def test_import_wizard_dates_select_overrides_the_country(
    desk_engine: Engine, tmp_path: Path
) -> None:
    path = fixture(tmp_path, "outlook_full.csv")
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        # Country US, then "Dates are": day/month/year (the second option).
        await burst(pilot, "tab", "US", "tab", "enter")
        await burst(pilot, "down", "enter")
        assert screen.query_one("#im-order").value == "dmy"  # type: ignore[attr-defined]
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        assert "Imported 4 new of 4 rows" in text_of(screen, "#im-summary")
    with Session(desk_engine) as s:
        john = s.exec(select(Customer).where(col(Customer.first_name) == "John")).one()
    assert str(john.date_of_birth) == "1980-04-03"


async def test_import_wizard_writes_no_error_file_for_a_clean_file(
    desk_engine: Engine, tmp_path: Path
) -> None:
    path = fixture(tmp_path, "shopify.csv")
    app = make_app(desk_engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, path)
        await burst(pilot, "ctrl+s")
        await previewed(pilot, screen)
        assert "Imported 2 new of 2 rows" in text_of(screen, "#im-summary")
        assert "errors.csv" not in text_of(screen, "#im-summary")
    assert not (tmp_path / "shopify.errors.csv").exists()
