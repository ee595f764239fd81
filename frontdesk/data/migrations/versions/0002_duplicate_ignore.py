"""duplicate_ignore: pairs marked "not a duplicate"

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_ignore",
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_id < second_id", name="ck_duplicate_ignore_order"),
        sa.ForeignKeyConstraint(["by_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["first_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["second_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("first_id", "second_id"),
    )


def downgrade() -> None:
    op.drop_table("duplicate_ignore")
