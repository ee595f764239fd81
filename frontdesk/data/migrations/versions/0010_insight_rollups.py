"""Insight roll-ups (issue 16): the business overview reads small tables kept exact by triggers

- insight_day: bookings per branch, day, service and status (count and price sum): visits,
  settled bookings, no-shows, cancellations, category mix (keyed month and service first, so
  a period's rows are read in the order they are grouped);
- insight_money: payments minus refunds per branch (of the order) and day the money moved;
- insight_visit: each customer's completed-visit days per scope (a branch, or 0: any branch)
  with the previous visit day (-1: none); insight_gap counts those rows per (scope, day,
  previous day), so the distinct customers who visited in any run of days are sums there
  (new, returning, active, retention);
- insight_rhythm: per customer, the last completed visit's day and the median interval
  between visits (the due-back and lapsed filters);
- insight_payer: per scope and customer, all they ever paid and the last day they paid: a
  bound on a period's net income, so the top customers are sought among the biggest payers
  only (and payment.at, refund.at indexed for a short period's money when that bound does
  not narrow it down).

Triggers on booking, payment, refund and orders keep them in step with every write (status
changes, reschedules, merges moving bookings, deletions, refunds): a change to a completed
visit recounts that customer's visit days (a few rows). The upgrade back-fills them with one
set-based statement each (:func:`backfill`); on SQLite the visits, gaps and rhythm are worked
out in one pass over the completed bookings in (customer, start) order instead
(:func:`fill`): the same rows, without the statements' sorts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date
from itertools import chain
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DONE = "'completed'"
TABLES = (
    "insight_day",
    "insight_money",
    "insight_visit",
    "insight_gap",
    "insight_payer",
    "insight_rhythm",
)


def _key(x: str, pg: bool) -> str:
    """The calendar day of a timestamp, cheap to group by (text on SQLite; on PostgreSQL the
    UTC day whatever the session's time zone, as the app writes and reads them)."""
    return f"CAST(({x}) AT TIME ZONE 'UTC' AS DATE)" if pg else f"substr({x}, 1, 10)"


def _day_of(k: str, pg: bool) -> str:
    """A :func:`_key` as days since 1970-01-01."""
    if pg:
        return f"({k} - DATE '1970-01-01')"
    return f"CAST(julianday({k}) - 2440587.5 AS INTEGER)"


def _month_of(k: str, pg: bool) -> str:
    """The first of a :func:`_key`'s month as days since 1970-01-01."""
    if pg:
        return f"(CAST(date_trunc('month', {k}) AS DATE) - DATE '1970-01-01')"
    return f"CAST(julianday(substr({k}, 1, 7) || '-01') - 2440587.5 AS INTEGER)"


def _day(x: str, pg: bool) -> str:
    return _day_of(_key(x, pg), pg)


def _month(x: str, pg: bool) -> str:
    return _month_of(_key(x, pg), pg)


def _day_row(row: str, sign: str, pg: bool) -> str:
    """Add (sign +) or take away (-) one booking in insight_day."""
    return (
        "INSERT INTO insight_day (branch_id, day, service_id, status, month_day, bookings, "
        f"price_cents) VALUES ({row}.branch_id, {_day(row + '.start_at', pg)}, "
        f"{row}.service_id, {row}.status, {_month(row + '.start_at', pg)}, {sign}1, "
        f"{sign}{row}.price_cents) "
        "ON CONFLICT (month_day, service_id, day, branch_id, status) DO UPDATE "
        "SET bookings = insight_day.bookings + excluded.bookings, "
        "price_cents = insight_day.price_cents + excluded.price_cents;"
    )


def _money_row(row: str, sign: str, pg: bool) -> str:
    """Add ``sign`` times a payment or refund row's amount to insight_money."""
    return (
        "INSERT INTO insight_money (branch_id, day, month_day, cents) VALUES "
        f"((SELECT branch_id FROM orders WHERE id = {row}.order_id), {_day(row + '.at', pg)}, "
        f"{_month(row + '.at', pg)}, {sign}{row}.amount_cents) ON CONFLICT (day, branch_id) "
        "DO UPDATE SET cents = insight_money.cents + excluded.cents;"
    )


def _order_move(pg: bool) -> str:
    """An order moved to another branch: its money moves with it."""
    moves = " UNION ALL ".join(
        f"SELECT {branch} AS b, {_day('at', pg)} AS d, {_month('at', pg)} AS m, "
        f"{sign}amount_cents AS c FROM {table} WHERE order_id = NEW.id"
        for branch, table, sign in (
            ("OLD.branch_id", "payment", "-"),
            ("OLD.branch_id", "refund", ""),
            ("NEW.branch_id", "payment", ""),
            ("NEW.branch_id", "refund", "-"),
        )
    )
    return (
        "INSERT INTO insight_money (branch_id, day, month_day, cents) "
        f"SELECT b, d, m, SUM(c) FROM ({moves}) AS moves GROUP BY b, d, m "
        "ON CONFLICT (day, branch_id) DO UPDATE SET cents = insight_money.cents + excluded.cents;"
    )


def _visits_of(cid: str, pg: bool) -> str:
    """The (scope, day, month_day) of a customer's completed visits, each once."""
    day, month = _day("start_at", pg), _month("start_at", pg)
    where = f"FROM booking WHERE customer_id = {cid} AND status = {DONE}"
    return (
        f"SELECT branch_id AS scope, {day} AS day, {month} AS month_day {where} "
        f"UNION SELECT 0, {day}, {month} {where}"
    )


def _median(gaps: str, partition: str = "") -> str:
    """The median of ``gaps`` (a subquery of ``gap``[, ``customer_id``] rows) per partition."""
    over = f"PARTITION BY {partition} " if partition else ""
    keys = f"{partition}, " if partition else ""
    return (
        f"SELECT {keys}AVG(gap * 1.0) AS median_gap FROM (SELECT {keys}gap, "
        f"ROW_NUMBER() OVER ({over}ORDER BY gap) AS rn, COUNT(*) OVER ({over.strip()}) AS n "
        f"FROM ({gaps}) AS g WHERE gap IS NOT NULL) AS r "
        f"WHERE rn IN ((n + 1) / 2, (n + 2) / 2)" + (f" GROUP BY {partition}" if partition else "")
    )


def _rhythm(cid: str, pg: bool) -> str:
    """One customer's last visit day and median interval, as insights.customer_insight
    works them out (every completed booking, in start order)."""
    day = _day("start_at", pg)
    gaps = (
        f"SELECT {day} - LAG({day}) OVER (ORDER BY start_at, id) AS gap FROM booking "
        f"WHERE customer_id = {cid} AND status = {DONE}"
    )
    return (
        f"DELETE FROM insight_rhythm WHERE customer_id = {cid}; "
        "INSERT INTO insight_rhythm (customer_id, last_day, median_gap) "
        f"SELECT {cid}, MAX(day), ({_median(gaps)}) FROM insight_visit "
        f"WHERE customer_id = {cid} AND scope = 0 GROUP BY customer_id;"
    )


def _recount(cid: str, pg: bool) -> str:
    """Recount one customer's visit days: take their old rows out of insight_gap, put the
    new ones in."""
    return (
        "UPDATE insight_gap SET n = n - 1 WHERE (scope, day, prev_day) IN "
        f"(SELECT scope, day, prev_day FROM insight_visit WHERE customer_id = {cid}); "
        f"DELETE FROM insight_visit WHERE customer_id = {cid}; "
        "INSERT INTO insight_visit (customer_id, scope, day, month_day, prev_day) "
        f"SELECT {cid}, scope, day, month_day, "
        "COALESCE(LAG(day) OVER (PARTITION BY scope ORDER BY day), -1) "
        f"FROM ({_visits_of(cid, pg)}) AS v; "
        "INSERT INTO insight_gap (scope, day, prev_day, month_day, n) "
        f"SELECT scope, day, prev_day, month_day, 1 FROM insight_visit WHERE customer_id = {cid} "
        "ON CONFLICT (scope, day, prev_day) DO UPDATE SET n = insight_gap.n + 1; "
        + _rhythm(cid, pg)
    )


def _payer(rows: str) -> str:
    """Add ``rows`` (scope, customer_id, cents, day) to insight_payer, grouped."""
    return (
        "INSERT INTO insight_payer (scope, customer_id, paid_cents, last_day) "
        f"SELECT s, c, SUM(p), MAX(d) FROM ({rows}) AS payers GROUP BY s, c "
        "ON CONFLICT (scope, customer_id) DO UPDATE SET "
        "paid_cents = insight_payer.paid_cents + excluded.paid_cents, "
        "last_day = CASE WHEN excluded.last_day > insight_payer.last_day "
        "THEN excluded.last_day ELSE insight_payer.last_day END;"
    )


def _payer_row(row: str, sign: str, pg: bool) -> str:
    """A payment row added (sign '') or taken away ('-', the last day is left as it was)."""
    day = "-1" if sign else _day(f"{row}.at", pg)
    return _payer(
        " UNION ALL ".join(
            f"SELECT {scope} AS s, customer_id AS c, {sign}{row}.amount_cents AS p, {day} AS d "
            f"FROM orders WHERE id = {row}.order_id"
            for scope in ("0", "branch_id")
        )
    )


def _payer_move(pg: bool) -> str:
    """An order moved to another customer or branch: its payments move with it."""
    return _payer(
        " UNION ALL ".join(
            f"SELECT {scope} AS s, {row}.customer_id AS c, {sign}amount_cents AS p, {day} AS d "
            "FROM payment WHERE order_id = NEW.id"
            for row, sign, day in (("OLD", "-", "-1"), ("NEW", "", _day("at", pg)))
            for scope in ("0", f"{row}.branch_id")
        )
    )


VISIT_COLUMNS = "status, start_at, branch_id, customer_id"
DAY_COLUMNS = "status, start_at, branch_id, service_id, price_cents"
MONEY_COLUMNS = "amount_cents, at, order_id"


def _sqlite_triggers() -> list[str]:
    pg = False
    out = [
        f"CREATE TRIGGER insight_booking_ai AFTER INSERT ON booking BEGIN "
        f"{_day_row('NEW', '', pg)} END",
        f"CREATE TRIGGER insight_booking_ad AFTER DELETE ON booking BEGIN "
        f"{_day_row('OLD', '-', pg)} END",
        f"CREATE TRIGGER insight_booking_au AFTER UPDATE OF {DAY_COLUMNS} ON booking BEGIN "
        f"{_day_row('OLD', '-', pg)} {_day_row('NEW', '', pg)} END",
        f"CREATE TRIGGER insight_visit_ai AFTER INSERT ON booking WHEN NEW.status = {DONE} "
        f"BEGIN {_recount('NEW.customer_id', pg)} END",
        f"CREATE TRIGGER insight_visit_ad AFTER DELETE ON booking WHEN OLD.status = {DONE} "
        f"BEGIN {_recount('OLD.customer_id', pg)} END",
        f"CREATE TRIGGER insight_visit_au_old AFTER UPDATE OF {VISIT_COLUMNS} ON booking "
        f"WHEN OLD.status = {DONE} BEGIN {_recount('OLD.customer_id', pg)} END",
        f"CREATE TRIGGER insight_visit_au_new AFTER UPDATE OF {VISIT_COLUMNS} ON booking "
        f"WHEN NEW.status = {DONE} AND (OLD.status <> {DONE} OR "
        f"OLD.customer_id <> NEW.customer_id) BEGIN {_recount('NEW.customer_id', pg)} END",
        f"CREATE TRIGGER insight_orders_au AFTER UPDATE OF branch_id ON orders "
        f"WHEN OLD.branch_id <> NEW.branch_id BEGIN {_order_move(pg)} END",
        f"CREATE TRIGGER insight_payer_orders_au AFTER UPDATE OF branch_id, customer_id "
        "ON orders WHEN OLD.branch_id <> NEW.branch_id OR OLD.customer_id <> NEW.customer_id "
        f"BEGIN {_payer_move(pg)} END",
        f"CREATE TRIGGER insight_payer_ai AFTER INSERT ON payment BEGIN "
        f"{_payer_row('NEW', '', pg)} END",
        f"CREATE TRIGGER insight_payer_ad AFTER DELETE ON payment BEGIN "
        f"{_payer_row('OLD', '-', pg)} END",
        f"CREATE TRIGGER insight_payer_au AFTER UPDATE OF {MONEY_COLUMNS} ON payment BEGIN "
        f"{_payer_row('OLD', '-', pg)} {_payer_row('NEW', '', pg)} END",
    ]
    for table, plus, minus in (("payment", "", "-"), ("refund", "-", "")):
        out += [
            f"CREATE TRIGGER insight_{table}_ai AFTER INSERT ON {table} BEGIN "
            f"{_money_row('NEW', plus, pg)} END",
            f"CREATE TRIGGER insight_{table}_ad AFTER DELETE ON {table} BEGIN "
            f"{_money_row('OLD', minus, pg)} END",
            f"CREATE TRIGGER insight_{table}_au AFTER UPDATE OF {MONEY_COLUMNS} ON {table} "
            f"BEGIN {_money_row('OLD', minus, pg)} {_money_row('NEW', plus, pg)} END",
        ]
    return out


def _pg_triggers() -> list[str]:
    pg = True

    def changed(columns: str) -> str:
        return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns.split(", "))

    booking = (
        "CREATE FUNCTION insight_booking() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({changed(DAY_COLUMNS)})) THEN "
        f"{_day_row('OLD', '-', pg)} END IF; "
        f"IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ({changed(DAY_COLUMNS)})) THEN "
        f"{_day_row('NEW', '', pg)} END IF; "
        f"IF TG_OP <> 'INSERT' AND OLD.status = {DONE} AND "
        f"(TG_OP = 'DELETE' OR {changed(VISIT_COLUMNS)}) THEN "
        f"PERFORM insight_recount(OLD.customer_id); END IF; "
        f"IF TG_OP <> 'DELETE' AND NEW.status = {DONE} AND (TG_OP = 'INSERT' OR "
        f"OLD.status <> {DONE} OR OLD.customer_id <> NEW.customer_id) THEN "
        "PERFORM insight_recount(NEW.customer_id); END IF; "
        "RETURN NULL; END $$"
    )
    out = [
        "CREATE FUNCTION insight_recount(cid integer) RETURNS void LANGUAGE plpgsql AS $$ "
        f"BEGIN {_recount('cid', pg)} END $$",
        booking,
        "CREATE TRIGGER insight_booking AFTER INSERT OR DELETE OR UPDATE OF "
        f"{DAY_COLUMNS}, customer_id ON booking FOR EACH ROW EXECUTE FUNCTION insight_booking()",
        "CREATE FUNCTION insight_orders() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF OLD.branch_id <> NEW.branch_id THEN {_order_move(pg)} END IF; "
        "IF OLD.branch_id <> NEW.branch_id OR OLD.customer_id <> NEW.customer_id THEN "
        f"{_payer_move(pg)} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER insight_orders AFTER UPDATE OF branch_id, customer_id ON orders "
        "FOR EACH ROW EXECUTE FUNCTION insight_orders()",
    ]
    for table, plus, minus in (("payment", "", "-"), ("refund", "-", "")):
        out += [
            f"CREATE FUNCTION insight_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({changed(MONEY_COLUMNS)})) THEN "
            f"{_money_row('OLD', minus, pg)} "
            f"{_payer_row('OLD', '-', pg) if table == 'payment' else ''} END IF; "
            f"IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ({changed(MONEY_COLUMNS)})) THEN "
            f"{_money_row('NEW', plus, pg)} "
            f"{_payer_row('NEW', '', pg) if table == 'payment' else ''} END IF; "
            "RETURN NULL; END $$",
            f"CREATE TRIGGER insight_{table} AFTER INSERT OR DELETE OR UPDATE OF "
            f"{MONEY_COLUMNS} ON {table} FOR EACH ROW EXECUTE FUNCTION insight_{table}()",
        ]
    return out


