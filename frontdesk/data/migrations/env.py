"""Alembic environment. Frontdesk runs migrations itself (frontdesk.data.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import frontdesk.data.models  # noqa: F401  (registers the tables)
from frontdesk.data.db import include_object

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from frontdesk.data.db import create_bare_engine

        engine = create_bare_engine(context.config.get_main_option("sqlalchemy.url") or None)
        with engine.begin() as conn:
            _configure_and_run(conn)
        return
    _configure_and_run(connection)


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        transaction_per_migration=False,
    )
    context.run_migrations()


run()
