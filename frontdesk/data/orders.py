"""Orders: lines, payments (partial allowed), refunds, cancellation; status follows the money."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from frontdesk.data import audit, rewards
from frontdesk.data.errors import InvalidState, NotFound, ValidationFailed
from frontdesk.data.models import (
    Booking,
    BookingStatus,
    Branch,
    Customer,
    LineKind,
    Order,
    OrderLine,
    OrderStatus,
    Package,
    Payment,
    PaymentMethod,
    Refund,
    Service,
    Staff,
    utcnow,
)
from frontdesk.data.roles import require
from frontdesk.data.validation import clean_line, clean_multiline


@dataclass(frozen=True)
class LineInput:
    kind: str  # service | package | product
    quantity: int = 1
    unit_price_cents: int | None = None  # None: the catalogue price
    discount_cents: int = 0
    service_id: int | None = None
    package_id: int | None = None
    description: str | None = None


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d{1,2})?")
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")
_AMOUNT = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")


def parse_money(text: str, field: str = "amount") -> int:
    """'12', '12.5', '12,50', '1,234.50' -> cents. Raises ValidationFailed."""
    raw = (text or "").strip().replace(" ", "")
    if not raw:
        raise ValidationFailed(field, "enter an amount")
    if raw.startswith("-"):
        raise ValidationFailed(field, "cannot be negative")
    if _THOUSANDS.fullmatch(raw):
        raw = raw.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(raw):
        raw = raw.replace(",", ".")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        raise ValidationFailed(field, f"{text.strip()!r} is not an amount (e.g. 45 or 45.50)")
    whole, frac = match.group(1), match.group(2) or ""
    return int(whole) * 100 + int((frac + "00")[:2])


def build_line(session: Session, line: LineInput) -> OrderLine:
    """Validate one line and price it (not yet saved)."""
    try:
        kind = LineKind(line.kind).value
    except ValueError:
        raise ValidationFailed("kind", "service, package or product") from None
    if line.quantity < 1:
        raise ValidationFailed("quantity", "must be at least 1")
    if line.quantity > 999:
        raise ValidationFailed("quantity", "is too large")
    description = clean_line("description", line.description, max_length=200)
    price = line.unit_price_cents
    if kind == LineKind.SERVICE.value:
        service = session.get(Service, line.service_id) if line.service_id else None
        if service is None:
            raise ValidationFailed("service_id", "choose a service")
        description = description or service.name
        price = service.price_cents if price is None else price
    elif kind == LineKind.PACKAGE.value:
        package = session.get(Package, line.package_id) if line.package_id else None
        if package is None:
            raise ValidationFailed("package_id", "choose a package")
        description = description or package.name
        price = package.price_cents if price is None else price
    elif not description:
        raise ValidationFailed("description", "describe the product")
    if price is None or price < 0:
        raise ValidationFailed("unit_price", "enter a price")
    gross = price * line.quantity
    if line.discount_cents < 0 or line.discount_cents > gross:
        raise ValidationFailed("discount", "must be between 0 and the line amount")
    return OrderLine(
        order_id=0,
        kind=kind,
        service_id=line.service_id if kind == "service" else None,
        package_id=line.package_id if kind == "package" else None,
        description=description or "",
        quantity=line.quantity,
        unit_price_cents=price,
        discount_cents=line.discount_cents,
        total_cents=gross - line.discount_cents,
    )


def create_order(
    *,
    session: Session,
    customer_id: int,
    branch_id: int,
    lines: list[LineInput],
    actor: Staff | None,
    booking_id: int | None = None,
    notes: str | None = None,
) -> Order:
    require(actor, "order")
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.is_live:
        raise ValidationFailed("customer_id", "choose a customer")
    if session.get(Branch, branch_id) is None:
        raise ValidationFailed("branch_id", "choose a branch")
    if not lines:
        raise ValidationFailed("lines", "add at least one line")
    notes_text = clean_multiline("notes", notes)
    built = [build_line(session, line) for line in lines]
    order = Order(
        customer_id=customer_id,
        branch_id=branch_id,
        booking_id=booking_id,
        total_cents=sum(line.total_cents for line in built),
        status=derive_status(Money(sum(line.total_cents for line in built), 0, 0)),
        notes=notes_text,
        created_by_id=actor.id if actor else None,
    )
    session.add(order)
    session.flush()
    for line in built:
        line.order_id = order.id or 0
        session.add(line)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="order",
        entity_id=order.id or 0,
        action="create",
        customer_id=customer_id,
        changes={
            "total": (None, order.total_cents),
            "lines": (None, ", ".join(x.description for x in built)),
        },
    )
    return order


def get_order(*, session: Session, order_id: int, lock: bool = False) -> Order:
    stmt = select(Order).where(col(Order.id) == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.exec(stmt).first()
    if order is None:
        raise NotFound("order", order_id)
    session.refresh(order)
    return order


@dataclass(frozen=True)
class Money:
    total: int
    paid: int
    refunded: int

    @property
    def due(self) -> int:
        return max(0, self.total - self.paid)

    @property
    def refundable(self) -> int:
        return self.paid - self.refunded


def money_of(*, session: Session, order_id: int) -> Money:
    order = get_order(session=session, order_id=order_id)
    paid = session.execute(
        sa_select(func.coalesce(func.sum(col(Payment.amount_cents)), 0)).where(
            col(Payment.order_id) == order_id
        )
    ).scalar_one()
    refunded = session.execute(
        sa_select(func.coalesce(func.sum(col(Refund.amount_cents)), 0)).where(
            col(Refund.order_id) == order_id
        )
    ).scalar_one()
    return Money(order.total_cents, int(paid), int(refunded))


def derive_status(money: Money, cancelled: bool = False) -> str:
    if cancelled:
        return OrderStatus.CANCELLED.value
    if money.refunded > 0:
        return (
            OrderStatus.REFUNDED.value
            if money.refunded >= money.paid
            else OrderStatus.PART_REFUNDED.value
        )
    if money.paid == 0:
        # Nothing to pay (a service given free, a discount of the whole price): settled.
        # It stayed open for ever, since a payment must be above zero.
        return OrderStatus.PAID.value if money.total <= 0 else OrderStatus.OPEN.value
    if money.paid < money.total:
        return OrderStatus.PART_PAID.value
    return OrderStatus.PAID.value


def _restatus(session: Session, order: Order) -> None:
    money = money_of(session=session, order_id=order.id or 0)
    order.status = derive_status(money, order.status == OrderStatus.CANCELLED.value)
    order.version += 1
    order.updated_at = utcnow()
    session.add(order)
    session.flush()


def _check_amount(amount_cents: int, limit: int, too_much: str) -> None:
    if amount_cents <= 0:
        raise ValidationFailed("amount", "must be more than zero")
    if amount_cents > limit:
        raise ValidationFailed("amount", too_much.format(limit / 100))


def _book_money(
    session: Session,
    order: Order,
    row: Payment | Refund,
    action: str,
    changes: dict[str, Any],
    actor: Staff | None,
) -> None:
    """Save a payment or refund, re-derive the order status and audit it (one transaction)."""
    session.add(row)
    session.flush()
    _restatus(session, order)
    audit.record(
        session=session,
        actor=actor,
        entity="order",
        entity_id=order.id or 0,
        action=action,
        customer_id=order.customer_id,
        changes=changes,
    )


def take_payment(
    *,
    session: Session,
    order_id: int,
    amount_cents: int,
    actor: Staff | None,
    method: str = "card",
) -> Payment:
    require(actor, "order")
    order = get_order(session=session, order_id=order_id, lock=True)
    if order.status == OrderStatus.CANCELLED.value:
        raise InvalidState("a cancelled order cannot be paid")
    try:
        method_value = PaymentMethod(method).value
    except ValueError:
        raise ValidationFailed("method", "cash, card or other") from None
    _check_amount(
        amount_cents, money_of(session=session, order_id=order_id).due, "only {:,.2f} is due"
    )
    payment = Payment(
        order_id=order_id,
        method=method_value,
        amount_cents=amount_cents,
        taken_by_id=actor.id if actor else None,
    )
    _book_money(
        session,
        order,
        payment,
        "payment",
        {"payment": (None, amount_cents), "method": (None, method_value)},
        actor,
    )
    rewards.earn_for_payment(
        session=session,
        customer_id=order.customer_id,
        order_id=order_id,
        amount_cents=amount_cents,
        actor=actor,
    )
    return payment


def refund(
    *, session: Session, order_id: int, amount_cents: int, reason: str, actor: Staff | None
) -> Refund:
    require(actor, "refund")
    order = get_order(session=session, order_id=order_id, lock=True)
    text = clean_line("reason", reason, max_length=300)
    if not text:
        raise ValidationFailed("reason", "Say why the money is refunded")
    limit = money_of(session=session, order_id=order_id).refundable
    _check_amount(amount_cents, limit, "at most {:,.2f} can be refunded")
    row = Refund(
        order_id=order_id, amount_cents=amount_cents, reason=text, by_id=actor.id if actor else None
    )
    _book_money(
        session,
        order,
        row,
        "refund",
        {"refund": (None, amount_cents), "reason": (None, text)},
        actor,
    )
    rewards.reverse_for_refund(
        session=session,
        customer_id=order.customer_id,
        order_id=order_id,
        amount_cents=amount_cents,
        actor=actor,
    )
    return row


def cancel_order(*, session: Session, order_id: int, reason: str, actor: Staff | None) -> Order:
    require(actor, "order")
    order = get_order(session=session, order_id=order_id, lock=True)
    text = clean_line("reason", reason, max_length=300)
    if not text:
        raise ValidationFailed("reason", "Say why the order is cancelled")
    money = money_of(session=session, order_id=order_id)
    if money.refundable > 0:
        raise InvalidState("refund the payments before cancelling the order")
    if order.status == OrderStatus.CANCELLED.value:
        return order
    before = order.status
    order.status = OrderStatus.CANCELLED.value
    order.notes = f"{order.notes + chr(10) if order.notes else ''}Cancelled: {text}"
    order.version += 1
    order.updated_at = utcnow()
    session.add(order)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="order",
        entity_id=order_id,
        action="cancel",
        customer_id=order.customer_id,
        changes={"status": (before, order.status), "reason": (None, text)},
    )
    return order


def order_for_booking(*, session: Session, booking_id: int, actor: Staff | None) -> Order:
    """The order of a completed booking: its service at the booked price (one step)."""
    require(actor, "order")
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("booking", booking_id)
    if booking.status != BookingStatus.COMPLETED.value:
        raise InvalidState("only a completed booking can be invoiced")
    existing = session.exec(select(Order).where(col(Order.booking_id) == booking_id)).first()
    if existing is not None:
        return existing
    return create_order(
        session=session,
        customer_id=booking.customer_id,
        branch_id=booking.branch_id,
        booking_id=booking_id,
        lines=[
            LineInput(
                kind="service", service_id=booking.service_id, unit_price_cents=booking.price_cents
            )
        ],
        actor=actor,
    )
