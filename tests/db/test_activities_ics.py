"""The .ics export read back with icalendar and compared with the database read by hand: one event per
activity with a stable UID, times in Asia/Shanghai with its VTIMEZONE, cancelled ones marked, titles intact,
and a sequence that grows with every saved change."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import bindparam, text

from db.base import UTCDateTime
from db.services import activities as svc
from db.services.activities import ActivityFilters
from domain.clock import SHANGHAI
from domain.errors import NotFound
from domain.ical import to_ics
from domain.roles import Role
from tests.db.test_activities import FUTURE, activity_input, at, create, new_unit

TITLE = "绿色,行动;培训：长江🌿保护，第一期；欢迎参加"
CATEGORIES = {"training": "培训学习", "forum": "论坛", "volunteering": "志愿服务实践"}
FIRST, LAST = FUTURE, FUTURE + timedelta(days=20)


@pytest.fixture
def staff(make_actor):
    return make_actor(Role.SECRETARIAT)


@dataclass
class Exported:
    normal: int
    cancelled: int
    online: int
    series: list[int]
    outside: int

    @property
    def in_range(self) -> set[int]:
        return {self.normal, self.cancelled, self.online, *self.series}


@pytest.fixture
def exported(session, admin, staff) -> Exported:
    unit = new_unit(session, admin, "长江保护志愿者协会")
    normal = create(
        session,
        staff,
        activity_input(TITLE, organiser_id=unit, place="武汉市江岸区 江滩公园", description="集合地点：一号门"),
    )
    cancelled = create(
        session,
        staff,
        activity_input("已取消, 的;论坛", category="forum", starts_at=at(FUTURE + timedelta(days=2), 14), hours=2),
    )
    svc.cancel_activity(session=session, actor=staff, activity_id=cancelled, expected_version=1, reason="暴雨预警")
    online = create(
        session,
        staff,
        activity_input(
            "线上：垃圾分类公开课 🎓",
            online=True,
            place="",
            province="全国",
            online_link="https://meeting.example.org/j/123?pwd=a,b;c",
            starts_at=at(FUTURE + timedelta(days=3), 19, 30),
            hours=1.5,
        ),
    )
    series = svc.create_activity(
        session=session,
        actor=staff,
        data=activity_input("每周净滩", category="volunteering", starts_at=at(FUTURE + timedelta(days=1), 7), hours=3),
        repeat="weekly",
        count=3,
    )
    outside = create(session, staff, activity_input("范围之外", starts_at=at(LAST + timedelta(days=1), 9)))
    return Exported(normal, cancelled, online, series, outside)


def export(session, actor, now: datetime | None = None, **kw) -> icalendar.Calendar:
    if "activity_id" not in kw:
        kw = {"first": FIRST, "last": LAST, **kw}
    items, truncated = svc.ics_activities(session=session, actor=actor, **kw)
    assert not truncated
    data = to_ics(
        items,
        name="生态环境志愿服务网络活动",
        category_label=lambda c: CATEGORIES.get(c, c),
        organiser_label="主办单位",
        now=now,
    )
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def events(cal: icalendar.Calendar) -> dict[int, icalendar.Event]:
    found: dict[int, icalendar.Event] = {}
    for event in cal.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid.startswith("activity-") and uid.endswith("@eco-volunteer-network")
        activity_id = int(uid.removeprefix("activity-").removesuffix("@eco-volunteer-network"))
        assert activity_id not in found, "one event per activity"
        found[activity_id] = event
    return found


def stored(session) -> dict[int, object]:
    """The activities overlapping the exported range, read by hand."""
    sql = (
        text(
            "SELECT id, title, category, starts_at, ends_at, place, online_link, cancelled_at, series_id, version "
            "FROM activities WHERE starts_at < :range_end AND ends_at > :range_start"
        )
        .bindparams(bindparam("range_start", type_=UTCDateTime()), bindparam("range_end", type_=UTCDateTime()))
        .columns(starts_at=UTCDateTime(), ends_at=UTCDateTime(), cancelled_at=UTCDateTime())
    )
    rows = session.execute(sql, {"range_start": at(FIRST, 0), "range_end": at(LAST + timedelta(days=1), 0)})
    return {r.id: r for r in rows}


def test_the_export_has_one_event_per_activity_as_stored(session, staff, exported):
    by_id = events(export(session, staff))
    rows = stored(session)
    assert set(by_id) == set(rows) == exported.in_range
    for activity_id, row in rows.items():
        event = by_id[activity_id]
        assert str(event["SUMMARY"]) == row.title
        for name, value in (("DTSTART", row.starts_at), ("DTEND", row.ends_at)):
            assert event.decoded(name) == value
            assert event[name].params["TZID"] == "Asia/Shanghai"
            assert event.decoded(name).utcoffset() == timedelta(hours=8)
        assert str(event["STATUS"]) == ("CANCELLED" if row.cancelled_at is not None else "CONFIRMED")
        assert event.decoded("SEQUENCE") == row.version - 1
        assert event["CATEGORIES"].cats == [CATEGORIES[row.category]]


def test_the_title_with_commas_semicolons_chinese_and_emoji_comes_back_intact(session, staff, exported):
    by_id = events(export(session, staff))
    assert str(by_id[exported.normal]["SUMMARY"]) == TITLE
    assert str(by_id[exported.cancelled]["SUMMARY"]) == "已取消, 的;论坛"
    assert str(by_id[exported.online]["SUMMARY"]) == "线上：垃圾分类公开课 🎓"


def test_only_the_cancelled_activity_is_marked_cancelled(session, staff, exported):
    statuses = {i: str(e["STATUS"]) for i, e in events(export(session, staff)).items()}
    assert [i for i, s in statuses.items() if s == "CANCELLED"] == [exported.cancelled]
    assert set(statuses.values()) == {"CANCELLED", "CONFIRMED"}


def test_the_calendar_carries_the_shanghai_time_zone_once(session, staff, exported):
    cal = export(session, staff)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert str(cal["VERSION"]) == "2.0"


def test_places_links_organisers_and_series_are_carried(session, staff, exported):
    by_id = events(export(session, staff))
    normal, online = by_id[exported.normal], by_id[exported.online]
    assert str(normal["LOCATION"]) == "武汉市江岸区 江滩公园"
    assert str(normal["DESCRIPTION"]) == "主办单位：长江保护志愿者协会\n集合地点：一号门"
    assert "URL" not in normal
    link = "https://meeting.example.org/j/123?pwd=a,b;c"
    assert (str(online["URL"]), str(online["LOCATION"])) == (link, link)
    series_id = stored(session)[exported.series[0]].series_id
    related = {str(by_id[i]["RELATED-TO"]) for i in exported.series}
    assert related == {f"series-{series_id}@eco-volunteer-network"}
    assert "RELATED-TO" not in normal
    assert [by_id[i].decoded("DTSTART") for i in exported.series] == [
        at(FUTURE + timedelta(days=1 + 7 * n), 7) for n in range(3)
    ]


def test_uids_stay_the_same_from_one_export_to_the_next(session, staff, exported):
    first = events(export(session, staff, now=datetime(2030, 1, 1, tzinfo=UTC)))
    second = events(export(session, staff, now=datetime(2030, 1, 2, tzinfo=UTC)))
    assert {i: str(e["UID"]) for i, e in first.items()} == {i: str(e["UID"]) for i, e in second.items()}
    assert {str(e["UID"]) for e in first.values()} == {f"activity-{i}@eco-volunteer-network" for i in exported.in_range}
    assert first[exported.normal].decoded("DTSTAMP") != second[exported.normal].decoded("DTSTAMP")


def test_the_sequence_grows_with_every_saved_change(session, staff, exported):
    before = events(export(session, staff))
    data = svc.get_activity(session=session, actor=staff, activity_id=exported.normal).as_input()
    svc.update_activity(
        session=session,
        actor=staff,
        activity_id=exported.normal,
        expected_version=1,
        data=replace(data, title="改期后的培训", starts_at=data.starts_at + timedelta(hours=1)),
    )
    edited = events(export(session, staff))
    assert edited[exported.normal].decoded("SEQUENCE") > before[exported.normal].decoded("SEQUENCE")
    assert str(edited[exported.normal]["SUMMARY"]) == "改期后的培训"
    assert edited[exported.normal].decoded("DTSTART") == at(FUTURE, 10)
    assert str(edited[exported.normal]["UID"]) == str(before[exported.normal]["UID"])
    svc.cancel_activity(session=session, actor=staff, activity_id=exported.normal, expected_version=2, reason="取消")
    cancelled = events(export(session, staff))[exported.normal]
    assert cancelled.decoded("SEQUENCE") > edited[exported.normal].decoded("SEQUENCE")
    assert str(cancelled["STATUS"]) == "CANCELLED"
    # the others did not change
    for other in exported.in_range - {exported.normal}:
        assert edited[other].decoded("SEQUENCE") == before[other].decoded("SEQUENCE")


def test_one_activity_can_be_exported_alone(session, staff, exported):
    for activity_id in (exported.normal, exported.cancelled, exported.series[1], exported.outside):
        by_id = events(export(session, staff, activity_id=activity_id))
        assert list(by_id) == [activity_id]
        row = session.execute(
            text("SELECT title, starts_at FROM activities WHERE id = :id").columns(starts_at=UTCDateTime()),
            {"id": activity_id},
        ).one()
        assert (str(by_id[activity_id]["SUMMARY"]), by_id[activity_id].decoded("DTSTART")) == tuple(row)


def test_exporting_an_activity_that_does_not_exist_is_not_found(session, staff):
    with pytest.raises(NotFound):
        svc.ics_activities(session=session, actor=staff, activity_id=987_654)


def test_the_export_follows_the_filters(session, staff, exported):
    cal = export(session, staff, filters=ActivityFilters(statuses=("cancelled",)))
    assert list(events(cal)) == [exported.cancelled]
    cal = export(session, staff, filters=ActivityFilters(online=True))
    assert list(events(cal)) == [exported.online]


def test_an_empty_range_is_a_valid_calendar_without_events(session, staff):
    cal = export(session, staff, first=FUTURE + timedelta(days=400), last=FUTURE + timedelta(days=401))
    assert events(cal) == {}
    assert str(cal["PRODID"]).startswith("-//")


def test_the_file_is_utf8_with_crlf_lines_folded_at_75_octets(session, staff, exported):
    long_title = "长江🌿" * 60 + ",;\\"
    long_one = create(session, staff, activity_input(long_title, starts_at=at(FUTURE, 8)))
    items, _ = svc.ics_activities(session=session, actor=staff, first=FIRST, last=LAST)
    data = to_ics(items, name="活动", category_label=str, organiser_label="主办单位")
    body = data.decode("utf-8")
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in body.split("\r\n"))
    assert str(events(icalendar.Calendar.from_ical(data))[long_one]["SUMMARY"]) == long_title


def test_times_typed_in_another_zone_are_exported_in_shanghai_time(session, staff):
    utc_start = datetime(2030, 6, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    activity_id = create(session, staff, activity_input(starts_at=utc_start, hours=2))
    event = events(export(session, staff, activity_id=activity_id))[activity_id]
    assert event.decoded("DTSTART") == utc_start
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2030, 6, 10, 9)
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTEND").astimezone(SHANGHAI).hour == 11
