"""The customer picker: type a name, phone, email or code; pick with arrows and enter.

Used by the new-booking and new-order screens. When nothing matches, ctrl+n opens the
add-customer modal pre-filled from the typed text; the new customer comes straight back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from frontdesk.data import picker as data
from frontdesk.screens.fmt import day

if TYPE_CHECKING:
    from frontdesk.app import FrontdeskApp


class PickerInput(Input):
    BINDINGS = [Binding("down", "matches", "Matches", show=False)]

    def action_matches(self) -> None:
        picker = self.parent.parent if self.parent else None
        if isinstance(picker, CustomerPicker):
            picker.focus_matches()


class CustomerPicker(Widget):
    """Search-as-you-type customer chooser. Posts ``Picked`` when a customer is chosen."""

    BINDINGS = [
        Binding("ctrl+n", "add", "New customer"),
    ]

    class Picked(Message):
        def __init__(
            self,
            picker: CustomerPicker,
            customer: data.PickedCustomer | None,
            prefilled: bool = False,
        ) -> None:
            super().__init__()
            self.picker = picker
            self.customer = customer
            # True when the screen pre-filled the customer (the receptionist did not choose yet).
            self.prefilled = prefilled

        @property
        def control(self) -> CustomerPicker:
            return self.picker

    class Found(Message):
        def __init__(self, text: str, matches: list[data.PickerMatch]) -> None:
            super().__init__()
            self.text = text
            self.matches = matches

    def __init__(self, *, for_booking: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.for_booking = for_booking
        self.customer: data.PickedCustomer | None = None
        self.results: list[data.PickerMatch] = []
        self._debounce: Timer | None = None
        self._picked_text = ""

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield PickerInput(placeholder="Customer: name, phone, email or code", id="picker-input")
            yield OptionList(id="picker-matches")
            yield Static("", id="picker-selected")
            yield Static("", id="picker-hint", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#picker-matches", OptionList).display = False
        self.query_one("#picker-selected", Static).display = False
        self.hint("Type to find the customer · ctrl+n adds a new one")

    # ------------------------------------------------------------------ typing
    @property
    def text(self) -> str:
        return self.query_one("#picker-input", Input).value

    def hint(self, message: str) -> None:
        self.query_one("#picker-hint", Static).update(message)

    @on(Input.Changed, "#picker-input")
    def typed(self, event: Input.Changed) -> None:
        event.stop()
        if self.customer is not None and event.value != self._picked_text:
            # Typing replaces the chosen (or pre-filled) customer: no extra key to clear it.
            self._unpick()
        if self._debounce is not None:
            self._debounce.stop()
        value = event.value
        self._debounce = self.set_timer(0.03, lambda: self.lookup(value))

    @on(Input.Submitted, "#picker-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.customer is not None and event.value == self._picked_text:
            self.screen.focus_next()  # keep the chosen customer and move on
        elif len(self.results) == 1:
            self.pick(self.results[0].id)
        elif self.results:
            self.focus_matches()

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def lookup(self, text: str) -> None:
        found = self.fd.read(lambda s: data.matches(session=s, text=text))
        self.post_message(self.Found(text, found))

    def on_customer_picker_found(self, message: Found) -> None:
        message.stop()
        if message.text != self.text:
            return  # stale
        self.results = message.matches
        options = self.query_one("#picker-matches", OptionList)
        options.clear_options()
        options.add_options([Option(self.describe(m), id=str(m.id)) for m in message.matches])
        options.display = bool(message.matches)
        if message.text.strip() and not message.matches:
            self.hint(f"No customer matches '{message.text.strip()}' — ctrl+n adds them")
        elif message.matches:
            self.hint("↓ and enter pick · ctrl+n adds a new customer")
        else:
            self.hint("Type to find the customer · ctrl+n adds a new one")

    def describe(self, m: data.PickerMatch) -> Text:
        text = Text()
        text.append(m.name, style="bold")
        text.append(" · ")
        text.append(m.code, style="dim")
        if m.category:
            text.append(f" · {m.category}")
        if m.has_alert:
            text.append("  ⚠ alert", style="bold red")
        text.append("\n  ")
        details = [m.phone or "no phone", m.email or "no email", f"last visit {day(m.last_visit)}"]
        text.append(" · ".join(details), style="dim")
        if m.blocked_reason:
            text.append(f"\n  BLOCKED: {m.blocked_reason}", style="bold red")
        elif m.status != "active":
            text.append(f"  ({m.status})", style="yellow")
        return text

    def focus_matches(self) -> None:
        options = self.query_one("#picker-matches", OptionList)
        if self.results:
            options.focus()
            if options.highlighted is None:
                options.highlighted = 0

    @on(OptionList.OptionSelected, "#picker-matches")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.pick(int(event.option.id))

    # ------------------------------------------------------------------ picking
    def pick(self, customer_id: int, prefilled: bool = False) -> None:
        self._load_picked(customer_id, prefilled)

    @work(thread=True, exclusive=True, group="picker-pick", exit_on_error=False)
    def _load_picked(self, customer_id: int, prefilled: bool) -> None:
        chosen = self.fd.read(lambda s: data.picked(session=s, customer_id=customer_id))
        self.app.call_from_thread(self._picked, chosen, prefilled)

    def _picked(self, chosen: data.PickedCustomer, prefilled: bool = False) -> None:
        m = chosen.match
        if self.for_booking and m.blocked_reason:
            self.hint("")
            self.query_one("#picker-hint", Static).update(
                Text(
                    f"{m.name} ({m.code}) is blocked: {m.blocked_reason} — cannot be booked",
                    style="bold red",
                )
            )
            return
        self.customer = chosen
        selected = self.query_one("#picker-selected", Static)
        text = Text()
        text.append("✔ ", style="green")
        text.append(m.name, style="bold")
        text.append(" · ")
        text.append(f"{m.code} · {m.phone} · {m.email}", style="dim")
        if m.blocked_reason:
            text.append(f"\nBLOCKED: {m.blocked_reason}", style="bold red")
        for alert in chosen.alerts:
            text.append(f"\n⚠ {alert}", style="bold red")
        selected.update(text)
        selected.display = True
        self.query_one("#picker-matches", OptionList).display = False
        self._picked_text = self.text
        self.hint("enter keeps this customer · type to find another · ctrl+e edits them")
        self.post_message(self.Picked(self, chosen, prefilled))

    def set_customer(self, customer_id: int) -> None:
        self.pick(customer_id, prefilled=True)

    def _unpick(self) -> None:
        self.customer = None
        self.query_one("#picker-selected", Static).display = False
        self.hint("Type to find the customer · ctrl+n adds a new one")
        self.post_message(self.Picked(self, None))

    def action_clear(self) -> None:
        self._unpick()
        picker_input = self.query_one("#picker-input", Input)
        picker_input.value = ""
        picker_input.focus()

    # ------------------------------------------------------------------ add / edit
    def action_add(self) -> None:
        from frontdesk.data.directory import prefill_from_query
        from frontdesk.data.models import CreatedVia
        from frontdesk.screens.quick_add import QuickAddModal

        via = CreatedVia.BOOKING if self.for_booking else CreatedVia.ORDER

        def added(customer_id: int | None) -> None:
            if customer_id is not None:
                self.pick(customer_id)
            else:
                self.query_one("#picker-input", Input).focus()

        self.app.push_screen(
            QuickAddModal(prefill=prefill_from_query(self.text), created_via=via), added
        )

    def action_edit(self) -> None:
        from frontdesk.screens.customer_form import CustomerFormScreen

        if self.customer is None:
            self.notify("Pick a customer first")
            return
        customer_id = self.customer.match.id

        def saved(result: int | None) -> None:
            if result is not None:
                self.pick(result)

        self.app.push_screen(CustomerFormScreen(customer_id=customer_id), saved)

    def focus_input(self) -> Any:
        return self.query_one("#picker-input", Input).focus()


class PickerScreen(Screen[tuple[int, int] | None]):
    """Base of the booking and order screens: a customer picker (#picker) plus labelled fields.

    Dismisses with (record id, customer id) when saved, None when left.
    """

    ERROR_PREFIX = "e"
    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+k", "change_customer", "Change customer", show=False),
        Binding("ctrl+e", "edit_customer", "Edit customer", show=False),
    ]

    @property
    def fd(self) -> FrontdeskApp:
        return self.app  # type: ignore[return-value]

    def box(self, label: str, widget: Any, name: str) -> ComposeResult:
        """A field: its label, the widget, and the line for its error message."""
        with Vertical(classes="field"):
            yield Label(label)
            yield widget
            yield Label("", id=f"{self.ERROR_PREFIX}-{name}", classes="field-error")

    def action_change_customer(self) -> None:
        self.query_one("#picker", CustomerPicker).action_clear()

    def action_edit_customer(self) -> None:
        self.query_one("#picker", CustomerPicker).action_edit()

    def action_cancel(self) -> None:
        self.dismiss(None)
