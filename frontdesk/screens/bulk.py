"""Bulk actions on the directory selection."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from frontdesk.data.directory import BulkRequest, Lookups
from frontdesk.screens.common import ChoiceModal, ConfirmModal, PromptModal

__all__ = ["BulkActionModal", "BulkRequest"]

ACTIONS = [
    ("set_category", "Set category…"),
    ("add_tag", "Add tag…"),
    ("remove_tag", "Remove tag…"),
    ("active", "Set status: active"),
    ("inactive", "Set status: inactive"),
    ("block", "Block… (asks for a reason)"),
    ("unblock", "Unblock"),
    ("enrol", "Enrol in a loyalty program…"),
    ("delete", "Delete (can be undone with u until you leave the directory)"),
]


class BulkActionModal(ModalScreen[BulkRequest | None]):
    """Choose what to do with the selected customers; follow-up questions as needed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, count: int, lookups: Lookups) -> None:
        super().__init__(classes="dialog-screen")
        self.count = count
        self.lookups = lookups

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            noun = "customer" if self.count == 1 else "customers"
            yield Label(f"Bulk action on {self.count:,} {noun}", classes="dialog-title")
            yield OptionList(*[Option(label, id=key) for key, label in ACTIONS], id="choices")

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id or ""
        noun = "customer" if self.count == 1 else "customers"
        if key == "set_category":
            options = [
                (f"{c.symbol} {c.name}", str(c.id)) for c in self.lookups.categories.values()
            ]
            options.append(("(no category)", "none"))

            def picked(value: str | None) -> None:
                if value is not None:
                    self.dismiss(
                        BulkRequest(
                            action="set_category",
                            category_id=None if value == "none" else int(value),
                        )
                    )

            self.app.push_screen(ChoiceModal("Set category to", options), picked)
        elif key in ("add_tag", "remove_tag"):
            options = [(t.name, str(t.id)) for t in self.lookups.tags.values()]
            if not options:
                self.notify("There are no tags yet", severity="warning")
                return

            def tag_picked(value: str | None) -> None:
                if value is not None:
                    self.dismiss(BulkRequest(action=key, tag_id=int(value)))

            title = "Add which tag?" if key == "add_tag" else "Remove which tag?"
            self.app.push_screen(ChoiceModal(title, options), tag_picked)
        elif key in ("active", "inactive"):
            self.dismiss(BulkRequest(action="set_status", status=key))
        elif key == "block":

            def reason_given(reason: str | None) -> None:
                if reason:
                    self.dismiss(BulkRequest(action="block", reason=reason))

            self.app.push_screen(
                PromptModal(f"Why block {self.count:,} {noun}?", placeholder="Reason"), reason_given
            )
        elif key == "enrol":
            options = [(p.name, str(p.id)) for p in self.lookups.programs.values() if p.active]

            def program_picked(value: str | None) -> None:
                if value is None:
                    return

                def balance_given(text: str | None) -> None:
                    if text is None:
                        return
                    raw = text.strip() or "0"
                    if not raw.isdigit():
                        self.notify("The starting balance is a whole number", severity="error")
                        return
                    self.dismiss(
                        BulkRequest(
                            action="enrol", program_id=int(value), starting_balance=int(raw)
                        )
                    )

                self.app.push_screen(
                    PromptModal(
                        "Starting balance for each (empty: 0)", placeholder="0", required=False
                    ),
                    balance_given,
                )

            self.app.push_screen(ChoiceModal("Enrol in which program?", options), program_picked)
        elif key == "unblock":
            self.dismiss(BulkRequest(action="unblock"))
        elif key == "delete":

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.dismiss(BulkRequest(action="delete"))

            self.app.push_screen(
                ConfirmModal(f"Delete {self.count:,} {noun}?", "Delete", "Keep"), confirmed
            )
