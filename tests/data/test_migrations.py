from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from frontdesk.data import db


def test_head_constant_matches_migrations() -> None:
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_current_head() == db.HEAD_REVISION


def test_empty_database_migrates_to_head_and_matches_models(any_engine: Engine) -> None:
    assert db.current_revision(any_engine) == db.HEAD_REVISION
    with any_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": db.include_object}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_open_database_is_idempotent(tmp_path: Path) -> None:
    first = db.open_database(tmp_path / "x.db")
    first.dispose()
    second = db.open_database(tmp_path / "x.db")
    with second.connect() as conn:
        programs = conn.execute(text("SELECT name, is_default FROM loyalty_program")).all()
    assert programs == [("Reward points", True)]


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    engine = db.open_database(tmp_path / "y.db")
    db.migrate(engine, "base")
    assert db.current_revision(engine) is None
    db.migrate(engine)
    assert db.current_revision(engine) == db.HEAD_REVISION
