"""Tab 3: the customer's orders; payments, refunds and cancelling on the highlighted order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static

from frontdesk.data import profile as data
from frontdesk.data import profile_actions as actions
from frontdesk.data.orders import Money
from frontdesk.screens.common import PromptModal
from frontdesk.screens.fmt import day, money
from frontdesk.screens.profile.modals import MoneyRequest, PaymentModal, RefundModal
from frontdesk.screens.profile.tab import ProfileTab, RowTable, cell, fill_table, highlighted_id
from frontdesk.screens.profile.tab import status_text as status


def amount(cents: int) -> Text:
    return Text(money(cents), justify="right")


def plain_money(cents: int) -> str:
    """An amount as a receptionist types it ("1234.50", no thousands separator); "" for 0."""
    return f"{cents / 100:.2f}" if cents > 0 else ""


def _money(order: data.OrderRow) -> Money:
    return Money(order.total_cents, order.paid_cents, order.refunded_cents)


def refund_summary(figures: Money) -> str:
    """What was paid, and (after a refund) what of it can still be refunded."""
    paid = f"paid {money(figures.paid)}"
    if not figures.refunded:
        return paid
    return f"{paid}, {money(max(figures.refundable, 0))} can still be refunded"


class OrdersTab(ProfileTab):
    NAME = "orders"
    DEFAULT_CSS = """
    OrdersTab #o-table {
        height: 1fr;
    }
    OrdersTab.-empty #o-table {
        height: auto;
    }
    OrdersTab #o-empty {
        display: none;
    }
    OrdersTab.-empty #o-empty {
        display: block;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pay", "Take payment"),
        Binding("R", "refund", "Refund"),
        Binding("X", "cancel", "Cancel order"),
    ]
    NEEDS: ClassVar[dict[str, str]] = {"pay": "order", "refund": "refund", "cancel": "order"}

    def __init__(self) -> None:
        super().__init__()
        self.orders: list[data.OrderRow] = []

    def compose(self) -> ComposeResult:
        yield RowTable(id="o-table")
        yield Static("No orders yet — press o to sell something.", id="o-empty", classes="empty")

    def on_mount(self) -> None:
        self.table.add_columns(
            "Order", "Date", "Branch", "Items", "Total", "Paid", "Refunded", "Status"
        )

    def focus_target(self) -> Widget:
        return self.table

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#o-table", DataTable)

    def fetch(self, customer_id: int) -> Callable[[Session], Any]:
        actor = self.operator
        return lambda s: data.load_orders_tab(session=s, customer_id=customer_id, actor=actor)

    def show_data(self, orders: list[data.OrderRow]) -> None:
        self.orders = orders
        rows = [
            (
                str(o.id),
                [
                    f"#{o.id}",
                    day(o.created_at),
                    cell(o.branch),
                    cell(o.items),
                    amount(o.total_cents),
                    amount(o.paid_cents),
                    amount(o.refunded_cents) if o.refunded_cents else "",
                    status(o.status, " "),
                ],
            )
            for o in orders
        ]
        fill_table(self.table, rows, select=self.take_selection())
        self.set_class(not rows, "-empty")

    # ---------------------------------------------------------------- actions
    def _order(self) -> int | None:
        order_id = highlighted_id(self.table)
        if order_id is None:
            self.notify("No order highlighted", severity="warning")
        return order_id

    def _order_row(self) -> data.OrderRow | None:
        order_id = highlighted_id(self.table)
        found = next((o for o in self.orders if o.id == order_id), None)
        if found is None:
            self.notify("No order highlighted", severity="warning")
        return found

    def money_change(self, order_id: int, action: str) -> Callable[[MoneyRequest], Any]:
        """What the payment or refund modal runs when its fields are fine (one service)."""
        actor = self.operator

        def work(req: MoneyRequest) -> Callable[[Session], str]:
            return lambda s: actions.change_order(
                session=s,
                order_id=order_id,
                action=action,
                actor=actor,
                amount=req.amount,
                method=req.method,
                reason=req.reason,
            )

        return work

    def action_pay(self) -> None:
        order = self._order_row()
        if order is None:
            return
        due = _money(order).due  # as the service counts it (refunded money is not due again)
        title = f"Take a payment on order #{order.id} (due {money(due)})"
        self.ask(
            PaymentModal(title, amount=plain_money(due), save=self.money_change(order.id, "pay")),
            lambda message: self.saved(message, changed="order") if message else None,
        )

    def action_refund(self) -> None:
        order = self._order_row()
        if order is None:
            return
        title = f"Refund on order #{order.id} ({refund_summary(_money(order))})"
        self.ask(
            RefundModal(title, save=self.money_change(order.id, "refund")),
            lambda message: self.saved(message, changed="order") if message else None,
        )

    def action_cancel(self) -> None:
        order_id = self._order()
        if order_id is None:
            return
        actor = self.operator

        def work(reason: str) -> Callable[[Session], str]:
            return lambda s: actions.change_order(
                session=s, order_id=order_id, action="cancel", actor=actor, reason=reason
            )

        # The box stays open with the reason when the service refuses (it says why).
        self.ask(
            PromptModal(f"Why is order #{order_id} cancelled?", placeholder="Reason", save=work),
            lambda message: self.saved(message, changed="order") if message else None,
        )

    def change(
        self,
        order_id: int,
        action: str,
        *,
        amount: str | None = None,
        method: str = "card",
        reason: str | None = None,
    ) -> None:
        actor = self.operator
        self.write(
            lambda s: actions.change_order(
                session=s,
                order_id=order_id,
                action=action,
                actor=actor,
                amount=amount,
                method=method,
                reason=reason,
            ),
            changed="order",
            done=lambda text: text,
        )
