"""note.edited_by_id: who last changed a note (its author stays who wrote it)

The notes tab named only a note's author, also after someone else had rewritten it; the
audit log had who edited it, the tab did not say.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_note_edited_by_id_staff", "staff", ["edited_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_constraint("fk_note_edited_by_id_staff", type_="foreignkey")
        batch_op.drop_column("edited_by_id")
