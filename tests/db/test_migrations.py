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


def test_migration_0003_steps_back_to_0002_and_forward_again_with_units_users_and_terms_kept(fresh_engine):
    from datetime import date, timedelta

    from sqlalchemy.orm import Session

    from db.migrate import downgrade_to
    from db.services import council, organisations
    from domain.roles import Actor, Role
    from tests.conftest import org_input

    upgrade_to_head(fresh_engine)
    admin = Actor(user_id=None, username="migration-test", role=Role.ADMIN)
    with Session(fresh_engine) as session, session.begin():
        unit = organisations.create_organisation(session=session, actor=admin, today=date(2026, 11, 28),
                                                 data=org_input("重庆市环保志愿者协会"))  # fmt: skip
        first = council.create_session(session=session, actor=admin, starts_on=date.today() - timedelta(days=5))
        council.seat_term(session=session, actor=admin, session_id=first, seat=1, organisation_id=unit,
                          source="invited")  # fmt: skip
    downgrade_to("0002", fresh_engine)
    assert "applications" not in inspect(fresh_engine).get_table_names()
    upgrade_to_head(fresh_engine)
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT name, sort_key FROM organisations")).one() == (
            "重庆市环保志愿者协会",
            "chong2 qing4 shi4 huan2 bao3 zhi4 yuan4 zhe3 xie2 hui4",
        )
        assert conn.execute(text("SELECT count(*) FROM council_terms")).scalar() == 1
