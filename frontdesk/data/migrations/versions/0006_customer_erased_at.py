"""customer.erased_at: when a customer's personal data was erased (right to be forgotten)

An erased customer keeps its row, code and history for the accounts (bookings, orders,
payments, the ledger), shown as "Erased customer C-000123"; everything personal is gone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild: the search triggers on customer stay as they are).
    op.add_column("customer", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE customer DROP COLUMN erased_at")
