"""The activity calendar's services on both databases: creating activities and series, editing on the version
seen, capacity and the waitlist counted in people, invitations, cancelling, outcomes, double bookings, the month
cells, the list with its filters and totals, who may do what, and the audit trail of every write."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, text

from db.base import UTCDateTime, utcnow
from db.services import activities as svc
from db.services import organisations
from db.services.access import WRITE_SERVICES
from db.services.activities import ActivityFilters, ActivityInput
from db.services.todos import collect_todos
from domain.activities import Outcome
from domain.clock import SHANGHAI, today
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.roles import ANONYMOUS, Role
from tests.conftest import TODAY, org_input

FUTURE = date(2030, 6, 3)  # a Monday, years after any clock these tests run on
PAST = date(2026, 3, 2)  # before the day this calendar was written


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def activity_input(
    title: str = "骨干培训", *, day: date = FUTURE, hour: int = 9, hours: float = 3, **overrides: object
) -> ActivityInput:
    starts_at = overrides.pop("starts_at", at(day, hour))
    assert isinstance(starts_at, datetime)
    values: dict[str, object] = {
        "title": title,
        "category": "training",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=hours),
        "province": "北京",
        "place": "北京市生态环境宣传教育中心",
    }
    values.update(overrides)
    return ActivityInput(**values)  # type: ignore[arg-type]


def new_unit(session, admin, name: str) -> int:
    return organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )


@pytest.fixture
def staff(make_actor):
    return make_actor(Role.SECRETARIAT)


@pytest.fixture
def units(session, admin) -> list[int]:
    return [new_unit(session, admin, f"活动单位{i}") for i in range(8)]


def create(session, actor, data: ActivityInput | None = None, **kw) -> int:
    ids = svc.create_activity(session=session, actor=actor, data=data or activity_input(), **kw)
    assert len(ids) == 1
    return ids[0]


def sign(session, actor, activity_id: int, unit: int, people: int = 1, kind: str = "signup") -> svc.SignupResult:
    return svc.add_signup(
        session=session, actor=actor, activity_id=activity_id, organisation_id=unit, people=people, kind=kind
    )


def version_of(session, table: str, record_id: int) -> int:
    return session.execute(text(f"SELECT version FROM {table} WHERE id = :id"), {"id": record_id}).scalar_one()


def withdraw(session, actor, signup_id: int, reason: str = "") -> list[int]:
    return svc.cancel_signup(
        session=session,
        actor=actor,
        signup_id=signup_id,
        expected_version=version_of(session, "signups", signup_id),
        reason=reason,
    )


def live_signups(session, activity_id: int) -> dict[int, tuple[str, int]]:
    """Unit → (status, people) of the sign-ups not withdrawn, read by hand."""
    rows = session.execute(
        text("SELECT organisation_id, status, people FROM signups WHERE activity_id = :a AND status <> 'cancelled'"),
        {"a": activity_id},
    )
    return {r.organisation_id: (r.status, r.people) for r in rows}


def confirmed_people(session, activity_id: int) -> int:
    return session.execute(
        text("SELECT COALESCE(SUM(people), 0) FROM signups WHERE activity_id = :a AND status = 'confirmed'"),
        {"a": activity_id},
    ).scalar_one()


ROW = (
    "title, category, organiser_id, starts_at, ends_at, place, place_key, province, online, online_link, "
    "description, capacity, series_id, cancelled_at, cancel_reason, volunteers, service_hours, outcome_summary, "
    "outcome_link, outcome_at, version, updated_at"
)


def row(session, activity_id: int):
    return session.execute(text(f"SELECT {ROW} FROM activities WHERE id = :id"), {"id": activity_id}).one()


def co_organisers(session, activity_id: int) -> list[int]:
    return list(
        session.scalars(
            text("SELECT organisation_id FROM activity_co_organisers WHERE activity_id = :a ORDER BY organisation_id"),
            {"a": activity_id},
        )
    )


def count(session, table: str) -> int:
    return session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def audits(session, action: str, record_id: int | None = None) -> int:
    sql = "SELECT COUNT(*) FROM audit_entries WHERE action = :action"
    params: dict[str, object] = {"action": action}
    if record_id is not None:
        sql += " AND record_id = :record_id"
        params["record_id"] = str(record_id)
    return session.execute(text(sql), params).scalar_one()


def refused(call, **kwargs) -> ValidationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        call(**kwargs)
    return err.value


def stored_times(session, activity_id: int) -> tuple[datetime, datetime]:
    """Start and end as stored, read by hand and made aware (SQLite keeps the UTC text without its zone)."""
    sql = text("SELECT starts_at, ends_at FROM activities WHERE id = :id").columns(
        starts_at=UTCDateTime(), ends_at=UTCDateTime()
    )
    found = session.execute(sql, {"id": activity_id}).one()
    return found.starts_at, found.ends_at


# ---------------------------------------------------------------- creating


def test_an_activity_is_created_with_its_organiser_and_co_organisers(session, staff, units):
    data = activity_input(
        "  长江大保护骨干培训  ",
        organiser_id=units[0],
        co_organiser_ids=(units[2], units[1], units[2]),
        place="  北京市 朝阳区　ＡＢＣ会议室 ",
        capacity=30,
        description="第一天理论，第二天实践",
    )
    activity_id = create(session, staff, data)
    stored = row(session, activity_id)
    expected = {
        "title": "长江大保护骨干培训",
        "category": "training",
        "organiser_id": units[0],
        "place": "北京市 朝阳区　ＡＢＣ会议室",
        "place_key": "北京市朝阳区abc会议室",
        "province": "北京",
        "capacity": 30,
        "series_id": None,
        "cancelled_at": None,
        "version": 1,
    }
    assert {key: getattr(stored, key) for key in expected} == expected
    assert not stored.online
    assert stored_times(session, activity_id) == (at(FUTURE, 9), at(FUTURE, 12))
    assert co_organisers(session, activity_id) == sorted([units[1], units[2]])
    detail = svc.get_activity(session=session, actor=staff, activity_id=activity_id)
    assert detail.organiser == "活动单位0"
    assert sorted(detail.co_organisers) == sorted([(units[1], "活动单位1"), (units[2], "活动单位2")])
    assert detail.status == "planned" and detail.signups == []
    assert audits(session, "activity.create", activity_id) == 1


def test_the_secretariat_may_organise_an_online_activity_itself(session, staff):
    activity_id = create(
        session,
        staff,
        activity_input(online=True, online_link="https://meeting.example.org/j/1", place="", province="全国"),
    )
    stored = row(session, activity_id)
    assert (stored.organiser_id, bool(stored.online), stored.online_link, stored.place, stored.place_key) == (
        None,
        True,
        "https://meeting.example.org/j/1",
        "",
        "",
    )
    assert co_organisers(session, activity_id) == []


def test_an_activity_may_be_recorded_after_it_happened(session, staff):
    activity_id = create(session, staff, activity_input(day=PAST))
    assert stored_times(session, activity_id)[0] == at(PAST, 9)
    assert svc.get_activity(session=session, actor=staff, activity_id=activity_id).status == "finished"


@dataclass
class Units:
    member: int
    other: int
    suspended: int
    exited: int


@pytest.fixture
def unit_kinds(session, admin) -> Units:
    kinds = Units(*(new_unit(session, admin, f"状态单位{i}") for i in range(4)))
    for unit, status in ((kinds.suspended, "suspended"), (kinds.exited, "exited")):
        organisations.set_organisation_status(
            session=session, actor=admin, organisation_id=unit, expected_version=1, status=status, reason="理由"
        )
    return kinds


BAD_ACTIVITIES = {
    "suspended organiser": (
        lambda u: activity_input(organiser_id=u.suspended),
        "validation.activity_unit_not_member",
        "organiser",
    ),
    "exited organiser": (
        lambda u: activity_input(organiser_id=u.exited),
        "validation.activity_unit_not_member",
        "organiser",
    ),
    "suspended co-organiser": (
        lambda u: activity_input(organiser_id=u.member, co_organiser_ids=(u.other, u.suspended)),
        "validation.activity_unit_not_member",
        "co_organisers",
    ),
    "exited co-organiser": (
        lambda u: activity_input(co_organiser_ids=(u.exited,)),
        "validation.activity_unit_not_member",
        "co_organisers",
    ),
    "unknown organiser": (lambda u: activity_input(organiser_id=987_654), "validation.choice", "organiser"),
    "unknown co-organiser": (
        lambda u: activity_input(co_organiser_ids=(987_654,)),
        "validation.choice",
        "co_organisers",
    ),
    "organiser as co-organiser": (
        lambda u: activity_input(organiser_id=u.member, co_organiser_ids=(u.other, u.member)),
        "validation.co_organiser_is_organiser",
        "co_organisers",
    ),
    "online without link": (
        lambda u: activity_input(online=True, online_link="", place=""),
        "validation.required",
        "online_link",
    ),
    "online with blank link": (
        lambda u: activity_input(online=True, online_link="   ", place="会议室"),
        "validation.required",
        "online_link",
    ),
    "offline without place": (lambda u: activity_input(place=""), "validation.place_or_link", "place"),
    "offline with blank place": (lambda u: activity_input(place=" \u3000 "), "validation.place_or_link", "place"),
    "javascript link": (
        lambda u: activity_input(online=True, online_link="javascript:alert(1)"),
        "validation.website_invalid",
        "online_link",
    ),
    "empty title": (lambda u: activity_input("   "), "validation.required", "title"),
    "title too long": (lambda u: activity_input("培" * 201), "validation.too_long", "title"),
    "unknown category": (lambda u: activity_input(category="party"), "validation.choice", "category"),
    "unknown province": (lambda u: activity_input(province="Beijing"), "validation.choice", "province"),
    "end before start": (lambda u: activity_input(hours=-1), "validation.end_before_start", "ends_at"),
    "no length": (lambda u: activity_input(hours=0), "validation.end_before_start", "ends_at"),
    "naive start": (
        lambda u: activity_input(starts_at=datetime(2030, 6, 3, 9)),
        "validation.date_invalid",
        "starts_at",
    ),
    "longer than 92 days": (lambda u: activity_input(hours=93 * 24), "validation.activity_too_long", "ends_at"),
    "capacity zero": (lambda u: activity_input(capacity=0), "validation.number_range", "capacity"),
    "control characters": (lambda u: activity_input("培训\x00"), "validation.control_characters", "title"),
}


@pytest.mark.parametrize("case", sorted(BAD_ACTIVITIES))
def test_a_bad_activity_is_refused_and_writes_nothing(session, staff, unit_kinds, case):
    build, key, field = BAD_ACTIVITIES[case]
    before = (count(session, "activities"), count(session, "activity_co_organisers"), count(session, "audit_entries"))
    error = refused(svc.create_activity, session=session, actor=staff, data=build(unit_kinds))
    assert (error.key, error.field) == (key, field)
    assert (
        count(session, "activities"),
        count(session, "activity_co_organisers"),
        count(session, "audit_entries"),
    ) == before


def test_a_title_with_emoji_html_and_sql_is_stored_as_typed(session, staff):
    title = "🌱 <b>净滩</b>'; DROP TABLE activities; -- 100%"
    activity_id = create(session, staff, activity_input(title))
    assert row(session, activity_id).title == title


def test_a_weekly_series_creates_one_record_per_week_sharing_a_series_id(session, staff, units):
    data = activity_input(organiser_id=units[0], co_organiser_ids=(units[1],), hour=19, hours=2)
    ids = svc.create_activity(session=session, actor=staff, data=data, repeat="weekly", count=3)
    assert len(ids) == 3
    rows = session.execute(
        text("SELECT id, series_id FROM activities WHERE id IN (:a, :b, :c) ORDER BY starts_at"),
        dict(zip("abc", ids, strict=True)),
    ).all()
    assert [r.id for r in rows] == ids
    series = {r.series_id for r in rows}
    assert len(series) == 1 and None not in series and len(next(iter(series))) == 32
    assert [stored_times(session, i) for i in ids] == [
        (at(FUTURE + timedelta(weeks=n), 19), at(FUTURE + timedelta(weeks=n), 21)) for n in range(3)
    ]
    assert [co_organisers(session, i) for i in ids] == [[units[1]]] * 3
    assert [audits(session, "activity.create", i) for i in ids] == [1, 1, 1]


def test_a_monthly_series_from_the_31st_falls_on_each_months_last_day(session, staff):
    data = activity_input(starts_at=at(date(2031, 1, 31), 19, 30), hours=1)
    ids = svc.create_activity(session=session, actor=staff, data=data, repeat="monthly", count=4)
    starts = [stored_times(session, i)[0].astimezone(SHANGHAI) for i in ids]
    assert [s.date() for s in starts] == [date(2031, 1, 31), date(2031, 2, 28), date(2031, 3, 31), date(2031, 4, 30)]
    assert {(s.hour, s.minute) for s in starts} == {(19, 30)}
    assert len({row(session, i).series_id for i in ids}) == 1


def test_two_series_do_not_share_an_id_and_a_single_activity_has_none(session, staff):
    first = svc.create_activity(session=session, actor=staff, data=activity_input(), repeat="weekly", count=2)
    second = svc.create_activity(session=session, actor=staff, data=activity_input(), repeat="monthly", count=2)
    single = svc.create_activity(session=session, actor=staff, data=activity_input(), repeat="none", count=7)
    assert len(single) == 1 and row(session, single[0]).series_id is None
    assert row(session, first[0]).series_id != row(session, second[0]).series_id


@pytest.mark.parametrize(
    ("repeat", "number", "key"),
    [
        ("weekly", 1, "validation.series_count"),
        ("monthly", 53, "validation.series_count"),
        ("daily", 3, "validation.choice"),
    ],
)
def test_a_bad_series_is_refused_and_writes_nothing(session, staff, repeat, number, key):
    before = count(session, "activities")
    error = refused(
        svc.create_activity, session=session, actor=staff, data=activity_input(), repeat=repeat, count=number
    )
    assert error.key == key
    assert count(session, "activities") == before


# ---------------------------------------------------------------- editing


def test_an_edit_saves_the_new_values_and_raises_the_version(session, staff, units):
    activity_id = create(session, staff, activity_input(organiser_id=units[0], co_organiser_ids=(units[1],)))
    edited = activity_input(
        "改名后的培训",
        organiser_id=units[0],
        co_organiser_ids=(units[2], units[3]),
        place="上海",
        province="上海",
        hours=5,
    )
    assert (
        svc.update_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, data=edited) == 2
    )
    stored = row(session, activity_id)
    assert (stored.title, stored.place, stored.place_key, stored.province, stored.version) == (
        "改名后的培训",
        "上海",
        "上海",
        "上海",
        2,
    )
    assert stored_times(session, activity_id) == (at(FUTURE, 9), at(FUTURE, 14))
    assert co_organisers(session, activity_id) == sorted([units[2], units[3]])
    assert audits(session, "activity.update", activity_id) == 1


def test_an_edit_on_a_stale_version_raises_and_leaves_the_row_unchanged(session, staff, units):
    activity_id = create(session, staff, activity_input(organiser_id=units[0], co_organiser_ids=(units[1],)))
    svc.update_activity(
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=1,
        data=activity_input("第一次修改", organiser_id=units[0], co_organiser_ids=(units[1],)),
    )
    before, before_co, entries = (
        row(session, activity_id),
        co_organisers(session, activity_id),
        count(session, "audit_entries"),
    )
    with pytest.raises(StaleRecord):
        svc.update_activity(
            session=session,
            actor=staff,
            activity_id=activity_id,
            expected_version=1,
            data=activity_input("他人覆盖", capacity=3, co_organiser_ids=(units[4],)),
        )
    assert row(session, activity_id) == before
    assert co_organisers(session, activity_id) == before_co == [units[1]]
    assert count(session, "audit_entries") == entries


def test_an_edit_of_a_cancelled_or_missing_activity_is_refused(session, staff):
    activity_id = create(session, staff)
    svc.cancel_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="场地不可用")
    error = refused(
        svc.update_activity,
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=2,
        data=activity_input("复活"),
    )
    assert error.key == "validation.activity_cancelled"
    with pytest.raises(NotFound):
        svc.update_activity(
            session=session, actor=staff, activity_id=987_654, expected_version=1, data=activity_input()
        )


def test_an_edit_is_checked_like_a_new_activity(session, staff, unit_kinds):
    activity_id = create(session, staff)
    error = refused(
        svc.update_activity,
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=1,
        data=activity_input(organiser_id=unit_kinds.suspended),
    )
    assert error.key == "validation.activity_unit_not_member"
    assert row(session, activity_id).version == 1


def test_lowering_the_capacity_below_the_people_confirmed_is_refused(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=10))
    sign(session, staff, activity_id, units[0], 3)
    sign(session, staff, activity_id, units[1], 4)
    error = refused(
        svc.update_activity,
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=1,
        data=activity_input(capacity=6),
    )
    assert (error.key, error.field, error.params) == ("validation.capacity_below_confirmed", "capacity", {"people": 7})
    assert (row(session, activity_id).capacity, row(session, activity_id).version) == (10, 1)
    assert (
        svc.update_activity(
            session=session, actor=staff, activity_id=activity_id, expected_version=1, data=activity_input(capacity=7)
        )
        == 2
    )


def test_raising_the_capacity_promotes_the_waitlist_in_order(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    sign(session, staff, activity_id, units[0], 3)
    waiting = [sign(session, staff, activity_id, units[n], people) for n, people in ((1, 3), (2, 1), (3, 2))]
    assert [w.status for w in waiting] == ["waitlisted"] * 3
    svc.update_activity(
        session=session, actor=staff, activity_id=activity_id, expected_version=1, data=activity_input(capacity=8)
    )
    # 3 + 3 + 1 = 7 of 8: the group of two at the back still waits
    assert live_signups(session, activity_id) == {
        units[0]: ("confirmed", 3),
        units[1]: ("confirmed", 3),
        units[2]: ("confirmed", 1),
        units[3]: ("waitlisted", 2),
    }
    assert [audits(session, "signup.promote", w.id) for w in waiting] == [1, 1, 0]
    assert [version_of(session, "signups", w.id) for w in waiting] == [2, 2, 1]


def test_a_waiting_group_larger_than_a_lowered_capacity_does_not_block_the_queue_for_ever(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=10))
    first = sign(session, staff, activity_id, units[0], 5)
    assert sign(session, staff, activity_id, units[1], 8).status == "waitlisted"
    assert sign(session, staff, activity_id, units[2], 1).status == "waitlisted"
    try:
        svc.update_activity(
            session=session, actor=staff, activity_id=activity_id, expected_version=1, data=activity_input(capacity=6)
        )
    except ValidationError as refusal:  # refusing a capacity below a waiting group is one good answer
        assert refusal.field == "capacity" and row(session, activity_id).capacity == 10
        return
    withdraw(session, staff, first.id)
    # six places free and a single person waiting: the single person gets one
    assert live_signups(session, activity_id)[units[2]] == ("confirmed", 1)


def test_removing_the_capacity_promotes_everyone_waiting(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=1))
    for n in range(4):
        sign(session, staff, activity_id, units[n], 1)
    svc.update_activity(
        session=session, actor=staff, activity_id=activity_id, expected_version=1, data=activity_input(capacity=None)
    )
    assert {status for status, _ in live_signups(session, activity_id).values()} == {"confirmed"}


# ---------------------------------------------------------------- sign-ups and the waitlist


def test_signups_are_confirmed_while_places_last_then_waitlisted_counting_people(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    assert sign(session, staff, activity_id, units[0], 3).status == "confirmed"
    assert sign(session, staff, activity_id, units[1], 3).status == "waitlisted"
    # one place would be left for a single person, but nobody overtakes the group of three waiting
    assert sign(session, staff, activity_id, units[2], 1).status == "waitlisted"
    detail = svc.get_activity(session=session, actor=staff, activity_id=activity_id)
    assert (detail.confirmed_people, detail.waitlisted_people) == (3, 4)
    assert [(s.organisation_id, s.status, s.position) for s in detail.signups] == [
        (units[0], "confirmed", None),
        (units[1], "waitlisted", 1),
        (units[2], "waitlisted", 2),
    ]


def test_a_group_that_exactly_fills_the_last_places_is_confirmed(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    assert [sign(session, staff, activity_id, units[n], p).status for n, p in ((0, 3), (1, 2), (2, 1))] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]


def test_without_a_capacity_every_signup_is_confirmed(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=None))
    assert {sign(session, staff, activity_id, units[n], 10_000).status for n in range(3)} == {"confirmed"}


def test_withdrawing_a_confirmed_signup_promotes_the_head_of_the_waitlist_and_returns_its_unit(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    sign(session, staff, activity_id, units[0], 3)
    held = sign(session, staff, activity_id, units[1], 2)
    for n, people in ((2, 2), (3, 1)):
        sign(session, staff, activity_id, units[n], people)
    assert withdraw(session, staff, held.id, "单位另有安排") == [units[2]]
    assert live_signups(session, activity_id) == {
        units[0]: ("confirmed", 3),
        units[2]: ("confirmed", 2),
        units[3]: ("waitlisted", 1),
    }
    cancelled = session.execute(
        text("SELECT status, cancel_reason, cancelled_at, version FROM signups WHERE id = :id"), {"id": held.id}
    ).one()
    assert (cancelled.status, cancelled.cancel_reason, cancelled.cancelled_at is not None, cancelled.version) == (
        "cancelled",
        "单位另有安排",
        True,
        2,
    )


def test_a_freed_place_moves_up_every_group_that_fits_in_order(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    held = sign(session, staff, activity_id, units[0], 3)
    sign(session, staff, activity_id, units[1], 2)
    for n, people in ((2, 2), (3, 1), (4, 3), (5, 1)):
        sign(session, staff, activity_id, units[n], people)
    # 2 confirmed + 2 + 1 = 5: the group of three stops the queue, the single behind it waits
    assert withdraw(session, staff, held.id) == [units[2], units[3]]
    assert confirmed_people(session, activity_id) == 5
    assert live_signups(session, activity_id)[units[5]] == ("waitlisted", 1)


def test_a_freed_place_too_small_for_the_head_of_the_waitlist_moves_nobody(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    held = sign(session, staff, activity_id, units[0], 2)
    sign(session, staff, activity_id, units[1], 3)
    sign(session, staff, activity_id, units[2], 4)
    sign(session, staff, activity_id, units[3], 1)
    assert withdraw(session, staff, held.id) == []
    assert live_signups(session, activity_id) == {
        units[1]: ("confirmed", 3),
        units[2]: ("waitlisted", 4),
        units[3]: ("waitlisted", 1),
    }
    assert audits(session, "signup.promote") == 0


def test_withdrawing_a_waitlisted_signup_promotes_nobody(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=3))
    sign(session, staff, activity_id, units[0], 3)
    waiting = sign(session, staff, activity_id, units[1], 1)
    sign(session, staff, activity_id, units[2], 1)
    assert withdraw(session, staff, waiting.id) == []
    assert live_signups(session, activity_id) == {units[0]: ("confirmed", 3), units[2]: ("waitlisted", 1)}


def test_withdrawing_the_waitlisted_group_that_blocks_the_queue_moves_up_those_behind_it(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    sign(session, staff, activity_id, units[0], 3)
    blocking = sign(session, staff, activity_id, units[1], 3)
    sign(session, staff, activity_id, units[2], 1)
    assert withdraw(session, staff, blocking.id) == [units[2]]
    assert live_signups(session, activity_id) == {units[0]: ("confirmed", 3), units[2]: ("confirmed", 1)}


def test_a_unit_cannot_hold_two_live_signups_on_one_activity(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=10))
    sign(session, staff, activity_id, units[0], 2)
    for kind in ("signup", "invitation"):
        error = refused(
            svc.add_signup,
            session=session,
            actor=staff,
            activity_id=activity_id,
            organisation_id=units[0],
            people=1,
            kind=kind,
        )
        assert (error.key, error.field) == ("validation.signup_exists", "organisation")
    invited = create(session, staff, activity_input(capacity=10))
    sign(session, staff, invited, units[0], 1, kind="invitation")
    assert (
        refused(
            svc.add_signup, session=session, actor=staff, activity_id=invited, organisation_id=units[0], people=1
        ).key
        == "validation.signup_exists"
    )
    assert count(session, "signups") == 2


def test_a_unit_may_sign_up_again_after_withdrawing_and_goes_to_the_back(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=2))
    first = sign(session, staff, activity_id, units[0], 2)
    assert withdraw(session, staff, first.id) == []
    assert sign(session, staff, activity_id, units[1], 2).status == "confirmed"
    again = sign(session, staff, activity_id, units[0], 1)
    assert again.status == "waitlisted" and again.id != first.id
    assert (
        session.execute(text("SELECT COUNT(*) FROM signups WHERE organisation_id = :u"), {"u": units[0]}).scalar_one()
        == 2
    )


def test_invitations_take_no_place(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=2))
    invitation = sign(session, staff, activity_id, units[0], 50, kind="invitation")
    assert invitation.status == "invited"
    assert sign(session, staff, activity_id, units[1], 2).status == "confirmed"
    assert sign(session, staff, activity_id, units[2], 1).status == "waitlisted"
    assert confirmed_people(session, activity_id) == 2
    assert withdraw(session, staff, invitation.id) == []
    assert live_signups(session, activity_id)[units[2]] == ("waitlisted", 1)


def test_a_group_larger_than_the_whole_activity_is_refused_and_writes_nothing(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    error = refused(
        svc.add_signup, session=session, actor=staff, activity_id=activity_id, organisation_id=units[0], people=6
    )
    assert (error.key, error.params) == ("validation.people_over_capacity", {"capacity": 5})
    assert (
        refused(
            svc.add_signup, session=session, actor=staff, activity_id=activity_id, organisation_id=units[0], people=0
        ).key
        == "validation.number_range"
    )
    assert count(session, "signups") == 0


def test_signups_are_refused_on_a_cancelled_activity(session, staff, units):
    activity_id = create(session, staff)
    svc.cancel_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="暴雨预警")
    for kind in ("signup", "invitation"):
        error = refused(
            svc.add_signup,
            session=session,
            actor=staff,
            activity_id=activity_id,
            organisation_id=units[0],
            people=1,
            kind=kind,
        )
        assert error.key == "validation.activity_cancelled"
    assert count(session, "signups") == 0


def test_signups_are_refused_on_a_finished_activity(session, staff, units):
    activity_id = create(session, staff, activity_input(day=PAST))
    just_over = create(session, staff, activity_input(starts_at=utcnow() - timedelta(hours=2), hours=2))
    for target in (activity_id, just_over):
        for kind in ("signup", "invitation"):
            error = refused(
                svc.add_signup,
                session=session,
                actor=staff,
                activity_id=target,
                organisation_id=units[0],
                people=1,
                kind=kind,
            )
            assert error.key == "validation.activity_over"
    assert count(session, "signups") == 0


def test_an_activity_under_way_still_takes_signups(session, staff, units):
    activity_id = create(session, staff, activity_input(starts_at=utcnow() - timedelta(days=1), hours=72))
    assert sign(session, staff, activity_id, units[0]).status == "confirmed"


def test_a_unit_that_is_not_a_member_cannot_sign_up(session, staff, unit_kinds):
    activity_id = create(session, staff)
    for unit, key in (
        (unit_kinds.suspended, "validation.activity_unit_not_member"),
        (unit_kinds.exited, "validation.activity_unit_not_member"),
        (987_654, "validation.choice"),
    ):
        error = refused(
            svc.add_signup, session=session, actor=staff, activity_id=activity_id, organisation_id=unit, people=1
        )
        assert (error.key, error.field) == (key, "organisation")
    assert count(session, "signups") == 0


def test_a_signup_of_an_unknown_kind_or_with_a_bad_note_is_refused(session, staff, units):
    activity_id = create(session, staff)
    assert (
        refused(
            svc.add_signup,
            session=session,
            actor=staff,
            activity_id=activity_id,
            organisation_id=units[0],
            people=1,
            kind="walk_in",
        ).key
        == "validation.choice"
    )
    assert (
        refused(
            svc.add_signup,
            session=session,
            actor=staff,
            activity_id=activity_id,
            organisation_id=units[0],
            people=1,
            note="备" * 501,
        ).key
        == "validation.too_long"
    )
    assert count(session, "signups") == 0


def test_a_signup_for_an_activity_that_does_not_exist_is_not_found(session, staff, units):
    with pytest.raises(NotFound):
        sign(session, staff, 987_654, units[0])


def test_withdrawing_twice_or_on_a_stale_version_is_refused(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=1))
    held = sign(session, staff, activity_id, units[0])
    sign(session, staff, activity_id, units[1])
    with pytest.raises(StaleRecord):
        svc.cancel_signup(session=session, actor=staff, signup_id=held.id, expected_version=2)
    assert live_signups(session, activity_id) == {units[0]: ("confirmed", 1), units[1]: ("waitlisted", 1)}
    assert withdraw(session, staff, held.id) == [units[1]]
    error = refused(svc.cancel_signup, session=session, actor=staff, signup_id=held.id, expected_version=2)
    assert error.key == "validation.signup_cancelled"
    assert audits(session, "signup.promote") == 1 and audits(session, "signup.cancel", held.id) == 1


def test_withdrawing_a_signup_that_does_not_exist_is_not_found(session, staff):
    with pytest.raises(NotFound):
        svc.cancel_signup(session=session, actor=staff, signup_id=987_654, expected_version=1)


def test_withdrawing_after_the_activity_ended_is_refused(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=1))
    held = sign(session, staff, activity_id, units[0])
    sign(session, staff, activity_id, units[1])
    data = svc.get_activity(session=session, actor=staff, activity_id=activity_id).as_input()
    svc.update_activity(
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=1,
        data=replace(data, starts_at=at(PAST), ends_at=at(PAST, 12)),
    )
    error = refused(svc.cancel_signup, session=session, actor=staff, signup_id=held.id, expected_version=1)
    assert error.key == "validation.activity_over"
    assert live_signups(session, activity_id) == {units[0]: ("confirmed", 1), units[1]: ("waitlisted", 1)}


def test_viewers_do_not_receive_signup_notes_or_withdrawal_reasons(session, staff, make_actor, units):
    activity_id = create(session, staff, activity_input(capacity=5))
    svc.add_signup(
        session=session,
        actor=staff,
        activity_id=activity_id,
        organisation_id=units[0],
        people=2,
        note="联系人王芳 13800138000",
    )
    withdrawn = sign(session, staff, activity_id, units[1])
    withdraw(session, staff, withdrawn.id, reason="负责人李雷住院")

    def seen(actor) -> list[tuple[str, str]]:
        detail = svc.get_activity(session=session, actor=actor, activity_id=activity_id)
        return [(s.note, s.cancel_reason) for s in detail.signups]

    typed = [("联系人王芳 13800138000", ""), ("", "负责人李雷住院")]
    assert seen(staff) == typed
    assert seen(make_actor(Role.COUNCIL)) == typed
    assert seen(make_actor(Role.VIEWER)) == [("", ""), ("", "")]


def test_withdrawing_from_a_cancelled_activity_moves_nobody_up(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=1))
    held = sign(session, staff, activity_id, units[0])
    sign(session, staff, activity_id, units[1])
    svc.cancel_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="取消")
    assert withdraw(session, staff, held.id) == []
    assert live_signups(session, activity_id) == {units[1]: ("waitlisted", 1)}


def test_the_signup_picker_offers_member_units_without_a_live_signup(session, staff, units, unit_kinds):
    activity_id = create(session, staff, activity_input(capacity=5))
    held = sign(session, staff, activity_id, units[0])
    sign(session, staff, activity_id, units[1], kind="invitation")
    offered = dict(
        svc.signup_candidates(session=session, actor=staff, activity_id=activity_id, text="活动单位", limit=100)
    )
    assert set(offered) == set(units[2:])
    withdraw(session, staff, held.id)
    offered = dict(svc.signup_candidates(session=session, actor=staff, activity_id=activity_id, text="单位", limit=100))
    assert units[0] in offered and units[1] not in offered
    assert unit_kinds.suspended not in offered and unit_kinds.exited not in offered and unit_kinds.member in offered
    assert svc.signup_candidates(session=session, actor=staff, activity_id=activity_id, text="%") == []


# ---------------------------------------------------------------- cancelling


@pytest.mark.parametrize("reason", ["", "   ", "\u200b"])
def test_cancelling_needs_a_reason(session, staff, reason):
    activity_id = create(session, staff)
    before = row(session, activity_id)
    error = refused(
        svc.cancel_activity, session=session, actor=staff, activity_id=activity_id, expected_version=1, reason=reason
    )
    assert (error.key, error.field) == ("validation.required", "cancel_reason")
    assert row(session, activity_id) == before


def test_an_activity_is_cancelled_once_and_keeps_its_signups(session, staff, units):
    activity_id = create(session, staff, activity_input(capacity=1))
    sign(session, staff, activity_id, units[0])
    sign(session, staff, activity_id, units[1])
    assert (
        svc.cancel_activity(
            session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="  场地不可用  "
        )
        == 2
    )
    stored = row(session, activity_id)
    assert (stored.cancel_reason, stored.cancelled_at is not None, stored.version) == ("场地不可用", True, 2)
    assert svc.get_activity(session=session, actor=staff, activity_id=activity_id).status == "cancelled"
    assert live_signups(session, activity_id) == {units[0]: ("confirmed", 1), units[1]: ("waitlisted", 1)}
    error = refused(
        svc.cancel_activity,
        session=session,
        actor=staff,
        activity_id=activity_id,
        expected_version=2,
        reason="再取消一次",
    )
    assert error.key == "validation.activity_cancelled"
    assert row(session, activity_id) == stored
    assert audits(session, "activity.cancel", activity_id) == 1


def test_cancelling_on_a_stale_version_or_a_missing_activity_is_refused(session, staff):
    activity_id = create(session, staff)
    svc.update_activity(
        session=session, actor=staff, activity_id=activity_id, expected_version=1, data=activity_input("改")
    )
    with pytest.raises(StaleRecord):
        svc.cancel_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="取消")
    assert row(session, activity_id).cancelled_at is None
    with pytest.raises(NotFound):
        svc.cancel_activity(session=session, actor=staff, activity_id=987_654, expected_version=1, reason="取消")


# ---------------------------------------------------------------- outcome


def record(session, actor, activity_id, volunteers=10, hours="25", version=1, **kw) -> int:
    return svc.record_outcome(
        session=session,
        actor=actor,
        activity_id=activity_id,
        expected_version=version,
        outcome=Outcome(volunteers=volunteers, service_hours=Decimal(hours), **kw),
    )


def test_an_outcome_is_recorded_once_the_activity_has_begun(session, staff):
    activity_id = create(session, staff, activity_input(day=PAST))
    assert (
        record(session, staff, activity_id, 10, "25.46", summary="清理垃圾 200 公斤", link="https://example.org/news/1")
        == 2
    )
    stored = row(session, activity_id)
    assert (
        stored.volunteers,
        float(stored.service_hours),
        stored.outcome_summary,
        stored.outcome_link,
        stored.outcome_at is not None,
        stored.version,
    ) == (10, 25.5, "清理垃圾 200 公斤", "https://example.org/news/1", True, 2)
    assert audits(session, "activity.outcome", activity_id) == 1
    # a correction replaces it
    assert record(session, staff, activity_id, 8, "20", version=2) == 3
    assert (row(session, activity_id).volunteers, float(row(session, activity_id).service_hours)) == (8, 20.0)


def test_an_outcome_may_be_recorded_while_the_activity_is_under_way(session, staff):
    activity_id = create(session, staff, activity_input(starts_at=utcnow() - timedelta(hours=1), hours=4))
    assert record(session, staff, activity_id, 2, "1") == 2


def test_an_outcome_is_refused_before_the_activity_starts(session, staff):
    activity_id = create(session, staff)
    before = row(session, activity_id)
    assert refused(record, session=session, actor=staff, activity_id=activity_id).key == (
        "validation.outcome_before_start"
    )
    assert row(session, activity_id) == before


def test_an_outcome_is_refused_on_a_cancelled_activity(session, staff):
    activity_id = create(session, staff, activity_input(day=PAST))
    svc.cancel_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, reason="未举办")
    before = row(session, activity_id)
    error = refused(record, session=session, actor=staff, activity_id=activity_id, version=2)
    assert error.key == "validation.activity_cancelled"
    assert row(session, activity_id) == before


@pytest.mark.parametrize(
    ("volunteers", "hours", "kw", "key"),
    [
        (2, "6.1", {}, "validation.hours_over_span"),
        (-1, "0", {}, "validation.number_range"),
        (2, "-1", {}, "validation.number_invalid"),
        (2, "1", {"link": "javascript:alert(1)"}, "validation.website_invalid"),
    ],
)
def test_a_bad_outcome_is_refused_and_writes_nothing(session, staff, volunteers, hours, kw, key):
    activity_id = create(session, staff, activity_input(day=PAST, hours=3))
    before = row(session, activity_id)
    error = refused(
        record, session=session, actor=staff, activity_id=activity_id, volunteers=volunteers, hours=hours, **kw
    )
    assert error.key == key
    assert row(session, activity_id) == before


def test_an_outcome_on_a_stale_version_is_refused(session, staff):
    activity_id = create(session, staff, activity_input(day=PAST))
    record(session, staff, activity_id)
    with pytest.raises(StaleRecord):
        record(session, staff, activity_id, 99, "1", version=1)
    assert row(session, activity_id).volunteers == 10


def test_a_finished_activity_without_an_outcome_is_a_to_do_for_staff_only(session, staff, make_actor):
    activity_id = create(session, staff, activity_input(starts_at=utcnow() - timedelta(days=2), hours=3))

    def todo(actor) -> list[int]:
        return [
            i.count for i in collect_todos(session=session, actor=actor) if i.key == "todo.activities_missing_outcome"
        ]

    assert todo(staff) == [1]
    assert todo(make_actor(Role.VIEWER)) == []
    record(session, staff, activity_id, 1, "1")
    assert todo(staff) == []


def test_the_outcome_reminder_says_how_many_of_them_finished_this_week(session, staff):
    monday = datetime.combine(today() - timedelta(days=today().weekday()), time(0), tzinfo=SHANGHAI)
    ends = utcnow() - timedelta(minutes=1)
    expected = (1, 0)
    if ends >= monday:  # (in the first minute of a week nothing can have ended in it yet)
        create(session, staff, activity_input(starts_at=ends - timedelta(minutes=20), hours=1 / 3))
        expected = (2, 1)
    create(session, staff, activity_input(starts_at=monday - timedelta(days=3), hours=2))  # the week before
    [item] = [i for i in collect_todos(session=session, actor=staff) if i.key == "todo.activities_missing_outcome"]
    assert (item.count, item.params["week"]) == expected


# ---------------------------------------------------------------- double bookings


@pytest.fixture
def booked(session, staff, units) -> int:
    """Units 0 (organiser) and 1 (co-organiser) at 北京市朝阳区ABC会议室 on FUTURE, 09:00–12:00."""
    return create(
        session,
        staff,
        activity_input("已排活动", organiser_id=units[0], co_organiser_ids=(units[1],), place="北京市朝阳区ABC会议室"),
    )


CONFLICTS = {
    "same organiser": (lambda u: activity_input(organiser_id=u[0], place="别处"), "organiser"),
    "organiser is its co-organiser": (lambda u: activity_input(organiser_id=u[1], place="别处"), "organiser"),
    "co-organiser is its organiser": (
        lambda u: activity_input(organiser_id=u[5], co_organiser_ids=(u[0],), place="别处"),
        "organiser",
    ),
    "shared co-organiser": (lambda u: activity_input(co_organiser_ids=(u[1],), place="别处"), "organiser"),
    "same place": (lambda u: activity_input(organiser_id=u[5], place="北京市朝阳区ABC会议室"), "place"),
    "same place full-width": (lambda u: activity_input(place="北京市朝阳区ＡＢＣ会议室"), "place"),
    "same place spaced and lower case": (lambda u: activity_input(place=" 北京市 朝阳区\u3000abc 会议室 "), "place"),
    "overlap by a minute at the start": (
        lambda u: activity_input(organiser_id=u[0], place="别处", starts_at=at(FUTURE, 11, 59)),
        "organiser",
    ),
    "overlap by a minute at the end": (
        lambda u: activity_input(organiser_id=u[0], place="别处", starts_at=at(FUTURE, 6, 1)),
        "organiser",
    ),
    "inside a longer one": (
        lambda u: activity_input(organiser_id=u[0], place="别处", starts_at=at(FUTURE - timedelta(days=1)), hours=72),
        "organiser",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFLICTS))
def test_an_overlapping_activity_of_the_same_unit_or_place_is_a_conflict(session, staff, units, booked, case):
    build, reason = CONFLICTS[case]
    found = svc.find_conflicts(session=session, actor=staff, data=build(units))
    assert [(c.id, c.title, c.starts_at, c.ends_at, c.reason) for c in found] == [
        (booked, "已排活动", at(FUTURE, 9), at(FUTURE, 12), reason)
    ]


NO_CONFLICTS = {
    "other unit and place": lambda u: activity_input(organiser_id=u[5], co_organiser_ids=(u[6],), place="上海"),
    "ends as it starts": lambda u: activity_input(
        organiser_id=u[0], place="北京市朝阳区ABC会议室", starts_at=at(FUTURE, 6)
    ),
    "starts as it ends": lambda u: activity_input(
        organiser_id=u[0], place="北京市朝阳区ABC会议室", starts_at=at(FUTURE, 12)
    ),
    "next day": lambda u: activity_input(
        organiser_id=u[0], place="北京市朝阳区ABC会议室", day=FUTURE + timedelta(days=1)
    ),
    "online with the same place typed": lambda u: activity_input(
        online=True, online_link="https://x.example.org", place="北京市朝阳区ABC会议室"
    ),
    "similar but other place": lambda u: activity_input(place="北京市朝阳区ABD会议室"),
}


@pytest.mark.parametrize("case", sorted(NO_CONFLICTS))
def test_activities_that_share_no_unit_place_or_time_are_no_conflict(session, staff, units, booked, case):
    assert svc.find_conflicts(session=session, actor=staff, data=NO_CONFLICTS[case](units)) == []


def test_a_cancelled_activity_is_no_conflict(session, staff, units, booked):
    svc.cancel_activity(session=session, actor=staff, activity_id=booked, expected_version=1, reason="取消")
    assert (
        svc.find_conflicts(
            session=session, actor=staff, data=activity_input(organiser_id=units[0], place="北京市朝阳区ABC会议室")
        )
        == []
    )


def test_the_activity_being_edited_is_not_its_own_conflict(session, staff, units, booked):
    other = create(
        session, staff, activity_input("另一活动", organiser_id=units[0], place="别处", starts_at=at(FUTURE, 10))
    )
    data = svc.get_activity(session=session, actor=staff, activity_id=booked).as_input()
    assert [c.id for c in svc.find_conflicts(session=session, actor=staff, data=data, exclude_id=booked)] == [other]
    assert [c.id for c in svc.find_conflicts(session=session, actor=staff, data=data)] == [booked, other]


def test_a_unit_matching_by_both_organiser_and_place_is_reported_once(session, staff, units, booked):
    found = svc.find_conflicts(
        session=session, actor=staff, data=activity_input(organiser_id=units[0], place="北京市朝阳区ABC会议室")
    )
    assert [(c.id, c.reason) for c in found] == [(booked, "organiser")]


def test_each_occurrence_of_a_series_is_checked(session, staff, units, booked):
    later = create(
        session, staff, activity_input("两周后", organiser_id=units[3], place="别处", day=FUTURE + timedelta(weeks=2))
    )
    data = activity_input(organiser_id=units[3], place="北京市朝阳区ABC会议室", day=FUTURE)
    starts = [at(FUTURE + timedelta(weeks=n)) for n in range(3)]
    found = svc.find_conflicts(session=session, actor=staff, data=data, starts=starts)
    assert [(c.id, c.reason) for c in found] == [(booked, "place"), (later, "organiser")]


# ---------------------------------------------------------------- month and week cells


def cells(session, actor, first: date, last: date, per_day: int = 3, filters: ActivityFilters | None = None):
    found, truncated = svc.calendar_cells(
        session=session, actor=actor, first=first, last=last, filters=filters or ActivityFilters(), per_day=per_day
    )
    assert not truncated
    return {c.day: ([i.id for i in c.items], c.total) for c in found}


def test_a_three_day_activity_appears_on_each_of_its_days(session, staff):
    activity_id = create(session, staff, activity_input(starts_at=at(FUTURE, 9), hours=2 * 24 + 8))
    days = cells(session, staff, FUTURE - timedelta(days=1), FUTURE + timedelta(days=3))
    assert days == {
        FUTURE - timedelta(days=1): ([], 0),
        FUTURE: ([activity_id], 1),
        FUTURE + timedelta(days=1): ([activity_id], 1),
        FUTURE + timedelta(days=2): ([activity_id], 1),
        FUTURE + timedelta(days=3): ([], 0),
    }


def test_an_activity_ending_at_midnight_is_not_on_its_end_day(session, staff):
    evening = create(session, staff, activity_input(starts_at=at(FUTURE, 20), hours=4))
    whole_day = create(session, staff, activity_input(starts_at=at(FUTURE, 0), hours=24))
    days = cells(session, staff, FUTURE, FUTURE + timedelta(days=1))
    assert days == {FUTURE: ([whole_day, evening], 2), FUTURE + timedelta(days=1): ([], 0)}


def test_an_activity_begun_before_the_range_shows_from_the_first_day(session, staff):
    activity_id = create(session, staff, activity_input(starts_at=at(FUTURE - timedelta(days=5)), hours=6 * 24))
    days = cells(session, staff, FUTURE, FUTURE + timedelta(days=2))
    assert days == {
        FUTURE: ([activity_id], 1),
        FUTURE + timedelta(days=1): ([activity_id], 1),
        FUTURE + timedelta(days=2): ([], 0),
    }


def test_an_activity_of_the_longest_length_ending_just_inside_the_range_is_shown(session, staff):
    first = FUTURE
    longest = create(
        session,
        staff,
        activity_input(starts_at=at(first, 0) - timedelta(days=92) + timedelta(minutes=1), hours=92 * 24),
    )
    create(session, staff, activity_input(starts_at=at(first, 0) - timedelta(days=92), hours=92 * 24))  # ends at 00:00
    assert cells(session, staff, first, first + timedelta(days=1)) == {
        first: ([longest], 1),
        first + timedelta(days=1): ([], 0),
    }
    rows, total = svc.list_activities(session=session, actor=staff, first=first, last=first, filters=ActivityFilters())
    assert ([r.id for r in rows], total) == ([longest], 1)


def test_the_days_are_those_of_shanghai(session, staff):
    # 23:30 UTC on the day before is 07:30 in Shanghai
    activity_id = create(
        session,
        staff,
        activity_input(starts_at=datetime.combine(FUTURE - timedelta(days=1), time(23, 30), tzinfo=UTC), hours=1),
    )
    days = cells(session, staff, FUTURE - timedelta(days=1), FUTURE)
    assert days == {FUTURE - timedelta(days=1): ([], 0), FUTURE: ([activity_id], 1)}


def test_a_day_shows_the_first_few_activities_and_counts_them_all(session, staff):
    ids = [create(session, staff, activity_input(f"活动{n}", starts_at=at(FUTURE, 8 + n))) for n in (4, 0, 3, 1, 2)]
    by_start = [ids[1], ids[3], ids[4], ids[2], ids[0]]
    days = cells(session, staff, FUTURE, FUTURE, per_day=2)
    assert days == {FUTURE: (by_start[:2], 5)}
    week = cells(session, staff, FUTURE, FUTURE + timedelta(days=6), per_day=0)
    assert week[FUTURE] == ([], 5) and sum(total for _, total in week.values()) == 5


def test_the_cells_follow_the_filters_and_show_a_cancelled_activity_as_cancelled(session, staff):
    kept = create(session, staff, activity_input("培训", category="training"))
    create(session, staff, activity_input("论坛", category="forum"))
    svc.cancel_activity(session=session, actor=staff, activity_id=kept, expected_version=1, reason="取消")
    assert cells(session, staff, FUTURE, FUTURE, filters=ActivityFilters(categories=("training",))) == {
        FUTURE: ([kept], 1)
    }
    found = svc.calendar_range(session=session, actor=staff, first=FUTURE, last=FUTURE, filters=ActivityFilters())
    assert {i.id: i.status for i in found.items}[kept] == "cancelled"


# ---------------------------------------------------------------- the list and its filters

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
LIST_NOW = at(date(2026, 3, 15), 12)


@dataclass
class ListWorld:
    units: list[int]
    ids: dict[str, int]


@pytest.fixture
def list_world(session, staff, units) -> ListWorld:
    """Activities of March 2026 (all in the past by the real clock), seen at noon on 15 March."""
    u = units

    def make(key, title, day, hour, hours, **kw) -> tuple[str, int]:
        return key, create(session, staff, activity_input(title, starts_at=at(day, hour), hours=hours, **kw))

    ids = dict(
        [
            make("training", "春季骨干培训", date(2026, 3, 2), 9, 8, organiser_id=u[0]),
            make(
                "seminar",
                "湿地保护研讨会",
                date(2026, 3, 10),
                9,
                56,
                category="seminar",
                organiser_id=u[1],
                co_organiser_ids=(u[0],),
                province="浙江",
                place="杭州西溪",
            ),
            make(
                "online",
                "线上分享会 Green Talk",
                date(2026, 3, 15),
                10,
                4,
                category="forum",
                province="全国",
                online=True,
                online_link="https://meeting.example.org/j/2",
                place="",
            ),
            make(
                "beach",
                "净滩行动 100%_参与",
                date(2026, 3, 20),
                8,
                4,
                category="volunteering",
                organiser_id=u[2],
                province="广东",
                place="深圳大梅沙",
            ),
            make("cancelled", "取消的培训", date(2026, 3, 18), 9, 3, organiser_id=u[0]),
            make(
                "beach2",
                "净滩100x参与",
                date(2026, 3, 25),
                8,
                4,
                category="other",
                organiser_id=u[3],
                province="广东",
                place="深圳小梅沙",
            ),
            make("april", "四月培训", date(2026, 4, 10), 9, 3, organiser_id=u[0]),
            make(
                "across", "跨月调研", date(2026, 2, 27), 9, 49, category="research", organiser_id=u[1], province="浙江"
            ),
            make("february", "二月活动", date(2026, 2, 28), 20, 4, organiser_id=u[0]),  # ends at 1 March 00:00
        ]
    )
    svc.cancel_activity(session=session, actor=staff, activity_id=ids["cancelled"], expected_version=1, reason="取消")
    record(session, staff, ids["training"], 20, "100")
    return ListWorld(units, ids)


def hand_ids(session, condition: str, **params: object) -> list[int]:
    """The ids of March's activities meeting `condition`, by hand-written SQL, in start order."""
    sql = text(
        "SELECT a.id FROM activities a WHERE a.starts_at < :range_end AND a.ends_at > :range_start "
        f"AND ({condition}) ORDER BY a.starts_at, a.id"
    )
    values: dict[str, object] = {
        "range_start": at(MARCH[0], 0),
        "range_end": at(MARCH[1] + timedelta(days=1), 0),
        **params,
    }
    typed = [bindparam(name, type_=UTCDateTime()) for name, value in values.items() if isinstance(value, datetime)]
    return list(session.scalars(sql.bindparams(*typed), values))


