"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:35:45.665350
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "branch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("symbol", sa.String(length=8), nullable=False),
        sa.Column("colour", sa.String(length=30), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "custom_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("help_text", sa.String(length=300), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('text', 'long_text', 'number', 'date', 'yes_no', 'choice', 'multi_choice')",
            name="ck_custom_field_type",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "loyalty_program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_expiry_days", sa.Integer(), nullable=True),
        sa.Column("points_per_currency_unit", sa.Integer(), nullable=False),
        sa.Column("points_per_visit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "default_expiry_days IS NULL OR default_expiry_days > 0", name="ck_program_expiry"
        ),
        sa.CheckConstraint("points_per_currency_unit >= 0", name="ck_program_earn_money"),
        sa.CheckConstraint("points_per_visit >= 0", name="ck_program_earn_visit"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "note_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("is_alert", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name="ck_package_price"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "service_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("colour", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name="ck_service_duration"),
        sa.CheckConstraint("price_cents >= 0", name="ck_service_price"),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_type.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_type_id", "name", name="uq_service_name"),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_service_type_id"), ["service_type_id"], unique=False
        )

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'reception', 'therapist')", name="ck_staff_role"),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_country", sa.String(length=2), nullable=True),
        sa.Column("other_phone", sa.String(length=20), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("anniversary", sa.Date(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("photo_path", sa.String(length=500), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("home_branch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("blocked_reason", sa.String(length=300), nullable=True),
        sa.Column("consent_reminders", sa.Boolean(), nullable=False),
        sa.Column("consent_birthday", sa.Boolean(), nullable=False),
        sa.Column("consent_marketing", sa.Boolean(), nullable=False),
        sa.Column("consent_newsletter", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_via", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column(
            "sort_key",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "name_key",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "created_via IN ('manual', 'booking', 'order', 'import', 'merge', 'demo')",
            name="ck_customer_created_via",
        ),
        sa.CheckConstraint("first_name <> ''", name="ck_customer_first_name"),
        sa.CheckConstraint(
            "gender IN ('female', 'male', 'other', 'unspecified')", name="ck_customer_gender"
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name="ck_customer_status"),
        sa.CheckConstraint(
            "blocked = false OR blocked_reason IS NOT NULL", name="ck_customer_blocked_reason"
        ),
        sa.CheckConstraint(
            "phone IS NOT NULL OR email_key IS NOT NULL OR merged_into_id IS NOT NULL",
            name="ck_customer_contact",
        ),
        sa.CheckConstraint("version >= 1", name="ck_customer_version"),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["home_branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_category_id"), ["category_id"], unique=False)
        batch_op.create_index("ix_customer_email_key", ["email_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customer_home_branch_id"), ["home_branch_id"], unique=False
        )
        batch_op.create_index(
            "ix_customer_merged_into",
            ["merged_into_id"],
            unique=False,
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        )
        batch_op.create_index("ix_customer_name_key", ["name_key"], unique=False)
        batch_op.create_index("ix_customer_phone", ["phone"], unique=False)
        batch_op.create_index("ix_customer_sort", ["sort_key", "id"], unique=False)
        batch_op.create_index(
            "uq_customer_live_email",
            ["email_key"],
            unique=True,
            sqlite_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
            postgresql_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
        )
        batch_op.create_index(
            "uq_customer_live_phone",
            ["phone"],
            unique=True,
            sqlite_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
            postgresql_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
        )

    op.create_table(
        "package_item",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_package_item_quantity"),
        sa.ForeignKeyConstraint(["package_id"], ["package.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.PrimaryKeyConstraint("package_id", "service_id"),
    )
    with op.batch_alter_table("package_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_package_item_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_customer", ["customer_id", "at"], unique=False)
        batch_op.create_index("ix_audit_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=300), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')",
            name="ck_booking_status",
        ),
        sa.CheckConstraint("end_at > start_at", name="ck_booking_times"),
        sa.CheckConstraint("price_cents >= 0", name="ck_booking_price"),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_booking_customer", ["customer_id", "start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_service_id"), ["service_id"], unique=False)
        batch_op.create_index("ix_booking_staff", ["staff_id", "start_at"], unique=False)
        batch_op.create_index("ix_booking_start", ["start_at"], unique=False)

    op.create_table(
        "custom_field_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("value_list", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["field_id"], ["custom_field.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "field_id", name="uq_custom_value"),
    )
    with op.batch_alter_table("custom_field_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custom_field_value_field_id"), ["field_id"], unique=False
        )

    op.create_table(
        "customer_tag",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "tag_id"),
    )
    with op.batch_alter_table("customer_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_tag_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "loyalty_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_enrolment_balance"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["loyalty_program.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loyalty_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loyalty_enrolment_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loyalty_enrolment_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            "uq_enrolment_live",
            ["customer_id", "program_id"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )

    op.create_table(
        "merge_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=True),
        sa.Column("discarded", sa.JSON(), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("merge_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_record_merged_id"), ["merged_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_merge_record_survivor_id"), ["survivor_id"], unique=False
        )

    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("is_alert", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("visibility IN ('staff', 'customer')", name="ck_note_visibility"),
        sa.CheckConstraint(
            "customer_id IS NOT NULL OR booking_id IS NOT NULL", name="ck_note_owner"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["note_category.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_note_customer", ["customer_id", "position"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'part_paid', 'paid', 'part_refunded', 'refunded', 'cancelled')",
            name="ck_order_status",
        ),
        sa.CheckConstraint("total_cents >= 0", name="ck_order_total"),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_order_customer", ["customer_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('service', 'package', 'product')", name="ck_order_line_kind"),
        sa.CheckConstraint("discount_cents >= 0", name="ck_order_line_discount"),
        sa.CheckConstraint("quantity > 0", name="ck_order_line_quantity"),
        sa.CheckConstraint("total_cents >= 0", name="ck_order_line_total"),
        sa.CheckConstraint("unit_price_cents >= 0", name="ck_order_line_price"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["package.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_line_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_line_service_id"), ["service_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('cash', 'card', 'other')", name="ck_payment_method"),
        sa.CheckConstraint("amount_cents > 0", name="ck_payment_amount"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["taken_by_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)

    op.create_table(
        "points_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "action IN ('added', 'redeemed', 'adjusted', 'expired', 'merged')",
            name="ck_points_action",
        ),
        sa.CheckConstraint("balance_after >= 0", name="ck_points_balance_after"),
        sa.CheckConstraint("points <> 0", name="ck_points_nonzero"),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
        ),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["loyalty_enrolment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["loyalty_program.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.create_index("ix_points_enrolment", ["enrolment_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_points_entry_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_refund_amount"),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_order_id"), ["order_id"], unique=False)

    _search_index_up()
    _ledger_guard_up()
    _seed()


SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE customer_fts USING fts5("
    "search_text, content='customer', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN "
    "INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER customer_fts_au AFTER UPDATE OF search_text ON customer BEGIN "
    "INSERT INTO customer_fts(customer_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customer_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]

POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customer_search_trgm ON customer USING gin (search_text gin_trgm_ops)",
]


def _search_index_up() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_SEARCH if dialect == "sqlite" else POSTGRES_SEARCH:
        op.execute(statement)


def _ledger_guard_up() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER points_entry_no_{verb.lower()} BEFORE {verb} ON points_entry "
                "BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION points_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the points ledger is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER points_entry_append_only BEFORE UPDATE OR DELETE ON points_entry "
            "FOR EACH ROW EXECUTE FUNCTION points_entry_append_only()"
        )


def _seed() -> None:
    setting = sa.table("setting", sa.column("key", sa.String), sa.column("value", sa.JSON))
    op.bulk_insert(
        setting,
        [
            {"key": "default_region", "value": "US"},
            {"key": "require_phone", "value": False},
            {"key": "currency", "value": "USD"},
            {"key": "business_name", "value": "Frontdesk"},
        ],
    )
    counter = sa.table("counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counter, [{"name": "customer", "value": 0}])
    category = sa.table(
        "category",
        sa.column("name", sa.String),
        sa.column("symbol", sa.String),
        sa.column("colour", sa.String),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(
        category,
        [
            {"name": "VIP", "symbol": "★", "colour": "gold", "position": 1},
            {"name": "Regular", "symbol": "●", "colour": "green", "position": 2},
            {"name": "New", "symbol": "✚", "colour": "cyan", "position": 3},
        ],
    )
    note_category = sa.table(
        "note_category",
        sa.column("name", sa.String),
        sa.column("is_alert", sa.Boolean),
        sa.column("position", sa.Integer),
    )
    op.bulk_insert(
        note_category,
        [
            {"name": name, "is_alert": name == "Alert", "position": i}
            for i, name in enumerate(
                ["Follow-up", "Preferences", "Issues", "Feedback", "Alert"], start=1
            )
        ],
    )
    program = sa.table(
        "loyalty_program",
        sa.column("name", sa.String),
        sa.column("unit", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("is_default", sa.Boolean),
        sa.column("points_per_currency_unit", sa.Integer),
        sa.column("points_per_visit", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        program,
        [
            {
                "name": "Reward points",
                "unit": "points",
                "active": True,
                "is_default": True,
                "points_per_currency_unit": 0,
                "points_per_visit": 0,
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "customer_fts_ai",
            "customer_fts_ad",
            "customer_fts_au",
            "points_entry_no_update",
            "points_entry_no_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS customer_fts")
    else:
        op.execute("DROP TRIGGER IF EXISTS points_entry_append_only ON points_entry")
        op.execute("DROP FUNCTION IF EXISTS points_entry_append_only()")
        op.execute("DROP INDEX IF EXISTS ix_customer_search_trgm")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_order_id"))

    op.drop_table("refund")
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_entry_customer_id"))
        batch_op.drop_index("ix_points_enrolment")

    op.drop_table("points_entry")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))

    op.drop_table("payment")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_line_service_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_package_id"))
        batch_op.drop_index(batch_op.f("ix_order_line_order_id"))

    op.drop_table("order_line")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_branch_id"))
        batch_op.drop_index(batch_op.f("ix_orders_booking_id"))
        batch_op.drop_index("ix_order_customer")

    op.drop_table("orders")
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_index("ix_note_customer")
        batch_op.drop_index(batch_op.f("ix_note_booking_id"))

    op.drop_table("note")
    with op.batch_alter_table("merge_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_record_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_merge_record_merged_id"))

    op.drop_table("merge_record")
    with op.batch_alter_table("loyalty_enrolment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolment_live",
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_loyalty_enrolment_program_id"))
        batch_op.drop_index(batch_op.f("ix_loyalty_enrolment_customer_id"))

    op.drop_table("loyalty_enrolment")
    with op.batch_alter_table("customer_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_tag_tag_id"))

    op.drop_table("customer_tag")
    with op.batch_alter_table("custom_field_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_field_value_field_id"))

    op.drop_table("custom_field_value")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_start")
        batch_op.drop_index("ix_booking_staff")
        batch_op.drop_index(batch_op.f("ix_booking_service_id"))
        batch_op.drop_index("ix_booking_customer")
        batch_op.drop_index(batch_op.f("ix_booking_branch_id"))

    op.drop_table("booking")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entity")
        batch_op.drop_index("ix_audit_customer")

    op.drop_table("audit_event")
    with op.batch_alter_table("package_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_package_item_service_id"))

    op.drop_table("package_item")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_customer_live_phone",
            sqlite_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
            postgresql_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND phone IS NOT NULL"
            ),
        )
        batch_op.drop_index(
            "uq_customer_live_email",
            sqlite_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
            postgresql_where=sa.text(
                "deleted_at IS NULL AND merged_into_id IS NULL AND email_key IS NOT NULL"
            ),
        )
        batch_op.drop_index("ix_customer_sort")
        batch_op.drop_index("ix_customer_phone")
        batch_op.drop_index("ix_customer_name_key")
        batch_op.drop_index("ix_customer_merged_into")
        batch_op.drop_index(batch_op.f("ix_customer_home_branch_id"))
        batch_op.drop_index("ix_customer_email_key")
        batch_op.drop_index(batch_op.f("ix_customer_category_id"))

    op.drop_table("customer")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_branch_id"))

    op.drop_table("staff")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_service_type_id"))

    op.drop_table("service")
    op.drop_table("tag")
    op.drop_table("setting")
    op.drop_table("service_type")
    op.drop_table("package")
    op.drop_table("note_category")
    op.drop_table("loyalty_program")
    op.drop_table("custom_field")
    op.drop_table("counter")
    op.drop_table("category")
    op.drop_table("branch")
