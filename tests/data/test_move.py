"""`frontdesk migrate-db`: a whole business moves from SQLite to an empty PostgreSQL database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from frontdesk.cli import main
from frontdesk.data import customers as svc
from frontdesk.data import insights, move
from frontdesk.data.check import run_checks
from frontdesk.data.db import open_database
from frontdesk.data.demo import generate
from frontdesk.data.models import Customer, Staff
from tests.conftest import drop_pg_database, new_pg_database, postgres_available

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A demo business, with a merge whose tombstone points at a later row (copied last)."""
    path = tmp_path / "shop.db"
    engine = open_database(path)
    generate(engine=engine, customers=400, seed=3, now=NOW)
    with Session(engine) as s:
        first, last = s.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
        s.execute(
            text("UPDATE customer SET merged_into_id = :last WHERE id = :first"),
            {"first": first, "last": last},
        )
        s.commit()
    engine.dispose()
    return path


@pytest.fixture
def target() -> Iterator[str]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable")
    name, url = new_pg_database()
    yield url
    drop_pg_database(name)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in move.tables()
        }


def test_a_business_moves_whole_and_works_there(source: Path, target: str) -> None:
    code, out, err = run(
        "--staff", "admin", "migrate-db", "--from", str(source), "--to", target, "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    src, dst = open_database(source), open_database(target)
    try:
        assert counts(src) == counts(dst)
        assert {t["table"]: t["rows"] for t in report["tables"]} == counts(src)
        with src.connect() as a, dst.connect() as b:
            for table in move.tables():
                assert move.table_checksum(a, table) == move.table_checksum(b, table), table.name
        assert run_checks(dst).ok
        # Search gives the same customers on the server.
        with Session(src) as a, Session(dst) as b:
            for term in ("an", "smith", "+1", "example.com", "C-0001"):
                left = [c.code for c in svc.search(session=a, text=term, limit=30)]
                right = [c.code for c in svc.search(session=b, text=term, limit=30)]
                assert left == right, term
            # The server goes on numbering after the copied rows.
            admin = b.scalars(select(Staff).where(col(Staff.username) == "admin")).one()
            top = b.scalar(select(func.max(Customer.id))) or 0
            added = svc.create_customer(
                session=b,
                data=svc.CustomerCreate(first_name="After", last_name="Move", email="a@m.example"),
                actor=admin,
            )
            b.commit()
            assert added.id == top + 1
            # The insight roll-ups came over as they were and their triggers are on again.
            assert (
                b.scalars(
                    text(
                        "SELECT tgenabled FROM pg_trigger WHERE tgname IN ('insight_booking', "
                        "'insight_orders', 'insight_payment', 'insight_refund')"
                    )
                ).all()
                == ["O"] * 4
            )
            now = datetime.now(UTC)
            assert insights.business_overview(
                session=a, actor=admin, now=now
            ) == insights.business_overview(session=b, actor=admin, now=now)
    finally:
        src.dispose()
        dst.dispose()


def test_a_target_with_data_is_refused_and_left_alone(source: Path, target: str) -> None:
    assert run("--staff", "admin", "migrate-db", "--from", str(source), "--to", target)[0] == 0
    engine = open_database(target)
    before = counts(engine)
    code, _, err = run("--staff", "admin", "migrate-db", "--from", str(source), "--to", target)
    assert code == 1 and "not empty" in err and "Traceback" not in err
    assert counts(engine) == before
    engine.dispose()


def test_only_an_admin_moves_the_business(source: Path, target: str) -> None:
    code, _, err = run("--staff", "rita", "migrate-db", "--from", str(source), "--to", target)
    assert code == 1 and "may not move the business" in err
    engine = open_database(target)
    assert counts(engine)["customer"] == 0
    engine.dispose()


def test_a_copy_that_does_not_verify_keeps_nothing(
    source: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = move.table_checksum

    def off_by_one(conn, table):  # type: ignore[no-untyped-def]
        rows, digest = real(conn, table)
        if table.name == "booking" and conn.dialect.name == "postgresql":
            return rows, "0" + digest[1:]
        return rows, digest

    monkeypatch.setattr(move, "table_checksum", off_by_one)
    src, dst = open_database(source), open_database(target)
    with pytest.raises(move.MoveFailed, match="booking did not copy exactly"):
        move.move_database(src, dst)
    empty = counts(dst)
    assert empty["customer"] == empty["booking"] == empty["staff"] == 0
    assert empty["category"] == 3  # the fresh database's own rows are back as they were
    src.dispose()
    dst.dispose()
