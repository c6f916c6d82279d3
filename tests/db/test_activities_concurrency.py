"""Sign-ups racing for the last places: on PostgreSQL the activity's row lock queues them, on SQLite the write
transaction starts with BEGIN IMMEDIATE; either way nobody gets a place that is not there, nobody overtakes, and
no "database is locked" reaches the caller."""

import threading
import time as clock
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, text

from db.engine import make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import activities as svc
from db.services import organisations, users
from db.services.activities import ActivityInput
from domain.clock import SHANGHAI
from domain.roles import ANONYMOUS, Actor, Role
from tests.conftest import TODAY, create_pg_database, drop_pg_database, org_input

FUTURE = date(2030, 6, 3)
# Between counting the places taken and writing the sign-up, each racer waits this long: without the lock, every
# racer would count the same free places and all of them would be confirmed.
WINDOW = 0.05


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """An empty PostgreSQL database of its own (the row lock is PostgreSQL's: these races run there only)."""
    url = create_pg_database()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_pg_database(url)


def prepare(engine: Engine, *, units: int, capacity: int, taken: int) -> tuple[Actor, int, list[int]]:
    """A migrated database with an administrator, member units and an activity whose first `taken` places are
    held by another unit; returns the administrator, the activity and the racing units."""
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
        ids = [
            organisations.create_organisation(
                session=session,
                actor=admin,
                today=TODAY,
                data=org_input(f"抢报单位{n}", kind="volunteer_team", credit_code=""),
            )
            for n in range(units + 1)
        ]
        starts_at = datetime.combine(FUTURE, time(9), tzinfo=SHANGHAI)
        data = ActivityInput(
            title="名额有限的培训",
            category="training",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            province="北京",
            place="北京",
            capacity=capacity,
        )
        [activity_id] = svc.create_activity(session=session, actor=admin, data=data)
        if taken:
            svc.add_signup(session=session, actor=admin, activity_id=activity_id, organisation_id=ids[0], people=taken)
    return admin, activity_id, ids[1:]


def race(engines: list[Engine], admin: Actor, activity_id: int, units: list[int]) -> tuple[dict[int, str], list]:
    """Every unit signs up one person at the same moment, each from its own thread (and engine)."""
    barrier = threading.Barrier(len(units))
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(engine: Engine, unit: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction(write=True, engine=engine) as session:
                result = svc.add_signup(
                    session=session, actor=admin, activity_id=activity_id, organisation_id=unit, people=1
                )
            with lock:
                results[unit] = result.status
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(engines[n % len(engines)], unit)) for n, unit in enumerate(units)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def stored(engine: Engine, activity_id: int) -> list[tuple[int, str, int]]:
    """(unit, status, people) of the activity's sign-ups in the order they were written, read by hand."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT organisation_id, status, people FROM signups WHERE activity_id = :a ORDER BY id"),
            {"a": activity_id},
        )
        return [(r.organisation_id, r.status, r.people) for r in rows]


@pytest.fixture
def slow_count(monkeypatch) -> None:
    original: Callable[..., int] = svc._confirmed_people

    def counted_then_wait(session, activity_id: int) -> int:  # type: ignore[no-untyped-def]
        taken = original(session, activity_id)
        clock.sleep(WINDOW)
        return taken

    monkeypatch.setattr(svc, "_confirmed_people", counted_then_wait)


def check_race(rows: list[tuple[int, str, int]], results: dict[int, str], *, capacity: int, taken: int) -> None:
    """Within the capacity, and the places went to the first writers: nobody after a waitlisted one got one."""
    racers = rows[1:] if taken else rows
    places = capacity - taken
    confirmed_people = sum(people for _, status, people in rows if status == "confirmed")
    assert confirmed_people <= capacity
    assert [status for _, status, _ in racers] == ["confirmed"] * places + ["waitlisted"] * (len(racers) - places)
    assert {unit: status for unit, status, _ in racers} == results


@pytest.mark.parametrize(("racers", "capacity", "taken"), [(2, 3, 2), (8, 3, 0)])
def test_units_racing_for_the_last_places_on_postgresql_never_exceed_the_capacity(
    pg_engine, slow_count, racers, capacity, taken
):
    fresh_engine = pg_engine
    admin, activity_id, units = prepare(fresh_engine, units=racers, capacity=capacity, taken=taken)
    results, errors = race([fresh_engine], admin, activity_id, units)
    assert errors == []
    places = capacity - taken
    assert sorted(results.values()) == sorted(["confirmed"] * places + ["waitlisted"] * (racers - places))
    check_race(stored(fresh_engine, activity_id), results, capacity=capacity, taken=taken)


def test_the_race_for_places_holds_round_after_round_on_postgresql(pg_engine):
    fresh_engine = pg_engine
    admin, first, units = prepare(fresh_engine, units=8, capacity=3, taken=0)
    for round_no in range(5):
        with transaction(write=True, engine=fresh_engine) as session:
            data = svc.get_activity(session=session, actor=admin, activity_id=first).as_input()
            [activity_id] = svc.create_activity(session=session, actor=admin, data=data)
        results, errors = race([fresh_engine], admin, activity_id, units)
        assert errors == [], round_no
        check_race(stored(fresh_engine, activity_id), results, capacity=3, taken=0)


def test_eight_writers_on_sqlite_see_no_database_is_locked_and_the_capacity_holds(tmp_path, slow_count):
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    setup = make_engine(url)
    admin, activity_id, units = prepare(setup, units=8, capacity=3, taken=0)
    setup.dispose()
    engines = [make_engine(url) for _ in units]
    try:
        results, errors = race(engines, admin, activity_id, units)
        assert errors == []
        check_race(stored(engines[0], activity_id), results, capacity=3, taken=0)
    finally:
        for engine in engines:
            engine.dispose()
