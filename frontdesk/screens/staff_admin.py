"""The Staff tab of the settings screen (admins): its rows and the dialog that adds or
changes a staff member (name, username, role).

The dialog saves while it is open (through ``save``, a session function the settings screen
builds from :func:`frontdesk.data.staff.save_staff_form`): a value the service refuses
(a name taken, a space in a username, the last admin's role) is shown under its field, and
nothing typed is lost. Names are user data: shown literally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from frontdesk.data.models import Staff, StaffRole
from frontdesk.screens.common import SavingDialog, discard_or_stay
from frontdesk.text import join, user_text
from frontdesk.widgets.select import Select

STAFF_COLUMNS = ("Name", "Username", "Role", "Branch", "State")
ROLES = [(Text(r.value), r.value) for r in StaffRole]

# What the dialog saves: the session work for what was typed (built by the screen).
StaffSaver = Callable[[Session], object]


@dataclass(frozen=True)
class StaffForm:
    """The staff dialog as typed."""

    name: str
    username: str
    role: str
    branch: str = ""  # a branch's id, or "" (at every branch)


def staff_cells(member: Staff, branch_names: Mapping[int, str], me: int | None) -> list[Text]:
    """A row of the Staff tab: a deactivated member is dimmed and says so."""
    style = "" if member.active else "dim"
    branch = branch_names.get(member.branch_id) if member.branch_id is not None else None
    state = Text("active") if member.active else Text("inactive", "dim italic")
    name = user_text(member.name, style)
    if me is not None and member.id == me:
        name = join(name, Text("(you)", "dim"))
    return [
        name,
        user_text(member.username or "", style),
        Text(member.role, style),
        user_text(branch or "", style),
        state,
    ]


class StaffModal(SavingDialog):
    """Add (no ``initial``) or change a staff member; ``enter`` in a line or ctrl+s saves;
    escape on a changed dialog asks before discarding."""

    AUTO_FOCUS = "#sf-name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    PREFIX = "sf"

    def __init__(
        self,
        initial: StaffForm | None = None,
        *,
        save: Callable[[StaffForm], StaffSaver] | None = None,
        branches: Mapping[int, str] | None = None,
    ) -> None:
        super().__init__()
        self.initial = initial
        self.save = save
        self.branches = dict(branches or {})

    def compose(self) -> ComposeResult:
        i = self.initial
        line = self.message_line
        title = "Staff member" if i else "New staff member"
        with Vertical(classes="dialog", id="staff-dialog"):
            yield Label(Text(f"{title}  ·  ctrl+s saves"), classes="dialog-title")
            yield Label("Name")
            yield Input(i.name if i else "", id="sf-name")
            yield line("sf-name-msg")
            yield Label("Username (their login; no spaces; may be empty)")
            yield Input(i.username if i else "", id="sf-username")
            yield line("sf-username-msg")
            yield Label("Role")
            yield Select[str](
                ROLES,
                id="sf-role",
                allow_blank=False,
                value=i.role if i else StaffRole.RECEPTION.value,
            )
            yield line("sf-role-msg")
            yield Label("Branch (where they are booked)")
            places: list[tuple[str | Text, str]] = [(Text("Every branch"), "")]
            places += [(user_text(name), str(bid)) for bid, name in self.branches.items()]
            yield Select[str](
                places, id="sf-branch", allow_blank=False, value=i.branch if i else ""
            )
            yield line("sf-branch-msg")
            yield line("sf-error")

    def form(self) -> StaffForm:
        return StaffForm(
            name=self.query_one("#sf-name", Input).value,
            username=self.query_one("#sf-username", Input).value,
            role=str(self.query_one("#sf-role", Select).value),
            branch=str(self.query_one("#sf-branch", Select).value),
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        form = self.form()
        if self.save is None:
            self.dismiss(form)
            return
        self.save_with(self.save(form), closing_with=form)

    def action_cancel(self) -> None:
        if self.saving:  # a save under way closes the dialog itself
            return
        before = self.initial or StaffForm("", "", StaffRole.RECEPTION.value)
        discard_or_stay(self, "Discard what you typed?", changed=self.form() != before)