CO_ORGANISED = (
    "a.organiser_id = :unit OR EXISTS (SELECT 1 FROM activity_co_organisers c "
    "WHERE c.activity_id = a.id AND c.organisation_id = :unit)"
)
PLANNED = "a.cancelled_at IS NULL AND a.starts_at > :now"
ONGOING = "a.cancelled_at IS NULL AND a.starts_at <= :now AND a.ends_at > :now"
FINISHED = "a.cancelled_at IS NULL AND a.ends_at <= :now"
CANCELLED = "a.cancelled_at IS NOT NULL"

FILTER_CASES = {
    "everything": (lambda u: ActivityFilters(), "1 = 1", 7),
    "one category": (lambda u: ActivityFilters(categories=("training",)), "a.category = 'training'", 2),
    "two categories": (
        lambda u: ActivityFilters(categories=("training", "forum")),
        "a.category IN ('training', 'forum')",
        3,
    ),
    "organiser or co-organiser": (lambda u: ActivityFilters(organiser_id=u[0]), CO_ORGANISED, 3),
    "organiser only": (lambda u: ActivityFilters(organiser_id=u[3]), CO_ORGANISED, 1),
    "province": (lambda u: ActivityFilters(province="广东"), "a.province = '广东'", 2),
    "planned": (lambda u: ActivityFilters(statuses=("planned",)), PLANNED, 2),
    "ongoing": (lambda u: ActivityFilters(statuses=("ongoing",)), ONGOING, 1),
    "finished": (lambda u: ActivityFilters(statuses=("finished",)), FINISHED, 3),
    "cancelled": (lambda u: ActivityFilters(statuses=("cancelled",)), CANCELLED, 1),
    "planned or cancelled": (
        lambda u: ActivityFilters(statuses=("planned", "cancelled")),
        f"({PLANNED}) OR ({CANCELLED})",
        3,
    ),
    "online": (lambda u: ActivityFilters(online=True), "a.online = :yes", 1),
    "on site": (lambda u: ActivityFilters(online=False), "a.online = :no", 6),
    "needs an outcome": (
        lambda u: ActivityFilters(needs_outcome=True),
        "a.cancelled_at IS NULL AND a.ends_at <= :now AND a.outcome_at IS NULL",
        2,
    ),
    "several at once": (
        lambda u: ActivityFilters(categories=("training", "seminar"), organiser_id=u[0], statuses=("finished",)),
        f"a.category IN ('training', 'seminar') AND ({CO_ORGANISED}) AND ({FINISHED})",
        2,
    ),
}


