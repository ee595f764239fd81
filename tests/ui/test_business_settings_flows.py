"""The Business tab of the settings screen, typed as an admin types (every key at once).

S opens the settings; ``left`` from the first tab wraps to the last one, Business; ``tab``
goes into its list, whose rows are group headings and the settings in the catalogue's order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label

from frontdesk.data.business_settings import load_business_settings
from frontdesk.data.models import AuditEvent, Setting
from frontdesk.data.settings import get_setting
from frontdesk.screens.settings import BusinessSettingModal, SettingsScreen, business_rows
from frontdesk.widgets.select import Select
from tests.ui.conftest import SIZE, burst, make_app, settle

ADMIN = "admin"  # the demo's admin


def business_keys(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return [row_key for row_key, _ in business_rows(load_business_settings(session=s))]


def to_row(engine: Engine, key: str) -> list[str]:
    """The ``down`` presses from where the Business tab opens (its first setting, under the
    first group's heading) to the setting ``key``."""
    keys = business_keys(engine)
    return ["down"] * (keys.index(key) - 1)


async def test_the_tab_opens_on_its_first_setting_and_enter_edits_it(demo_engine: Engine) -> None:
    """Enter straight after opening the tab edits the first setting (the cursor was on the
    group's heading, where enter did nothing)."""
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "S", "left", "enter")
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)
        assert modal.setting.key == business_keys(demo_engine)[1]
        # down on the row of tabs goes into the list (it did nothing), down again: the next.
        await burst(pilot, "escape", "down", "down", "enter")
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)
        assert modal.setting.key == business_keys(demo_engine)[2]


def setting(engine: Engine, key: str) -> Any:
    with Session(engine) as s:
        return get_setting(session=s, key=key)


def shown(screen: SettingsScreen, key: str) -> str:
    table = screen.query_one("#s-business-table", DataTable)
    return str(table.get_row(key)[1])


def message(modal: BusinessSettingModal) -> str:
    label = modal.query_one("#bs-value-msg", Label)
    return str(label.render()) if label.display else ""


async def open_business(pilot: Pilot[None]) -> SettingsScreen:
    await settle(pilot)
    await burst(pilot, "S", "left", "tab")
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    assert screen.tab == "s-business"
    return screen


