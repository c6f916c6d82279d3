"""Clerks racing to enter a unit's nominations: the round's row lock (PostgreSQL) and BEGIN IMMEDIATE (SQLite)
keep the limit per unit and category, and no "database is locked" reaches anyone. Two users of one council unit
scoring the same nomination at once: one score is kept, the other told to reload."""

import threading
import time as clock
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from db.engine import make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import council, organisations, users
from db.services import selections as svc
from domain.errors import DomainError, StaleRecord, ValidationError
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import CategoryInput, NominationInput, RoundInput
from tests.conftest import TODAY, create_pg_database, drop_pg_database, org_input

# Between counting a unit's nominations and writing one, each racer waits this long: without the lock every
# racer would count the same free places and all would be stored.
WINDOW = 0.05


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    url = create_pg_database()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_pg_database(url)


def prepare(engine: Engine, *, limit: int) -> tuple[Actor, int, int, int]:
    """An administrator, a member unit, a round allowing `limit` nominees per unit and category; returns the
    administrator, the round, its first category and the unit."""
    upgrade_to_head(engine)
    with transaction(write=True, engine=engine) as session:
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
        admin = Actor(user_id=user_id, username="root", role=Role.ADMIN)
        unit = organisations.create_organisation(
            session=session, actor=admin, today=TODAY, data=org_input("推荐单位", kind="volunteer_team", credit_code="")
        )
        round_id = svc.create_round(
            session=session,
            actor=admin,
            today=TODAY,
            data=RoundInput(
                name="并发推选",
                year=TODAY.year,
                nomination_deadline=TODAY + timedelta(days=10),
                review_deadline=TODAY + timedelta(days=20),
                categories=(CategoryInput("优秀项目", "project", 3),),
                max_per_unit=limit,
            ),
        )
        category = svc.get_round(session=session, actor=admin, round_id=round_id, today=TODAY).categories[0].id
    return admin, round_id, category, unit


@pytest.fixture
def slow_check(monkeypatch) -> None:
    original: Callable[..., str] = svc._check_nomination

    def checked_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        kind = original(*args, **kwargs)
        clock.sleep(WINDOW)
        return kind

    monkeypatch.setattr(svc, "_check_nomination", checked_then_wait)


def race(engines: list[Engine], calls: list[Callable[[object], object]]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(engine: Engine, call: Callable[[object], object]) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction(write=True, engine=engine) as session:
                result = call(session)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(engines[n % len(engines)], c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def nominate(admin: Actor, round_id: int, category: int, unit: int, n: int) -> Callable[[object], object]:
    return lambda session: svc.add_nomination(
        session=session,
        actor=admin,
        round_id=round_id,
        today=TODAY,
        data=NominationInput(category, unit, f"项目{n}", "理由"),
    )


def stored_nominations(engine: Engine, round_id: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM nominations WHERE round_id = :r"), {"r": round_id}).scalar())


def check_limit(results: list[object], errors: list[BaseException], limit: int, racers: int) -> None:
    assert len(results) == limit
    assert len(errors) == racers - limit
    assert all(isinstance(e, ValidationError) and e.key == "validation.nomination_limit" for e in errors), errors


def test_eight_clerks_on_postgresql_never_exceed_the_limit_per_unit(pg_engine, slow_check):
    admin, round_id, category, unit = prepare(pg_engine, limit=2)
    results, errors = race([pg_engine], [nominate(admin, round_id, category, unit, n) for n in range(8)])
    check_limit(results, errors, 2, 8)
    assert stored_nominations(pg_engine, round_id) == 2


def test_eight_clerks_on_sqlite_see_no_database_is_locked_and_the_limit_holds(tmp_path, slow_check):
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    setup = make_engine(url)
    admin, round_id, category, unit = prepare(setup, limit=2)
    setup.dispose()
    engines = [make_engine(url) for _ in range(8)]
    try:
        results, errors = race(engines, [nominate(admin, round_id, category, unit, n) for n in range(8)])
        check_limit(results, errors, 2, 8)
        assert stored_nominations(engines[0], round_id) == 2
    finally:
        for engine in engines:
            engine.dispose()


def test_two_users_of_one_council_unit_scoring_at_once_keep_one_score(pg_engine):
    admin, round_id, category, unit = prepare(pg_engine, limit=1)
    with transaction(write=True, engine=pg_engine) as session:
        seated = organisations.create_organisation(
            session=session, actor=admin, today=TODAY, data=org_input("理事单位", kind="volunteer_team", credit_code="")
        )
        session_id = council.create_session(session=session, actor=admin, starts_on=TODAY - timedelta(days=30))
        council.seat_term(
            session=session, actor=admin, session_id=session_id, seat=1, organisation_id=seated, source="invited"
        )
        reviewers = [
            users.create_user(
                session=session,
                actor=admin,
                username=f"reviewer{n}",
                display_name=f"理事{n}",
                password="a long pass phrase 1",
                role=Role.COUNCIL,
                organisation_id=seated,
                temporary_password=False,
            )
            for n in (1, 2)
        ]
        nomination = svc.add_nomination(
            session=session,
            actor=admin,
            round_id=round_id,
            today=TODAY,
            data=NominationInput(category, unit, "项目", "理由"),
        )
        svc.end_call(session=session, actor=admin, round_id=round_id, expected_version=1, today=TODAY)
    actors = [Actor(user_id=u, username=f"reviewer{n}", role=Role.COUNCIL, organisation_id=seated)
              for n, u in enumerate(reviewers, 1)]  # fmt: skip

    def score(actor: Actor, value: int) -> Callable[[object], object]:
        return lambda session: svc.score_nomination(
            session=session,
            actor=actor,
            nomination_id=nomination,
            score=value,
            recused=False,
            comment="",
            expected_version=0,
            today=TODAY,
        )

    results, errors = race([pg_engine], [score(actors[0], 7), score(actors[1], 9)])
    assert results == [1]
    assert len(errors) == 1 and isinstance(errors[0], StaleRecord)
    assert isinstance(errors[0], DomainError)
    with pg_engine.connect() as conn:
        kept = conn.execute(
            text("SELECT score FROM nomination_scores WHERE nomination_id = :n"), {"n": nomination}
        ).all()
    assert len(kept) == 1 and kept[0].score in {7, 9}
