"""customer_tally: how many live customers there are, kept by triggers (SQLite)

The directory says how many customers it lists. With no search and no filter that is every
live customer (not deleted, not merged away), which it counted when it opened and again after
each change another desk made: 120 ms of reading the live-customer index at a million
customers, each time. Triggers now keep the number in one row, in the same transaction as the
change (an insert, a delete, a restore, a merge, an erasure, a row deleted for good), and the
directory reads it. PostgreSQL counts as before (no table there).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LIVE_NEW = "(new.deleted_at IS NULL AND new.merged_into_id IS NULL)"
LIVE_OLD = "(old.deleted_at IS NULL AND old.merged_into_id IS NULL)"
BUMP = "UPDATE customer_tally SET live = live + ({}) WHERE id = 1"

TRIGGERS = {
    "customer_tally_ai": "CREATE TRIGGER customer_tally_ai AFTER INSERT ON customer "
    f"WHEN {LIVE_NEW} BEGIN {BUMP.format(1)}; END",
    "customer_tally_ad": "CREATE TRIGGER customer_tally_ad AFTER DELETE ON customer "
    f"WHEN {LIVE_OLD} BEGIN {BUMP.format(-1)}; END",
    "customer_tally_au": "CREATE TRIGGER customer_tally_au "
    "AFTER UPDATE OF deleted_at, merged_into_id ON customer "
    f"WHEN {LIVE_OLD} <> {LIVE_NEW} "
    f"BEGIN {BUMP.format(f'CASE WHEN {LIVE_NEW} THEN 1 ELSE -1 END')}; END",
}
# (An INSERT OR REPLACE of a customer would count up without counting down: SQLite runs no
# delete trigger for a replaced row unless recursive_triggers is on. Nothing writes customers
# that way; `frontdesk check` would notice, and `frontdesk check --repair` counts again.)

TABLE = (
    "CREATE TABLE IF NOT EXISTS customer_tally "
    "(id INTEGER PRIMARY KEY CHECK (id = 1), live INTEGER NOT NULL)"
)
ROW = "INSERT OR IGNORE INTO customer_tally (id, live) VALUES (1, 0)"

# The count the triggers keep, from the rows (the migration's back-fill; the demo's load,
# which drops the triggers while it writes, and `frontdesk check --repair` count again with it).
RECOUNT = (
    "UPDATE customer_tally SET live = (SELECT count(*) FROM customer "
    "WHERE deleted_at IS NULL AND merged_into_id IS NULL) WHERE id = 1"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(TABLE)
    op.execute(ROW)
    op.execute(RECOUNT)
    for statement in TRIGGERS.values():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS customer_tally")
