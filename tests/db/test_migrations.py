"""The schema comes only from migrations: they agree with the models and go up and down cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from db.base import Base
from db.migrate import upgrade_to_head


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_from_empty_creates_every_table_and_can_run_twice(fresh_engine):
    upgrade_to_head(fresh_engine)
    upgrade_to_head(fresh_engine)  # a restart finds nothing to do
    tables = set(inspect(fresh_engine).get_table_names())
    assert {"organisations", "users", "audit_entries", "settings", "alembic_version"} <= tables


def test_downgrade_to_base_and_back(fresh_engine):
    from alembic import command

    from db.migrate import alembic_config

    upgrade_to_head(fresh_engine)
    cfg = alembic_config()
    with fresh_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "users" not in inspect(fresh_engine).get_table_names()
    upgrade_to_head(fresh_engine)
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_replicas_starting_together_on_postgresql_migrate_once_without_error():
    import threading

    from db.engine import make_engine
    from tests.conftest import create_pg_database, drop_pg_database

    url = create_pg_database()
    engines = [make_engine(url) for _ in range(3)]
    errors: list[BaseException] = []

    def start(engine):
        try:
            upgrade_to_head(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        with engines[0].connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        for engine in engines:
            engine.dispose()
        drop_pg_database(url)


def test_every_check_constraint_of_the_models_exists_in_the_migrated_database(engine):
    """Autogenerate does not compare CHECK constraints, so compare their names here."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert declared <= present, f"{table.name}: missing {sorted(declared - present)}"
