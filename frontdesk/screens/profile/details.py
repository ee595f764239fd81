"""Tab 7: every field of the customer record, custom fields included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from frontdesk.data import profile as data
from frontdesk.data.validation import format_phone
from frontdesk.screens.fmt import day, when
from frontdesk.screens.profile.tab import ProfileTab, cell


def _yes(value: bool) -> str:
    return "yes" if value else "no"


class DetailsTab(ProfileTab):
    NAME = "details"
    details: data.DetailsTab | None = None
    DEFAULT_CSS = """
    DetailsTab #d-fields {
        width: 100%;
        height: auto;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="d-scroll"):
            yield Static("", id="d-fields")

    def focus_target(self) -> Widget:
        return self.query_one("#d-scroll")

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        return lambda s: data.load_details_tab(session=s, customer_id=customer_id)

    def show_data(self, details: data.DetailsTab) -> None:
        self.details = details
        c = details.customer
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", min_width=22, no_wrap=True)
        table.add_column()
        blocked = Text("no")
        if c.blocked:
            blocked = Text("yes — ")
            blocked.append_text(cell(c.blocked_reason))
        created = Text(f"{when(c.created_at)} via {c.created_via}")
        if details.created_by:
            created.append(" by ")
            created.append_text(cell(details.created_by))
        fields: list[tuple[str, Text | str | None]] = [
            ("Code", c.code),
            ("First name", c.first_name),
            ("Last name", c.last_name),
            ("Display name", c.display_name),
            ("Email", c.email),
            ("Mobile", format_phone(c.phone)),
            ("Mobile country", c.phone_country),
            ("Other phone", format_phone(c.other_phone)),
            ("Gender", c.gender),
            ("Date of birth", day(c.date_of_birth) if c.date_of_birth else None),
            ("Anniversary", day(c.anniversary) if c.anniversary else None),
            ("Address", c.address),
            ("City", c.city),
            ("State", c.state),
            ("Postal code", c.postal_code),
            ("Country", c.country),
            ("Category", details.category),
            ("Tags", ", ".join(details.tags)),
            ("Home branch", details.branch),
            ("Status", c.status),
            ("Blocked", blocked),
            ("Appointment reminders", _yes(c.consent_reminders)),
            ("Birthday messages", _yes(c.consent_birthday)),
            ("Marketing", _yes(c.consent_marketing)),
            ("Newsletter", _yes(c.consent_newsletter)),
            ("Photo", c.photo_path),
            ("Created", created),
            ("Updated", f"{when(c.updated_at)} (version {c.version})"),
        ]
        if c.deleted_at is not None:
            fields.append(("Deleted", when(c.deleted_at)))
        for label, value in fields:
            table.add_row(label, self._value(value))
        if details.custom:
            table.add_row("", "")
            table.add_row(Text("Custom fields", style="bold"), "")
            for cv in details.custom:
                table.add_row(cell(cv.label), self._value(cv.value))
        self.query_one("#d-fields", Static).update(table)

    @staticmethod
    def _value(value: Text | str | None) -> Text:
        if isinstance(value, Text):
            return value
        return cell(value) if value else Text("—", style="dim")
