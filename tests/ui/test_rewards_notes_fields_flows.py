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
from frontdesk.data.models import Customer, CustomField, LoyaltyEnrolment
from frontdesk.screens.booking import NewBookingScreen
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.profile.details import DetailsTab
from frontdesk.screens.settings import FieldModal, SettingsScreen
from frontdesk.widgets.customer_picker import CustomerPicker
from tests.actors import ADMIN
from tests.ui.conftest import SIZE, make_app, settle, type_text


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
        svc.unblock_customer(session=s, customer_id=cid)
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
        await pilot.press("ctrl+p")
        await settle(pilot)
        app.new_booking()
        await settle(pilot)
        assert isinstance(app.screen, NewBookingScreen)
        await type_text(pilot, code)
        matches = app.screen.query_one("#picker-matches", OptionList)
        assert "⚠ alert" in str(matches.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await settle(pilot)
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.alerts == ["Severe latex allergy"]
        assert "Severe latex allergy" in str(
            app.screen.query_one("#picker-selected", Static).render()
        )


async def test_custom_field_defined_filled_shown_and_filtered(demo_engine: Engine) -> None:
    app = make_app(demo_engine, staff="admin")  # settings are for admins
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FieldModal)
        app.screen.query_one("#fd-label", Input).value = "Hair colour"
        app.screen.query_one("#fd-type", Select).value = "choice"
        app.screen.query_one("#fd-choices", Input).value = "Blonde, Brown, Red"
        await pilot.press("ctrl+s")
        await settle(pilot)
        fields_table = app.screen.query_one("#s-fields-table", DataTable)
        assert fields_table.row_count == 1
        fields_table.focus()
        await pilot.press("enter")  # edit the field: the same modal, filled in
        await settle(pilot)
        assert isinstance(app.screen, FieldModal)
        assert app.screen.query_one("#fd-label", Input).value == "Hair colour"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        edited_id = form.customer_id
        form.query_one("#cf-hair_colour", Input).value = "purple"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)  # refused: not a choice
        assert "one of" in str(app.screen.query_one("#ce-hair_colour").render())
        app.screen.query_one("#cf-hair_colour", Input).value = "red"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert edited_id is not None
        app.open_customer(edited_id)
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        shown = app.screen.query_one(DetailsTab).details
        assert shown is not None and [(c.label, c.value) for c in shown.custom] == [
            ("Hair colour", "Red")
        ]
        await pilot.press("escape")
        await settle(pilot)
        app.screen.query_one("#customers", DataTable).focus()
        await pilot.press("f")
        await settle(pilot)
        with Session(demo_engine) as s:
            field_id = s.exec(select(CustomField.id)).one()
        app.screen.query_one("#fl-cf", Select).value = field_id
        app.screen.query_one("#fl-cf-value", Input).value = "Red"
        await pilot.press("ctrl+s")
        await settle(pilot)
        table: Any = app.screen.query_one("#customers", DataTable)
        assert table.row_count == 1
        assert "Hair colour = Red" in str(app.screen.query_one("#chips").render())
    with Session(demo_engine) as s:
        assert fields.values_of(session=s, customer_id=edited_id) == {"hair_colour": "Red"}