def backfill(pg: bool, with_visits: bool = True) -> list[str]:
    """Fill the roll-ups from the stored rows, emptied first (one statement each; grouped by
    the day's text first, so the day numbers are worked out once a group). ``with_visits``
    False leaves out insight_visit, insight_gap and insight_rhythm (:func:`fill` works them
    out in one pass on SQLite)."""
    k = _key("start_at", pg)
    day, month = _day_of("k", pg), _month_of("k", pg)
    money = " UNION ALL ".join(
        f"SELECT o.branch_id AS b, {_key('x.at', pg)} AS k, {sign}x.amount_cents AS c "
        f"FROM {table} AS x JOIN orders AS o ON o.id = x.order_id"
        for table, sign in (("payment", ""), ("refund", "-"))
    )
    visits = " UNION ALL ".join(
        f"SELECT customer_id, {scope} AS scope, {k} AS k FROM booking WHERE status = {DONE} "
        f"GROUP BY customer_id, {group}{k}"
        for scope, group in (("branch_id", "branch_id, "), ("0", ""))
    )
    payers = " UNION ALL ".join(
        f"SELECT {scope} AS s, o.customer_id AS c, x.amount_cents AS p, "
        f"{_key('x.at', pg)} AS k FROM payment AS x JOIN orders AS o ON o.id = x.order_id"
        for scope in ("0", "o.branch_id")
    )
    d = _day("start_at", pg)
    all_gaps = (
        f"SELECT customer_id, {d} - LAG({d}) OVER (PARTITION BY customer_id ORDER BY start_at, "
        f"id) AS gap FROM booking WHERE status = {DONE}"
    )
    statements = [
        *(f"DELETE FROM {table}" for table in TABLES),
        "INSERT INTO insight_day (branch_id, day, service_id, status, month_day, bookings, "
        f"price_cents) SELECT branch_id, {day}, service_id, status, {month}, n, v FROM ("
        f"SELECT branch_id, {k} AS k, service_id, status, COUNT(*) AS n, SUM(price_cents) AS v "
        f"FROM booking GROUP BY branch_id, {k}, service_id, status) AS g",
        "INSERT INTO insight_money (branch_id, day, month_day, cents) "
        f"SELECT b, {day}, {month}, c FROM (SELECT b, k, SUM(c) AS c FROM ({money}) AS moves "
        "GROUP BY b, k) AS g",
        "INSERT INTO insight_visit (customer_id, scope, day, month_day, prev_day) "
        "SELECT customer_id, scope, day, month_day, "
        "COALESCE(LAG(day) OVER (PARTITION BY customer_id, scope ORDER BY day), -1) FROM ("
        f"SELECT customer_id, scope, {day} AS day, {month} AS month_day FROM ({visits}) AS g"
        ") AS v",
        "INSERT INTO insight_gap (scope, day, prev_day, month_day, n) "
        "SELECT scope, day, prev_day, MIN(month_day), COUNT(*) FROM insight_visit "
        "GROUP BY scope, day, prev_day",
        "INSERT INTO insight_payer (scope, customer_id, paid_cents, last_day) "
        f"SELECT s, c, p, {_day_of('k', pg)} FROM (SELECT s, c, SUM(p) AS p, MAX(k) AS k "
        f"FROM ({payers}) AS payers GROUP BY s, c) AS g",
        "INSERT INTO insight_rhythm (customer_id, last_day, median_gap) "
        "SELECT v.customer_id, v.last_day, m.median_gap FROM (SELECT customer_id, "
        "MAX(day) AS last_day FROM insight_visit WHERE scope = 0 GROUP BY customer_id) AS v "
        f"LEFT JOIN ({_median(all_gaps, 'customer_id')}) AS m ON m.customer_id = v.customer_id",
    ]
    if with_visits:
        return statements
    return [
        s
        for s in statements
        if not s.startswith(
            ("INSERT INTO insight_visit", "INSERT INTO insight_gap", "INSERT INTO insight_rhythm")
        )
    ]


