"""Integrity checks of a database: storage integrity plus Frontdesk's data invariants."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from frontdesk.data.models import Staff


@dataclass
class CheckReport:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


INVARIANTS: list[tuple[str, str]] = [
    (
        "enrolment balances equal the sum of their ledger",
        """SELECT e.id FROM loyalty_enrolment e
           LEFT JOIN (SELECT enrolment_id, SUM(points) AS total FROM points_entry GROUP BY enrolment_id) p
             ON p.enrolment_id = e.id
           WHERE e.balance <> COALESCE(p.total, 0)""",
    ),
    (
        "enrolment balances equal the last ledger total",
        """SELECT e.id FROM loyalty_enrolment e
           JOIN points_entry p ON p.id = (SELECT MAX(id) FROM points_entry WHERE enrolment_id = e.id)
           WHERE p.balance_after <> e.balance""",
    ),
    (
        "no live customers share a phone",
        """SELECT phone FROM customer WHERE deleted_at IS NULL AND merged_into_id IS NULL
           AND phone IS NOT NULL GROUP BY phone HAVING COUNT(*) > 1""",
    ),
    (
        "no live customers share an email",
        """SELECT email_key FROM customer WHERE deleted_at IS NULL AND merged_into_id IS NULL
           AND email_key IS NOT NULL GROUP BY email_key HAVING COUNT(*) > 1""",
    ),
    (
        "customer codes are unique",
        "SELECT code FROM customer GROUP BY code HAVING COUNT(*) > 1",
    ),
    (
        "merge tombstones point at existing customers",
        """SELECT c.id FROM customer c LEFT JOIN customer s ON s.id = c.merged_into_id
           WHERE c.merged_into_id IS NOT NULL AND s.id IS NULL""",
    ),
]


LIVE_COUNT = "SELECT count(*) FROM customer WHERE deleted_at IS NULL AND merged_into_id IS NULL"
TALLY_TRIGGER_NAMES = ("customer_tally_ad", "customer_tally_ai", "customer_tally_au")
TALLY_TRIGGERS = (
    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN "
    f"({', '.join(repr(n) for n in TALLY_TRIGGER_NAMES)})"
)


def repair(engine: Engine, actor: Staff | None) -> None:
    """Count the live customers again and put back what keeps the number (admins; SQLite):
    what ``frontdesk check`` names when it is wrong (a hand edit of the file, say)."""
    from frontdesk.data.db import TALLY_MIGRATION, migration_module
    from frontdesk.data.roles import require

    require(actor, "settings")
    if engine.dialect.name != "sqlite":
        return
    migration = migration_module(TALLY_MIGRATION)
    with engine.begin() as conn:
        present = set(conn.execute(text(TALLY_TRIGGERS)).scalars())
        conn.execute(text(migration.TABLE))
        conn.execute(text(migration.ROW))
        conn.execute(text(migration.RECOUNT))
        for name, statement in migration.TRIGGERS.items():
            if name not in present:
                conn.execute(text(statement))


def run_checks(engine: Engine) -> CheckReport:
    from frontdesk.data.db import read_engine

    report = CheckReport()
    with read_engine(engine).connect() as conn:
        if conn.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA integrity_check")).scalars().all()
            if result == ["ok"]:
                report.passed.append("SQLite integrity_check: ok")
            else:
                report.failed.append("SQLite integrity_check: " + "; ".join(map(str, result[:5])))
            try:
                conn.execute(
                    text(
                        "INSERT INTO customer_fts(customer_fts, rank) VALUES ('integrity-check', 1)"
                    )
                )
                report.passed.append("search index matches the customer table")
            except Exception as exc:
                report.failed.append(f"search index out of step: {exc}")
            kept = conn.execute(text("SELECT live FROM customer_tally WHERE id = 1")).scalar()
            live = conn.execute(text(LIVE_COUNT)).scalar_one()
            triggers = conn.execute(text(TALLY_TRIGGERS)).scalars().all()
            if kept == live and len(triggers) == len(TALLY_TRIGGER_NAMES):
                report.passed.append(f"the number of live customers is kept right ({live:,})")
            else:
                said = "missing" if kept is None else f"{int(kept):,}"
                keeping = "" if len(triggers) == len(TALLY_TRIGGER_NAMES) else ", not kept up"
                report.failed.append(
                    f"the number of live customers is {said}{keeping}, the rows say {live:,}: "
                    "frontdesk check --repair counts it again"
                )
            fk = conn.execute(text("PRAGMA foreign_key_check")).all()
            if fk:
                report.failed.append(f"foreign keys: {len(fk)} broken references")
            else:
                report.passed.append("foreign keys: ok")
        for label, sql in INVARIANTS:
            rows = conn.execute(text(sql)).all()
            if rows:
                sample = ", ".join(str(r[0]) for r in rows[:5])
                report.failed.append(f"{label}: {len(rows)} violations (e.g. {sample})")
            else:
                report.passed.append(label)
        conn.rollback()
    return report
