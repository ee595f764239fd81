"""Pilot tests: alerts in the booking flow, custom fields end to end.

Points and notes in the profile are tested in test_profile_flows.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, OptionList, Select, Static

from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data import notes as note_svc
from frontdesk.data.models import Customer, LoyaltyEnrolment
from frontdesk.screens.booking import NewBookingScreen
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.filters import FilterModal
from frontdesk.screens.profile.details import DetailsTab
from frontdesk.screens.settings import TYPES, FieldModal, SettingsScreen
from frontdesk.widgets.customer_picker import CustomerPicker
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, burst, make_app, settle


def unenrolled_customer(engine: Engine) -> int:
    with Session(engine) as s:
        enrolled = set(s.exec(select(LoyaltyEnrolment.customer_id)).all())
        c = next(
            c for c in s.exec(select(Customer).order_by(col(Customer.id))) if c.id not in enrolled
        )
        return c.id or 0


async def test_alert_note_shows_in_the_booking_flow(demo_engine: Engine) -> None:
    cid = unenrolled_customer(demo_engine)
    with Session(demo_engine) as s:
        svc.unblock_customer(session=s, customer_id=cid, actor=ADMIN)
        alert = next(c for c in note_svc.list_categories(session=s) if c.is_alert)
        note_svc.add_note(
            session=s,
            customer_id=cid,
            body="Severe latex allergy",
            category_id=alert.id,
            actor=ADMIN,
        )
        s.commit()
        code = svc.get_customer(session=s, customer_id=cid).code
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # b from the directory: the booking screen, its customer search typed at once.
        await burst(pilot, "b", code)
        assert isinstance(app.screen, NewBookingScreen)
        matches = app.screen.query_one("#picker-matches", OptionList)
        assert "⚠ alert" in str(matches.get_option_at_index(0).prompt)
        await burst(pilot, "enter")
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.alerts == ["Severe latex allergy"]
        assert "Severe latex allergy" in str(
            app.screen.query_one("#picker-selected", Static).render()
        )


async def test_custom_field_defined_filled_shown_and_filtered(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="admin")  # settings are for admins (the demo's admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Settings (the directory's list has focus), a new field: label, tab past the key to
        # Type, open it and go down to "choice", then the choices; everything typed at once.
        await burst(pilot, "S", "a", "Hair colour", "tab", "tab", "enter")
        assert isinstance(app.screen, FieldModal)
        down = [str(v) for _p, v in TYPES].index("choice")
        await burst(pilot, *["down"] * down, "enter", "tab", "Blonde, Brown, Red", "ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        fields_table = app.screen.query_one("#s-fields-table", DataTable)
        assert fields_table.row_count == 1
        await burst(pilot, "enter")  # edit the field: the same modal, filled in
        assert isinstance(app.screen, FieldModal)
        assert app.screen.query_one("#fd-label", Input).value == "Hair colour"
        assert app.screen.query_one("#fd-type", Select).value == "choice"
        await burst(pilot, "escape", "escape")
        assert isinstance(app.screen, DirectoryScreen)
        edited_id = app.screen.highlighted_id()
        assert edited_id is not None
        await burst(pilot, "e")
        form = app.screen
        assert isinstance(form, CustomerFormScreen) and form.customer_id == edited_id
        chain = form.focus_chain
        to_field = ["tab"] * (
            chain.index(form.query_one("#cf-hair_colour")) - chain.index(form.focused)
        )
        await burst(pilot, *to_field, "purple", "ctrl+s")
        assert app.screen is form  # refused: not a choice
        assert "one of" in str(form.query_one("#ce-hair_colour").render())
        assert form.query_one("#cf-hair_colour", Input).value == "purple"
        assert app.focused is form.query_one("#cf-hair_colour", Input)
        await burst(pilot, *["backspace"] * len("purple"), "red", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        app.open_customer(edited_id)
        await burst(pilot, "7")
        shown = app.screen.query_one(DetailsTab).details
        assert shown is not None and [(c.label, c.value) for c in shown.custom] == [
            ("Hair colour", "Red")
        ]
        await burst(pilot, "escape", "f")
        modal = app.screen
        assert isinstance(modal, FilterModal)
        chain = modal.focus_chain
        to_cf = ["tab"] * (chain.index(modal.query_one("#fl-cf")) - chain.index(modal.focused))
        # The custom field (the only one, below "(none)"), "equals" as it is, the value.
        await burst(pilot, *to_cf, "enter", "down", "enter", "tab", "tab", "Red", "ctrl+s")
        assert isinstance(app.screen, DirectoryScreen)
        table: Any = app.screen.query_one("#customers", DataTable)
        assert table.row_count == 1
        assert "Hair colour = Red" in str(app.screen.query_one("#chips").render())
    with Session(demo_engine) as s:
        assert fields.values_of(session=s, customer_id=edited_id) == {"hair_colour": "Red"}
