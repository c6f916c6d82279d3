"""Council management on both databases: seats, by-elections, the queue, representatives and intents, rotation,
the seat board, history and composition, meetings with attendance and votes, who may do what, the to-dos, and
the database's own refusal of bad rows."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from db.models import AgendaItem, Application, AuditEntry, CouncilSession, CouncilTerm, Decision, Meeting
from db.services import applications, council, meetings, organisations, settings
from db.services.access import WRITE_SERVICES, write_scope
from db.services.council import PlannedSeat
from db.services.meetings import MeetingInput
from db.services.todos import collect_todos
from domain.applications import ApplicationInput
from domain.clock import SHANGHAI, today
from domain.council import add_years, session_end
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.roles import Role
from tests.conftest import TODAY, org_input

START = TODAY - timedelta(days=800)  # 2024-09-19: the first session is in its third year, a year of meetings fits
END = session_end(START)  # 2027-09-19
DAYS_LEFT = 295  # from 2026-11-28 to 2027-09-19, counted by hand


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def new_unit(session, admin, name, *, kind="volunteer_team", credit_code="", **kw) -> int:
    return organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(name, kind=kind, credit_code=credit_code, **kw)
    )


@pytest.fixture
def staff(make_actor):
    return make_actor(Role.SECRETARIAT)


@pytest.fixture
def units(session, admin) -> list[int]:
    return [new_unit(session, admin, f"理事候选单位{i}") for i in range(12)]


@pytest.fixture
def first(session, admin) -> int:
    return council.create_session(session=session, actor=admin, starts_on=START)


def seat(session, actor, session_id, seat_no, unit, **kw) -> int:
    return council.seat_term(session=session, actor=actor, session_id=session_id, seat=seat_no,
                             organisation_id=unit, source=kw.pop("source", "invited"), **kw)  # fmt: skip


@pytest.fixture
def seated(session, admin, units, first) -> list[int]:
    """The ten seats of the first session, seat n held by units[n-1] with representative 代表n."""
    return [seat(session, admin, first, n, units[n - 1], representative=f"代表{n}") for n in range(1, 11)]


def resign(session, actor, term_id, ends_on=TODAY, version=1) -> None:
    council.end_term_early(session=session, actor=actor, term_id=term_id, expected_version=version, ends_on=ends_on,
                           reason="单位申请辞任")  # fmt: skip


def term(session, term_id):
    return session.execute(
        select(
            CouncilTerm.session_id,
            CouncilTerm.seat,
            CouncilTerm.organisation_id,
            CouncilTerm.representative,
            CouncilTerm.starts_on,
            CouncilTerm.ends_on,
            CouncilTerm.source,
            CouncilTerm.status,
            CouncilTerm.continue_intent,
            CouncilTerm.application_id,
            CouncilTerm.replaces_term_id,
            CouncilTerm.version,
        ).where(CouncilTerm.id == term_id)
    ).one()


# ---------------------------------------------------------------- seats


def test_an_eleventh_seat_is_refused_when_ten_are_filled(session, admin, units, first, seated):
    with pytest.raises(ValidationError) as err:
        seat(session, admin, first, 11, units[10])
    assert err.value.key == "validation.seat_range"
    for seat_no in (1, 10):
        with pytest.raises(ValidationError) as err:
            seat(session, admin, first, seat_no, units[10], starts_on=TODAY)
        assert err.value.key == "validation.seat_taken"
    assert count(session, CouncilTerm) == 10
    assert len(council.active_terms(session=session, on=TODAY)) == 10


@pytest.mark.parametrize("starts_on", [START, TODAY], ids=["same_period", "later_part_of_the_period"])
def test_a_unit_cannot_hold_two_seats_at_once(session, admin, units, first, starts_on):
    seat(session, admin, first, 1, units[0])
    with pytest.raises(ValidationError) as err:
        seat(session, admin, first, 2, units[0], starts_on=starts_on)
    assert err.value.key == "validation.unit_has_seat"
    assert count(session, CouncilTerm) == 1


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "key"),
    [
        (START - timedelta(days=1), None, "validation.term_outside_session"),
        (START, END + timedelta(days=1), "validation.term_outside_session"),
        (END, None, "validation.dates_reversed"),  # starts on the (exclusive) end: an empty term
        (TODAY, TODAY - timedelta(days=1), "validation.dates_reversed"),
    ],
    ids=["starts_before", "ends_after", "starts_at_the_end", "reversed"],
)
def test_a_term_outside_its_session_is_refused(session, admin, units, first, starts_on, ends_on, key):
    with pytest.raises(ValidationError) as err:
        seat(session, admin, first, 1, units[0], starts_on=starts_on, ends_on=ends_on)
    assert err.value.key == key
    assert count(session, CouncilTerm) == 0


def test_a_term_in_a_session_that_does_not_exist_is_not_found(session, admin, units):
    with pytest.raises(NotFound):
        seat(session, admin, 987654, 1, units[0])


def test_a_unit_that_is_not_a_member_is_not_seated(session, admin, units, first):
    organisations.set_organisation_status(session=session, actor=admin, organisation_id=units[0], expected_version=1,
                                          status="suspended", reason="暂停活动")  # fmt: skip
    with pytest.raises(ValidationError) as err:
        seat(session, admin, first, 1, units[0])
    assert err.value.key == "validation.unit_not_member"


# ---------------------------------------------------------------- by-elections (补选)


def fill(session, actor, vacated, unit, starts_on=TODAY, representative="") -> int:
    return council.fill_by_election(session=session, actor=actor, vacated_term_id=vacated, organisation_id=unit,
                                    representative=representative, starts_on=starts_on)  # fmt: skip


def test_a_by_election_needs_a_seat_left_early(session, staff, units, seated):
    with pytest.raises(ValidationError) as err:
        fill(session, staff, seated[2], units[10])
    assert err.value.key == "validation.by_election_needs_vacancy"
    assert count(session, CouncilTerm) == 10


def test_a_by_election_fills_the_same_seat_until_the_sessions_end(session, staff, units, first, seated):
    resign(session, staff, seated[2])
    new_term = fill(session, staff, seated[2], units[10], starts_on=TODAY + timedelta(days=7), representative="赵六")
    row = term(session, new_term)
    assert (row.session_id, row.seat, row.organisation_id, row.representative) == (first, 3, units[10], "赵六")
    assert (row.starts_on, row.ends_on, row.source, row.status) == (TODAY + timedelta(days=7), END, "by_election",
                                                                    "active")  # fmt: skip
    assert row.replaces_term_id == seated[2]
    left = term(session, seated[2])
    assert (left.ends_on, left.status) == (TODAY, "resigned")


@pytest.mark.parametrize(
    ("offset", "key"),
    [(-1, "validation.by_election_starts_after"), (-100, "validation.by_election_starts_after"), (0, None), (30, None)],
    ids=["a_day_early", "long_before", "on_the_vacated_end", "later"],
)
def test_a_by_election_starts_no_earlier_than_the_vacated_term_ends(session, staff, units, seated, offset, key):
    resign(session, staff, seated[2])
    starts_on = TODAY + timedelta(days=offset)
    if key is None:
        assert term(session, fill(session, staff, seated[2], units[10], starts_on=starts_on)).starts_on == starts_on
    else:
        with pytest.raises(ValidationError) as err:
            fill(session, staff, seated[2], units[10], starts_on=starts_on)
        assert err.value.key == key
        assert count(session, CouncilTerm) == 10


def test_a_vacancy_is_filled_only_once(session, staff, units, seated):
    resign(session, staff, seated[2])
    fill(session, staff, seated[2], units[10])
    with pytest.raises(ValidationError) as err:
        fill(session, staff, seated[2], units[11], starts_on=TODAY + timedelta(days=10))
    assert err.value.key == "validation.vacancy_filled"


def test_a_by_election_cannot_start_after_the_session(session, staff, units, seated):
    resign(session, staff, seated[2])
    with pytest.raises(ValidationError):
        fill(session, staff, seated[2], units[10], starts_on=END)
    assert count(session, CouncilTerm) == 10


@pytest.mark.parametrize("named", ["a_sitting_term", "a_term_of_another_seat_left_early"])
def test_seating_a_by_election_directly_must_name_this_seats_vacancy(session, staff, units, first, named):
    sitting = seat(session, staff, first, 1, units[0])
    other = seat(session, staff, first, 2, units[1])
    resign(session, staff, other)
    replaces = sitting if named == "a_sitting_term" else other
    with pytest.raises(ValidationError) as err:
        seat(session, staff, first, 3, units[10], source="by_election", starts_on=TODAY, replaces_term_id=replaces)
    assert err.value.key == "validation.by_election_needs_vacancy"


# ---------------------------------------------------------------- the queue (approved 理事单位 applications)


def approved_application(session, staff, name, *, applied_for="council", status="approved") -> tuple[int, int | None]:
    """An application entered by the secretariat and brought to `status`; returns it and its unit (if admitted)."""
    now = datetime.now(UTC)  # the queue compares the decision with the term's creation time
    data = ApplicationInput(
        organisation=org_input(name, kind="volunteer_team", credit_code=""),
        applied_for=applied_for,
        statement="申请加入理事会。",
        consent=True,
    )
    app_id, _ = applications.create_application(
        session=session, actor=staff, data=data, channel="self_applied", recommender_id=None, now=now
    )
    steps = {"in_review": ["in_review"], "approved": ["in_review", "approved"]}[status]
    for version, step in enumerate(steps, start=1):
        applications.change_status(session=session, actor=staff, application_id=app_id, expected_version=version,
                                   to_status=step, note="", now=now)  # fmt: skip
    return app_id, session.scalar(select(Application.organisation_id).where(Application.id == app_id))


def test_a_queued_unit_is_seated_from_its_application_once(session, staff, first):
    app_a, unit_a = approved_application(session, staff, "甲高校绿色志愿服务队")
    app_b, _ = approved_application(session, staff, "乙社区环保志愿队")
    assert {q.application_id for q in applications.council_queue(session=session, actor=staff)} == {app_a, app_b}
    with pytest.raises(ValidationError) as err:  # another unit's application
        seat(session, staff, first, 1, unit_a, source="self_applied", application_id=app_b)
    assert err.value.key == "validation.not_in_queue"
    term_id = seat(session, staff, first, 1, unit_a, source="self_applied", application_id=app_a)
    assert term(session, term_id).application_id == app_a
    assert [q.application_id for q in applications.council_queue(session=session, actor=staff)] == [app_b]
    resign(session, staff, term_id)  # the unit is free again from TODAY: only the used application stands in the way
    with pytest.raises(ValidationError) as err:
        seat(session, staff, first, 2, unit_a, source="self_applied", starts_on=TODAY, application_id=app_a)
    assert err.value.key == "validation.queue_used"
    assert count(session, CouncilTerm) == 1


def test_an_application_still_in_review_or_for_membership_does_not_seat(session, staff, admin, first):
    waiting, _ = approved_application(session, staff, "丙环保协会", status="in_review")
    member_app, member_unit = approved_application(session, staff, "丁志愿服务队", applied_for="member")
    other_unit = new_unit(session, admin, "戊绿色志愿队")
    for application_id, unit in ((waiting, other_unit), (member_app, member_unit)):
        with pytest.raises(ValidationError) as err:
            seat(session, staff, first, 1, unit, source="self_applied", application_id=application_id)
        assert err.value.key == "validation.not_in_queue"
    assert count(session, CouncilTerm) == 0


# ---------------------------------------------------------------- representative and continue intent


def test_a_new_representative_needs_the_version_the_user_saw(session, staff, seated):
    version = council.change_representative(session=session, actor=staff, term_id=seated[0], expected_version=1,
                                            representative="  钱七  ")  # fmt: skip
    assert version == 2
    assert term(session, seated[0]).representative == "钱七"
    with pytest.raises(StaleRecord):
        council.change_representative(session=session, actor=staff, term_id=seated[0], expected_version=1,
                                      representative="孙八")  # fmt: skip
    assert (term(session, seated[0]).representative, term(session, seated[0]).version) == ("钱七", 2)


@pytest.mark.parametrize(
    ("typed", "key"),
    [("", "validation.required"), ("   ", "validation.required"), ("\u3000\u3000", "validation.required"),
     ("张" * 51, "validation.too_long")],
    ids=["empty", "spaces", "full_width_spaces", "too_long"],
)  # fmt: skip
def test_an_empty_or_too_long_representative_is_refused(session, staff, seated, typed, key):
    with pytest.raises(ValidationError) as err:
        council.change_representative(session=session, actor=staff, term_id=seated[0], expected_version=1,
                                      representative=typed)  # fmt: skip
    assert err.value.key == key
    assert (term(session, seated[0]).representative, term(session, seated[0]).version) == ("代表1", 1)


@pytest.mark.parametrize(
    ("intent", "key"),
    [("continue", None), ("leave", None), (None, None), ("maybe", "validation.choice"), ("", "validation.choice"),
     ("CONTINUE", "validation.choice")],
)  # fmt: skip
def test_a_continue_intent_is_continue_leave_or_not_said(session, staff, seated, intent, key):
    council.set_continue_intent(session=session, actor=staff, term_id=seated[0], expected_version=1, intent="leave")
    if key is None:
        version = council.set_continue_intent(session=session, actor=staff, term_id=seated[0], expected_version=2,
                                              intent=intent)  # fmt: skip
        assert version == 3
        assert term(session, seated[0]).continue_intent == intent
    else:
        with pytest.raises(ValidationError) as err:
            council.set_continue_intent(session=session, actor=staff, term_id=seated[0], expected_version=2,
                                        intent=intent)  # fmt: skip
        assert err.value.key == key
        assert term(session, seated[0]).continue_intent == "leave"


def test_a_continue_intent_on_a_stale_version_is_refused(session, staff, seated):
    council.set_continue_intent(session=session, actor=staff, term_id=seated[0], expected_version=1, intent="continue")
    with pytest.raises(StaleRecord):
        council.set_continue_intent(session=session, actor=staff, term_id=seated[0], expected_version=1, intent="leave")
    assert term(session, seated[0]).continue_intent == "continue"


# ---------------------------------------------------------------- rotation (换届)


def plan_of(units, source="invited") -> list[PlannedSeat]:
    return [PlannedSeat(seat=n, organisation_id=unit, source=source) for n, unit in enumerate(units, start=1)]


def bad_plans(units):
    ten = plan_of(units[:10])
    return {
        "nine_seats": (ten[:9], "validation.rotation_needs_all_seats"),
        "seat_eleven": ([*ten[:9], PlannedSeat(11, units[9], "invited")], "validation.rotation_needs_all_seats"),
        "seat_one_twice": ([*ten[:9], PlannedSeat(1, units[9], "invited")], "validation.rotation_needs_all_seats"),
        "eleven_seats": ([*ten, PlannedSeat(11, units[10], "invited")], "validation.rotation_needs_all_seats"),
        "no_seats": ([], "validation.rotation_needs_all_seats"),
        "unit_twice": ([*ten[:9], PlannedSeat(10, units[0], "invited")], "validation.unit_has_seat"),
        "by_election": ([*ten[:9], PlannedSeat(10, units[9], "by_election")], "validation.choice"),
    }


@pytest.mark.parametrize(
    "case",
    ["nine_seats", "seat_eleven", "seat_one_twice", "eleven_seats", "no_seats", "unit_twice", "by_election"],
)
def test_a_rotation_plan_needs_ten_seats_ten_units_and_no_by_election(session, staff, units, seated, case):
    plan, key = bad_plans(units)[case]
    audit_before = count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        council.rotate(session=session, actor=staff, plan=plan)
    assert err.value.key == key
    assert (count(session, CouncilSession), count(session, CouncilTerm)) == (1, 10)
    assert count(session, AuditEntry) == audit_before


def test_a_rotation_needs_a_session_to_follow(session, staff, units):
    with pytest.raises(ValidationError) as err:
        council.rotate(session=session, actor=staff, plan=plan_of(units[:10]))
    assert err.value.key == "validation.no_session"
    assert count(session, CouncilSession) == 0


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("unit_not_a_member", "validation.unit_not_member"),
        ("unknown_source", "validation.choice"),
        ("another_units_application", "validation.not_in_queue"),
        ("long_representative", "validation.too_long"),
    ],
)
def test_a_rotation_refused_at_its_last_seat_leaves_no_new_session(session, staff, admin, units, seated, case, key):
    organisations.set_organisation_status(session=session, actor=admin, organisation_id=units[11], expected_version=1,
                                          status="suspended", reason="暂停活动")  # fmt: skip
    app_id, _ = approved_application(session, staff, "己高校环保社团")
    last = {
        "unit_not_a_member": PlannedSeat(10, units[11], "invited"),
        "unknown_source": PlannedSeat(10, units[9], "appointed"),
        "another_units_application": PlannedSeat(10, units[9], "self_applied", application_id=app_id),
        "long_representative": PlannedSeat(10, units[9], "invited", representative="张" * 51),
    }[case]
    plan = [*plan_of(units[:9]), last]
    audit_before = count(session, AuditEntry)
    # Seats are checked one by one after the session is opened: the page's transaction (ui.forms.attempt) takes
    # the refusal back as a whole, and a savepoint stands in for it here.
    with pytest.raises(ValidationError) as err, session.begin_nested():
        council.rotate(session=session, actor=staff, plan=plan)
    assert err.value.key == key
    assert (count(session, CouncilSession), count(session, CouncilTerm)) == (1, 10)
    assert count(session, AuditEntry) == audit_before


def test_a_rotation_opens_the_next_session_when_the_last_ends_with_ten_terms(session, staff, units, first, seated):
    plan = [*plan_of(units[:9]), PlannedSeat(10, units[10], "self_applied", representative="新代表")]
    audit_before = count(session, AuditEntry)
    second = council.rotate(session=session, actor=staff, plan=plan)
    rows = council.sessions(session=session)
    assert [(r.number, r.starts_on, r.ends_on) for r in rows] == [(1, START, END), (2, END, date(2030, 9, 19))]
    assert rows[1].id == second
    terms = session.execute(
        text("SELECT seat, organisation_id, starts_on, ends_on FROM council_terms WHERE session_id = :s ORDER BY seat"),
        {"s": second},
    ).all()
    assert len(terms) == 10
    assert [(t.seat, t.organisation_id) for t in terms] == [(n, units[n - 1]) for n in range(1, 10)] + [(10, units[10])]
    assert {(str(t.starts_on)[:10], str(t.ends_on)[:10]) for t in terms} == {("2027-09-19", "2030-09-19")}
    assert count(session, AuditEntry) == audit_before + 11  # the session and its ten terms
    board = {b.seat: b for b in council.seat_board(session=session, actor=staff, session_id=second, on=END)}
    assert [board[n].consecutive for n in range(1, 11)] == [2] * 9 + [1]
    assert board[10].representative == "新代表"
    old_board = council.seat_board(session=session, actor=staff, session_id=first, on=TODAY)
    assert [b.consecutive for b in old_board] == [1] * 10


def test_consecutive_sessions_start_again_after_a_session_away(session, staff, units, seated):
    second = council.rotate(session=session, actor=staff, plan=plan_of(units[1:11]))  # units[0] steps out
    third = council.rotate(session=session, actor=staff, plan=plan_of(units[:10]))  # and comes back
    on = session_end(END)
    board = {b.organisation_id: b for b in council.seat_board(session=session, actor=staff, session_id=third, on=on)}
    assert (board[units[0]].consecutive, board[units[1]].consecutive) == (1, 3)
    assert second != third
    assert [s.number for s in council.sessions(session=session)] == [1, 2, 3]


# ---------------------------------------------------------------- the seat board, history, composition


def test_the_seat_board_shows_a_vacancy_with_the_term_that_left_it(session, staff, units, first, seated):
    resign(session, staff, seated[2])
    board = council.seat_board(session=session, actor=staff, session_id=first, on=TODAY)
    assert [b.seat for b in board] == list(range(1, 11))
    vacant = board[2]
    assert (vacant.term_id, vacant.organisation_id, vacant.unit, vacant.vacated_term_id) == (None, None, "", seated[2])
    assert [b.days_left for b in board if b.term_id is not None] == [DAYS_LEFT] * 9
    assert all(b.vacated_term_id is None for b in board if b.term_id is not None)
    day_before = council.seat_board(session=session, actor=staff, session_id=first, on=TODAY - timedelta(days=1))
    assert (day_before[2].term_id, day_before[2].days_left) == (seated[2], 1)
    new_term = fill(session, staff, seated[2], units[10])
    after = council.seat_board(session=session, actor=staff, session_id=first, on=TODAY)
    assert (after[2].term_id, after[2].organisation_id, after[2].vacated_term_id) == (new_term, units[10], None)
    assert after[2].source == "by_election"


def attend(session, actor, starts_at, entries) -> int:
    meeting_id = meetings.create_meeting(session=session, actor=actor, data=meeting_input(starts_at=starts_at))
    meetings.record_attendance(session=session, actor=actor, meeting_id=meeting_id, expected_version=1,
                               entries={u: (s, "") for u, s in entries.items()})  # fmt: skip
    return meeting_id


def test_the_seat_board_rates_attendance_over_the_last_twelve_months(session, staff, units, first, seated):
    a, b = units[0], units[1]
    attend(session, staff, at(TODAY - timedelta(days=30)), {a: "present", b: "absent"})
    attend(session, staff, at(TODAY - timedelta(days=200)), {a: "present", b: "leave"})
    attend(session, staff, at(TODAY - timedelta(days=400)), {a: "absent", b: "present"})  # more than a year ago
    board = {x.organisation_id: x for x in council.seat_board(session=session, actor=staff, session_id=first, on=TODAY)}
    assert (board[a].attendance, board[b].attendance, board[units[2]].attendance) == (1.0, 0.0, None)
    a_year_earlier = council.seat_board(session=session, actor=staff, session_id=first, on=TODAY - timedelta(days=170))
    rates = {x.organisation_id: x.attendance for x in a_year_earlier}
    assert (rates[a], rates[b]) == (0.5, 0.5)  # then: the meetings 200 and 400 days before TODAY


@pytest.mark.parametrize(("role", "sees"), [(Role.SECRETARIAT, True), (Role.COUNCIL, True), (Role.VIEWER, False)])
def test_viewers_get_no_representatives_or_reasons(session, staff, make_actor, units, first, seated, role, sees):
    resign(session, staff, seated[2])
    actor = make_actor(role)
    board = council.seat_board(session=session, actor=actor, session_id=first, on=TODAY)
    names = [b.representative for b in board if b.term_id is not None]
    assert names == ([f"代表{n}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10)] if sees else [""] * 9)
    history = council.term_history(session=session, actor=actor)
    assert len(history) == 10
    assert [(h.representative, h.ended_reason) for h in history if h.seat == 3] == [
        ("代表3", "单位申请辞任") if sees else ("", "")
    ]
    assert all(bool(h.representative) is sees for h in history)
    own = council.terms_of_organisation(session=session, actor=actor, organisation_id=units[0])
    assert [t.representative for t in own] == (["代表1"] if sees else [""])


def test_the_history_filters_by_session_source_and_name(session, staff, units, first, seated):
    resign(session, staff, seated[2])
    fill(session, staff, seated[2], units[10])
    council.rotate(session=session, actor=staff, plan=plan_of(units[:10]))
    assert len(council.term_history(session=session, actor=staff)) == 21
    assert len(council.term_history(session=session, actor=staff, session_number=1)) == 11
    assert len(council.term_history(session=session, actor=staff, session_number=2)) == 10
    by_election = council.term_history(session=session, actor=staff, source="by_election")
    assert [(h.session_number, h.seat, h.organisation_id) for h in by_election] == [(1, 3, units[10])]
    found = council.term_history(session=session, actor=staff, search="候选单位 10")  # spaces ignored
    assert [(h.session_number, h.organisation_id) for h in found] == [(1, units[10])]


def test_the_composition_counts_seated_units_by_kind_and_province_on_a_date(session, admin, first):
    seat(session, admin, first, 1, new_unit(session, admin, "浙江志愿队", province="浙江"))
    seat(session, admin, first, 2, new_unit(session, admin, "北京志愿队", province="北京"))
    seat(session, admin, first, 3, new_unit(session, admin, "北京其他单位", kind="other", province="北京"))
    seat(session, admin, first, 4, new_unit(session, admin, "全国社会组织", kind="social", province="全国",
                                            credit_code="91110000802100433B"))  # fmt: skip
    leaving = seat(session, admin, first, 5, new_unit(session, admin, "浙江另一志愿队", province="浙江"))
    resign(session, admin, leaving, ends_on=TODAY - timedelta(days=10))
    assert council.composition(session=session, on=TODAY) == (
        {"volunteer_team": 2, "other": 1, "social": 1},
        {"浙江": 1, "北京": 2, "全国": 1},
    )
    assert council.composition(session=session, on=TODAY - timedelta(days=20)) == (
        {"volunteer_team": 3, "other": 1, "social": 1},
        {"浙江": 2, "北京": 2, "全国": 1},
    )
    assert council.composition(session=session, on=START - timedelta(days=1)) == ({}, {})
    assert council.composition(session=session, on=END) == ({}, {})


def test_a_unit_has_an_active_term_while_seated_and_a_member(session, admin, units, seated):
    assert council.has_active_term(session=session, organisation_id=units[0], on=TODAY)
    assert not council.has_active_term(session=session, organisation_id=units[0], on=END)
    assert not council.has_active_term(session=session, organisation_id=units[10], on=TODAY)
    resign(session, admin, seated[1])
    assert council.has_active_term(session=session, organisation_id=units[1], on=TODAY - timedelta(days=1))
    assert not council.has_active_term(session=session, organisation_id=units[1], on=TODAY)
    organisations.set_organisation_status(session=session, actor=admin, organisation_id=units[0], expected_version=1,
                                          status="suspended", reason="暂停活动")  # fmt: skip
    assert not council.has_active_term(session=session, organisation_id=units[0], on=TODAY)


# ---------------------------------------------------------------- meetings


def meeting_input(**kw) -> MeetingInput:
    values = {
        "kind": "council",
        "title": "第一届理事会第三次会议",
        "starts_at": at(TODAY + timedelta(days=7)),
        "place": "北京市东城区",
        "notice_on": None,
        "agenda": ("审议年度工作报告", "", "  讨论换届筹备  "),
    }
    values.update(kw)
    return MeetingInput(**values)  # type: ignore[arg-type]


def meeting_version(session, meeting_id) -> int:
    return session.scalar(select(Meeting.version).where(Meeting.id == meeting_id))


def test_a_meeting_is_created_with_its_agenda_in_order(session, staff):
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=meeting_input(notice_on=TODAY))
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    assert detail.agenda == ["审议年度工作报告", "讨论换届筹备"]  # the blank item dropped, spaces trimmed
    assert (detail.kind, detail.title, detail.place, detail.notice_on) == ("council", "第一届理事会第三次会议",
                                                                           "北京市东城区", TODAY)  # fmt: skip
    assert detail.starts_at == at(TODAY + timedelta(days=7))
    assert count(session, AgendaItem, AgendaItem.meeting_id == meeting_id) == 2
    assert count(session, AuditEntry, AuditEntry.action == "meeting.create") == 1


BAD_MEETINGS = {
    "no_place_no_link": ({"place": "", "online_link": ""}, "validation.place_or_link"),
    "blank_place_no_link": ({"place": " \u3000 ", "online_link": ""}, "validation.place_or_link"),
    "notice_after_meeting": ({"notice_on": TODAY + timedelta(days=8)}, "validation.notice_after_meeting"),
    "link_without_scheme": ({"online_link": "www.example.com/meet"}, "validation.website_invalid"),
    "script_link": ({"online_link": "javascript:alert(1)"}, "validation.website_invalid"),
    "ftp_link": ({"online_link": "ftp://example.com/x"}, "validation.website_invalid"),
    "naive_datetime": ({"starts_at": datetime(2026, 12, 5, 10, 0)}, "validation.date_invalid"),
    "empty_title": ({"title": "  "}, "validation.required"),
    "long_title": ({"title": "会" * 201}, "validation.too_long"),
    "long_place": ({"place": "地" * 201}, "validation.too_long"),
    "control_character": ({"title": "会议\x00"}, "validation.control_characters"),
    "unknown_kind": ({"kind": "party"}, "validation.choice"),
    "too_many_items": ({"agenda": tuple(f"议题{n}" for n in range(31))}, "validation.too_many_items"),
}


@pytest.mark.parametrize("case", sorted(BAD_MEETINGS))
def test_a_bad_meeting_is_refused_and_writes_nothing(session, staff, case):
    overrides, key = BAD_MEETINGS[case]
    before = count(session, Meeting), count(session, AgendaItem), count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        meetings.create_meeting(session=session, actor=staff, data=meeting_input(**overrides))
    assert err.value.key == key
    assert (count(session, Meeting), count(session, AgendaItem), count(session, AuditEntry)) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"place": "", "online_link": "https://meeting.example.com/j/123"},
        # 00:30 in Shanghai is the evening before in UTC: the notice date compares with Shanghai's day
        {"starts_at": at(TODAY + timedelta(days=3), 0, 30), "notice_on": TODAY + timedelta(days=3)},
        {"notice_on": TODAY + timedelta(days=7)},
        {"kind": "topic", "title": "<b>专题会</b>'; DROP TABLE meetings; --", "agenda": ("🌱 植树",)},
    ],
    ids=["online_only", "noticed_on_its_own_shanghai_day", "noticed_on_the_day", "html_sql_and_emoji"],
)
def test_a_good_meeting_is_accepted(session, staff, overrides):
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=meeting_input(**overrides))
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    for field, value in overrides.items():
        assert getattr(detail, field) == (list(value) if field == "agenda" else value)


def test_an_edit_on_a_stale_version_is_refused(session, staff):
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=meeting_input())
    edited = meeting_input(title="第一届理事会第三次会议（改期）", agenda=("通报改期",), minutes="会议纪要")
    assert meetings.update_meeting(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                   data=edited) == 2  # fmt: skip
    with pytest.raises(StaleRecord):
        meetings.update_meeting(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                data=meeting_input(title="他人覆盖"))  # fmt: skip
    row = session.execute(select(Meeting.title, Meeting.minutes, Meeting.version).where(Meeting.id == meeting_id)).one()
    assert tuple(row) == ("第一届理事会第三次会议（改期）", "会议纪要", 2)
    agenda = session.scalars(select(AgendaItem.title).where(AgendaItem.meeting_id == meeting_id)).all()
    assert agenda == ["通报改期"]


def test_an_edit_of_a_meeting_that_does_not_exist_is_not_found(session, staff):
    with pytest.raises(NotFound):
        meetings.update_meeting(session=session, actor=staff, meeting_id=987654, expected_version=1,
                                data=meeting_input())  # fmt: skip


@pytest.fixture
def by_election(session, staff, units, seated) -> int:
    """Seat 3 changes hands ten days before TODAY: units[2] leaves, units[10] comes in."""
    resign(session, staff, seated[2], ends_on=TODAY - timedelta(days=10))
    return fill(session, staff, seated[2], units[10], starts_on=TODAY - timedelta(days=10))


CHANGE_DAY = TODAY - timedelta(days=10)


@pytest.mark.parametrize(
    ("starts_at", "unit_index", "allowed"),
    [
        (at(TODAY - timedelta(days=20)), 2, True),
        (at(TODAY - timedelta(days=20)), 10, False),
        (at(TODAY - timedelta(days=5)), 10, True),
        (at(TODAY - timedelta(days=5)), 2, False),
        (at(TODAY - timedelta(days=5)), 11, False),
        (at(TODAY - timedelta(days=5)), 0, True),
        # 00:30 in Shanghai on the day of the change is still the day before in UTC: Shanghai's day decides.
        (at(CHANGE_DAY, 0, 30), 10, True),
        (at(CHANGE_DAY, 0, 30), 2, False),
        (at(CHANGE_DAY - timedelta(days=1), 23, 30), 2, True),
        (at(CHANGE_DAY - timedelta(days=1), 23, 30), 10, False),
    ],
    ids=["leaver_before", "newcomer_before", "newcomer_after", "leaver_after", "never_seated", "sitting",
         "newcomer_just_after_midnight", "leaver_just_after_midnight", "leaver_late_the_evening_before",
         "newcomer_late_the_evening_before"],
)  # fmt: skip
def test_attendance_is_recorded_only_for_units_seated_on_the_meeting_day(
    session, staff, units, by_election, starts_at, unit_index, allowed
):
    data = meeting_input(starts_at=starts_at)
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=data)
    entries = {units[unit_index]: ("present", "")}
    if allowed:
        assert meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                          entries=entries) == 2  # fmt: skip
        attendance = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id).attendance
        assert [(a.organisation_id, a.status) for a in attendance if a.status] == [(units[unit_index], "present")]
        assert len(attendance) == 10
    else:
        with pytest.raises(ValidationError) as err:
            meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                       entries=entries)  # fmt: skip
        assert err.value.key == "validation.not_seated_then"
        assert meeting_version(session, meeting_id) == 1


def test_attendance_needs_a_known_status_and_the_current_version(session, staff, units, seated):
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=meeting_input(starts_at=at(TODAY)))
    with pytest.raises(ValidationError) as err:
        meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                   entries={units[0]: ("late", "")})  # fmt: skip
    assert err.value.key == "validation.choice"
    meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                               entries={units[0]: ("leave", "由理事单位2代为出席")})  # fmt: skip
    with pytest.raises(StaleRecord):
        meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=1,
                                   entries={units[0]: ("present", "")})  # fmt: skip
    attendance = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id).attendance
    assert [(a.status, a.proxy) for a in attendance if a.organisation_id == units[0]] == [
        ("leave", "由理事单位2代为出席")
    ]


def held_meeting(session, staff, units, statuses) -> int:
    """A meeting yesterday with units[i] marked statuses[i]."""
    return attend(session, staff, at(TODAY - timedelta(days=1)), {units[i]: s for i, s in enumerate(statuses)})


@pytest.mark.parametrize(
    ("unit_index", "vote", "key"),
    [(1, "agree", "validation.vote_needs_presence"), (2, "agree", "validation.vote_needs_presence"),
     (3, "agree", "validation.vote_needs_presence"), (10, "agree", "validation.vote_needs_presence"),
     (0, "yes", "validation.choice"), (0, "oppose", None), (0, "abstain", None)],
    ids=["on_leave", "absent", "not_recorded", "never_seated", "unknown_vote", "present_opposes", "present_abstains"],
)  # fmt: skip
def test_only_units_marked_present_may_vote(session, staff, units, seated, unit_index, vote, key):
    meeting_id = held_meeting(session, staff, units, ["present", "leave", "absent"])

    def decide() -> int:
        return meetings.record_decision(session=session, actor=staff, meeting_id=meeting_id, expected_version=2,
                                        title="审议年度工作报告", text="", votes={units[unit_index]: vote})  # fmt: skip

    if key is None:
        decision_id = decide()
        detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
        assert [(d.id, d.votes) for d in detail.decisions] == [(decision_id, {units[0]: vote})]
    else:
        with pytest.raises(ValidationError) as err:
            decide()
        assert err.value.key == key
        assert count(session, Decision) == 0
        assert meeting_version(session, meeting_id) == 2


SIX_OF_TEN = ["present"] * 6 + ["leave", "leave", "absent", "absent"]


def two_decisions(session, staff, units, meeting_id) -> None:
    """A: 4 同意, 2 反对. B: 3 同意, 2 反对, 1 弃权 (units 0-5 present)."""
    for version, (title, votes) in enumerate(
        [
            ("决议甲", ["agree", "agree", "agree", "agree", "oppose", "oppose"]),
            ("决议乙", ["agree", "agree", "agree", "oppose", "oppose", "abstain"]),
        ],
        start=2,
    ):
        meetings.record_decision(session=session, actor=staff, meeting_id=meeting_id, expected_version=version,
                                 title=title, text="", votes={units[i]: v for i, v in enumerate(votes)})  # fmt: skip


def set_share(session, actor, key, value) -> None:
    version = settings.get_setting_version(session=session, key=key)
    settings.set_setting(session=session, actor=actor, key=key, value=value, expected_version=version)


@pytest.mark.parametrize(
    ("quorum_share", "pass_share", "quorum", "passed"),
    [
        (None, None, True, [True, False]),  # the defaults: 6 of 10 present; 4 of 6 pass, 3 of 6 do not
        (0.6, None, False, [False, False]),  # 6 is not more than 60 % of 10: no quorum, nothing passes
        (0.55, None, True, [True, False]),
        (None, 0.7, True, [False, False]),  # 4 is not more than 70 % of 6
        (None, 0.4, True, [True, True]),  # 3 is more than 40 % of 6
        (0.0, 0.0, True, [True, True]),
    ],
)
def test_quorum_and_passing_follow_the_shares_in_the_settings(
    session, staff, units, seated, quorum_share, pass_share, quorum, passed
):
    meeting_id = held_meeting(session, staff, units, SIX_OF_TEN)
    two_decisions(session, staff, units, meeting_id)
    if quorum_share is not None:
        set_share(session, staff, "quorum_share", quorum_share)
    if pass_share is not None:
        set_share(session, staff, "pass_share", pass_share)
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    assert (detail.seated, detail.present, detail.quorum) == (10, 6, quorum)
    assert [d.passed for d in detail.decisions] == passed
    assert [(d.title, d.agree, d.oppose, d.abstain) for d in detail.decisions] == [("决议甲", 4, 2, 0),
                                                                                  ("决议乙", 3, 2, 1)]  # fmt: skip
    assert meetings.voting_rule(session=session).quorum_share == (0.5 if quorum_share is None else quorum_share)


@pytest.mark.parametrize(("present", "quorum"), [(4, False), (5, True)])
def test_a_seat_left_vacant_lowers_the_quorum(session, staff, units, seated, present, quorum):
    resign(session, staff, seated[9], ends_on=TODAY - timedelta(days=5))  # seat 10 empty: nine seated
    meeting_id = held_meeting(session, staff, units, ["present"] * present)
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    assert (detail.seated, detail.present, detail.quorum) == (9, present, quorum)


def test_changing_a_share_changes_the_result_of_a_meeting_already_held(session, staff, units, seated):
    meeting_id = held_meeting(session, staff, units, SIX_OF_TEN)
    two_decisions(session, staff, units, meeting_id)
    results = []
    for key, value in (("pass_share", 0.4), ("quorum_share", 0.6), ("quorum_share", 0.5), ("pass_share", 0.5)):
        set_share(session, staff, key, value)
        detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
        results.append((detail.quorum, [d.passed for d in detail.decisions]))
    assert results == [(True, [True, True]), (False, [False, False]), (True, [True, True]), (True, [True, False])]


@pytest.mark.parametrize("value", [1.0, -0.1, 1, "0.5"], ids=["one", "negative", "integer", "text"])
def test_a_share_outside_zero_to_one_or_not_a_fraction_is_refused(session, staff, value):
    with pytest.raises(ValidationError):
        settings.set_setting(session=session, actor=staff, key="quorum_share", value=value, expected_version=0)
    assert meetings.voting_rule(session=session).quorum_share == 0.5


def test_a_vote_never_counts_from_a_unit_no_longer_marked_present(session, staff, units, seated):
    meeting_id = held_meeting(session, staff, units, SIX_OF_TEN)
    two_decisions(session, staff, units, meeting_id)  # 决议甲: units 0-3 agree, 4-5 oppose
    # The attendance is corrected afterwards: units 0-3 were on leave, units 4-9 present (still six present).
    entries = {units[i]: ("leave" if i < 4 else "present", "") for i in range(10)}
    with pytest.raises(ValidationError) as refused:  # the correction would leave votes from absent units
        meetings.record_attendance(session=session, actor=staff, meeting_id=meeting_id, expected_version=4,
                                   entries=entries)  # fmt: skip
    assert refused.value.key == "validation.voted_unit_present"
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    present = {a.organisation_id for a in detail.attendance if a.status == "present"}
    assert [set(d.votes) <= present for d in detail.decisions] == [True, True]
    assert present == {units[i] for i in range(6)}, "the attendance the votes were cast under stands"


def test_moving_a_meeting_keeps_the_list_and_the_detail_in_agreement(session, staff, units, by_election):
    # units[10] came in by by-election ten days before TODAY; the meeting moves from 5 to 20 days before TODAY.
    meeting_id = attend(session, staff, at(TODAY - timedelta(days=5)), {units[10]: "present", units[0]: "present"})
    try:
        meetings.update_meeting(session=session, actor=staff, meeting_id=meeting_id, expected_version=2,
                                data=meeting_input(starts_at=at(TODAY - timedelta(days=20))))  # fmt: skip
    except ValidationError:
        pass  # refusing the move while units not seated that day are marked would keep the rule too
    detail = meetings.get_meeting(session=session, actor=staff, meeting_id=meeting_id)
    listed = next(m for m in meetings.list_meetings(session=session, actor=staff) if m.id == meeting_id)
    assert listed.present == detail.present


def test_the_meeting_list_counts_presence_and_decisions(session, staff, make_actor, units, seated):
    held = held_meeting(session, staff, units, SIX_OF_TEN)
    two_decisions(session, staff, units, held)
    planned = meetings.create_meeting(session=session, actor=staff, data=meeting_input(title="下次会议"))
    partly = attend(session, staff, at(TODAY - timedelta(days=40)), {units[0]: "present", units[1]: "absent"})
    for reader in (staff, make_actor(Role.COUNCIL)):
        listed = meetings.list_meetings(session=session, actor=reader)
        assert [(m.id, m.present, m.expected, m.decisions) for m in listed] == [
            (planned, 0, 0, 0),
            (held, 6, 10, 2),
            (partly, 1, 2, 0),
        ]


# ---------------------------------------------------------------- who may do what


@dataclass(frozen=True)
class World:
    session_id: int
    terms: list[int]
    vacated: int
    spare: int
    units: list[int]
    meeting: int


@pytest.fixture
def world(session, admin, units, first, seated) -> World:
    resign(session, admin, seated[2])
    meeting_id = meetings.create_meeting(session=session, actor=admin, data=meeting_input(starts_at=at(TODAY)))
    return World(first, seated, seated[2], units[10], units, meeting_id)


WRITES = {
    "council.create_session": lambda s, a, w: council.create_session(session=s, actor=a, starts_on=END),
    "council.seat_term": lambda s, a, w: council.seat_term(
        session=s, actor=a, session_id=w.session_id, seat=3, organisation_id=w.spare, source="invited",
        starts_on=TODAY + timedelta(days=1),
    ),
    "council.end_term_early": lambda s, a, w: council.end_term_early(
        session=s, actor=a, term_id=w.terms[0], expected_version=1, ends_on=TODAY, reason="辞任"
    ),
    "council.fill_by_election": lambda s, a, w: council.fill_by_election(
        session=s, actor=a, vacated_term_id=w.vacated, organisation_id=w.spare, representative="", starts_on=TODAY
    ),
    "council.change_representative": lambda s, a, w: council.change_representative(
        session=s, actor=a, term_id=w.terms[0], expected_version=1, representative="新代表"
    ),
    "council.set_continue_intent": lambda s, a, w: council.set_continue_intent(
        session=s, actor=a, term_id=w.terms[0], expected_version=1, intent="continue"
    ),
    "council.rotate": lambda s, a, w: council.rotate(session=s, actor=a, plan=plan_of(w.units[:10])),
    "meetings.create_meeting": lambda s, a, w: meetings.create_meeting(session=s, actor=a, data=meeting_input()),
    "meetings.update_meeting": lambda s, a, w: meetings.update_meeting(
        session=s, actor=a, meeting_id=w.meeting, expected_version=1, data=meeting_input(title="改名")
    ),
    "meetings.record_attendance": lambda s, a, w: meetings.record_attendance(
        session=s, actor=a, meeting_id=w.meeting, expected_version=1, entries={w.units[0]: ("present", "")}
    ),
    "meetings.record_decision": lambda s, a, w: meetings.record_decision(
        session=s, actor=a, meeting_id=w.meeting, expected_version=1, title="决议", text="", votes={}
    ),
}  # fmt: skip


def test_the_table_names_every_council_and_meeting_write():
    registered = {n for n in WRITE_SERVICES if n.startswith(("db.services.council.", "db.services.meetings."))}
    assert registered == {f"db.services.{name}" for name in WRITES}


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_only_staff_may_write_council_records_and_meetings(session, make_actor, world, name, role):
    actor = make_actor(role)
    before = count(session, AuditEntry)
    if role is Role.SECRETARIAT:  # the same call is valid: the refusal below comes from the role alone
        WRITES[name](session, actor, world)
        assert count(session, AuditEntry) > before
    else:
        with pytest.raises(PermissionDenied):
            WRITES[name](session, actor, world)
        assert count(session, AuditEntry) == before


def test_viewers_may_not_read_meetings_and_council_users_may(session, make_actor, world):
    viewer, member = make_actor(Role.VIEWER), make_actor(Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        meetings.list_meetings(session=session, actor=viewer)
    with pytest.raises(PermissionDenied):
        meetings.get_meeting(session=session, actor=viewer, meeting_id=world.meeting)
    assert [m.id for m in meetings.list_meetings(session=session, actor=member)] == [world.meeting]
    assert meetings.get_meeting(session=session, actor=member, meeting_id=world.meeting).id == world.meeting
    with pytest.raises(NotFound):
        meetings.get_meeting(session=session, actor=member, meeting_id=987654)


# ---------------------------------------------------------------- to-dos


def session_ending_in(session, admin, days: int) -> int:
    """A first session that started about three years minus `days` ago, so it ends `days` after today."""
    starts_on = add_years(today() + timedelta(days=days), -3)
    assert (session_end(starts_on) - today()).days == days  # (would only fail around a 29 February)
    return council.create_session(session=session, actor=admin, starts_on=starts_on)


def rotation_todos(session, actor):
    return [(i.key, i.count, i.params) for i in collect_todos(session=session, actor=actor) if "rotation" in i.key]


@pytest.mark.parametrize(
    ("days", "key"),
    [(181, None), (180, "todo.rotation_180"), (91, "todo.rotation_180"), (90, "todo.rotation_90"),
     (1, "todo.rotation_90")],
)  # fmt: skip
def test_the_rotation_reminder_comes_180_and_90_days_before_the_sessions_end(session, admin, staff, days, key):
    session_ending_in(session, admin, days)
    expected = [] if key is None else [(key, days, {"number": 2})]
    assert rotation_todos(session, staff) == expected
    assert rotation_todos(session, admin) == expected


def test_council_users_see_the_rotation_reminder_and_viewers_do_not(session, admin, make_actor):
    session_ending_in(session, admin, 60)
    assert rotation_todos(session, make_actor(Role.COUNCIL)) == [("todo.rotation_90", 60, {"number": 2})]
    assert rotation_todos(session, make_actor(Role.VIEWER)) == []


def test_no_rotation_reminder_once_the_next_session_exists(session, admin, staff):
    first_id = session_ending_in(session, admin, 90)
    ends_on = session.scalar(select(CouncilSession.ends_on).where(CouncilSession.id == first_id))
    council.create_session(session=session, actor=admin, starts_on=ends_on)
    assert rotation_todos(session, staff) == []


def test_no_rotation_reminder_without_a_session(session, staff):
    assert rotation_todos(session, staff) == []


def meeting_todos(session, actor):
    return [(i.key, i.count) for i in collect_todos(session=session, actor=actor) if i.key.startswith("todo.meeting")]


def test_the_meeting_reminder_counts_meetings_in_the_next_14_days(session, staff, make_actor):
    for offset in (-2, 3, 13, 20, 40):
        meetings.create_meeting(session=session, actor=staff,
                                data=meeting_input(starts_at=at(today() + timedelta(days=offset))))  # fmt: skip
    assert meeting_todos(session, staff) == [("todo.meetings_upcoming", 2)]
    assert meeting_todos(session, make_actor(Role.COUNCIL)) == [("todo.meetings_upcoming", 2)]
    assert meeting_todos(session, make_actor(Role.VIEWER)) == []


def test_no_meeting_reminder_without_a_meeting_soon(session, staff):
    meetings.create_meeting(session=session, actor=staff,
                            data=meeting_input(starts_at=at(today() + timedelta(days=30))))  # fmt: skip
    assert meeting_todos(session, staff) == []


# ---------------------------------------------------------------- the database refuses bad rows itself


RAW_TERM = text(
    "INSERT INTO council_terms (session_id, seat, organisation_id, representative, starts_on, ends_on, source,"
    " status, ended_reason, version, created_at, updated_at) VALUES (:session_id, :seat, :org, '', :starts_on,"
    " :ends_on, 'invited', 'active', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def raw(session, statement, params) -> None:
    with write_scope("test: raw SQL"), session.begin_nested():
        session.execute(statement, params)


def refused(session, statement, params) -> None:
    with pytest.raises(DBAPIError):
        raw(session, statement, params)


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(TODAY - timedelta(days=1), END), (START + timedelta(days=10), START + timedelta(days=20)), (START, END),
     (TODAY - timedelta(days=1), TODAY)],
    ids=["overlaps_by_a_day", "inside", "the_same_period", "the_last_day"],
)  # fmt: skip
def test_the_database_refuses_a_second_holder_of_a_seat_in_an_overlapping_period(
    session, staff, units, first, starts_on, ends_on
):
    resign(session, staff, seat(session, staff, first, 1, units[0]))  # held [START, TODAY)
    refused(session, RAW_TERM, {"session_id": first, "seat": 1, "org": units[1], "starts_on": starts_on,
                                "ends_on": ends_on})  # fmt: skip
    assert count(session, CouncilTerm) == 1
    raw(session, RAW_TERM, {"session_id": first, "seat": 1, "org": units[1], "starts_on": TODAY, "ends_on": END})
    assert count(session, CouncilTerm) == 2


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(START - timedelta(days=1), END), (START, END + timedelta(days=1)), (END, END + timedelta(days=30))],
    ids=["starts_before", "ends_after", "after"],
)
def test_the_database_refuses_a_term_outside_its_session(session, units, first, starts_on, ends_on):
    refused(session, RAW_TERM, {"session_id": first, "seat": 1, "org": units[0], "starts_on": starts_on,
                                "ends_on": ends_on})  # fmt: skip
    assert count(session, CouncilTerm) == 0


RAW_ATTENDANCE = text(
    "INSERT INTO meeting_attendance (meeting_id, organisation_id, status, proxy) VALUES (:m, :org, :status, '')"
)
RAW_VOTE = text("INSERT INTO decision_votes (decision_id, organisation_id, vote) VALUES (:d, :org, :vote)")


@pytest.mark.parametrize("status", ["late", "", "PRESENT", "出席"])
def test_the_database_refuses_an_attendance_status_outside_the_allowed_values(session, staff, units, status):
    meeting_id = meetings.create_meeting(session=session, actor=staff, data=meeting_input())
    refused(session, RAW_ATTENDANCE, {"m": meeting_id, "org": units[0], "status": status})
    raw(session, RAW_ATTENDANCE, {"m": meeting_id, "org": units[0], "status": "present"})
    refused(session, RAW_ATTENDANCE, {"m": meeting_id, "org": units[0], "status": "absent"})  # one row per unit


def test_the_database_refuses_two_votes_of_one_unit_on_one_decision(session, staff, units, seated):
    meeting_id = held_meeting(session, staff, units, ["present", "present"])
    decision_id = meetings.record_decision(session=session, actor=staff, meeting_id=meeting_id, expected_version=2,
                                           title="决议", text="", votes={units[0]: "agree"})  # fmt: skip
    refused(session, RAW_VOTE, {"d": decision_id, "org": units[0], "vote": "oppose"})
    refused(session, RAW_VOTE, {"d": decision_id, "org": units[1], "vote": "yes"})
    raw(session, RAW_VOTE, {"d": decision_id, "org": units[1], "vote": "abstain"})
    votes = session.execute(
        text("SELECT organisation_id, vote FROM decision_votes WHERE decision_id = :d ORDER BY organisation_id"),
        {"d": decision_id},
    ).all()
    assert [tuple(v) for v in votes] == sorted([(units[0], "agree"), (units[1], "abstain")])


def test_a_term_ends_early_only_once_and_only_before_its_own_end(session, staff, units, seated):
    term = seated[0]
    version = session.scalar(select(CouncilTerm.version).where(CouncilTerm.id == term))
    end = session.scalar(select(CouncilTerm.ends_on).where(CouncilTerm.id == term))
    with pytest.raises(ValidationError) as at_end:
        council.end_term_early(session=session, actor=staff, term_id=term, expected_version=version, ends_on=end,
                               reason="任期届满")  # fmt: skip
    assert at_end.value.key == "validation.end_outside_term"
    council.end_term_early(session=session, actor=staff, term_id=term, expected_version=version, ends_on=TODAY,
                           reason="辞任")  # fmt: skip
    with pytest.raises(ValidationError) as again:
        council.end_term_early(session=session, actor=staff, term_id=term, expected_version=version + 1,
                               ends_on=TODAY + timedelta(days=1), reason="再次辞任")  # fmt: skip
    assert again.value.key == "validation.term_already_ended"


def test_an_overdue_rotation_is_the_reminder_of_the_secretariat_and_the_council(session, admin, make_actor):
    from db.services.todos import collect_todos

    ended = today() - timedelta(days=3)
    council.create_session(session=session, actor=admin, starts_on=add_years(ended, -3))
    staff = make_actor(Role.SECRETARIAT)
    items = {i.key: i for i in collect_todos(session=session, actor=staff)}
    assert items["todo.rotation_overdue"].count == 3 and items["todo.rotation_overdue"].params == {"number": 2}
    viewer = make_actor(Role.VIEWER)
    assert "todo.rotation_overdue" not in {i.key for i in collect_todos(session=session, actor=viewer)}
