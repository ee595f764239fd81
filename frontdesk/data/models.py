"""SQLModel tables for the whole Frontdesk domain (DESIGN.md section 2).

Conventions:
- money is stored as integer minor units (``*_cents``), never floats;
- ``created_at``/``updated_at``/``at`` are naive UTC; booking ``start_at``/``end_at`` are the
  branch's wall-clock time, as the receptionist typed them;
- enumerations are strings guarded by CHECK constraints, so that every database agrees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from frontdesk.data.colours import DEFAULT_COLOUR

# A casefolded key column: compared bytewise on PostgreSQL so that prefix ranges use the index.
KeyString = String(300).with_variant(String(300, collation="C"), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class _Table(SQLModel):
    """The tables' base: pydantic builds a table's validator when it is first needed, not
    when the module is imported (start-up: some 40 tables)."""

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNSPECIFIED = "unspecified"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class CreatedVia(StrEnum):
    MANUAL = "manual"
    BOOKING = "booking"
    ORDER = "order"
    IMPORT = "import"
    MERGE = "merge"
    DEMO = "demo"
    ONLINE = "online"  # created by a booking request from outside (API), see created_source


class StaffRole(StrEnum):
    ADMIN = "admin"
    RECEPTION = "reception"
    THERAPIST = "therapist"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class OrderStatus(StrEnum):
    OPEN = "open"
    PART_PAID = "part_paid"
    PAID = "paid"
    PART_REFUNDED = "part_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class LineKind(StrEnum):
    SERVICE = "service"
    PACKAGE = "package"
    PRODUCT = "product"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    OTHER = "other"


class LedgerAction(StrEnum):
    ADDED = "added"
    REDEEMED = "redeemed"
    ADJUSTED = "adjusted"
    EXPIRED = "expired"
    MERGED = "merged"


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"


class NoteVisibility(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"


# --------------------------------------------------------------------------- organisation


class Setting(_Table, table=True):
    """Business-wide settings shared by every terminal (default region, require phone ...)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=100)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class Counter(_Table, table=True):
    """Monotonic counters for human-readable codes (customer C-000123 ...)."""

    __tablename__ = "counter"
    name: str = Field(primary_key=True, max_length=50)
    value: int = Field(default=0)


