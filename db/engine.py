"""One DATABASE_URL for the app, Alembic and the tests; SQLite by default, PostgreSQL through psycopg 3."""

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = ROOT / "data" / "app.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url() -> str:
    """The configured database URL, or the embedded SQLite file under data/."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    """True for the embedded SQLite database."""
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    # Python 3.11's sqlite3 opens transactions on its own; take that over (SQLAlchemy's pysqlite recipe)
    # so that SAVEPOINT works and write transactions can start with BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred read transaction that later writes can fail at once with "database is locked";
        # writers take the lock up front and wait for it under busy_timeout instead.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for the URL with the pragmas and options this app relies on."""
    url = normalise_url(url or database_url())
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


@functools.cache
def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for a URL (the configured one by default)."""
    return make_engine(url or database_url())


@contextmanager
def transaction(*, write: bool = False, engine: Engine | None = None) -> Iterator[Session]:
    """A session inside one transaction, committed on success and rolled back on error."""
    bind = engine or get_engine()
    if write:
        bind = bind.execution_options(sqlite_immediate=True)
    with Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session
