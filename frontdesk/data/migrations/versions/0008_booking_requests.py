"""api_token and booking_request: bookings that arrive from outside (frontdesk serve)

- api_token: the tokens an online booking page or an assistant calls the API with (the
  database keeps only a SHA-256 of each token), with their scopes;
- booking_request: what they sent and what became of it (pending, review, accepted,
  declined, booked), unique per token and Idempotency-Key;
- customer.created_via may be 'online' (created by such a request), and customer.created_source
  says where it came from.

On SQLite the created_via CHECK is widened in place (the documented writable-schema
procedure for a change that loosens a constraint): rebuilding the customer table would drop
its search triggers and copy every row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_CHECK = "created_via IN ('manual', 'booking', 'order', 'import', 'merge', 'demo')"
NEW_CHECK = "created_via IN ('manual', 'booking', 'order', 'import', 'merge', 'demo', 'online')"


def _swap_check(before: str, after: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE customer DROP CONSTRAINT ck_customer_created_via")
        op.execute(f"ALTER TABLE customer ADD CONSTRAINT ck_customer_created_via CHECK ({after})")
        return
    sql = conn.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customer'")
    ).scalar_one()
    if before not in sql:
        return
    version = conn.execute(sa.text("PRAGMA schema_version")).scalar_one()
    conn.execute(sa.text("PRAGMA writable_schema = ON"))
    conn.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'customer'"),
        {"sql": sql.replace(before, after)},
    )
    conn.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    conn.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    op.add_column("customer", sa.Column("created_source", sa.String(length=100), nullable=True))
    _swap_check(OLD_CHECK, NEW_CHECK)
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "booking_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_name", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("customer_created", sa.Boolean(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'review', 'accepted', 'declined', 'booked')",
            name="ck_booking_request_status",
        ),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"]),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_name", "idempotency_key", name="uq_booking_request_idem"),
    )
    op.create_index("ix_booking_request_status", "booking_request", ["status", "created_at"])
    op.create_index("ix_booking_request_customer_id", "booking_request", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_booking_request_customer_id", table_name="booking_request")
    op.drop_index("ix_booking_request_status", table_name="booking_request")
    op.drop_table("booking_request")
    op.drop_table("api_token")
    op.execute("UPDATE customer SET created_via = 'booking' WHERE created_via = 'online'")
    _swap_check(NEW_CHECK, OLD_CHECK)
    op.execute("ALTER TABLE customer DROP COLUMN created_source")