async def test_reminder_hours_set_to_12_from_the_keyboard(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Every key at once: the tab, the row, the dialog and the new value land in order.
        down = to_row(demo_engine, "reminder_hours")
        await burst(pilot, "S", "left", "tab", *down, "enter", "backspace", "backspace", "12")
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)
        assert modal.query_one("#bs-value", Input).value == "12"
        await burst(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert shown(screen, "reminder_hours") == "12"
        table = screen.query_one("#s-business-table", DataTable)
        assert table.cursor_row == len(down) + 1  # still on the changed setting
    assert setting(demo_engine, "reminder_hours") == 12
    with Session(demo_engine) as s:
        event = s.exec(select(AuditEvent).where(col(AuditEvent.entity) == "setting")).one()
        assert (event.changes, event.actor_name) == ({"reminder_hours": [24, 12]}, "Alex Admin")


async def test_a_bad_value_is_refused_under_the_field_and_kept(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_business(pilot)
        down = to_row(demo_engine, "reminder_hours")
        await burst(pilot, *down, "enter", "backspace", "backspace", "abc", "enter")
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)  # still open
        assert message(modal) == "Must be a whole number"
        field = modal.query_one("#bs-value", Input)
        assert field.value == "abc" and modal.focused is field
        assert setting(demo_engine, "reminder_hours") == 24
        # Typing again clears the message; a value out of range is refused the same way.
        await burst(pilot, "backspace", "backspace", "backspace", "999")
        assert message(modal) == ""
        await burst(pilot, "ctrl+s")
        assert message(modal) == "Must be between 1 and 336"
        await burst(pilot, "escape", "y")  # changed: asked, then discarded
        assert isinstance(app.screen, SettingsScreen)
    assert setting(demo_engine, "reminder_hours") == 24


async def test_a_fix_typed_straight_after_the_refused_enter_is_saved(
    demo_engine: Engine,
) -> None:
    """Keys typed after enter wait for the outcome: the refusal, then the fix and its enter."""
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        down = to_row(demo_engine, "due_back_margin_days")
        await burst(
            pilot,
            *("S", "left", "tab", *down, "enter"),
            *("backspace", "backspace", "x1", "enter"),  # refused: "x1"
            *("backspace", "backspace", "30", "enter"),  # typed before the refusal is shown
        )
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert shown(screen, "due_back_margin_days") == "30"
    assert setting(demo_engine, "due_back_margin_days") == 30


async def test_smtp_security_is_chosen_from_a_select(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_business(pilot)
        await burst(pilot, *to_row(demo_engine, "smtp_security"), "enter")
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)
        select = modal.query_one("#bs-value", Select)
        assert select.value == "starttls" and modal.focused is select
        # enter opens the list, down moves to tls, enter chooses, ctrl+s saves.
        await burst(pilot, "enter", "down", "enter", "ctrl+s")
        assert app.screen is screen
        assert shown(screen, "smtp_security") == "tls"
    assert setting(demo_engine, "smtp_security") == "tls"


async def test_yes_or_no_is_chosen_too(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_business(pilot)
        row = to_row(demo_engine, "auto_confirm_requests")
        await burst(pilot, *row, "enter", "enter", "up", "enter", "ctrl+s")
        assert app.screen is screen
        assert shown(screen, "auto_confirm_requests") == "yes"
    assert setting(demo_engine, "auto_confirm_requests") is True


async def test_the_mail_password_is_never_asked_for_here(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_business(pilot)
        assert shown(screen, "smtp_password") == "not shown here"
        await burst(pilot, *to_row(demo_engine, "smtp_password"), "enter")
        assert app.screen is screen  # no dialog: where it comes from is said instead
        said = [n.message for n in app._notifications]
        assert any("FRONTDESK_SMTP_PASSWORD" in m for m in said)
    with Session(demo_engine) as s:
        assert "smtp_password" not in {row.key for row in s.exec(select(Setting))}


async def test_reception_does_not_see_the_business_tab(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="rita")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "S", "left", "tab")
        assert not isinstance(app.screen, SettingsScreen)  # refused with one line
        assert not app.screen.query("#s-business")
        # Were the screen opened for reception anyway, it would have no Business tab.
        app.push_screen(SettingsScreen())
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert not app.screen.query("#s-business")
        assert app.screen.query("#s-fields")


def test_business_tab(snap_compare: Any, demo_engine: Engine) -> None:
    with Session(demo_engine) as s:
        from frontdesk.data.settings import set_setting

        set_setting(session=s, key="reminder_hours", value=12)
        set_setting(session=s, key="sender_email", value="desk@example.com")
        s.commit()

    async def run(pilot: Pilot[None]) -> None:
        await open_business(pilot)
        await burst(pilot, *to_row(demo_engine, "reminder_hours"))

    app = make_app(demo_engine, staff=ADMIN)
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_business_setting_refused_in_its_dialog(snap_compare: Any, demo_engine: Engine) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await open_business(pilot)
        down = to_row(demo_engine, "lapsed_after_days")
        await burst(pilot, *down, "enter", "backspace", "backspace", "backspace", "0", "enter")

    app = make_app(demo_engine, staff=ADMIN)
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


async def test_escape_on_a_changed_setting_asks_before_discarding(demo_engine: Engine) -> None:
    from frontdesk.screens.common import ConfirmModal

    app = make_app(demo_engine, staff=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_business(pilot)
        down = to_row(demo_engine, "reminder_hours")
        await burst(pilot, *down, "enter", "escape")  # unchanged: closes at once
        assert app.screen is screen
        await burst(pilot, "enter", "backspace", "8", "escape")
        assert isinstance(app.screen, ConfirmModal)
        await burst(pilot, "n")  # keep editing: what was typed is there
        modal = app.screen
        assert isinstance(modal, BusinessSettingModal)
        assert modal.query_one("#bs-value", Input).value == "8"  # (the value opens selected)
        await burst(pilot, "escape", "y")
        assert app.screen is screen
        assert setting(demo_engine, "reminder_hours") == 24
