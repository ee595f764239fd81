"""New order: customer (picker), branch, lines, total, payment.

One use case per action: :func:`~frontdesk.data.order_flow.load_order_form` fills the form,
:func:`~frontdesk.data.order_flow.price_line` prices a line (``ctrl+l``),
:func:`~frontdesk.data.order_flow.place_order` saves the order with its payment (``ctrl+s``).
Keys typed while one of them runs wait for it, then land in order.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, Static

from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.data.order_flow import (
    LineDraft,
    OrderForm,
    OrderRequest,
    Placed,
    PricedLine,
    check_payment,
    load_order_form,
    place_order,
    price_line,
    read_line,
)
from frontdesk.screens.fmt import money
from frontdesk.screens.picker_screen import PickerScreen
from frontdesk.text import user_text
from frontdesk.widgets.customer_picker import CustomerPicker
from frontdesk.widgets.footer import KeyFooter
from frontdesk.widgets.select import InstantSelect, Select

LINE_FIELDS = ("kind", "item", "description", "quantity", "unit_price", "discount")
FIELDS = ("branch", *LINE_FIELDS, "method", "amount")
FIELD_OF = {"branch_id": "branch", "service_id": "item", "package_id": "item"}
KINDS = [("Service", "service"), ("Package", "package"), ("Product", "product")]


class ItemSelect(Select[int]):
    """The item of a line. A product has none (its list is empty), yet ``tab`` after the kind
    still comes here: a character typed on the empty list goes on in the description
    (``spill_to``), which takes the focus, so that the product name is kept and the quantity,
    price and discount typed after it land in their own fields. ``tab`` ``tab`` reaches the
    description too."""

    def __init__(self, *args: Any, spill_to: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spill_to = spill_to

    @property
    def empty(self) -> bool:
        return all(value is Select.NULL for _prompt, value in self._options)

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return self.empty and character is not None and character.isprintable()

    async def _on_key(self, event: events.Key) -> None:
        if self.expanded or not self.empty or event.character is None or not event.is_printable:
            return
        event.stop()
        event.prevent_default()
        target = self.screen.query_one(self.spill_to, Input)
        # The key goes on after what the field holds (not selected on this focus: kept), after
        # the focus event and before the next key is handed over (the app waits for idle
        # queues).
        target.select_on_focus = False
        target.cursor_position = len(target.value)
        self.screen.set_focus(target)
        key = events.Key(event.key, event.character)
        key.set_sender(self)
        target.post_message(key)
        target.call_later(setattr, target, "select_on_focus", True)


class NewOrderScreen(PickerScreen):
    """Dismisses with (order id, customer id) once the order is saved (and paid, if any)."""

    AUTO_FOCUS = "#picker-input"
    ERROR_PREFIX = "ore"
    DISCARD_QUESTION = "Discard this order?"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save order", priority=True),
        Binding("ctrl+l", "add_line", "Add line", priority=True),
        Binding("ctrl+d", "remove_line", "Remove line"),
    ]

    def __init__(self, *, customer_id: int | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.form: OrderForm | None = None
        self.lines: list[PricedLine] = []
        self.initial: dict[str, object] = {}
        self._auto_amount = ""
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="order-form"):
            yield CustomerPicker(for_booking=False, after_pick="#or-kind", id="picker")
            with Grid(id="order-grid"):
                yield from self.box(
                    "Branch",
                    InstantSelect[int]([], id="or-branch", prompt="Choose a branch"),
                    "branch",
                )
            yield Label("Add a line (ctrl+l)", classes="section")
            with Grid(id="line-grid"):
                yield from self.box(
                    "Kind",
                    InstantSelect[str](KINDS, id="or-kind", allow_blank=False, value="service"),
                    "kind",
                )
                yield from self.box(
                    "Item",
                    ItemSelect([], id="or-item", prompt="Choose", spill_to="#or-desc"),
                    "item",
                )
                yield from self.box(
                    "Description", Input(id="or-desc", placeholder="product"), "description"
                )
                yield from self.box("Quantity", Input("1", id="or-qty"), "quantity")
                yield from self.box(
                    "Unit price", Input(id="or-price", placeholder="e.g. 45.00"), "unit_price"
                )
                yield from self.box("Discount", Input("0", id="or-discount"), "discount")
            yield DataTable(id="or-lines", cursor_type="row")
            yield Static("", id="or-total")
            yield Label("Payment", classes="section")
            with Grid(id="pay-grid"):
                yield from self.box(
                    "Method",
                    InstantSelect[str](
                        [("Card", "card"), ("Cash", "cash"), ("Other", "other")],
                        id="or-method",
                        allow_blank=False,
                        value="card",
                    ),
                    "method",
                )
                yield from self.box(
                    "Amount paid now (empty: nothing)", Input(id="or-amount"), "amount"
                )
            yield Static("", id="or-problem", classes="error")
        yield KeyFooter()

    # ------------------------------------------------------------------ loading
    def on_mount(self) -> None:
        self.title = "New order"
        self.query_one("#or-lines", DataTable).add_columns(
            "Item", "Qty", "Unit", "Discount", "Total"
        )
        self.refresh_total()
        self.hold_keys()  # keys typed now land once the lists and the customer are in
        customer_id, operator = self.customer_id, self.fd.operator
        self.run_read(
            lambda s: load_order_form(session=s, operator=operator, customer_id=customer_id),
            self._loaded,
            group="order-form",
            on_error=self._load_failed,
        )

    def _load_failed(self, exc: Exception) -> None:
        self.problem(Text(f"Could not load the order form: {exc}"))
        self.release_keys()

    def _loaded(self, form: OrderForm) -> None:
        self.form = form
        self.picker.phone_region = form.region
        branch = self.query_one("#or-branch", Select)
        branch.set_options([(user_text(b.name), b.id) for b in form.branches])
        if form.branch_id is not None:
            branch.value = form.branch_id
        self.set_items()
        if form.customer is not None:
            self.picker.show_picked(form.customer, prefilled=True)
        self.initial = self.snapshot()
        self.release_keys()

    def set_items(self) -> None:
        """The item list of the chosen kind (none for a product: describe it instead)."""
        kind = self.query_one("#or-kind", Select).value
        items = self.form.items(str(kind)) if self.form else []
        self.query_one("#or-item", Select).set_options(
            [(Text.assemble(user_text(i.name), f" · {money(i.price_cents)}"), i.id) for i in items]
        )
        self.query_one("#or-price", Input).placeholder = "e.g. 45.00"

    @on(Select.Changed, "#or-kind")
    def kind_changed(self) -> None:
        self.set_items()

    @on(Select.Changed, "#or-item")
    def item_changed(self, event: Select.Changed) -> None:
        """An empty unit price means the catalogue price: show it as the placeholder."""
        kind = self.query_one("#or-kind", Select).value
        price = self.query_one("#or-price", Input)
        if self.form is None or not isinstance(event.value, int):
            price.placeholder = "e.g. 45.00"
            return
        item = next((i for i in self.form.items(str(kind)) if i.id == event.value), None)
        price.placeholder = f"{item.price_cents / 100:.2f}" if item else "e.g. 45.00"

    def problem(self, message: str | Text) -> None:
        self.query_one("#or-problem", Static).update(
            message if isinstance(message, Text) else Text(message)
        )

    def clear_errors(self) -> None:
        for label in self.query(".field-error"):
            if isinstance(label, Label):
                label.update("")
        self.problem("")

    def show_error(self, field: str, message: str) -> None:
        field = FIELD_OF.get(field, field)
        if field in FIELDS:
            self.query_one(f"#ore-{field}", Label).update(user_text(message))
        else:
            self.problem(user_text(message))

    # ------------------------------------------------------------------ lines
    def draft(self) -> LineDraft:
        kind = str(self.query_one("#or-kind", Select).value)
        item = self.query_one("#or-item", Select).value
        return LineDraft(
            kind=kind,
            item_id=item if isinstance(item, int) and kind != "product" else None,
            description=self.query_one("#or-desc", Input).value,
            quantity=self.query_one("#or-qty", Input).value,
            unit_price=self.query_one("#or-price", Input).value,
            discount=self.query_one("#or-discount", Input).value,
        )

    def action_add_line(self) -> None:
        if self.busy or self.form is None:
            return
        self.clear_errors()
        draft = self.draft()
        try:
            read_line(draft)  # the typed numbers, at once and field by field
        except ValidationFailed as exc:
            self.show_error(exc.field, exc.message)
            return
        self.busy = True
        self.hold_keys()  # the next keys go to the next line, once this one is in
        self.run_read(
            lambda s: price_line(session=s, draft=draft),
            self._line_priced,
            group="order-line",
            on_error=self._line_refused,
        )

    def _line_refused(self, exc: Exception) -> None:
        self.busy = False
        self.release_keys()
        if isinstance(exc, ValidationFailed):
            self.show_error(exc.field, exc.message)
        elif isinstance(exc, FrontdeskError):
            self.problem(user_text(str(exc)))

    def _line_priced(self, priced: PricedLine) -> None:
        self.busy = False
        self.lines.append(priced)
        self.add_row(priced)
        self.query_one("#or-qty", Input).value = "1"
        self.query_one("#or-discount", Input).value = "0"
        self.query_one("#or-price", Input).value = ""
        self.query_one("#or-desc", Input).value = ""
        self.refresh_total()
        next_field = "#or-desc" if priced.line.kind == "product" else "#or-item"
        self.set_focus(self.query_one(next_field))
        self.release_keys()

    def add_row(self, priced: PricedLine) -> None:
        self.query_one("#or-lines", DataTable).add_row(
            user_text(priced.description),
            Text(str(priced.quantity), justify="right"),
            Text(money(priced.unit_price_cents), justify="right"),
            Text(money(priced.discount_cents) if priced.discount_cents else "", justify="right"),
            Text(money(priced.total_cents), justify="right"),
        )

    def action_remove_line(self) -> None:
        table = self.query_one("#or-lines", DataTable)
        if self.busy or not self.lines or table.cursor_row < 0:
            return
        index = min(table.cursor_row, len(self.lines) - 1)
        del self.lines[index]
        table.clear()
        for priced in self.lines:
            self.add_row(priced)
        if self.lines:
            table.move_cursor(row=min(index, len(self.lines) - 1))
        self.refresh_total()

    @property
    def total(self) -> int:
        return sum(line.total_cents for line in self.lines)

    def refresh_total(self) -> None:
        count = len(self.lines)
        self.query_one("#or-total", Static).update(
            Text(f"Total {money(self.total)}  ({count} line{'' if count == 1 else 's'})")
        )
        amount = self.query_one("#or-amount", Input)
        if not amount.value or amount.value == self._auto_amount:
            amount.value = f"{self.total / 100:.2f}" if self.total else ""
            self._auto_amount = amount.value

    # ------------------------------------------------------------------ leaving
    def snapshot(self) -> dict[str, object]:
        draft = self.draft()
        customer = self.picker.customer
        amount = self.query_one("#or-amount", Input).value
        return {
            "customer": customer.match.id if customer else None,
            "picker_text": self.picker.text,
            "branch": self.query_one("#or-branch", Select).value,
            "line": (draft.item_id, draft.description, draft.quantity, draft.unit_price),
            "discount": draft.discount,
            "lines": len(self.lines),
            "method": self.query_one("#or-method", Select).value,
            "amount": "" if amount == self._auto_amount else amount,
        }

    def has_entries(self) -> bool:
        return self.form is not None and self.snapshot() != self.initial

    # ------------------------------------------------------------------ saving
    def action_save(self) -> None:
        if self.busy or self.form is None:
            return
        self.clear_errors()
        customer = self.picker.customer
        if customer is None:
            self.problem("Pick the customer first (or ctrl+n to add them).")
            self.picker.focus_input()
            return
        branch = self.query_one("#or-branch", Select).value
        if not isinstance(branch, int):
            self.show_error("branch", "Choose a branch")
            return
        if not self.lines:
            self.problem("Add at least one line (ctrl+l).")
            return
        payment = self.query_one("#or-amount", Input).value
        try:
            check_payment(payment, self.total)
        except ValidationFailed as exc:
            self.show_error(exc.field, exc.message)
            return
        request = OrderRequest(
            customer_id=customer.match.id,
            branch_id=branch,
            lines=[line.line for line in self.lines],
            payment=payment,
            method=str(self.query_one("#or-method", Select).value),
        )
        self.busy = True
        self.hold_keys()  # keys typed after ctrl+s wait for the outcome
        actor = self.fd.operator
        self.run_write(
            lambda s: place_order(session=s, request=request, actor=actor),
            self._placed,
            group="order-save",
            on_error=self._refused,
        )

    def _placed(self, placed: Placed) -> None:
        self.dismiss((placed.order_id, placed.customer_id))

    def _refused(self, exc: Exception) -> None:
        self.busy = False
        self.release_keys()
        if isinstance(exc, ValidationFailed):
            self.show_error(exc.field, exc.message)
        elif isinstance(exc, FrontdeskError):
            self.problem(user_text(str(exc)))
        else:
            self.problem("Not saved: an unexpected error (see the message).")
