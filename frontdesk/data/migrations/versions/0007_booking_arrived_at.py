"""booking.arrived_at: when the customer checked in at the desk (the day sheet's "arrived")

A booking whose start has passed with no arrival is shown as late on the day sheet.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("booking", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE booking DROP COLUMN arrived_at")
