"""The live customers' tally (SQLite, migration 0013): the directory's count of every
customer reads one row that triggers keep, and that row is always the number of live
customers, whatever changed them: a new customer, a delete and a restore, a merge, an
erasure, a row deleted for good, an import, the demo's bulk load, an upgrade."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, event, text
from sqlmodel import Session

from frontdesk.data import customers as svc
from frontdesk.data import db
from frontdesk.data.demo import generate
from frontdesk.data.directory import count_directory
from frontdesk.data.importing import ImportOptions, run_import
from frontdesk.data.merge import merge_customers
from frontdesk.data.privacy import erase_customer
from tests.actors import ADMIN


def live(engine: Engine) -> int:
    """Counted from the rows (what the tally must say)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM customer "
                    "WHERE deleted_at IS NULL AND merged_into_id IS NULL"
                )
            ).scalar_one()
        )


def tally(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT live FROM customer_tally")).scalar_one())


def counted(engine: Engine) -> int:
    """What the directory says with no search and no filter."""
    with Session(engine) as s:
        return count_directory(session=s, actor=ADMIN)


def agree(engine: Engine, expected: int) -> None:
    assert (live(engine), tally(engine), counted(engine)) == (expected, expected, expected)


def add(engine: Engine, first: str, phone: str) -> int:
    with Session(engine) as s:
        c = svc.create_customer(
            session=s, data=svc.CustomerCreate(first_name=first, phone=phone), actor=ADMIN
        )
        s.commit()
        return c.id or 0


def test_every_change_of_a_live_customer_moves_the_tally(engine: Engine, tmp_path: Path) -> None:
    agree(engine, 0)
    ids = [add(engine, f"Ann{i}", f"+3161234{i:04d}") for i in range(5)]
    agree(engine, 5)
    with Session(engine) as s:
        svc.delete_customer(session=s, customer_id=ids[0], actor=ADMIN)
        svc.delete_customer(session=s, customer_id=ids[0], actor=ADMIN)  # already deleted
        s.commit()
    agree(engine, 4)
    with Session(engine) as s:
        svc.restore_customer(session=s, customer_id=ids[0], actor=ADMIN)
        s.commit()
    agree(engine, 5)
    with Session(engine) as s:
        merge_customers(session=s, survivor_id=ids[1], other_ids=[ids[2], ids[3]], actor=ADMIN)
        s.commit()
    agree(engine, 3)
    with Session(engine) as s:
        code = s.get(svc.Customer, ids[4]).code  # type: ignore[union-attr]
    erase_customer(engine=engine, code=code, actor=ADMIN, data_dir=tmp_path)
    agree(engine, 2)
    # A row deleted for good (its history first), and one that was not live.
    raw = sqlite3.connect(engine.url.database or "")
    with raw:
        for table in ("audit_event", "consent_change", "contact_point"):
            raw.execute(f"DELETE FROM {table} WHERE customer_id IN (?, ?)", (ids[0], ids[2]))
        raw.execute("UPDATE customer SET merged_into_id = NULL WHERE id = ?", (ids[2],))
        raw.execute("UPDATE customer SET deleted_at = '2026-01-01' WHERE id = ?", (ids[2],))
        raw.execute("DELETE FROM customer WHERE id IN (?, ?)", (ids[0], ids[2]))
    raw.close()
    agree(engine, 1)
    with engine.begin() as conn:  # a change of something else leaves it as it is
        conn.execute(text("UPDATE customer SET city = 'Leiden' WHERE id = :a"), {"a": ids[1]})
    agree(engine, 1)


def test_an_import_and_the_demo_load_keep_it(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["First Name", "Mobile"])
        for i in range(120):
            w.writerow([f"Name{i}", f"+1 415 200 {i:04d}"])
    run_import(engine=engine, path=path, options=ImportOptions(), actor=ADMIN)
    agree(engine, 120)
    with Session(engine) as s:
        svc.delete_customer(session=s, customer_id=1, actor=ADMIN)
        s.commit()
    agree(engine, 119)
    # The demo's load drops the tally's trigger while it writes, and counts once at the end
    # (its planted duplicates included, the customers there before too, the deleted one not).
    generate(engine=engine, customers=1200, seed=3)
    expected = live(engine)
    assert expected > 1200 + 119
    agree(engine, expected)
    with engine.connect() as conn:
        triggers = conn.execute(
            text("SELECT name FROM sqlite_master WHERE name LIKE 'customer_tally_%'")
        ).scalars()
        assert sorted(triggers) == ["customer_tally_ad", "customer_tally_ai", "customer_tally_au"]


def test_the_directory_count_reads_one_row(engine: Engine) -> None:
    """The count of every customer is one read of the tally, not a count of the live
    customers' index (120 ms at a million)."""
    for i in range(3):
        add(engine, f"Bo{i}", f"+3161235{i:04d}")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert counted(engine) == 3
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    counts = [s for s in statements if "count(" in s.lower() or "customer_tally" in s]
    assert counts == ["SELECT live FROM customer_tally WHERE id = 1"]


def test_an_upgraded_database_starts_with_the_right_number(tmp_path: Path) -> None:
    """A database of the release before (0012) with customers, one deleted, upgrades to a
    tally that counts them."""
    bare = db.create_bare_engine(tmp_path / "old.db")
    db.migrate(bare, "0012")
    with bare.begin() as conn:
        for i, deleted in enumerate((None, None, "2026-01-02 00:00:00")):
            conn.execute(
                text(
                    "INSERT INTO customer (code, first_name, gender, status, blocked, "
                    "consent_reminders, consent_birthday, consent_marketing, "
                    "consent_newsletter, created_at, created_via, updated_at, version, "
                    "sort_key, name_key, search_text, phone, deleted_at) VALUES (:code, 'Old', "
                    "'unspecified', 'active', 0, 1, 0, 0, 0, '2026-01-01 00:00:00', 'manual', "
                    "'2026-01-01 00:00:00', 1, 'old', 'old', 'old', :phone, :deleted)"
                ),
                {"code": f"C-90000{i + 1}", "phone": f"+3161237000{i}", "deleted": deleted},
            )
        assert not conn.execute(
            text("SELECT name FROM sqlite_master WHERE name = 'customer_tally'")
        ).all()
    bare.dispose()
    engine = db.open_database(tmp_path / "old.db")
    agree(engine, 2)
    add(engine, "New", "+31612370009")
    agree(engine, 3)
    engine.dispose()


def test_check_says_when_the_number_is_wrong_and_repair_counts_again(
    engine: Engine, tmp_path: Path
) -> None:
    """A number changed by hand, or a trigger gone: `frontdesk check` says so and names the
    remedy; `check --repair` (admins) counts again and puts the triggers back."""
    from click.testing import CliRunner

    from frontdesk.cli import main
    from frontdesk.data.check import repair, run_checks
    from frontdesk.data.roles import NotAllowed
    from frontdesk.data.staff import create_staff

    add(engine, "Di", "+31612380001")
    assert "the number of live customers is kept right (1)" in run_checks(engine).passed
    with engine.begin() as conn:
        conn.execute(text("UPDATE customer_tally SET live = 7"))
        conn.execute(text("DROP TRIGGER customer_tally_ai"))
    assert run_checks(engine).failed == [
        "the number of live customers is 7, not kept up, the rows say 1: "
        "frontdesk check --repair counts it again"
    ]
    with Session(engine, expire_on_commit=False) as s:
        rita = create_staff(session=s, name="Rita", role="reception", actor=ADMIN)
        create_staff(session=s, name="Alex", role="admin", username="alex", actor=ADMIN)
        s.commit()
    try:
        repair(engine, rita)
        raise AssertionError("reception repaired")
    except NotAllowed:
        pass
    db_path = engine.url.database or ""
    engine.dispose()
    done = CliRunner().invoke(main, ["--db", db_path, "--staff", "alex", "check", "--repair"])
    assert done.exit_code == 0, done.output
    assert "the number of live customers is kept right (1)" in done.output
    again = db.open_database(db_path)
    add(again, "Ed", "+31612380002")  # counted by the trigger put back
    agree(again, 2)
    again.dispose()