class Branch(_Table, table=True):
    __tablename__ = "branch"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=20)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class Staff(_Table, table=True):
    __tablename__ = "staff"
    __table_args__ = (_in("role", StaffRole, "ck_staff_role"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    username: str | None = Field(default=None, max_length=100, sa_column_kwargs={"unique": True})
    role: str = Field(default=StaffRole.RECEPTION.value, max_length=20)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class Category(_Table, table=True):
    """A customer category icon (VIP, Regular, New ...), configurable."""

    __tablename__ = "category"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, sa_column_kwargs={"unique": True})
    symbol: str = Field(max_length=8)
    colour: str = Field(default=DEFAULT_COLOUR, max_length=30)  # "#rrggbb"
    position: int = Field(default=0)


class Tag(_Table, table=True):
    __tablename__ = "tag"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    key: str = Field(max_length=50, sa_column_kwargs={"unique": True})
    colour: str = Field(default=DEFAULT_COLOUR, max_length=30)  # "#rrggbb"


class CustomerTag(_Table, table=True):
    __tablename__ = "customer_tag"
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


# --------------------------------------------------------------------------- customers


class Customer(_Table, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        _in("gender", Gender, "ck_customer_gender"),
        _in("status", CustomerStatus, "ck_customer_status"),
        _in("created_via", CreatedVia, "ck_customer_created_via"),
        CheckConstraint("first_name <> ''", name="ck_customer_first_name"),
        CheckConstraint("version >= 1", name="ck_customer_version"),
        CheckConstraint(
            "blocked = false OR blocked_reason IS NOT NULL", name="ck_customer_blocked_reason"
        ),
        CheckConstraint(
            "phone IS NOT NULL OR email_key IS NOT NULL OR merged_into_id IS NOT NULL",
            name="ck_customer_contact",
        ),
        Index(
            "uq_customer_live_phone",
            "phone",
            unique=True,
            sqlite_where=text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
            postgresql_where=text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
        ),
        Index(
            "uq_customer_live_email",
            "email_key",
            unique=True,
            sqlite_where=text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
            postgresql_where=text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
        ),
        Index(
            "ix_customer_merged_into",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
        Index(  # the directory's count of live customers reads this, not the table
            "ix_customer_live",
            "id",
            sqlite_where=text("deleted_at IS NULL AND merged_into_id IS NULL"),
            postgresql_where=text("deleted_at IS NULL AND merged_into_id IS NULL"),
        ),
        Index("ix_customer_phone", "phone"),
        Index("ix_customer_email_key", "email_key"),
        Index("ix_customer_sort", "sort_key", "id"),
        Index("ix_customer_name_key", "name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    first_name: str = Field(max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    email_key: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=20)
    phone_country: str | None = Field(default=None, max_length=2)
    other_phone: str | None = Field(default=None, max_length=20)
    gender: str = Field(default=Gender.UNSPECIFIED.value, max_length=20)
    date_of_birth: date | None = None
    anniversary: date | None = None
    address: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    photo_path: str | None = Field(default=None, max_length=500)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    home_branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    status: str = Field(default=CustomerStatus.ACTIVE.value, max_length=10)
    blocked: bool = Field(default=False)
    blocked_reason: str | None = Field(default=None, max_length=300)
    consent_reminders: bool = Field(default=True)
    consent_birthday: bool = Field(default=False)
    consent_marketing: bool = Field(default=False)
    consent_newsletter: bool = Field(default=False)
    # email, sms or whatsapp (None: email when there is one, else SMS)
    preferred_channel: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
    created_via: str = Field(default=CreatedVia.MANUAL.value, max_length=10)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    # Where an online booking came from (the request's source, e.g. "website", "assistant").
    created_source: str | None = Field(default=None, max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)
    deleted_at: datetime | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id")
    # Personal data erased (right to be forgotten): the row stays for the accounts.
    erased_at: datetime | None = None
    # Search keys, computed in Python (frontdesk.data.customers.search_keys):
    # sort_key = "last first" folded; name_key = "first last" folded;
    # search_text = everything searchable, folded, fed to the FTS / trigram index.
    sort_key: str = Field(default="", sa_type=KeyString)
    name_key: str = Field(default="", sa_type=KeyString)
    search_text: str = Field(default="", sa_type=Text)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def label(self) -> str:
        return self.display_name or self.full_name

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None and self.merged_into_id is None


class CustomField(_Table, table=True):
    __tablename__ = "custom_field"
    __table_args__ = (_in("type", FieldType, "ck_custom_field_type"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=50, sa_column_kwargs={"unique": True})
    label: str = Field(max_length=100)
    type: str = Field(default=FieldType.TEXT.value, max_length=20)
    required: bool = Field(default=False)
    choices: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    help_text: str | None = Field(default=None, max_length=300)
    position: int = Field(default=0)
    archived: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class CustomFieldValue(_Table, table=True):
    __tablename__ = "custom_field_value"
    __table_args__ = (UniqueConstraint("customer_id", "field_id", name="uq_custom_value"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    )
    field_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("custom_field.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    value_text: str | None = Field(default=None, sa_type=Text)
    value_number: float | None = None
    value_date: date | None = None
    value_bool: bool | None = None
    value_list: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class NoteCategory(_Table, table=True):
    __tablename__ = "note_category"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, sa_column_kwargs={"unique": True})
    is_alert: bool = Field(default=False)
    position: int = Field(default=0)


class Note(_Table, table=True):
    __tablename__ = "note"
    __table_args__ = (
        _in("visibility", NoteVisibility, "ck_note_visibility"),
        CheckConstraint("customer_id IS NOT NULL OR booking_id IS NOT NULL", name="ck_note_owner"),
        Index("ix_note_customer", "customer_id", "position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    body: str = Field(sa_type=Text)
    category_id: int | None = Field(default=None, foreign_key="note_category.id")
    visibility: str = Field(default=NoteVisibility.STAFF.value, max_length=10)
    pinned: bool = Field(default=False)
    is_alert: bool = Field(default=False)
    position: int = Field(default=0)
    author_id: int | None = Field(default=None, foreign_key="staff.id")
    edited_by_id: int | None = Field(default=None, foreign_key="staff.id")  # last change
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- catalogue


class ServiceType(_Table, table=True):
    __tablename__ = "service_type"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})


class Service(_Table, table=True):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="ck_service_duration"),
        CheckConstraint("price_cents >= 0", name="ck_service_price"),
        UniqueConstraint("service_type_id", "name", name="uq_service_name"),
    )
    id: int | None = Field(default=None, primary_key=True)
    service_type_id: int = Field(foreign_key="service_type.id", index=True)
    name: str = Field(max_length=100)
    duration_minutes: int = Field(default=60)
    price_cents: int = Field(default=0)
    active: bool = Field(default=True)


class Package(_Table, table=True):
    __tablename__ = "package"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="ck_package_price"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    price_cents: int = Field(default=0)
    active: bool = Field(default=True)


class PackageItem(_Table, table=True):
    __tablename__ = "package_item"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_package_item_quantity"),)
    package_id: int = Field(
        sa_column=Column(Integer, ForeignKey("package.id", ondelete="CASCADE"), primary_key=True)
    )
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("service.id"), primary_key=True, index=True)
    )
    quantity: int = Field(default=1)


# --------------------------------------------------------------------------- bookings & orders


class Booking(_Table, table=True):
    __tablename__ = "booking"
    __table_args__ = (
        _in("status", BookingStatus, "ck_booking_status"),
        CheckConstraint("end_at > start_at", name="ck_booking_times"),
        CheckConstraint("price_cents >= 0", name="ck_booking_price"),
        Index("ix_booking_customer", "customer_id", "start_at"),
        Index("ix_booking_staff", "staff_id", "start_at"),
        Index("ix_booking_start", "start_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    service_id: int = Field(foreign_key="service.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    start_at: datetime
    end_at: datetime
    status: str = Field(default=BookingStatus.PENDING.value, max_length=12)
    price_cents: int = Field(default=0)
    source: str = Field(default="desk", max_length=20)
    notes: str | None = Field(default=None, sa_type=Text)
    cancellation_reason: str | None = Field(default=None, max_length=300)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)
    # Checked in at the desk (the day sheet's "arrived"); None: not (yet) arrived.
    arrived_at: datetime | None = None


class Order(_Table, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        _in("status", OrderStatus, "ck_order_status"),
        CheckConstraint("total_cents >= 0", name="ck_order_total"),
        Index("ix_order_customer", "customer_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    branch_id: int = Field(foreign_key="branch.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    status: str = Field(default=OrderStatus.OPEN.value, max_length=14)
    total_cents: int = Field(default=0)
    notes: str | None = Field(default=None, sa_type=Text)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class OrderLine(_Table, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        _in("kind", LineKind, "ck_order_line_kind"),
        CheckConstraint("quantity > 0", name="ck_order_line_quantity"),
        CheckConstraint("unit_price_cents >= 0", name="ck_order_line_price"),
        CheckConstraint("discount_cents >= 0", name="ck_order_line_discount"),
        CheckConstraint("total_cents >= 0", name="ck_order_line_total"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(default=LineKind.SERVICE.value, max_length=10)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    package_id: int | None = Field(default=None, foreign_key="package.id", index=True)
    description: str = Field(max_length=200)
    quantity: int = Field(default=1)
    unit_price_cents: int = Field(default=0)
    discount_cents: int = Field(default=0)
    total_cents: int = Field(default=0)


class Payment(_Table, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        _in("method", PaymentMethod, "ck_payment_method"),
        CheckConstraint("amount_cents > 0", name="ck_payment_amount"),
        # a period's money, read from the index alone (the top customers of a short period)
        Index("ix_payment_at", "at", "order_id", "amount_cents"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    method: str = Field(default=PaymentMethod.CARD.value, max_length=10)
    amount_cents: int
    taken_by_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow)


class Refund(_Table, table=True):
    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_refund_amount"),
        Index("ix_refund_at", "at", "order_id", "amount_cents"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    amount_cents: int
    reason: str = Field(max_length=300)
    by_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- loyalty


class LoyaltyProgram(_Table, table=True):
    __tablename__ = "loyalty_program"
    __table_args__ = (
        CheckConstraint(
            "default_expiry_days IS NULL OR default_expiry_days > 0", name="ck_program_expiry"
        ),
        CheckConstraint("points_per_currency_unit >= 0", name="ck_program_earn_money"),
        CheckConstraint("points_per_visit >= 0", name="ck_program_earn_visit"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    unit: str = Field(default="points", max_length=30)
    active: bool = Field(default=True)
    is_default: bool = Field(default=False)
    default_expiry_days: int | None = None
    points_per_currency_unit: int = Field(default=0)
    points_per_visit: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class LoyaltyEnrolment(_Table, table=True):
    __tablename__ = "loyalty_enrolment"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_enrolment_balance"),
        Index(
            "uq_enrolment_live",
            "customer_id",
            "program_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    program_id: int = Field(foreign_key="loyalty_program.id", index=True)
    balance: int = Field(default=0)
    expires_on: date | None = None
    notes: str | None = Field(default=None, sa_type=Text)
    enrolled_at: datetime = Field(default_factory=utcnow)
    enrolled_by_id: int | None = Field(default=None, foreign_key="staff.id")
    removed_at: datetime | None = None
    version: int = Field(default=1)


class PointsEntry(_Table, table=True):
    """One append-only line of the points ledger (update/delete refused by triggers)."""

    __tablename__ = "points_entry"
    __table_args__ = (
        _in("action", LedgerAction, "ck_points_action"),
        CheckConstraint("balance_after >= 0", name="ck_points_balance_after"),
        CheckConstraint("points <> 0", name="ck_points_nonzero"),
        Index("ix_points_enrolment", "enrolment_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="loyalty_enrolment.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    program_id: int = Field(foreign_key="loyalty_program.id")
    points: int
    action: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=300)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    balance_after: int
    by_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow)
    request_id: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})


# --------------------------------------------------------------------------- history


class AuditEvent(_Table, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_customer", "customer_id", "at"),
        Index("ix_audit_entity", "entity", "entity_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    actor_name: str | None = Field(default=None, max_length=100)
    entity: str = Field(max_length=30)
    entity_id: int
    action: str = Field(max_length=30)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class MergeRecord(_Table, table=True):
    __tablename__ = "merge_record"
    id: int | None = Field(default=None, primary_key=True)
    survivor_id: int = Field(foreign_key="customer.id", index=True)
    merged_id: int = Field(foreign_key="customer.id", index=True)
    chosen: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    discarded: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    by_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow)


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class ContactPoint(_Table, table=True):
    """A customer's secondary phone or email (E.164 / lower-cased email), with its origin.

    Merges keep here every phone and email of the merged-away customers that the survivor
    did not keep as primary ("merged from C-000123"); staff add and remove them in Details.
    """

    __tablename__ = "contact_point"
    __table_args__ = (
        _in("kind", ContactKind, "ck_contact_point_kind"),
        CheckConstraint("value <> ''", name="ck_contact_point_value"),
        UniqueConstraint("customer_id", "kind", "value", name="uq_contact_point"),
        Index("ix_contact_point_value", "value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=10)
    value: str = Field(max_length=320)
    display: str | None = Field(default=None, max_length=320)  # the email as typed
    origin: str = Field(default="added", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")


class DuplicateIgnore(_Table, table=True):
    """A pair of customers someone marked "not a duplicate" (smaller id first)."""

    __tablename__ = "duplicate_ignore"
    __table_args__ = (CheckConstraint("first_id < second_id", name="ck_duplicate_ignore_order"),)
    first_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    )
    second_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    )
    by_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(default_factory=utcnow)


class CandidateStatus(StrEnum):
    PENDING = "pending"
    MERGED = "merged"  # its values were merged into the existing customer
    ADDED = "added"  # added as a customer of its own (without the clashing phone/email)
    DISCARDED = "discarded"


class MergeCandidate(_Table, table=True):
    """An imported row that matched an existing customer, waiting for a decision.

    Imports with "import as merge candidate" put such rows here instead of writing them over
    the customer or beside it; the duplicates screen shows each next to its customer. The
    fingerprint (the row's normalised values) makes re-importing the same file a no-op.
    """

    __tablename__ = "merge_candidate"
    __table_args__ = (
        UniqueConstraint("customer_id", "fingerprint", name="uq_merge_candidate_row"),
        _in("status", CandidateStatus, "ck_merge_candidate_status"),
        Index(
            "ix_merge_candidate_pending",
            "customer_id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    extras: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=200)
    source: str = Field(max_length=300)
    fingerprint: str = Field(max_length=64)
    status: str = Field(default=CandidateStatus.PENDING.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="staff.id")
    added_customer_id: int | None = Field(default=None, foreign_key="customer.id")


# --------------------------------------------------------------------------- outside bookings


class RequestStatus(StrEnum):
    PENDING = "pending"  # booked as a pending booking, waiting for the desk to accept
    REVIEW = "review"  # not guessed: the desk links or creates the customer
    ACCEPTED = "accepted"  # accepted at the desk (the booking is confirmed)
    DECLINED = "declined"  # declined at the desk, or refused (blocked customer)
    BOOKED = "booked"  # confirmed at once (auto_confirm_requests)


class ApiToken(_Table, table=True):
    """A token an outside system (booking page, assistant) calls the API with (hash only)."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class BookingRequest(_Table, table=True):
    """What an online booking page or assistant sent, and what became of it."""

    __tablename__ = "booking_request"
    __table_args__ = (
        _in("status", RequestStatus, "ck_booking_request_status"),
        UniqueConstraint("token_name", "idempotency_key", name="uq_booking_request_idem"),
        Index("ix_booking_request_status", "status", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    token_name: str = Field(max_length=100)
    idempotency_key: str | None = Field(default=None, max_length=200)
    fingerprint: str = Field(max_length=64)  # of the payload: a reused key with other data
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    email: str | None = Field(default=None, max_length=320)
    service_id: int = Field(foreign_key="service.id")
    branch_id: int = Field(foreign_key="branch.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    start_at: datetime
    notes: str | None = Field(default=None, sa_type=Text)
    source: str | None = Field(default=None, max_length=100)
    status: str = Field(default=RequestStatus.PENDING.value, max_length=10)
    reason: str | None = Field(default=None, max_length=300)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    customer_created: bool = Field(default=False)
    booking_id: int | None = Field(default=None, foreign_key="booking.id")
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")


# --------------------------------------------------------------------------- messaging


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class Purpose(StrEnum):
    TRANSACTIONAL = "transactional"  # a one-off message from the desk (no consent needed)
    REMINDER = "reminder"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    MARKETING = "marketing"
    NEWSLETTER = "newsletter"


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # next_attempt_at set: will be retried; NULL: given up
    SKIPPED = "skipped"  # not sent on purpose (consent withdrawn, booking moved ...)


class ConsentPurpose(StrEnum):
    REMINDERS = "reminders"
    BIRTHDAY = "birthday"
    MARKETING = "marketing"
    NEWSLETTER = "newsletter"


class ConsentSource(StrEnum):
    DESK = "desk"
    IMPORT = "import"
    UNSUBSCRIBE = "unsubscribe"
    API = "api"
    MERGE = "merge"
    ERASE = "erase"


class NewsletterStatus(StrEnum):
    QUEUING = "queuing"
    QUEUED = "queued"


class OutboxMessage(_Table, table=True):
    """One message to one customer on one channel (frontdesk.data.messaging.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (
        _in("channel", Channel, "ck_outbox_channel"),
        _in("purpose", Purpose, "ck_outbox_purpose"),
        _in("status", MessageStatus, "ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_customer", "customer_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    customer_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=True),
    )
    channel: str = Field(default=Channel.EMAIL.value, max_length=10)
    purpose: str = Field(default=Purpose.TRANSACTIONAL.value, max_length=15)
    template: str | None = Field(default=None, max_length=100)
    subject: str | None = Field(default=None, max_length=300)
    # Newsletter messages keep no text of their own: it is the newsletter's, per recipient.
    body: str | None = Field(default=None, sa_type=Text)
    html: str | None = Field(default=None, sa_type=Text)
    to_address: str = Field(max_length=320)
    status: str = Field(default=MessageStatus.QUEUED.value, max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    provider_id: str | None = Field(default=None, max_length=200)
    message_id: str | None = Field(default=None, max_length=300)
    booking_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("booking.id", ondelete="SET NULL"), nullable=True),
    )
    newsletter_id: int | None = Field(default=None, foreign_key="newsletter.id", index=True)
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = None
    handed_over_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")


class MessageTemplate(_Table, table=True):
    __tablename__ = "message_template"
    __table_args__ = (_in("channel", Channel, "ck_message_template_channel"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    channel: str = Field(default=Channel.EMAIL.value, max_length=10)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")


class ConsentChange(_Table, table=True):
    """One consent switched on or off: when, by whom, from where (the customer row keeps the
    current value; this is its history)."""

    __tablename__ = "consent_change"
    __table_args__ = (
        _in("purpose", ConsentPurpose, "ck_consent_change_purpose"),
        _in("source", ConsentSource, "ck_consent_change_source"),
        Index("ix_consent_change_customer", "customer_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    )
    purpose: str = Field(max_length=15)
    granted: bool
    at: datetime = Field(default_factory=utcnow)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    source: str = Field(default=ConsentSource.DESK.value, max_length=15)


class Newsletter(_Table, table=True):
    __tablename__ = "newsletter"
    __table_args__ = (_in("status", NewsletterStatus, "ck_newsletter_status"),)
    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=Text)
    audience: str = Field(default="", max_length=500)
    recipients: int = Field(default=0)
    status: str = Field(default=NewsletterStatus.QUEUING.value, max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")


# --------------------------------------------------------------------------- insight roll-ups
#
# Kept exact by database triggers (migration 0010) on booking, payment, refund and orders:
# nothing in Python writes them. Clustered by their keys on SQLite (WITHOUT ROWID), so a
# run of days is one range read. ``day`` is a calendar day as days since 1970-01-01 (of the
# booking's wall-clock start, or of the money's time); ``month_day`` the first of its month.


class InsightDay(_Table, table=True):
    """Bookings per branch, day, service and status, with the sum of their prices (kept in
    month and service order: the overview groups a period's rows so, without sorting)."""

    __tablename__ = "insight_day"
    __table_args__ = {"sqlite_with_rowid": False}
    month_day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    service_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    branch_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    status: str = Field(primary_key=True, max_length=12)
    bookings: int = Field(default=0)
    price_cents: int = Field(default=0, sa_type=BigInteger)


class InsightMoney(_Table, table=True):
    """Payments minus refunds per branch (of the order) and day the money moved."""

    __tablename__ = "insight_money"
    __table_args__ = {"sqlite_with_rowid": False}
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    branch_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    month_day: int
    cents: int = Field(default=0, sa_type=BigInteger)


class InsightVisit(_Table, table=True):
    """Each day a customer made a completed visit, per scope (a branch id, or 0: any
    branch), with the day of their previous visit in that scope (-1: none)."""

    __tablename__ = "insight_visit"
    __table_args__ = {"sqlite_with_rowid": False}
    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    month_day: int
    prev_day: int


class InsightGap(_Table, table=True):
    """How many customers visited (scope) on ``day`` with their previous visit on
    ``prev_day``: insight_visit counted, so distinct customers over any days are sums here."""

    __tablename__ = "insight_gap"
    __table_args__ = {"sqlite_with_rowid": False}
    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    prev_day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    month_day: int
    n: int = Field(default=0)


class InsightPayer(_Table, table=True):
    """Per scope (a branch id, or 0: any branch) and customer, everything they ever paid
    (refunds not taken off) and the last day they paid (never earlier than the truth): a
    bound on any period's net income, so the top customers are found among a few."""

    __tablename__ = "insight_payer"
    __table_args__ = (
        Index("ix_insight_payer_paid", "scope", "paid_cents"),
        {"sqlite_with_rowid": False},
    )
    scope: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    paid_cents: int = Field(default=0, sa_type=BigInteger)
    last_day: int


class InsightRhythm(_Table, table=True):
    """Per customer with a completed visit: the day of the last one and the median of the
    days between one completed visit and the next (None before two), as the profile works
    them out; the due-back and lapsed filters read these instead of every booking."""

    __tablename__ = "insight_rhythm"
    __table_args__ = (Index("ix_insight_rhythm_last", "last_day"), {"sqlite_with_rowid": False})
    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_day: int
    median_gap: float | None = Field(default=None, sa_type=Float)
