"""New order: customer (picker), branch, lines, total, payment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from frontdesk.data import orders as od
from frontdesk.data.directory import Lookups, load_lookups
from frontdesk.data.errors import FrontdeskError, ValidationFailed
from frontdesk.screens.fmt import money
from frontdesk.widgets.customer_picker import CustomerPicker, PickerScreen

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class DraftLine:
    line: od.LineInput
    label: str
    total_cents: int


class NewOrderScreen(PickerScreen):
    """Dismisses with (order id, customer id) once the order is saved (and paid, if any)."""

    AUTO_FOCUS = "#picker-input"
    ERROR_PREFIX = "ore"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save order", priority=True),
        Binding("ctrl+l", "add_line", "Add line", priority=True),
        Binding("ctrl+d", "remove_line", "Remove line"),
    ]

    def __init__(self, *, customer_id: int | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.lookups = Lookups()
        self.lines: list[DraftLine] = []
        self._auto_amount = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="order-form"):
            yield CustomerPicker(for_booking=False, id="picker")
            with Grid(id="order-grid"):
                yield from self.box(
                    "Branch", Select[int]([], id="or-branch", prompt="Choose a branch"), "branch"
                )
            yield Label("Add a line (ctrl+l)", classes="section")
            with Grid(id="line-grid"):
                yield from self.box(
                    "Kind",
                    Select[str](
                        [("Service", "service"), ("Package", "package"), ("Product", "product")],
                        id="or-kind",
                        allow_blank=False,
                        value="service",
                    ),
                    "kind",
                )
                yield from self.box("Item", Select[int]([], id="or-item", prompt="Choose"), "item")
                yield from self.box("Description (products)", Input(id="or-desc"), "description")
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
                    Select[str](
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
        yield Footer()

    def on_mount(self) -> None:
        self.title = "New order"
        self.lookups = self.fd.read(lambda s: load_lookups(session=s))
        self.query_one("#or-branch", Select).set_options(
            [(b.name, b.id) for b in self.lookups.branches.values() if b.id]
        )
        operator = self.fd.operator
        if operator and operator.branch_id in self.lookups.branches:
            self.query_one("#or-branch", Select).value = operator.branch_id
        elif len(self.lookups.branches) == 1:
            self.query_one("#or-branch", Select).value = next(iter(self.lookups.branches))
        self.query_one("#or-lines", DataTable).add_columns(
            "Item", "Qty", "Unit", "Discount", "Total"
        )
        self.kind_changed()
        if self.customer_id is not None:
            self.query_one("#picker", CustomerPicker).set_customer(self.customer_id)
        self.refresh_total()

    @on(Select.Changed, "#or-kind")
    def kind_changed(self) -> None:
        kind = self.query_one("#or-kind", Select).value
        item = self.query_one("#or-item", Select)
        if kind == "service":
            item.set_options(
                [(s.name, s.id) for s in self.lookups.services.values() if s.id and s.active]
            )
        elif kind == "package":
            item.set_options(
                [(p.name, p.id) for p in self.lookups.packages.values() if p.id and p.active]
            )
        else:
            item.set_options([])
        item.disabled = kind == "product"
        self.query_one("#or-desc", Input).disabled = kind != "product"

    @on(Select.Changed, "#or-item")
    def item_changed(self, event: Select.Changed) -> None:
        kind = self.query_one("#or-kind", Select).value
        if not isinstance(event.value, int):
            return
        table = self.lookups.services if kind == "service" else self.lookups.packages
        entry = table.get(event.value)
        if entry is not None:
            self.query_one("#or-price", Input).value = f"{entry.price_cents / 100:.2f}"

    @on(CustomerPicker.Picked)
    def picked(self, event: CustomerPicker.Picked) -> None:
        if event.customer is not None and not event.prefilled:
            self.query_one("#or-kind", Select).focus()

    def clear_errors(self) -> None:
        for label in self.query(".field-error"):
            if isinstance(label, Label):
                label.update("")

    def action_add_line(self) -> None:
        self.clear_errors()
        kind = self.query_one("#or-kind", Select).value
        item = self.query_one("#or-item", Select).value
        try:
            qty_text = self.query_one("#or-qty", Input).value.strip() or "1"
            if not qty_text.isdigit() or int(qty_text) < 1:
                raise ValidationFailed("quantity", "a whole number of at least 1")
            price = od.parse_money(self.query_one("#or-price", Input).value, "unit_price")
            discount_text = self.query_one("#or-discount", Input).value.strip() or "0"
            discount = od.parse_money(discount_text, "discount")
            line = od.LineInput(
                kind=str(kind),
                quantity=int(qty_text),
                unit_price_cents=price,
                discount_cents=discount,
                service_id=item if kind == "service" and isinstance(item, int) else None,
                package_id=item if kind == "package" and isinstance(item, int) else None,
                description=self.query_one("#or-desc", Input).value if kind == "product" else None,
            )
            built = self.fd.read(lambda s: od.build_line(s, line))
        except ValidationFailed as exc:
            field = {"service_id": "item", "package_id": "item"}.get(exc.field, exc.field)
            target = f"#ore-{field}" if self.query(f"#ore-{field}") else "#or-problem"
            self.query_one(target).update(exc.message)  # type: ignore[attr-defined]
            return
        self.lines.append(DraftLine(line, built.description, built.total_cents))
        self.query_one("#or-lines", DataTable).add_row(
            built.description,
            str(built.quantity),
            money(built.unit_price_cents),
            money(built.discount_cents) if built.discount_cents else "",
            money(built.total_cents),
        )
        self.query_one("#or-qty", Input).value = "1"
        self.query_one("#or-discount", Input).value = "0"
        self.refresh_total()

    def action_remove_line(self) -> None:
        table = self.query_one("#or-lines", DataTable)
        if not self.lines or table.cursor_row < 0:
            return
        index = min(table.cursor_row, len(self.lines) - 1)
        del self.lines[index]
        table.clear()
        for draft in self.lines:
            line = draft.line
            table.add_row(
                draft.label,
                str(line.quantity),
                money(line.unit_price_cents),
                money(line.discount_cents) if line.discount_cents else "",
                money(draft.total_cents),
            )
        self.refresh_total()

    @property
    def total(self) -> int:
        return sum(d.total_cents for d in self.lines)

    def refresh_total(self) -> None:
        self.query_one("#or-total", Static).update(
            f"Total {money(self.total)}  ({len(self.lines)} lines)"
        )
        amount = self.query_one("#or-amount", Input)
        if not amount.value or amount.value == self._auto_amount:
            amount.value = f"{self.total / 100:.2f}" if self.total else ""
            self._auto_amount = amount.value

    def action_save(self) -> None:
        self.clear_errors()
        problem = self.query_one("#or-problem", Static)
        picker = self.query_one("#picker", CustomerPicker)
        if picker.customer is None:
            problem.update("Pick the customer first (or ctrl+n to add them).")
            picker.focus_input()
            return
        branch = self.query_one("#or-branch", Select).value
        if not isinstance(branch, int):
            self.query_one("#ore-branch", Label).update("Choose a branch")
            return
        if not self.lines:
            problem.update("Add at least one line (ctrl+l).")
            return
        amount_text = self.query_one("#or-amount", Input).value.strip()
        try:
            amount = od.parse_money(amount_text) if amount_text else 0
        except ValidationFailed as exc:
            self.query_one("#ore-amount", Label).update(exc.message)
            return
        if amount > self.total:
            self.query_one("#ore-amount", Label).update(f"more than the total {money(self.total)}")
            return
        method = str(self.query_one("#or-method", Select).value)
        customer_id = picker.customer.match.id
        lines = [d.line for d in self.lines]

        def save(session: Any) -> int:
            order = od.create_order(
                session=session,
                customer_id=customer_id,
                branch_id=branch,
                lines=lines,
                actor=self.fd.operator,
            )
            if amount:
                od.take_payment(
                    session=session,
                    order_id=order.id or 0,
                    amount_cents=amount,
                    method=method,
                    actor=self.fd.operator,
                )
            return order.id or 0

        try:
            order_id = self.fd.write(save)
        except FrontdeskError as exc:
            problem.update(str(exc))
            return
        self.dismiss((order_id, customer_id))
