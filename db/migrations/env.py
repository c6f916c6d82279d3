"""Alembic environment: uses the connection handed over by db.migrate, or DATABASE_URL from the CLI."""

from alembic import context
from sqlalchemy import Connection

import db.models  # noqa: F401  (registers the tables on the metadata)
from db.base import Base
from db.engine import get_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine().connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m db.migrate`")
run_migrations_online()
