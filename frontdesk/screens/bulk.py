"""Bulk actions on the directory selection: choose the action, answer its follow-up question.

The modal only asks; the directory runs the chosen :class:`BulkRequest` (one service,
``directory.apply_bulk``) off the UI thread. Category and tag names are user data and are
shown literally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from frontdesk.data.delete_flow import DeletePreview, delete_preview
from frontdesk.data.directory import BulkRequest, Lookups
from frontdesk.data.rewards import MAX_POINTS
from frontdesk.data.roles import BULK_DELETE_LIMIT
from frontdesk.screens.common import (
    ChoiceModal,
    ConfirmModal,
    PromptModal,
    category_text,
)
from frontdesk.text import join, user_text
from frontdesk.widgets.base import FrontdeskModal

__all__ = ["BulkActionModal", "BulkRequest", "ConsentRequest"]


@dataclass(frozen=True)
class ConsentRequest:
    """Subscribe or unsubscribe the selection (``consent.set_consent_bulk``)."""

    purpose: str
    granted: bool


ACTIONS = [
    ("set_category", "Set category…"),
    ("add_tag", "Add tag…"),
    ("remove_tag", "Remove tag…"),
    ("active", "Set status: active"),
    ("inactive", "Set status: inactive"),
    ("block", "Block… (asks for a reason)"),
    ("unblock", "Unblock"),
    ("enrol", "Enrol in a loyalty program…"),
    ("subscribe", "Subscribe to the newsletter… (asks first)"),
    ("unsubscribe", "Unsubscribe from the newsletter… (asks first)"),
    ("delete", "Delete (can be undone with u until you leave the directory)"),
]


def _whole_number(text: str) -> str | None:
    raw = text.strip() or "0"
    if not (raw.isascii() and raw.isdigit()):
        return "The starting balance is a whole number (0 or more)."
    if len(raw) > len(str(MAX_POINTS)) or int(raw) > MAX_POINTS:
        return f"The starting balance is at most {MAX_POINTS:,}."
    return None


class BulkActionModal(FrontdeskModal[BulkRequest | ConsentRequest | None]):
    """Choose what to do with the selected customers; follow-up questions as needed."""

    AUTO_FOCUS = "#choices"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, count: int, lookups: Lookups, customer_ids: Sequence[int] | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.count = count
        self.lookups = lookups
        # The customers acted on: the delete question says what deleting them cancels.
        self.customer_ids = list(customer_ids or [])

    @property
    def noun(self) -> str:
        return "customer" if self.count == 1 else "customers"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Bulk action on {self.count:,} {self.noun}"), classes="dialog-title")
            yield OptionList(*self._options(), id="choices")

    def _options(self) -> list[Option]:
        """The actions the operator's role allows (delete: up to the limit without an admin)."""
        options = []
        for key, label in ACTIONS:
            if key in ("subscribe", "unsubscribe") and not self.fd.may("consent.write"):
                continue
            if key != "delete":
                options.append(Option(Text(label), id=key))
            elif not self.fd.may("bulk.delete"):
                continue  # hidden from a role that may not delete
            elif self.count > BULK_DELETE_LIMIT and not self.fd.may("bulk.delete.many"):
                text = f"Delete (more than {BULK_DELETE_LIMIT} customers takes an admin)"
                options.append(Option(Text(text), id=key, disabled=True))
            else:
                options.append(Option(Text(label), id=key))
        return options

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key == "set_category":
            self._ask_category()
        elif key in ("add_tag", "remove_tag"):
            self._ask_tag(key)
        elif key in ("active", "inactive"):
            self.dismiss(BulkRequest(action="set_status", status=key))
        elif key == "block":
            self._ask_block_reason()
        elif key == "enrol":
            self._ask_program()
        elif key == "unblock":
            self.dismiss(BulkRequest(action="unblock"))
        elif key == "delete":
            self._ask_delete()
        elif key in ("subscribe", "unsubscribe"):
            self._ask_consent(granted=key == "subscribe")

    def _ask_consent(self, *, granted: bool) -> None:
        """A consent is the customer's word: changed for a whole selection only when asked."""

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss(ConsentRequest(purpose="newsletter", granted=granted))

        verb = "Subscribe" if granted else "Unsubscribe"
        question = Text(
            f"{verb} {self.count:,} {self.noun} {'to' if granted else 'from'} the newsletter?"
        )
        if granted:
            question.append(
                "\nOnly customers who asked for it: each is recorded as given at this desk."
            )
        self.app.push_screen(ConfirmModal(question, verb, "Keep as they are"), confirmed)

    def _ask_category(self) -> None:
        options: list[tuple[str | Text, str]] = [
            (category_text(c.symbol, c.name, c.colour), str(c.id))
            for c in self.lookups.categories.values()
        ]
        options.append((Text("(no category)", style="italic"), "none"))

        def picked(value: str | None) -> None:
            if value is not None:
                category_id = None if value == "none" else int(value)
                self.dismiss(BulkRequest(action="set_category", category_id=category_id))

        self.app.push_screen(ChoiceModal("Set category to", options), picked)

    def _ask_tag(self, key: str) -> None:
        options: list[tuple[str | Text, str]] = [
            (user_text(t.name), str(t.id)) for t in self.lookups.tags.values()
        ]
        if not options:
            self.notify("There are no tags yet (add them in settings, S)", severity="warning")
            return

        def tag_picked(value: str | None) -> None:
            if value is not None:
                self.dismiss(BulkRequest(action=key, tag_id=int(value)))

        title = "Add which tag?" if key == "add_tag" else "Remove which tag?"
        self.app.push_screen(ChoiceModal(title, options), tag_picked)

    def _ask_block_reason(self) -> None:
        def reason_given(reason: str | None) -> None:
            if reason:
                self.dismiss(BulkRequest(action="block", reason=reason))

        self.app.push_screen(
            PromptModal(f"Why block {self.count:,} {self.noun}?", placeholder="Reason"),
            reason_given,
        )

    def _ask_program(self) -> None:
        options: list[tuple[str | Text, str]] = [
            (user_text(p.name), str(p.id)) for p in self.lookups.programs.values() if p.active
        ]
        if not options:
            self.notify("There is no active loyalty program", severity="warning")
            return

        def program_picked(value: str | None) -> None:
            if value is None:
                return

            def balance_given(text: str | None) -> None:
                if text is None:
                    return
                self.dismiss(
                    BulkRequest(
                        action="enrol",
                        program_id=int(value),
                        starting_balance=int(text.strip() or "0"),
                    )
                )

            self.app.push_screen(
                PromptModal(
                    "Starting balance for each (empty: 0)",
                    placeholder="0",
                    required=False,
                    check=_whole_number,
                ),
                balance_given,
            )

        self.app.push_screen(ChoiceModal("Enrol in which program?", options), program_picked)

    def _ask_delete(self) -> None:
        """Say what deleting does (future bookings cancelled, open orders stay), then ask."""

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss(BulkRequest(action="delete"))

        def ask(preview: DeletePreview | None) -> None:
            if preview is None:
                question = Text(f"Delete {self.count:,} {self.noun}?")
            else:
                question = join(Text("Delete "), user_text(preview.label), Text("?"), sep="")
                question.append(f"\n{preview.consequences}")
                if preview.already_deleted:
                    question.append(f" ({preview.already_deleted:,} already deleted.)")
            self.app.push_screen(ConfirmModal(question, "Delete", "Keep"), confirmed)
            self.release_keys()

        if not self.customer_ids:
            ask(None)
            return

        def failed(error: Exception) -> None:
            self.release_keys()
            self.notify(str(error), severity="error", markup=False)

        ids, now = self.customer_ids, self.fd.clock()
        self.hold_keys()  # "y" typed at once answers the question
        self.run_read(
            lambda s: delete_preview(session=s, customer_ids=ids, now=now),
            ask,
            group="delete-preview",
            on_error=failed,
        )
