"""The base of the new-booking and new-order screens: a customer picker plus labelled fields.

It opens the inline add-customer modal (``ctrl+n``) and the customer form (``ctrl+e``) for
the picker, and asks before discarding what was entered (``escape``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, TextArea

from frontdesk.screens.common import discard_or_stay
from frontdesk.widgets.base import FrontdeskScreen
from frontdesk.widgets.customer_picker import CustomerPicker


class PickerScreen(FrontdeskScreen[tuple[int, int] | None]):
    """Dismisses with (record id, customer id) when saved, None when left."""

    ERROR_PREFIX = "e"
    DISCARD_QUESTION = "Discard what you entered?"
    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+n", "add_customer", "New customer", tooltip="Add the customer inline"),
        # Priority: an input's own ctrl+k / ctrl+e (delete to the end / go to the end of the
        # line) would take them in the picker's search box.
        Binding("ctrl+k", "change_customer", "Change customer", show=False, priority=True),
        Binding("ctrl+e", "edit_customer", "Edit customer", show=False, priority=True),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("change_customer", "edit_customer"):
            # In another text field ctrl+k and ctrl+e are that field's own (delete to the end,
            # go to the end): clearing the customer from the quantity box emptied the picker
            # and made the next keys a customer search.
            focused = self.focused
            if not isinstance(focused, Input | TextArea):
                return True
            return any(isinstance(node, CustomerPicker) for node in focused.ancestors)
        return True

    def box(self, label: str, widget: Any, name: str) -> ComposeResult:
        """A field: its label, the widget, and the line for its error message."""
        with Vertical(classes="field"):
            yield Label(label)
            yield widget
            yield Label("", id=f"{self.ERROR_PREFIX}-{name}", classes="field-error")

    @property
    def picker(self) -> CustomerPicker:
        return self.query_one("#picker", CustomerPicker)

    def refresh_data(self) -> None:
        self.picker.refresh_data()

    def has_entries(self) -> bool:
        """True when the receptionist entered anything that leaving would lose."""
        return False

    # ------------------------------------------------------------------ customer
    def action_add_customer(self) -> None:
        """The inline add-customer modal, pre-filled from the picker's text (pushed at once,
        so that the keys typed next go to it)."""
        from frontdesk.screens.quick_add import QuickAddModal

        picker = self.picker
        self.app.push_screen(
            QuickAddModal(
                prefill=picker.prefill(), created_via=picker.created_via, region=picker.phone_region
            ),
            picker.added,
        )

    def action_change_customer(self) -> None:
        self.picker.action_clear()

    def action_edit_customer(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        picker = self.picker
        if picker.customer is None:
            self.notify("Pick a customer first", markup=False)
            return

        def saved(result: int | None) -> None:
            if result is not None:
                picker.pick(result)

        self.app.push_screen(CustomerFormScreen(customer_id=picker.customer.match.id), saved)

    # ------------------------------------------------------------------ leaving
    def action_cancel(self) -> None:
        discard_or_stay(self, self.DISCARD_QUESTION, changed=self.has_entries())
