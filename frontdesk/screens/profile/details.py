"""Tab 7: every field of the customer record, custom fields included, and the customer's
secondary phones and emails (``a`` adds one, ``x`` removes one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from frontdesk.data import contacts
from frontdesk.data import profile as data
from frontdesk.data.contacts import ContactView, DetailsView
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.data.validation import format_phone
from frontdesk.screens.common import ChoiceModal, PromptModal
from frontdesk.screens.fmt import day, when
from frontdesk.screens.profile.tab import ProfileTab, cell, prompt_check
from frontdesk.text import user_text


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _contact(point: ContactView) -> Text:
    text = user_text(point.shown)
    text.append("  ")
    text.append_text(user_text(f"({point.origin})", "dim"))
    return text


class DetailsTab(ProfileTab):
    NAME = "details"
    details: data.DetailsTab | None = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_contact", "Add phone/email", tooltip="Add a secondary phone or email"),
        Binding(
            "x", "remove_contact", "Remove phone/email", tooltip="Remove a secondary phone or email"
        ),
    ]
    DEFAULT_CSS = """
    DetailsTab #d-fields {
        width: 100%;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.contacts: list[ContactView] = []  # the secondary phones and emails shown
        self.phone_region = "US"  # a phone typed without +country code is read in this region

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="d-scroll"):
            yield Static("", id="d-fields")

    def focus_target(self) -> Widget:
        return self.query_one("#d-scroll")

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        return lambda s: contacts.load_details(session=s, customer_id=customer_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add_contact", "remove_contact"):
            return self.fd.may("customers.write")
        return True

    def show_data(self, view: DetailsView) -> None:
        self.details = details = view.details
        self.contacts, self.phone_region = view.contacts, view.region
        c = details.customer
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", min_width=22, no_wrap=True)
        table.add_column()
        blocked = Text("no")
        if c.blocked:
            blocked = Text("yes — ")
            blocked.append_text(cell(c.blocked_reason))
        created = Text(f"{when(c.created_at)} via {c.created_via}")
        if c.created_source:  # where an online booking came from (website, assistant ...)
            created.append(" (")
            created.append_text(cell(c.created_source))
            created.append(")")
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
            *[("Secondary phone", _contact(p)) for p in view.contacts if p.kind == "phone"],
            *[("Secondary email", _contact(p)) for p in view.contacts if p.kind == "email"],
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
        if self.fd.may("customers.write"):
            table.add_row("", "")
            table.add_row(
                "", Text("a adds a secondary phone or email · x removes one", style="dim")
            )
        self.query_one("#d-fields", Static).update(table)

    # ---------------------------------------------------------------- secondary contacts
    def action_add_contact(self) -> None:
        if self.details is None:
            return
        customer_id = self.details.customer.id or 0
        actor, region = self.operator, self.phone_region

        def save(text: str) -> Callable[[Session], ContactView]:
            return lambda s: contacts.add_contact_point(
                session=s, customer_id=customer_id, text=text, actor=actor, region=region
            )

        def explain(error: FrontdeskError) -> str | None:
            return error.message if isinstance(error, ValidationFailed) else None

        def added(point: Any) -> None:  # the modal closes with what the service returned
            if isinstance(point, ContactView):
                self.saved(f"Added {point.shown}", changed="customer")

        self.ask(
            PromptModal(
                "Add a secondary phone or email",
                placeholder="+31 6 1234 5678 or name@example.com",
                # Typos are named under the field as typed, and so is a refusal by the
                # service (another customer's phone or email): the dialog stays open with
                # what was typed, and closes once the phone or email is added.
                check=prompt_check(lambda text: contacts.parse_contact(text, region)),
                save=save,
                explain=explain,
            ),
            added,
        )

    def action_remove_contact(self) -> None:
        if self.details is None:
            return
        points = self.contacts
        if not points:
            self.notify("No secondary phone or email to remove", markup=False)
            return
        actor = self.operator

        def chosen(key: str | None) -> None:
            if key is None:
                return
            contact_id = int(key)
            self.write(
                lambda s: contacts.remove_contact_point(
                    session=s, contact_id=contact_id, actor=actor
                ),
                changed="customer",
                done=lambda v: f"Removed {v.shown}",
            )

        self.ask(
            ChoiceModal(
                "Remove which secondary phone or email?",
                [(_contact(p), str(p.id)) for p in points],
            ),
            chosen,
        )

    @staticmethod
    def _value(value: Text | str | None) -> Text:
        if isinstance(value, Text):
            return value
        return cell(value) if value else Text("—", style="dim")