@pytest.mark.parametrize("case", sorted(FILTER_CASES))
def test_the_list_filters_agree_with_a_hand_written_count(session, staff, list_world, case):
    build, condition, expected = FILTER_CASES[case]
    filters = build(list_world.units)
    params = {"unit": filters.organiser_id, "now": LIST_NOW, "yes": True, "no": False}
    used = {k: v for k, v in params.items() if f":{k}" in condition}
    wanted = hand_ids(session, condition, **used)
    rows, total = svc.list_activities(
        session=session, actor=staff, first=MARCH[0], last=MARCH[1], filters=filters, limit=100, now=LIST_NOW
    )
    assert [r.id for r in rows] == wanted
    assert total == len(wanted) == expected


@pytest.mark.parametrize(
    ("typed", "keys"),
    [
        ("100%_", ["beach"]),
        ("%", ["beach"]),
        ("_", ["beach"]),
        ("100x", ["beach2"]),
        ("green", ["online"]),
        ("GREEN talk", ["online"]),
        ("  培训 ", ["training", "cancelled"]),
        ("净滩", ["beach", "beach2"]),
        ("\\", []),
        ("'; --", []),
    ],
)
def test_the_text_filter_takes_percent_and_underscore_literally(session, staff, list_world, typed, keys):
    rows, total = svc.list_activities(
        session=session, actor=staff, first=MARCH[0], last=MARCH[1], filters=ActivityFilters(text=typed), now=LIST_NOW
    )
    assert [r.id for r in rows] == [list_world.ids[k] for k in keys]
    assert total == len(keys)


