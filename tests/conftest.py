"""Shared fixtures: one database per backend per test run, each test in a rolled-back transaction."""

import os
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.services import organisations, users
from domain.organisations import OrganisationInput
from domain.roles import ANONYMOUS, Actor, Role

os.environ.setdefault("BCRYPT_ROUNDS", "4")
PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
IN_CI = os.environ.get("CI") == "true"
BACKENDS = ("sqlite", "postgresql")


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """Skip without PostgreSQL on a laptop; under CI=true a missing server fails the run."""
    if pg_available():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true and is not reachable at {PG_ADMIN_DSN!r}")
    pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN!r}")


def create_pg_database() -> str:
    """A new empty PostgreSQL database; returns its SQLAlchemy URL."""
    require_postgres()
    name = f"evsn_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    user, host, port = params.get("user", "postgres"), params.get("host", "127.0.0.1"), params.get("port", 5432)
    return f"postgresql+psycopg://{user}@{host}:{port}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_database_url(backend: str, tmp_dir) -> str:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'{uuid.uuid4().hex[:8]}.sqlite'}"
    return create_pg_database()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database migrated to head once per backend per run."""
    url = new_database_url(backend, tmp_path_factory.mktemp(backend))
    eng = make_engine(url)
    upgrade_to_head(eng)
    yield eng
    eng.dispose()
    if backend == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def fresh_engine(backend: str, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An empty database of the backend, not migrated (for migration tests)."""
    url = new_database_url(backend, tmp_path)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    if backend == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change is rolled back after the test (services' savepoints still work)."""
    with engine.connect() as conn:
        outer = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            outer.rollback()


TODAY = date(2026, 11, 28)


def org_input(name: str = "杭州市环保志愿者协会", **overrides: object) -> OrganisationInput:
    """A valid organisation as typed by the secretariat; override fields to make it bad."""
    values: dict[str, object] = {
        "name": name,
        "kind": "social",
        "province": "浙江",
        "city": "杭州",
        "credit_code": "91110000802100433B",
        "contact_person": "王芳",
        "phone": "13800138000",
        "email": "contact@example.org",
    }
    values.update(overrides)
    return OrganisationInput(**values)  # type: ignore[arg-type]


@pytest.fixture
def admin(session: Session) -> Actor:
    """The first administrator, created the way the first-run page does it."""
    token = users.issue_setup_token(session=session)
    assert token
    user_id = users.create_first_admin(
        session=session,
        actor=ANONYMOUS,
        token=token,
        username="root",
        display_name="管理员",
        password="first admin pass",
        password_repeat="first admin pass",
    )
    return Actor(user_id=user_id, username="root", role=Role.ADMIN)


@pytest.fixture
def make_actor(session: Session, admin: Actor):  # type: ignore[no-untyped-def]
    """Create a user of a role (council users get a unit) and return them as an Actor."""
    counter = iter(range(1, 1000))

    def make(role: Role) -> Actor:
        n = next(counter)
        org_id = None
        if role is Role.COUNCIL:
            org_id = organisations.create_organisation(
                session=session,
                actor=admin,
                today=TODAY,
                data=org_input(f"理事单位{n}", kind="volunteer_team", credit_code=""),
            )
        username = f"{role.value}{n}"
        user_id = users.create_user(
            session=session,
            actor=admin,
            username=username,
            display_name=f"用户{n}",
            password="password 123",
            role=role,
            organisation_id=org_id,
        )
        return Actor(user_id=user_id, username=username, role=role, organisation_id=org_id)

    return make


def attempt_login(session: Session, username: str, password: str, *, now=None, policy=None):  # type: ignore[no-untyped-def]
    """A login attempt through the service the login form calls."""
    from datetime import UTC, datetime

    from domain.auth_policy import LoginPolicy

    return users.login_attempt(
        session=session,
        actor=ANONYMOUS,
        username=username,
        password=password,
        policy=policy or LoginPolicy(),
        now=now or datetime.now(UTC),
    )
