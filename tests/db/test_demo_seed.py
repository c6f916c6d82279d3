"""The demo seeder writes through the services, leaves audit entries, and never touches a real database."""

from sqlalchemy import func, select, text

from db.migrate import upgrade_to_head
from db.models import AuditEntry, Organisation, User
from db.services.settings import is_demo_database
from scripts.seed_demo import DEMO_PASSWORD, database_state, seed
from tests.conftest import attempt_login as login


def test_the_demo_database_has_the_secretariat_units_applications_and_accounts(fresh_engine):
    upgrade_to_head(fresh_engine)
    seed(engine=fresh_engine)
    with fresh_engine.connect() as conn:
        orgs = conn.execute(text_count("organisations")).scalar()
        secretariat = conn.execute(select(Organisation.name).where(Organisation.is_secretariat.is_(True))).scalar_one()
        provinces = conn.execute(select(func.count(func.distinct(Organisation.province)))).scalar()
        kinds = conn.execute(select(func.count(func.distinct(Organisation.kind)))).scalar()
        roles = dict(conn.execute(select(User.username, User.role)).all())
        council_unit = conn.execute(select(User.organisation_id).where(User.username == "demo_council")).scalar()
        audit_creates = conn.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(["organisation.create", "user.create"]))
        ).scalar()
    with fresh_engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM applications GROUP BY status")).all())
        channels = dict(conn.execute(text("SELECT channel, count(*) FROM applications GROUP BY channel")).all())
        opinions = conn.execute(text_count("council_opinions")).scalar()
        admitted = conn.execute(text("SELECT count(*) FROM applications WHERE status = 'approved'")).scalar()
        created_units = conn.execute(
            text("SELECT count(*) FROM audit_entries WHERE action = 'organisation.create'")
        ).scalar()
    # 80 founding units plus the secretariat, and a few hundred in all once the approved applications joined.
    assert created_units == 81 and orgs == 81 + admitted and orgs >= 200 and secretariat == "生态环境部宣传教育中心"
    assert provinces >= 20 and kinds >= 6
    assert set(statuses) == {"submitted", "in_review", "needs_more", "approved", "rejected", "withdrawn"}
    assert set(channels) == {"self_applied", "invited", "recommended"} and opinions > 100
    assert {k: v for k, v in roles.items() if not k.startswith("demo_council_")} == {
        "demo_admin": "admin",
        "demo_secretariat": "secretariat",
        "demo_council": "council",
        "demo_viewer": "viewer",
    }
    assert {v for k, v in roles.items() if k.startswith("demo_council_")} == {"council"}
    assert council_unit is not None
    assert audit_creates == created_units + len(roles)
    from sqlalchemy.orm import Session

    with Session(fresh_engine) as session:
        assert is_demo_database(session=session)
        assert database_state(session) == "demo"
        assert login(session, "demo_viewer", DEMO_PASSWORD)


def test_a_database_with_records_is_recognised_and_left_alone(session, admin):
    assert database_state(session) == "records"
    assert not is_demo_database(session=session)


def text_count(table: str):
    from sqlalchemy import text

    return text(f"SELECT count(*) FROM {table}")


def test_make_demo_refuses_a_database_with_real_records_and_writes_nothing(tmp_path, monkeypatch):
    from db.engine import get_engine, make_engine, transaction
    from db.services import users as user_services
    from domain.roles import ANONYMOUS
    from scripts import seed_demo

    url = f"sqlite:///{tmp_path / 'real.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(write=True, engine=engine) as session:
        token = user_services.issue_setup_token(session=session)
        user_services.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="root",
                                         display_name="x", password="password 123",
                                         password_repeat="password 123")  # fmt: skip
    with engine.connect() as conn:
        before = conn.execute(text_count("audit_entries")).scalar()
    monkeypatch.setenv("DATABASE_URL", url)
    get_engine.cache_clear()
    try:
        assert seed_demo.main() == 1
    finally:
        get_engine.cache_clear()
    with engine.connect() as conn:
        assert conn.execute(text_count("organisations")).scalar() == 0
        assert conn.execute(text_count("audit_entries")).scalar() == before
    engine.dispose()