def test_the_text_filter_matches_letters_typed_full_width(session, staff, list_world):
    rows, total = svc.list_activities(
        session=session,
        actor=staff,
        first=MARCH[0],
        last=MARCH[1],
        filters=ActivityFilters(text="ｇｒｅｅｎ　ｔａｌｋ"),
        now=LIST_NOW,
    )
    assert ([r.id for r in rows], total) == ([list_world.ids["online"]], 1)


def test_the_list_pages_and_counts_the_whole_range(session, staff, list_world):
    everything = hand_ids(session, "1 = 1")
    pages = [
        svc.list_activities(
            session=session,
            actor=staff,
            first=MARCH[0],
            last=MARCH[1],
            filters=ActivityFilters(),
            offset=offset,
            limit=3,
            now=LIST_NOW,
        )
        for offset in (0, 3, 6)
    ]
    assert [r.id for rows, _ in pages for r in rows] == everything
    assert [total for _, total in pages] == [7, 7, 7]


def test_a_list_row_carries_the_organiser_status_and_outcome(session, staff, list_world):
    rows, _ = svc.list_activities(
        session=session, actor=staff, first=MARCH[0], last=MARCH[1], filters=ActivityFilters(), limit=100, now=LIST_NOW
    )
    by_id = {r.id: r for r in rows}
    training = by_id[list_world.ids["training"]]
    assert (training.organiser, training.status, training.volunteers, training.service_hours) == (
        "活动单位0",
        "finished",
        20,
        100.0,
    )
    online = by_id[list_world.ids["online"]]
    assert (online.organiser, online.status, online.online) == ("", "ongoing", True)
    assert by_id[list_world.ids["cancelled"]].status == "cancelled"
    assert by_id[list_world.ids["beach"]].status == "planned"


