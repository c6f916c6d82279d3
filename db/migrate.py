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
    bind = engine or get_engine()
    _run(bind, lambda cfg: command.upgrade(cfg, "head"))
    _fill_rollups(bind)


def _fill_rollups(engine: Engine) -> None:
    """A database that reached the roll-ups' migration with records in it gets its roll-ups counted once;
    from then on every write keeps them (db.services.rollups)."""
    from db.engine import transaction
    from db.services import rollups

    with transaction(engine=engine) as session:
        if not rollups.needs_rebuild(session=session):
            return
    with transaction(write=True, engine=engine) as session:
        if not is_sqlite(engine):  # replicas starting together: one counts, the others then find it done
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        if rollups.needs_rebuild(session=session):
            rollups.rebuild(session=session)


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
