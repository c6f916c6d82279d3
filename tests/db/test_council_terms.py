"""Council sessions and terms: the service's messages, and the database's own refusal of overlaps."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from db.models import CouncilTerm
from db.services import council, organisations, users
from domain.council import session_end
from domain.errors import PermissionDenied, ValidationError
from domain.roles import Role
from tests.conftest import TODAY, org_input


@pytest.fixture(autouse=True)
def raw_sql_on_purpose():
    """These tests write raw SQL past the services on purpose, to prove the database itself refuses."""
    from db.services.access import write_scope

    with write_scope("test: raw SQL"):
        yield


START = TODAY - timedelta(days=100)


@pytest.fixture
def units(session, admin):
    return [
        organisations.create_organisation(
            session=session, actor=admin, today=TODAY, data=org_input(f"理事候选单位{i}", kind="volunteer_team",
                                                                        credit_code="")
        )
        for i in range(12)
    ]  # fmt: skip


@pytest.fixture
def first_session(session, admin):
    return council.create_session(session=session, actor=admin, starts_on=START)


def seat(session, admin, session_id, seat_no, unit, **kw):
    return council.seat_term(session=session, actor=admin, session_id=session_id, seat=seat_no,
                             organisation_id=unit, source=kw.pop("source", "invited"), **kw)  # fmt: skip


def test_ten_seats_fill_and_an_eleventh_is_refused(session, admin, units, first_session):
    for i in range(10):
        seat(session, admin, first_session, i + 1, units[i])
    assert len(council.active_terms(session=session, on=TODAY)) == 10
    with pytest.raises(ValidationError) as err:
        seat(session, admin, first_session, 11, units[10])
    assert err.value.key == "validation.seat_range"


def test_a_seat_has_one_holder_and_a_unit_one_seat(session, admin, units, first_session):
    seat(session, admin, first_session, 1, units[0])
    with pytest.raises(ValidationError, match="seat_taken"):
        seat(session, admin, first_session, 1, units[1])
    with pytest.raises(ValidationError, match="unit_has_seat"):
        seat(session, admin, first_session, 2, units[0])


def test_a_by_election_fills_a_seat_after_a_resignation(session, admin, units, first_session):
    term_id = seat(session, admin, first_session, 3, units[0])
    council.end_term_early(session=session, actor=admin, term_id=term_id, expected_version=1, ends_on=TODAY,
                           reason="单位申请辞任")  # fmt: skip
    with pytest.raises(ValidationError, match="by_election_needs_vacancy"):  # a by-election names the vacancy
        seat(session, admin, first_session, 3, units[1], source="by_election", starts_on=TODAY)
    council.fill_by_election(session=session, actor=admin, vacated_term_id=term_id, organisation_id=units[1],
                             representative="", starts_on=TODAY)  # fmt: skip
    holders = {t.seat: t.organisation_id for t in council.active_terms(session=session, on=TODAY)}
    assert holders == {3: units[1]}
    earlier = {t.seat: t.organisation_id for t in council.active_terms(session=session, on=TODAY - timedelta(days=1))}
    assert earlier == {3: units[0]}


def test_ending_a_term_needs_a_reason_and_a_date_inside_it(session, admin, units, first_session):
    term_id = seat(session, admin, first_session, 1, units[0])
    with pytest.raises(ValidationError, match="required"):
        council.end_term_early(session=session, actor=admin, term_id=term_id, expected_version=1, ends_on=TODAY,
                               reason="  ")  # fmt: skip
    with pytest.raises(ValidationError, match="end_outside_term"):
        council.end_term_early(session=session, actor=admin, term_id=term_id, expected_version=1,
                               ends_on=START - timedelta(days=1), reason="x")  # fmt: skip


def test_a_term_outside_its_session_is_refused(session, admin, units, first_session):
    with pytest.raises(ValidationError, match="term_outside_session"):
        seat(session, admin, first_session, 1, units[0], starts_on=START - timedelta(days=1))


def test_the_next_session_starts_when_the_last_ends(session, admin, first_session):
    with pytest.raises(ValidationError, match="session_must_follow"):
        council.create_session(session=session, actor=admin, starts_on=START + timedelta(days=10))
    second = council.create_session(session=session, actor=admin, starts_on=session_end(START))
    assert second != first_session


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_only_staff_seat_units(session, make_actor, units, first_session, role):
    with pytest.raises(PermissionDenied):
        council.seat_term(session=session, actor=make_actor(role), session_id=first_session, seat=1,
                          organisation_id=units[0], source="invited")  # fmt: skip


RAW = text(
    "INSERT INTO council_terms (session_id, seat, organisation_id, representative, starts_on, ends_on, source,"
    " status, ended_reason, version, created_at, updated_at) VALUES (:session_id, :seat, :org, '', :starts_on,"
    " :ends_on, 'invited', 'active', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def raw_insert(session, **values):
    with session.begin_nested():
        session.execute(RAW, values)


def test_the_database_itself_refuses_overlapping_terms_and_terms_outside_the_session(session, units, first_session):
    end = session.scalar(text("SELECT ends_on FROM council_sessions WHERE id = :id"), {"id": first_session})
    base = {"session_id": first_session, "starts_on": START, "ends_on": end}
    raw_insert(session, seat=1, org=units[0], **base)
    before = session.scalar(select(func.count()).select_from(CouncilTerm))
    for bad in (
        {"seat": 1, "org": units[1], **base},  # same seat, same period
        {"seat": 2, "org": units[0], **base},  # same unit, second seat
        {"seat": 3, "org": units[2], **{**base, "starts_on": START - timedelta(days=5)}},  # before the session
        {"seat": 11, "org": units[3], **base},  # an eleventh seat
    ):
        with pytest.raises(DBAPIError):
            raw_insert(session, **bad)
    assert session.scalar(select(func.count()).select_from(CouncilTerm)) == before
    # Half-open ranges: a holder may follow on the very day the previous term ends.
    session.execute(text("UPDATE council_terms SET ends_on = :d WHERE seat = 1"), {"d": TODAY})
    raw_insert(session, seat=1, org=units[1], session_id=first_session, starts_on=TODAY, ends_on=end)


def test_a_council_user_without_an_active_term_has_no_council_rights(session, admin, units, first_session):
    user_id = users.create_user(session=session, actor=admin, username="lishi", display_name="理事",
                                password="password 123", role=Role.COUNCIL, organisation_id=units[5])  # fmt: skip
    info = users.get_active_user(session=session, username="lishi")
    assert info.id == user_id and info.effective_role is Role.VIEWER and info.actor().role is Role.VIEWER
    seat(session, admin, first_session, 6, units[5])
    info = users.get_active_user(session=session, username="lishi")
    assert info.effective_role is Role.COUNCIL and info.actor().role is Role.COUNCIL


def test_the_database_refuses_overlapping_sessions_and_a_session_shrunk_under_its_terms(session, units, first_session):
    row = session.execute(
        text("SELECT starts_on, ends_on FROM council_sessions WHERE id = :id"), {"id": first_session}
    ).one()
    overlapping = text(
        "INSERT INTO council_sessions (number, starts_on, ends_on, version, created_at, updated_at)"
        " VALUES (99, :s, :e, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(overlapping, {"s": START + timedelta(days=30), "e": START + timedelta(days=400)})
    raw_insert(session, seat=1, org=units[0], session_id=first_session, starts_on=START, ends_on=row.ends_on)
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text("UPDATE council_sessions SET ends_on = :e WHERE id = :id"),
            {"e": START + timedelta(days=200), "id": first_session},
        )


RAW_TERM = text(
    "INSERT INTO council_terms (session_id, seat, organisation_id, representative, starts_on, ends_on, source,"
    " status, ended_reason, version, created_at, updated_at) VALUES (:session_id, 1, :org, '', :starts_on,"
    " :ends_on, :source, :status, '', :version, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


@pytest.mark.parametrize(
    "bad",
    [{"source": "appointed"}, {"status": "retired"}, {"version": 0}, {"swap_dates": True}],
    ids=["source", "status", "version", "dates_ordered"],
)
def test_each_check_on_terms_refuses_a_bad_row(session, units, first_session, bad):
    end = session.scalar(text("SELECT ends_on FROM council_sessions WHERE id = :id"), {"id": first_session})
    values = {"session_id": first_session, "org": units[0], "starts_on": START, "ends_on": end,
              "source": "invited", "status": "active", "version": 1}  # fmt: skip
    values.update({k: v for k, v in bad.items() if k != "swap_dates"})
    if bad.get("swap_dates"):
        values["starts_on"], values["ends_on"] = START + timedelta(days=10), START + timedelta(days=5)
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(RAW_TERM, values)


RAW_SESSION = text(
    "INSERT INTO council_sessions (number, starts_on, ends_on, version, created_at, updated_at)"
    " VALUES (:number, :starts_on, :ends_on, :version, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


@pytest.mark.parametrize(
    "bad",
    [{"number": 0}, {"version": 0}, {"ends_on": START - timedelta(days=2000)}],
    ids=["number", "version", "dates"],
)
def test_each_check_on_sessions_refuses_a_bad_row(session, bad):
    far = START - timedelta(days=1500)  # clear of any other session
    values = {"number": 50, "starts_on": far, "ends_on": far + timedelta(days=30), "version": 1, **bad}
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(RAW_SESSION, values)