def test_an_unknown_status_filter_is_refused(session, staff):
    with pytest.raises(ValidationError):
        svc.list_activities(
            session=session,
            actor=staff,
            first=MARCH[0],
            last=MARCH[1],
            filters=ActivityFilters(statuses=("postponed",)),
        )


# ---------------------------------------------------------------- totals


def test_the_range_totals_agree_with_hand_written_sums(session, staff, units):
    now = today()

    def make(title, days, **kw) -> int:
        return create(session, staff, activity_input(title, day=now + timedelta(days=days), **kw))

    first_past = make("往期培训", -10)
    second_past = make("往期研讨", -5, category="seminar")
    make("未填成果", -3)
    coming = make("即将举办", 5, capacity=5)
    called_off = make("已取消的", 7, capacity=10)
    outside = make("范围外的", -40)
    record(session, staff, first_past, 12, "30.5")
    record(session, staff, second_past, 3, "4")
    record(session, staff, outside, 50, "50")
    for unit, people in ((units[0], 3), (units[1], 2), (units[2], 4)):
        sign(session, staff, coming, unit, people)
    sign(session, staff, coming, units[3], 10, kind="invitation")
    sign(session, staff, called_off, units[0], 2)
    svc.cancel_activity(session=session, actor=staff, activity_id=called_off, expected_version=1, reason="取消")

    first, last = now - timedelta(days=15), now + timedelta(days=15)
    window = {"range_start": at(first, 0), "range_end": at(last + timedelta(days=1), 0)}
    typed = (bindparam("range_start", type_=UTCDateTime()), bindparam("range_end", type_=UTCDateTime()))
    live = "a.cancelled_at IS NULL AND a.starts_at < :range_end AND a.ends_at > :range_start"
    for filters, extra in (
        (ActivityFilters(), ""),
        (ActivityFilters(categories=("training",)), " AND a.category = 'training'"),
    ):
        counted = session.execute(
            text(
                "SELECT COUNT(*), COUNT(a.outcome_at), COALESCE(SUM(a.volunteers), 0), "
                f"COALESCE(SUM(a.service_hours), 0) FROM activities a WHERE {live}{extra}"
            ).bindparams(*typed),
            window,
        ).one()
        people = session.execute(
            text(
                "SELECT COALESCE(SUM(s.people), 0) FROM signups s JOIN activities a ON a.id = s.activity_id "
                f"WHERE s.status = 'confirmed' AND {live}{extra}"
            ).bindparams(*typed),
            window,
        ).scalar_one()
        totals = svc.range_totals(session=session, actor=staff, first=first, last=last, filters=filters)
        assert (totals.activities, totals.with_outcome, totals.volunteers, totals.signups_people) == (
            counted[0],
            counted[1],
            counted[2],
            people,
        )
        assert totals.service_hours == pytest.approx(float(counted[3]))
    everything = svc.range_totals(session=session, actor=staff, first=first, last=last, filters=ActivityFilters())
    assert everything == svc.RangeTotals(
        activities=4, with_outcome=2, volunteers=15, service_hours=34.5, signups_people=5
    )
    rows, _ = svc.list_activities(session=session, actor=staff, first=first, last=last, filters=ActivityFilters())
    coming_row = next(r for r in rows if r.id == coming)
    assert (coming_row.confirmed_people, coming_row.waitlisted, coming_row.capacity) == (5, 1, 5)


