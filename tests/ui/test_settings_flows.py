"""Pilot tests of the settings screen, typed as an admin types: every key at once (burst)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from frontdesk.data import fields
from frontdesk.data.models import (
    Category,
    Customer,
    CustomerTag,
    CustomField,
    LoyaltyProgram,
    NoteCategory,
    Tag,
)
from frontdesk.screens.common import ChoiceModal, ConfirmModal
from frontdesk.screens.settings import FieldModal, LineModal, SettingsScreen
from tests.actors import ADMIN as TEST_ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle

HOSTILE = "[/]Maria [link=file:///etc/passwd]x[/link]"
ADMIN = "admin"  # settings are for admins (the demo's admin)


def cells(table: DataTable[object]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def message(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Label).render())  # type: ignore[attr-defined]


async def open_settings(pilot: Pilot[None], *tab_keys: str) -> SettingsScreen:
    """From the directory (the list has focus): S opens settings, ``right`` moves along the
    tabs."""
    await settle(pilot)
    await burst(pilot, "S", *tab_keys)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    return screen


async def test_colour_gold_typed_in_settings_is_stored_as_hex(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        # Every key at once: the tab move, the dialog and the text land where they belong.
        await burst(pilot, "right", "a", "Gold club", "tab", "G", "tab", "gold")
        modal = app.screen
        assert isinstance(modal, LineModal)
        assert "stored as #ffd700" in message(modal, "#ln-2-msg")  # said while typing
        await burst(pilot, "ctrl+s")
        assert app.screen is screen
        table = screen.query_one("#s-categories-table", DataTable)
        row = cells(table)[table.cursor_row]  # the cursor is on the saved category
        assert row[:2] == ["G", "Gold club"] and row[2].endswith("#ffd700")
    with Session(demo_engine) as s:
        gold = s.exec(select(Category).where(col(Category.name) == "Gold club")).one()
        assert (gold.symbol, gold.colour) == ("G", "#ffd700")


async def test_a_colour_that_is_not_one_is_refused_next_to_the_field(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "right", "a", "Silver", "tab", "S", "tab", "goldish", "ctrl+s")
        modal = app.screen
        assert isinstance(modal, LineModal)  # still open, nothing typed is lost
        assert "is not a colour" in message(modal, "#ln-2-msg")
        assert modal.focused is modal.query_one("#ln-2", Input)
        assert [i.value for i in modal.query(Input)] == ["Silver", "S", "goldish"]
        # Fix it where the cursor already is.
        await burst(pilot, *["backspace"] * 7, "#C0C0C0", "ctrl+s")
        assert app.screen is screen
    with Session(demo_engine) as s:
        silver = s.exec(select(Category).where(col(Category.name) == "Silver")).one()
        assert silver.colour == "#c0c0c0"


async def test_stored_garbage_colours_render_without_crashing(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        for name, colour in [
            ("Gold (stored before checks)", "gold"),
            (HOSTILE, "not a colour [/]"),
            ("Empty colour", ""),
            ("Escape", "\x1b[31m"),
        ]:
            s.add(Category(name=name, symbol="*", colour=colour, position=90))
        s.add(Tag(name=HOSTILE, key="hostile", colour="gold"))
        s.commit()
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "right")
        table = screen.query_one("#s-categories-table", DataTable)
        shown = {row[1]: row[2] for row in cells(table)}
        assert shown["Gold (stored before checks)"].endswith("gold")  # drawn as #ffd700
        # Literally, not as markup; said to be unreadable; a control shown escaped.
        assert shown[HOSTILE].endswith("not a colour [/] (unreadable: edit to fix)")
        assert shown["Escape"].endswith("\\x1b[31m (unreadable: edit to fix)")
        await burst(pilot, "right")
        tags = {row[0]: row[1] for row in cells(screen.query_one("#s-tags-table", DataTable))}
        assert tags[HOSTILE].endswith("gold")
        # The bulk action's category list draws the same stored colours.
        await burst(pilot, "escape", "a", "enter")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.return_code is None  # still running


async def test_hostile_tag_name_is_shown_as_typed(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "right", "right")
        await burst(pilot, "a", HOSTILE, "enter")
        assert app.screen is screen
        assert [HOSTILE] in [row[:1] for row in cells(screen.query_one("#s-tags-table", DataTable))]
    with Session(demo_engine) as s:
        assert s.exec(select(Tag).where(col(Tag.name) == HOSTILE)).one()


async def test_program_numbers_are_checked_next_to_their_field(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "right", "right", "right")
        await burst(pilot, "a", "Stamp card", "tab", "stamps", "tab", "ten", "ctrl+s")
        modal = app.screen
        assert isinstance(modal, LineModal)
        assert "whole number" in message(modal, "#ln-2-msg")
        assert modal.focused is modal.query_one("#ln-2", Input)
        await burst(pilot, "backspace", "backspace", "backspace", "30", "ctrl+s")
        assert app.screen is screen
    with Session(demo_engine) as s:
        card = s.exec(select(LoyaltyProgram).where(col(LoyaltyProgram.name) == "Stamp card")).one()
        assert (card.unit, card.default_expiry_days, card.active) == ("stamps", 30, True)


async def test_note_category_alert_answer_is_yes_or_no(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot, "right", "right", "right", "right")
        await burst(pilot, "a", "Contraindication", "tab", "backspace", "backspace", "maybe")
        await burst(pilot, "ctrl+s")
        modal = app.screen
        assert isinstance(modal, LineModal)
        assert "yes or no" in message(modal, "#ln-1-msg")
        await burst(pilot, *["backspace"] * 5, "yes", "ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
    with Session(demo_engine) as s:
        made = s.exec(select(NoteCategory).where(col(NoteCategory.name) == "Contraindication"))
        assert made.one().is_alert


async def test_field_key_refused_next_to_the_key(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "a", "Allergies", "tab", "Bad Key", "ctrl+s")
        modal = app.screen
        assert isinstance(modal, FieldModal)
        assert "Lower-case letters" in message(modal, "#fd-key-msg")
        await burst(pilot, *["backspace"] * 7, "ctrl+s")  # empty key: made from the label
        assert app.screen is screen
        assert [row[:2] for row in cells(screen.query_one("#s-fields-table", DataTable))] == [
            ["Allergies", "allergies"]
        ]


async def test_field_order_and_delete_act_on_the_highlighted_row(demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        for label in ("First", HOSTILE, "Third"):
            fields.save_field(session=s, label=label, key=None, actor=TEST_ADMIN)
        s.commit()
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        table = screen.query_one("#s-fields-table", DataTable)
        await burst(pilot, "tab", "down", "J")  # the hostile one moves below "Third"
        assert [row[0] for row in cells(table)] == ["First", "Third", HOSTILE]
        assert cells(table)[table.cursor_row][0] == HOSTILE  # the cursor follows it
        await burst(pilot, "delete")
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        question = message(confirm, "#question")
        assert HOSTILE in question and "0 values" in question
        await burst(pilot, "y")
        assert app.screen is screen
        assert [row[0] for row in cells(table)] == ["First", "Third"]
    with Session(demo_engine) as s:
        assert [f.label for f in s.exec(select(CustomField))] == ["First", "Third"]


async def test_settings_are_refused_to_reception(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "S")
        assert not isinstance(app.screen, SettingsScreen)


async def test_escape_on_a_changed_line_dialog_asks_before_discarding(demo_engine: Engine) -> None:
    """Escape with nothing typed closes the dialog; with something typed it asks first, and
    "Keep editing" (n) goes back with everything typed; y discards, nothing saved."""
    from frontdesk.screens.common import ConfirmModal

    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "right", "a", "escape")
        assert app.screen is screen
        await burst(pilot, "a", "[b]Platinum[/b]", "tab", "P", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")
        modal = app.screen
        assert isinstance(modal, LineModal)
        assert [i.value for i in modal.query(Input)][:2] == ["[b]Platinum[/b]", "P"]
        await burst(pilot, "escape", "y")
        assert app.screen is screen
    with Session(demo_engine) as s:
        assert not s.exec(select(Category).where(col(Category.name) == "[b]Platinum[/b]")).all()


async def test_a_number_goes_to_its_tab(demo_engine: Engine) -> None:
    """1-8 jump to the tabs from the left, their list focused: typed at full speed, 3 then
    a adds a tag."""
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot, "8")
        assert screen.tab == "s-business"
        assert app.focused is screen.query_one("#s-business-table", DataTable)
        await burst(pilot, "3", "a", HOSTILE, "enter")
        assert app.screen is screen and screen.tab == "s-tags"
        assert app.focused is screen.query_one("#s-tags-table", DataTable)
        await burst(pilot, "9", "1")  # no ninth tab: nothing; 1: the first
        assert screen.tab == "s-fields"
    with Session(demo_engine) as s:
        assert s.exec(select(Tag).where(col(Tag.name) == HOSTILE)).one()


async def test_delete_a_tag_takes_it_off_its_customers(demo_engine: Engine) -> None:
    """3 (Tags), down to the tag, delete: the question names it literally and says how many
    customers have it; y deletes it and takes it off them."""
    from frontdesk.data import tags

    with Session(demo_engine) as s:
        tag = tags.create_tag(session=s, name=HOSTILE, actor=TEST_ADMIN)
        tag_id = tag.id or 0
        s.commit()
        ids = [c.id or 0 for c in s.exec(select(Customer).order_by(col(Customer.id)).limit(2))]
        for cid in ids:
            tags.add_tag(session=s, customer_id=cid, tag_id=tag_id, actor=TEST_ADMIN)
        s.commit()
        names = [t.name for t in s.exec(select(Tag).order_by(col(Tag.name)))]
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "3", *["down"] * names.index(HOSTILE), "delete")
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        question = message(confirm, "#question")
        assert HOSTILE in question and "taken off 2 customers" in question
        await burst(pilot, "y")
        assert app.screen is screen
        table = screen.query_one("#s-tags-table", DataTable)
        assert HOSTILE not in [row[0] for row in cells(table)]
    with Session(demo_engine) as s:
        assert s.get(Tag, tag_id) is None
        assert not s.exec(select(CustomerTag).where(col(CustomerTag.tag_id) == tag_id)).all()


async def test_delete_a_category_leaves_its_customers_without_one(demo_engine: Engine) -> None:
    """2 (Categories), delete on the first, n keeps it, delete and y deletes it."""
    with Session(demo_engine) as s:
        first = s.exec(select(Category).order_by(col(Category.position))).first()
        assert first is not None
        category_id, name = first.id or 0, first.name
        members = s.exec(select(Customer.id).where(col(Customer.category_id) == category_id)).all()
        assert members  # the demo puts customers in every category
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "2", "delete", "n")
        assert app.screen is screen
        await burst(pilot, "delete")
        question = message(app.screen, "#question")
        assert name in question and f"{len(members):,} customers in it are left" in question
        await burst(pilot, "y")
        assert app.screen is screen
        table = screen.query_one("#s-categories-table", DataTable)
        assert name not in [row[1] for row in cells(table)]
    with Session(demo_engine) as s:
        assert s.get(Category, category_id) is None
        for cid in members:
            customer = s.get(Customer, cid)
            assert customer is not None and customer.category_id is None


async def test_enter_on_a_tag_renames_it(demo_engine: Engine) -> None:
    """3 (Tags), enter: the tag's name and colour in a dialog; ctrl+s renames it, and its
    customers keep it (enter only said how to work around it)."""
    with Session(demo_engine) as s:
        first = s.exec(select(Tag).order_by(col(Tag.name))).first()
        assert first is not None
        tag_id = first.id
        holders = set(
            s.exec(select(CustomerTag.customer_id).where(col(CustomerTag.tag_id) == tag_id))
        )
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "3", "enter", "ctrl+a", "ctrl+k", HOSTILE, "ctrl+s")
        assert app.screen is screen
        table = screen.query_one("#s-tags-table", DataTable)
        assert cells(table)[table.cursor_row][0] == HOSTILE  # the cursor stays on it
    with Session(demo_engine) as s:
        renamed = s.get(Tag, tag_id)
        assert renamed is not None and renamed.name == HOSTILE
        kept = set(s.exec(select(CustomerTag.customer_id).where(col(CustomerTag.tag_id) == tag_id)))
        assert kept == holders


async def test_escape_on_a_changed_field_dialog_asks_first(demo_engine: Engine) -> None:
    """As the other settings dialogs (it closed at once, losing what was typed)."""
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        await burst(pilot, "a", "escape")  # nothing typed: closed at once
        assert app.screen is screen
        await burst(pilot, "a", "Allergies", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")
        assert isinstance(app.screen, FieldModal)
        assert app.screen.query_one("#fd-label", Input).value == "Allergies"
        await burst(pilot, "escape", "y")
        assert app.screen is screen
    with Session(demo_engine) as s:
        assert not s.exec(select(CustomField)).all()