EPOCH = date(1970, 1, 1)
BATCH = 20_000


def _median_of(gaps: list[int]) -> float | None:
    """The median as the statements work it out: the average of the ((n + 1) / 2)th and
    ((n + 2) / 2)th smallest gaps."""
    n = len(gaps)
    if not n:
        return None
    gaps.sort()
    return (gaps[(n + 1) // 2 - 1] + gaps[(n + 2) // 2 - 1]) / 2


VISIT_INSERT = "INSERT INTO insight_visit (customer_id, scope, day, month_day, prev_day) VALUES "
RHYTHM_INSERT = "INSERT INTO insight_rhythm (customer_id, last_day, median_gap) VALUES "
GAP_INSERT = "INSERT INTO insight_gap (scope, day, prev_day, month_day, n) VALUES "
PER_STATEMENT = 500


def _insert(cursor: Any, head: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Write ``rows`` with ``head`` (INSERT ... VALUES), up to 500 rows a statement (about
    half the time of one statement a row at a million rows)."""
    if not rows:
        return
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    full = head + ", ".join([one] * PER_STATEMENT)
    for start in range(0, len(rows), PER_STATEMENT):
        chunk = rows[start : start + PER_STATEMENT]
        sql = full if len(chunk) == PER_STATEMENT else head + ", ".join([one] * len(chunk))
        cursor.execute(sql, list(chain.from_iterable(chunk)))


def fill(connection: sa.Connection, pg: bool) -> None:
    """Back-fill every roll-up (emptied first) on ``connection``, in its transaction: the
    :func:`backfill` statements, but on SQLite insight_visit, insight_gap and insight_rhythm
    from one read of the completed bookings in the (customer, start) index's order, each
    customer's visit days and gaps worked out as the statements do (the same rows: a test
    compares them), written in key order."""
    for statement in backfill(pg, with_visits=pg):
        connection.exec_driver_sql(statement)
    if pg:
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    read, write = raw.cursor(), raw.cursor()
    read.arraysize = BATCH
    read.execute(
        "SELECT customer_id, branch_id, substr(start_at, 1, 10) FROM booking "
        f"WHERE status = {DONE} ORDER BY customer_id, start_at, id"
    )
    days: dict[str, tuple[int, int]] = {}
    gap_counts: Counter[tuple[int, int, int, int]] = Counter()
    rhythm: list[tuple[int, int, float | None]] = []
    out: list[tuple[int, int, int, int, int]] = []
    customer, last = -1, -1
    gaps: list[int] = []
    scopes: dict[int, list[tuple[int, int, int, int, int]]] = {}

    def flush() -> None:
        # The customer's rows in key order: any branch (scope 0) first, then each branch.
        rhythm.append((customer, last, _median_of(gaps)))
        for scope in sorted(scopes):
            out.extend(scopes[scope])
        if len(out) >= BATCH:
            _insert(write, VISIT_INSERT, out)
            _insert(write, RHYTHM_INSERT, rhythm)
            out.clear()
            rhythm.clear()

    while chunk := read.fetchmany():
        for cid, branch, key in chunk:
            known = days.get(key)
            if known is None:
                d = date.fromisoformat(key)
                known = days[key] = ((d - EPOCH).days, (d.replace(day=1) - EPOCH).days)
            day, month = known
            if cid != customer:
                if customer != -1:
                    flush()
                customer, last, gaps, scopes = cid, -1, [], {0: []}
            else:
                gaps.append(day - last)
            if day != last:
                scopes[0].append((cid, 0, day, month, last))
                gap_counts[(0, day, last, month)] += 1
            own = scopes.get(branch)
            if own is None:
                own = scopes[branch] = []
            before = own[-1][2] if own else -1
            if day != before:
                own.append((cid, branch, day, month, before))
                gap_counts[(branch, day, before, month)] += 1
            last = day
    if customer != -1:
        flush()
    _insert(write, VISIT_INSERT, out)
    _insert(write, RHYTHM_INSERT, rhythm)
    _insert(write, GAP_INSERT, [(*key, n) for key, n in sorted(gap_counts.items())])


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "insight_day",
        sa.Column("month_day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("branch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month_day", "service_id", "day", "branch_id", "status"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "insight_money",
        sa.Column("branch_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month_day", sa.Integer(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "branch_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "insight_visit",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month_day", sa.Integer(), nullable=False),
        sa.Column("prev_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "scope", "day"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "insight_gap",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prev_day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month_day", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "day", "prev_day"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "insight_payer",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "customer_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "insight_rhythm",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("median_gap", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id"),
        sqlite_with_rowid=False,
    )
    fill(op.get_bind(), pg)
    op.create_index("ix_insight_payer_paid", "insight_payer", ["scope", "paid_cents"])
    op.create_index("ix_payment_at", "payment", ["at", "order_id", "amount_cents"])
    op.create_index("ix_refund_at", "refund", ["at", "order_id", "amount_cents"])
    op.create_index("ix_insight_rhythm_last", "insight_rhythm", ["last_day"])
    for statement in _pg_triggers() if pg else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        for table in ("booking", "orders", "payment", "refund"):
            op.execute(f"DROP TRIGGER IF EXISTS insight_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS insight_{table}()")
        op.execute("DROP FUNCTION IF EXISTS insight_recount(integer)")
    else:
        names = [s.split()[2] for s in _sqlite_triggers()]
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_insight_payer_paid", table_name="insight_payer")
    op.drop_index("ix_payment_at", table_name="payment")
    op.drop_index("ix_refund_at", table_name="refund")
    op.drop_index("ix_insight_rhythm_last", table_name="insight_rhythm")
    for table in reversed(TABLES):
        op.drop_table(table)