def test_the_totals_of_an_empty_range_are_zero(session, staff):
    assert svc.range_totals(
        session=session, actor=staff, first=FUTURE, last=FUTURE, filters=ActivityFilters()
    ) == svc.RangeTotals(0, 0, 0, 0.0, 0)


# ---------------------------------------------------------------- who may do what, and the audit trail


@dataclass
class World:
    units: list[int]
    coming: int
    past: int
    signup: int


@pytest.fixture
def world(session, admin, units) -> World:
    coming = create(session, admin, activity_input(capacity=2))
    past = create(session, admin, activity_input(day=PAST))
    held = sign(session, admin, coming, units[0])
    return World(units, coming, past, held.id)


WRITES = {
    "create_activity": lambda s, a, w: svc.create_activity(session=s, actor=a, data=activity_input()),
    "update_activity": lambda s, a, w: svc.update_activity(
        session=s, actor=a, activity_id=w.coming, expected_version=1, data=activity_input("改名", capacity=3)
    ),
    "cancel_activity": lambda s, a, w: svc.cancel_activity(
        session=s, actor=a, activity_id=w.coming, expected_version=1, reason="场地不可用"
    ),
    "record_outcome": lambda s, a, w: svc.record_outcome(
        session=s,
        actor=a,
        activity_id=w.past,
        expected_version=1,
        outcome=Outcome(volunteers=5, service_hours=Decimal("3")),
    ),
    "add_signup": lambda s, a, w: svc.add_signup(
        session=s, actor=a, activity_id=w.coming, organisation_id=w.units[1], people=1
    ),
    "cancel_signup": lambda s, a, w: svc.cancel_signup(session=s, actor=a, signup_id=w.signup, expected_version=1),
}


