"""Shared fixtures: every test runs away from the user's real data directory."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from frontdesk.data.db import open_database

PG_ADMIN_URL = os.environ.get(
    "FRONTDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_pg_state: dict[str, object] = {}


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FRONTDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FRONTDESK_DB", str(tmp_path / "data" / "frontdesk.db"))
    monkeypatch.delenv("FRONTDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("FRONTDESK_STAFF", raising=False)


def postgres_available() -> bool:
    if "ok" not in _pg_state:
        try:
            import psycopg  # noqa: F401

            eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["ok"] = True
        except Exception:
            _pg_state["ok"] = False
    return bool(_pg_state["ok"])


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_template() -> str:
    """A migrated database used as the template of each test's database (made once)."""
    if "template" not in _pg_state:
        name = f"fd_tpl_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = open_database(_pg_url(name))
        engine.dispose()
        admin.dispose()
        _pg_state["template"] = name
    return str(_pg_state["template"])


def new_pg_database() -> tuple[str, str]:
    template = _pg_template()
    name = f"fd_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return name, _pg_url(name)


def drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    template = _pg_state.get("template")
    if template:
        try:
            drop_pg_database(str(template))
        except Exception:
            pass


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on SQLite, and again on PostgreSQL when a server is reachable."""
    if request.param == "sqlite":
        engine = open_database(tmp_path / "any.db")
        yield engine
        engine.dispose()
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable")
    name, url = new_pg_database()
    engine = open_database(url)
    yield engine
    engine.dispose()
    drop_pg_database(name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database migrated to head."""
    eng = open_database(tmp_path / "test.db")
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def any_session(any_engine: Engine) -> Iterator[Session]:
    with Session(any_engine) as s:
        yield s
