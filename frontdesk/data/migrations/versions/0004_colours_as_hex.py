"""colours as hex: category and tag colours stored as lower-case #rrggbb

The first release seeded the VIP category with "gold", a CSS name that the terminal renderer
cannot draw (``MissingStyle: Failed to get style 'gold'``), and the settings screen stored
whatever was typed. Every stored colour becomes its ``#rrggbb`` form ("gold" -> "#ffd700",
"green" -> "#008000", "#FC0" -> "#ffcc00"); a value that is not a colour becomes the neutral
default (frontdesk.data.colours.DEFAULT_COLOUR). The services store only this form from now on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from frontdesk.data.colours import stored_colour

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    for name in ("category", "tag"):
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("colour", sa.String))
        rows = conn.execute(sa.select(table.c.id, table.c.colour)).all()
        for row_id, colour in rows:
            wanted = stored_colour(colour)
            if wanted != colour:
                conn.execute(sa.update(table).where(table.c.id == row_id).values(colour=wanted))


def downgrade() -> None:
    # Hex colours are valid for the previous release too: nothing to undo.
    pass