def test_the_table_names_every_activity_write():
    registered = {n for n in WRITE_SERVICES if n.startswith("db.services.activities.")}
    assert registered == {f"db.services.activities.{name}" for name in WRITES}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER, None])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_only_staff_may_write_activities_and_sign_ups(session, make_actor, world, name, role):
    actor = ANONYMOUS if role is None else make_actor(role)
    before = (count(session, "audit_entries"), count(session, "activities"), count(session, "signups"))
    state = session.execute(text("SELECT id, version FROM activities ORDER BY id")).all()
    signups = session.execute(text("SELECT id, status, version FROM signups ORDER BY id")).all()
    if role in (Role.ADMIN, Role.SECRETARIAT):  # the same call is valid: the refusal below comes from the role alone
        WRITES[name](session, actor, world)
        assert count(session, "audit_entries") > before[0]
    else:
        with pytest.raises(PermissionDenied):
            WRITES[name](session, actor, world)
        assert (count(session, "audit_entries"), count(session, "activities"), count(session, "signups")) == before
        assert session.execute(text("SELECT id, version FROM activities ORDER BY id")).all() == state
        assert session.execute(text("SELECT id, status, version FROM signups ORDER BY id")).all() == signups


READS = {
    "list_activities": lambda s, a, w: svc.list_activities(
        session=s, actor=a, first=FUTURE, last=FUTURE, filters=ActivityFilters()
    ),
    "calendar_range": lambda s, a, w: svc.calendar_range(
        session=s, actor=a, first=FUTURE, last=FUTURE, filters=ActivityFilters()
    ),
    "calendar_cells": lambda s, a, w: svc.calendar_cells(
        session=s, actor=a, first=FUTURE, last=FUTURE, filters=ActivityFilters(), per_day=3
    ),
    "range_totals": lambda s, a, w: svc.range_totals(
        session=s, actor=a, first=FUTURE, last=FUTURE, filters=ActivityFilters()
    ),
    "get_activity": lambda s, a, w: svc.get_activity(session=s, actor=a, activity_id=w.coming),
    "ics_activities range": lambda s, a, w: svc.ics_activities(session=s, actor=a, first=FUTURE, last=FUTURE),
    "ics_activities one": lambda s, a, w: svc.ics_activities(session=s, actor=a, activity_id=w.coming),
    "signup_candidates": lambda s, a, w: svc.signup_candidates(session=s, actor=a, activity_id=w.coming, text=""),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_anonymous_visitors_may_not_read_the_calendar(session, world, name):
    with pytest.raises(PermissionDenied):
        READS[name](session, ANONYMOUS, world)


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
@pytest.mark.parametrize("name", sorted(READS))
def test_council_users_and_viewers_may_read_the_calendar(session, make_actor, world, name, role):
    assert READS[name](session, make_actor(role), world) is not None


def test_a_missing_activity_is_not_found(session, staff):
    with pytest.raises(NotFound):
        svc.get_activity(session=session, actor=staff, activity_id=987_654)


def test_every_write_leaves_its_audit_entries(session, staff, units):
    ids = svc.create_activity(session=session, actor=staff, data=activity_input(capacity=1), repeat="weekly", count=2)
    assert [audits(session, "activity.create", i) for i in ids] == [1, 1]
    first = sign(session, staff, ids[0], units[0])
    second = sign(session, staff, ids[0], units[1])
    third = sign(session, staff, ids[0], units[2])
    invited = sign(session, staff, ids[0], units[3], kind="invitation")
    assert [audits(session, "signup.create", s.id) for s in (first, second, third, invited)] == [1, 1, 1, 1]
    svc.update_activity(
        session=session, actor=staff, activity_id=ids[0], expected_version=1, data=activity_input(capacity=2)
    )
    assert (audits(session, "activity.update", ids[0]), audits(session, "signup.promote", second.id)) == (1, 1)
    assert withdraw(session, staff, first.id) == [units[2]]
    assert (audits(session, "signup.cancel", first.id), audits(session, "signup.promote", third.id)) == (1, 1)
    svc.cancel_activity(session=session, actor=staff, activity_id=ids[1], expected_version=1, reason="取消")
    assert audits(session, "activity.cancel", ids[1]) == 1
    past = create(session, staff, activity_input(day=PAST))
    record(session, staff, past)
    assert audits(session, "activity.outcome", past) == 1
    entry = session.execute(
        text("SELECT username, record_type FROM audit_entries WHERE action = 'activity.outcome' AND record_id = :r"),
        {"r": str(past)},
    ).one()
    assert tuple(entry) == (staff.username, "activity")
    assert audits(session, "signup.promote") == 2


def test_an_activity_whose_organiser_has_since_left_can_still_be_corrected_but_not_given_new_leavers(
    session, admin, staff, units
):
    activity_id = create(session, staff, activity_input(organiser_id=units[0], co_organiser_ids=(units[1],)))
    for unit in (units[0], units[1], units[2]):
        organisations.set_organisation_status(
            session=session, actor=admin, organisation_id=unit, expected_version=1, status="exited", reason="退出网络"
        )
    corrected = activity_input("骨干培训（更正）", organiser_id=units[0], co_organiser_ids=(units[1],))
    svc.update_activity(session=session, actor=staff, activity_id=activity_id, expected_version=1, data=corrected)
    assert row(session, activity_id).title == "骨干培训（更正）"
    with pytest.raises(ValidationError) as refused:
        svc.update_activity(session=session, actor=staff, activity_id=activity_id, expected_version=2,
                            data=replace(corrected, co_organiser_ids=(units[1], units[2])))  # fmt: skip
    assert refused.value.key == "validation.activity_unit_not_member" and co_organisers(session, activity_id) == [
        units[1]
    ]
