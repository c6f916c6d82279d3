"""Upgrade a database to the newest migration (`python -m db.migrate`); the app calls it at start."""

import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from db.engine import ROOT, get_engine, is_sqlite

# Any constant will do: it only has to be the same in every replica.
ADVISORY_LOCK_KEY = 720_191_126


def alembic_config() -> Config:
    """The Alembic configuration of this repository, independent of the working directory."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(ROOT / "db" / "migrations")))
    return cfg


def upgrade_to_head(engine: Engine | None = None) -> None:
    """Apply all pending migrations; replicas starting together take turns (PostgreSQL advisory lock)."""
    _run(engine or get_engine(), lambda cfg: command.upgrade(cfg, "head"))


def downgrade_to(revision: str, engine: Engine | None = None) -> None:
    """Step the schema back to `revision` (an operator's way back after a bad release), keeping the data that
    the older schema can hold; the same precautions as upgrading."""
    _run(engine or get_engine(), lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    cfg = alembic_config()
    if is_sqlite(engine):
        with engine.execution_options(sqlite_immediate=True).connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            # Batch migrations recreate tables; with foreign keys on, that would cascade to child rows (or, for a
            # table others refer to, fail): off for the migration, then checked as a whole.
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    step(cfg)
                    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        return
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        cfg.attributes["connection"] = conn
        step(cfg)


def main() -> int:
    """Command-line entry: upgrade the configured database and say where it is."""
    engine = get_engine()
    upgrade_to_head(engine)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is at the newest migration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
