"""New order as use cases: load the form, price a line, place the order (and its payment).

- :func:`load_order_form`: branches, the catalogue (services, packages), the default branch and
  the pre-filled customer.
- :func:`read_line` / :func:`price_line`: a line as typed -> a priced line (catalogue price
  when no price was typed), validated field by field.
- :func:`place_order`: the order and the payment taken now, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from frontdesk.data import orders
from frontdesk.data.booking_flow import Choice, branch_choices
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import CreatedVia, Package, Service, Staff
from frontdesk.data.picker import PickedCustomer, picked, quick_add_region
from frontdesk.data.roles import require

ORDER_CREATED_VIA = CreatedVia.ORDER


@dataclass(frozen=True)
class CatalogueItem:
    id: int
    name: str
    price_cents: int


@dataclass(frozen=True)
class OrderForm:
    branches: list[Choice]
    services: list[CatalogueItem]
    packages: list[CatalogueItem]
    branch_id: int | None  # the default branch (the operator's, or the only one)
    region: str  # the business's phone region (for the inline add-customer modal)
    customer: PickedCustomer | None = None

    def items(self, kind: str) -> list[CatalogueItem]:
        return {"service": self.services, "package": self.packages}.get(kind, [])


def load_order_form(
    *, session: Session, operator: Staff | None = None, customer_id: int | None = None
) -> OrderForm:
    """Everything the new-order screen shows before the receptionist types."""
    branches, branch_id = branch_choices(session=session, operator=operator)
    services = session.exec(
        select(Service).where(col(Service.active).is_(True)).order_by(col(Service.name))
    )
    packages = session.exec(
        select(Package).where(col(Package.active).is_(True)).order_by(col(Package.name))
    )
    return OrderForm(
        branches=branches,
        services=[CatalogueItem(s.id or 0, s.name, s.price_cents) for s in services],
        packages=[CatalogueItem(p.id or 0, p.name, p.price_cents) for p in packages],
        branch_id=branch_id,
        region=quick_add_region(session=session),
        customer=picked(session=session, customer_id=customer_id) if customer_id else None,
    )


@dataclass(frozen=True)
class LineDraft:
    """One order line as typed: quantity and amounts are raw text."""

    kind: str  # service | package | product
    item_id: int | None = None  # the service or package
    description: str = ""  # required for a product; optional name for the others
    quantity: str = "1"
    unit_price: str = ""  # empty: the catalogue price
    discount: str = "0"


@dataclass(frozen=True)
class PricedLine:
    line: orders.LineInput  # what place_order takes
    description: str
    quantity: int
    unit_price_cents: int
    discount_cents: int
    total_cents: int


def read_line(draft: LineDraft) -> orders.LineInput:
    """Parse the typed quantity and amounts (no database). Raises ValidationFailed."""
    quantity_text = draft.quantity.strip() or "1"
    if not quantity_text.isdigit() or int(quantity_text) < 1:
        raise ValidationFailed("quantity", "a whole number of at least 1")
    price = orders.parse_money(draft.unit_price, "unit_price") if draft.unit_price.strip() else None
    discount = orders.parse_money(draft.discount.strip() or "0", "discount")
    kind = draft.kind
    if kind == "service" and draft.item_id is None:
        raise ValidationFailed("item", "choose a service")
    if kind == "package" and draft.item_id is None:
        raise ValidationFailed("item", "choose a package")
    return orders.LineInput(
        kind=kind,
        quantity=int(quantity_text),
        unit_price_cents=price,
        discount_cents=discount,
        service_id=draft.item_id if kind == "service" else None,
        package_id=draft.item_id if kind == "package" else None,
        description=draft.description.strip() or None,
    )


_FIELD_OF = {"service_id": "item", "package_id": "item"}


def price_line(*, session: Session, draft: LineDraft) -> PricedLine:
    """Validate one typed line and price it (nothing is saved)."""
    try:
        line = read_line(draft)
        built = orders.build_line(session, line)
    except ValidationFailed as exc:
        name = _FIELD_OF.get(exc.field, exc.field)
        if name == exc.field:
            raise
        raise ValidationFailed(name, exc.message) from None
    return PricedLine(
        # Saved as priced now: the price shown is the price charged.
        line=orders.LineInput(
            kind=line.kind,
            quantity=built.quantity,
            unit_price_cents=built.unit_price_cents,
            discount_cents=built.discount_cents,
            service_id=line.service_id,
            package_id=line.package_id,
            description=line.description,
        ),
        description=built.description,
        quantity=built.quantity,
        unit_price_cents=built.unit_price_cents,
        discount_cents=built.discount_cents,
        total_cents=built.total_cents,
    )


@dataclass(frozen=True)
class OrderRequest:
    customer_id: int | None
    branch_id: int | None
    lines: list[orders.LineInput]
    payment: str = ""  # amount paid now as typed; empty: nothing now
    method: str = "card"


@dataclass(frozen=True)
class Placed:
    order_id: int
    customer_id: int
    total_cents: int
    paid_cents: int
    status: str


def check_payment(payment: str, total_cents: int) -> int:
    """The amount paid now in cents (0 when empty). Raises ValidationFailed("amount", ...)."""
    if not payment.strip():
        return 0
    amount = orders.parse_money(payment, "amount")
    if amount > total_cents:
        raise ValidationFailed("amount", f"more than the total {total_cents / 100:,.2f}")
    return amount


def place_order(*, session: Session, request: OrderRequest, actor: Staff | None) -> Placed:
    """Save the order and the payment taken now (one transaction: both or neither)."""
    require(actor, "order")
    if request.customer_id is None:
        raise ValidationFailed("customer", "Pick the customer first (or ctrl+n to add them).")
    if request.branch_id is None:
        raise ValidationFailed("branch", "Choose a branch")
    if not request.lines:
        raise ValidationFailed("lines", "Add at least one line (ctrl+l).")
    order = orders.create_order(
        session=session,
        customer_id=request.customer_id,
        branch_id=request.branch_id,
        lines=request.lines,
        actor=actor,
    )
    amount = check_payment(request.payment, order.total_cents)
    if amount:
        orders.take_payment(
            session=session,
            order_id=order.id or 0,
            amount_cents=amount,
            method=request.method,
            actor=actor,
        )
    return Placed(
        order_id=order.id or 0,
        customer_id=order.customer_id,
        total_cents=order.total_cents,
        paid_cents=amount,
        status=order.status,
    )
