"""Pilot tests: points, notes, alerts in the booking flow, custom fields end to end."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import DataTable, Input, Select, Static, TextArea

from frontdesk.data import customers as svc
from frontdesk.data import fields
from frontdesk.data import notes as note_svc
from frontdesk.data.models import Customer, CustomField, LoyaltyEnrolment, Note, PointsEntry
from frontdesk.screens.booking import NewBookingScreen
from frontdesk.screens.customer_form import CustomerFormScreen
from frontdesk.screens.directory import DirectoryScreen
from frontdesk.screens.profile import ProfileScreen
from frontdesk.screens.rewards_notes import EnrolModal, NoteModal, PointsModal
from frontdesk.screens.settings import FieldModal, SettingsScreen
from frontdesk.widgets.customer_picker import CustomerPicker
from tests.ui.conftest import SIZE, make_app, settle, type_text


def unenrolled_customer(engine: Engine) -> int:
    with Session(engine) as s:
        enrolled = set(s.exec(select(LoyaltyEnrolment.customer_id)).all())
        c = next(
            c for c in s.exec(select(Customer).order_by(col(Customer.id))) if c.id not in enrolled
        )
        return c.id or 0


async def test_enrol_add_redeem_and_refused_over_redeem(demo_engine: Engine) -> None:
    cid = unenrolled_customer(demo_engine)
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(cid)
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, EnrolModal)
        app.screen.query_one("#m-balance", Input).value = "20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PointsModal)
        await type_text(pilot, "30")
        app.screen.query_one("#m-reason", Input).focus()
        await type_text(pilot, "Birthday gift")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "80")
        app.screen.query_one("#m-reason", Input).focus()
        await type_text(pilot, "Free facial")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)  # refused: notified, nothing written
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "45")
        app.screen.query_one("#m-reason", Input).focus()
        await type_text(pilot, "Free blow-dry")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#r-table", DataTable)
        assert table.row_count == 3
        summary = str(app.screen.query_one("#r-summary", Static).render())
        assert "Reward points: 5 points" in summary
        app.screen.query_one("#r-filter", Input).value = "redeemed"
        await settle(pilot)
        assert table.row_count == 1
    with Session(demo_engine) as s:
        entries = s.exec(
            select(PointsEntry)
            .where(col(PointsEntry.customer_id) == cid)
            .order_by(col(PointsEntry.id))
        ).all()
        assert [(e.points, e.action, e.reason) for e in entries] == [
            (20, "added", "Starting balance"),
            (30, "added", "Birthday gift"),
            (-45, "redeemed", "Free blow-dry"),
        ]
        assert entries[-1].balance_after == 5 and entries[-1].by_id is not None


async def test_notes_add_edit_reorder_delete(demo_engine: Engine) -> None:
    cid = unenrolled_customer(demo_engine)
    with Session(demo_engine) as s:
        for n in s.exec(select(Note).where(col(Note.customer_id) == cid)):
            s.delete(n)
        s.commit()
    app = make_app(demo_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_customer(cid)
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        for body in ("Likes tea", "Prefers Nina"):
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, NoteModal)
            app.screen.query_one("#m-body", TextArea).text = body
            await pilot.press("ctrl+s")
            await settle(pilot)
        table = app.screen.query_one("#n-table", DataTable)
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == [
            "Prefers Nina",
            "Likes tea",
        ]
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("K")  # move "Likes tea" up
        await settle(pilot)
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == [
            "Likes tea",
            "Prefers Nina",
        ]
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NoteModal)
        app.screen.query_one("#m-body", TextArea).text = "Likes **green** tea"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (
            str(app.screen.query_one("#n-table", DataTable).get_row_at(0)[2])
            == "Likes **green** tea"
        )
        app.screen.query_one("#n-table", DataTable).move_cursor(row=1)
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    with Session(demo_engine) as s:
        assert [n.body for n in s.exec(select(Note).where(col(Note.customer_id) == cid))] == [
            "Likes **green** tea"
        ]


async def test_alert_note_shows_in_the_booking_flow(demo_engine: Engine) -> None:
    cid = unenrolled_customer(demo_engine)
    with Session(demo_engine) as s:
        svc.unblock_customer(session=s, customer_id=cid)
        alert = next(c for c in note_svc.list_categories(session=s) if c.is_alert)
        note_svc.add_note(
            session=s, customer_id=cid, body="Severe latex allergy", category_id=alert.id
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
        assert "⚠ alert" in str(
            app.screen.query_one("#picker-matches").get_option_at_index(0).prompt
        )  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        picked = app.screen.query_one(CustomerPicker).customer
        assert picked is not None and picked.alerts == ["Severe latex allergy"]
        assert "Severe latex allergy" in str(
            app.screen.query_one("#picker-selected", Static).render()
        )


async def test_custom_field_defined_filled_shown_and_filtered(demo_engine: Engine) -> None:
    app = make_app(demo_engine)
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
        assert "one of" in str(app.screen.query_one("#ce-hair_colour").render())  # type: ignore[attr-defined]
        app.screen.query_one("#cf-hair_colour", Input).value = "red"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DirectoryScreen)
        assert edited_id is not None
        app.open_customer(edited_id)
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        shown = app.screen.profile
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
        assert "Hair colour = Red" in str(app.screen.query_one("#chips").render())  # type: ignore[attr-defined]
    with Session(demo_engine) as s:
        assert fields.values_of(session=s, customer_id=edited_id) == {"hair_colour": "Red"}
