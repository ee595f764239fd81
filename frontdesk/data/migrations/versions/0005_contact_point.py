"""contact_point: a customer's secondary phones and emails, with their origin

Merging used to drop the merged-away customer's phone and email: afterwards the old number
found nobody. A merge now keeps every phone and email that the survivor does not keep as its
primary here ("merged from C-000123"); staff add and remove them in the profile's Details.
Search finds customers by them. Merges that happened before this revision are filled in from
their tombstones (the merged-away record keeps its own phone and email).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("display", sa.String(length=320), nullable=True),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('phone', 'email')", name="ck_contact_point_kind"),
        sa.CheckConstraint("value <> ''", name="ck_contact_point_value"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer_id", "kind", "value", name="uq_contact_point"),
    )
    op.create_index("ix_contact_point_customer_id", "contact_point", ["customer_id"])
    op.create_index("ix_contact_point_value", "contact_point", ["value"])
    _backfill()


def _backfill() -> None:
    """Past merges: the tombstones' phones and emails become their survivor's secondaries."""
    conn = op.get_bind()
    customer = sa.table(
        "customer",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("phone", sa.String),
        sa.column("other_phone", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
        sa.column("merged_into_id", sa.Integer),
    )
    point = sa.table(
        "contact_point",
        sa.column("customer_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("display", sa.String),
        sa.column("origin", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    rows = {r.id: r for r in conn.execute(sa.select(customer)).all()}
    seen: set[tuple[int, str, str]] = set()
    now = sa.func.now() if conn.dialect.name == "postgresql" else sa.func.current_timestamp()
    for row in rows.values():
        if row.merged_into_id is None:
            continue
        survivor, hops = rows.get(row.merged_into_id), 0
        while survivor is not None and survivor.merged_into_id is not None and hops < 50:
            survivor, hops = rows.get(survivor.merged_into_id), hops + 1
        if survivor is None or survivor.merged_into_id is not None:
            continue
        kept = {("phone", survivor.phone), ("phone", survivor.other_phone)}
        kept.add(("email", survivor.email_key))
        wanted = [
            ("phone", row.phone, None),
            ("phone", row.other_phone, None),
            ("email", row.email_key, row.email),
        ]
        for kind, value, display in wanted:
            key = (survivor.id, kind, value)
            if not value or (kind, value) in kept or key in seen:
                continue
            seen.add(key)
            conn.execute(
                sa.insert(point).values(
                    customer_id=survivor.id,
                    kind=kind,
                    value=value,
                    display=display,
                    origin=f"merged from {row.code}",
                    created_at=now,
                )
            )


def downgrade() -> None:
    op.drop_index("ix_contact_point_value", table_name="contact_point")
    op.drop_index("ix_contact_point_customer_id", table_name="contact_point")
    op.drop_table("contact_point")
