from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

from frontdesk.data import db
from tests.conftest import PG_ADMIN_URL, _pg_url, drop_pg_database, postgres_available


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


def test_upgrade_from_the_previous_schema_keeps_data(tmp_path: Path) -> None:
    """A database made by the first release (revision 0001) upgrades in place."""
    engine = db.create_bare_engine(tmp_path / "old.db")
    db.migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (code, first_name, email, email_key, gender, status, blocked, "
                "consent_reminders, consent_birthday, consent_marketing, consent_newsletter, created_at, "
                "created_via, updated_at, version, sort_key, name_key, search_text) VALUES ('C-000001', 'Old', "
                "'old@example.com', 'old@example.com', 'unspecified', 'active', 0, 1, 0, 0, 0, "
                "'2026-01-01 00:00:00', 'manual', '2026-01-01 00:00:00', 1, 'old', 'old', 'old')"
            )
        )
    upgraded = db.open_database(tmp_path / "old.db")
    assert db.current_revision(upgraded) == db.HEAD_REVISION
    with upgraded.connect() as conn:
        assert conn.execute(text("SELECT first_name FROM customer")).scalar_one() == "Old"
        assert conn.execute(text("SELECT COUNT(*) FROM duplicate_ignore")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM merge_candidate")).scalar_one() == 0


def _colours_after_upgrade_from_0003(engine: Engine) -> dict[str, str]:
    """Migrate an empty database to 0003, store colours as that release could, upgrade."""
    db.migrate(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO category (name, symbol, colour, position) VALUES "
                "('Typed', 'T', 'Teal', 4), ('Junk', 'J', 'sparkly', 5)"
            )
        )
    db.migrate(engine)
    with engine.connect() as conn:
        return {
            str(r[0]): str(r[1]) for r in conn.execute(text("SELECT name, colour FROM category"))
        }


EXPECTED_COLOURS = {
    "VIP": "#ffd700",
    "Regular": "#008000",
    "New": "#00ffff",
    "Typed": "#008080",
    "Junk": "#808080",
}


def test_colour_names_become_hex_on_upgrade(tmp_path: Path) -> None:
    """0004: the seeded VIP "gold" (which the terminal renderer cannot draw) and every other
    stored colour become #rrggbb; what is not a colour becomes the neutral grey."""
    engine = db.create_bare_engine(tmp_path / "colours.db")
    assert _colours_after_upgrade_from_0003(engine) == EXPECTED_COLOURS
    engine.dispose()


@pytest.mark.postgres
def test_colour_names_become_hex_on_upgrade_on_postgresql() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable")
    name = f"fd_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = db.create_bare_engine(_pg_url(name))
    try:
        assert _colours_after_upgrade_from_0003(engine) == EXPECTED_COLOURS
    finally:
        engine.dispose()
        drop_pg_database(name)


def test_a_database_of_a_newer_version_is_left_as_it_is(tmp_path: Path) -> None:
    """A schema this version does not know (made by a newer Frontdesk) is refused with a
    sentence saying so, and nothing is changed in it."""
    engine = db.open_database(tmp_path / "newer.db")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(db.NewerDatabase, match=r"newer than this Frontdesk knows"):
        db.open_database(tmp_path / "newer.db", on_upgrade=lambda old, new: None)
    assert db.current_revision(db.create_bare_engine(tmp_path / "newer.db")) == "0099"
