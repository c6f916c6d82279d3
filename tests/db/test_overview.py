"""The metrics overview (db/services/overview.py) on both databases: every KPI and every chart against counts
written by hand here over the base tables (organisations, applications, activities, signups, council_terms,
meetings, meeting_attendance), never over the roll-ups, for no filters, each filter, a custom period, the presets
and the previous period; an empty database; who may read it.

The data are written once per backend through the services into a database of their own (committed: read by
every test of the module); months are Asia/Shanghai months, their bounds computed here and bound as UTC."""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, Engine, bindparam, text
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from db.base import UTCDateTime
from db.engine import make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import activities, applications, council, meetings, organisations, overview, users
from db.services.activities import ActivityInput
from db.services.meetings import MeetingInput
from db.services.overview import OverviewFilters
from domain.activities import Outcome
from domain.applications import ApplicationInput
from domain.errors import PermissionDenied
from domain.metrics import Period, preset
from domain.roles import ANONYMOUS, Actor, Role
from tests.conftest import TODAY, drop_pg_database, new_database_url, org_input

# Written out here rather than imported: the counts below must not lean on the code they check.
SH = ZoneInfo("Asia/Shanghai")
ENDING_DAYS = 180
KPI_KEYS = [
    "members",
    "new_members",
    "pending",
    "median_review_days",
    "seats_filled",
    "terms_ending",
    "activities",
    "volunteers",
    "hours",
    "trainings",
    "people",
    "meetings",
    "attendance",
]
TODAY_FIGURES = {"pending", "seats_filled", "terms_ending"}  # figures of today: no previous period
READERS = (Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def credit_code(n: int) -> str:
    body = f"91330100{n:09d}"
    return body + uscc.calc_check_digit(body)


# ------------------------------------------------------------------------------------------ the data

# key, name, kind, province, joined_on, status, is_secretariat
ORGS: list[tuple[str, str, str, str, date | None, str, bool]] = [
    ("SEC", "生态环境部宣传教育中心", "government", "北京", date(2024, 5, 10), "member", True),
    ("F1", "浙江省生态文明促进会", "social", "浙江", None, "member", False),
    ("D8", "北京自然之友", "social", "北京", None, "member", False),
    ("D1", "北京绿色骑行志愿队", "volunteer_team", "北京", date(2025, 1, 15), "member", False),
    ("D2", "复旦大学环境科学研究院", "academic", "上海", date(2025, 2, 28), "member", False),
    ("D3", "西湖护水志愿服务队", "volunteer_team", "浙江", date(2025, 8, 1), "member", False),
    ("D4", "广州绿能环保科技有限公司", "enterprise", "广东", date(2025, 11, 30), "member", False),
    ("D5", "朝阳社区环保志愿队", "volunteer_team", "北京", date(2026, 1, 1), "member", False),
    ("D6", "成都观鸟志愿队", "other", "四川", date(2025, 8, 20), "exited", False),
    ("D7", "钱塘江净滩志愿队", "volunteer_team", "浙江", date(2025, 9, 9), "suspended", False),
    ("D9", "深圳海洋保护志愿队", "volunteer_team", "广东", TODAY, "member", False),
    ("D10", "黄浦江守护志愿队", "volunteer_team", "上海", date(2025, 6, 15), "member", False),
]

# key, name, kind, province, channel, recommender, applied for, submitted at, then (status, at) steps
APPS: list[tuple[str, str, str, str, str, str | None, str, datetime, list[tuple[str, datetime]]]] = [
    # submitted 1 December 00:30 in Shanghai, still 30 November in UTC; decided on New Year's night (31 days)
    ("A18", "天津海河志愿队", "volunteer_team", "天津", "invited", None, "member", at(2024, 12, 1, 0, 30),
     [("in_review", at(2024, 12, 2, 10)), ("rejected", at(2025, 1, 1, 0, 30))]),
    ("A1", "海淀河长志愿队", "volunteer_team", "北京", "self_applied", None, "member", at(2025, 1, 10, 10),
     [("in_review", at(2025, 1, 11, 10)), ("approved", at(2025, 1, 20, 10))]),
    ("A10", "广东南岭生态科技股份有限公司", "enterprise", "广东", "invited", None, "council", at(2025, 3, 3, 9),
     [("in_review", at(2025, 3, 4, 9)), ("approved", at(2025, 3, 10, 9))]),
    ("A11", "上海滩涂守护队", "volunteer_team", "上海", "self_applied", None, "member", at(2025, 4, 1, 8),
     [("in_review", at(2025, 4, 2, 8)), ("rejected", at(2025, 4, 9, 9))]),
    ("A15", "千岛湖水源志愿队", "volunteer_team", "浙江", "invited", None, "member", at(2025, 5, 1, 10),
     [("in_review", at(2025, 5, 2, 10)), ("approved", at(2025, 7, 1, 10))]),
    # submitted 30 June 23:30 in Shanghai (June there, June in UTC too), decided 2 days 9.5 hours later
    ("A2", "浙江蓝色海湾保护协会", "social", "浙江", "invited", None, "member", at(2025, 6, 30, 23, 30),
     [("in_review", at(2025, 7, 1, 10)), ("approved", at(2025, 7, 3, 9))]),
    ("A12", "余杭湿地志愿队", "volunteer_team", "浙江", "recommended", "D1", "member", at(2025, 7, 1, 10),
     [("in_review", at(2025, 7, 2, 10)), ("approved", at(2025, 7, 15, 11))]),
    ("A3", "珠江口红树林志愿队", "volunteer_team", "广东", "recommended", "D2", "member", at(2025, 7, 15, 10),
     [("in_review", at(2025, 7, 16, 10)), ("rejected", at(2025, 9, 20, 10))]),
    # approved 1 September 00:20 in Shanghai (31 August in UTC): joins on 1 September
    ("A4", "同济大学绿色校园研究中心", "academic", "上海", "self_applied", None, "member", at(2025, 8, 1, 10),
     [("in_review", at(2025, 8, 2, 10)), ("approved", at(2025, 9, 1, 0, 20))]),
    ("A5", "峨眉山生态志愿队", "volunteer_team", "四川", "invited", None, "member", at(2025, 9, 1, 10),
     [("in_review", at(2025, 9, 2, 10)), ("approved", at(2025, 12, 1, 0, 10))]),
    ("A13", "东城垃圾分类志愿队", "volunteer_team", "北京", "self_applied", None, "member", at(2025, 10, 1, 10),
     [("in_review", at(2025, 10, 2, 10)), ("rejected", at(2025, 10, 16, 10))]),
    ("A6", "京西林场志愿队", "other", "北京", "self_applied", None, "member", at(2025, 10, 10, 10),
     [("withdrawn", at(2025, 10, 20, 10))]),
    ("A14", "苏州河巡护队", "volunteer_team", "上海", "invited", None, "member", at(2025, 10, 20, 10),
     [("in_review", at(2025, 10, 21, 10)), ("approved", at(2025, 12, 19, 10))]),
    ("A7", "宁波海岸志愿队", "volunteer_team", "浙江", "invited", None, "member", at(2025, 11, 5, 10),
     [("in_review", at(2025, 11, 6, 10))]),
    ("A16", "雄安新区生态志愿队", "volunteer_team", "河北", "self_applied", None, "member", at(2025, 11, 30, 12),
     [("in_review", at(2025, 11, 30, 14)), ("rejected", at(2025, 11, 30, 18))]),
    ("A8", "通州运河志愿队", "volunteer_team", "北京", "self_applied", None, "member", at(2025, 12, 20, 10),
     [("needs_more", at(2025, 12, 22, 10))]),
    ("A9", "深圳湾观鸟志愿队", "volunteer_team", "广东", "recommended", "D2", "member", at(2026, 1, 5, 10), []),
    ("A17", "重庆长江志愿队", "volunteer_team", "重庆", "self_applied", None, "member", at(2026, 3, 1, 0, 30),
     [("in_review", at(2026, 3, 2, 10)), ("approved", at(2026, 3, 5, 10))]),
]  # fmt: skip
NOTES = {"needs_more": "请补充登记证书扫描件", "rejected": "不符合入网条件"}

# key, title, category, starts at (3 hours long), province, organiser (None: the secretariat), outcome, capacity
ACTS: list[tuple[str, str, str, datetime, str, str | None, tuple[int, str] | None, int | None]] = [
    ("X6", "全国生态环境志愿服务论坛", "forum", at(2025, 3, 15), "全国", None, (100, "300"), None),
    ("X7", "骑行护河培训", "training", at(2025, 5, 20), "北京", "D1", (8, "16"), None),
    ("X12", "湿地保护研讨", "seminar", at(2025, 6, 28), "浙江", "F1", (7, "14"), None),
    ("X1", "河长制骨干培训", "training", at(2025, 7, 5), "北京", "D1", (20, "55.5"), None),
    ("X3", "长三角环境研讨会", "seminar", at(2025, 8, 15, 14), "上海", "D2", (5, "7.5"), None),
    ("X9", "西湖夜间净湖", "volunteering", at(2025, 8, 31, 23), "浙江", "D3", (12, "30"), None),
    # 00:30 on 1 September in Shanghai is still 31 August in UTC: a September activity
    ("X2", "钱塘江清晨净滩", "volunteering", at(2025, 9, 1, 0, 30), "浙江", None, (10, "20"), None),
    ("X4", "绿色能源培训", "training", at(2025, 10, 10), "广东", "D4", None, None),
    ("X5", "冬季骑行培训", "training", at(2025, 11, 11), "北京", "D1", (4, "10"), None),  # cancelled below
    ("X10", "跨年生态品牌活动", "brand", at(2025, 12, 31, 23, 30), "上海", "D2", (3, "1.5"), None),
    ("X8", "川西生物多样性调查", "research", at(2026, 1, 10), "四川", "D5", (6, "12.3"), None),
    ("X11", "秘书处年终培训", "training", at(2026, 11, 20), "北京", None, None, None),
    ("Y1", "骨干培训（2030）", "training", at(2030, 3, 10), "北京", "D1", None, 10),
    ("Y2", "湿地志愿服务（2030）", "volunteering", at(2030, 4, 20), "浙江", None, None, None),
    ("Y3", "成果展示（2030）", "showcase", at(2030, 5, 5), "上海", "D2", None, None),  # cancelled below
    ("Y4", "绿色培训（2030）", "training", at(2030, 5, 6), "广东", "D4", None, None),
]
CANCELLED = ("X5", "Y3")
# activity, unit, people, kind; then withdrawn ones
SIGNUPS = [
    ("Y1", "D2", 4, "signup"),
    ("Y1", "D3", 5, "signup"),
    ("Y1", "D4", 3, "signup"),  # over the capacity of 10: waitlisted
    ("Y2", "D1", 6, "signup"),
    ("Y2", "D3", 2, "invitation"),
    ("Y2", "D2", 3, "signup"),  # withdrawn below
    ("Y3", "D1", 2, "signup"),  # its activity is cancelled
]
WITHDRAWN = [("Y2", "D2")]

SESSION_START = date(2024, 9, 19)  # the session ends 2027-09-19
# seat, unit, starts on, ends on (None: the session's own)
TERMS = [
    (1, "D8", None, date(2025, 6, 1)),
    (1, "D1", date(2025, 6, 1), None),
    (2, "D2", None, None),
    (3, "F1", None, date(2027, 1, 31)),
    (4, "D3", None, TODAY + timedelta(days=ENDING_DAYS)),  # ends exactly 180 days from today
    (5, "D4", date(2027, 1, 1), None),  # not begun
    (6, "D5", date(2026, 2, 1), TODAY),  # ended today (half-open)
]
# key, kind, starts at, attendance
MEETINGS = [
    ("M3", "council", at(2025, 3, 1, 10), {"D8": "present", "D2": "absent", "F1": "present"}),
    ("M8", "secretariat", at(2025, 6, 20, 14), {}),
    ("M1", "council", at(2025, 7, 20, 10), {"D1": "present", "D2": "present", "F1": "leave", "D3": "absent"}),
    ("M2", "secretariat", at(2025, 10, 15, 14), {}),
    ("M5", "council", at(2025, 12, 31, 23, 30), {"D1": "present", "D2": "present"}),  # 15:30 UTC: December
    ("M6", "topic", at(2026, 11, 28, 9), {"D1": "present", "D2": "absent"}),  # today
    ("M7", "topic", at(2026, 11, 29, 0, 30), {"D1": "present"}),  # tomorrow in Shanghai, today in UTC
    ("M4", "topic", at(2026, 12, 10, 10), {"D1": "present"}),  # planned
]


@dataclass
class World:
    engine: Engine
    admin: Actor
    units: dict[str, int] = field(default_factory=dict)


def create_org(session: Session, admin: Actor, n: int, row: tuple[Any, ...]) -> int:
    _, name, kind, province, joined_on, status, secretariat = row
    code = "" if kind in ("volunteer_team", "other") else credit_code(n)
    data = org_input(
        name,
        kind=kind,
        province=province,
        credit_code=code,
        joined_on=joined_on,
        status=status,
        is_secretariat=secretariat,
    )
    return organisations.create_organisation(session=session, actor=admin, data=data, today=TODAY)


def create_app(session: Session, admin: Actor, units: dict[str, int], n: int, row: tuple[Any, ...]) -> int:
    _, name, kind, province, channel, recommender, applied_for, submitted, steps = row
    code = "" if kind in ("volunteer_team", "other") else credit_code(100 + n)
    data = ApplicationInput(
        organisation=org_input(name, kind=kind, province=province, credit_code=code),
        applied_for=applied_for,
        statement="我们想加入网络。",
        consent=True,
    )
    app_id, _ = applications.create_application(
        session=session,
        actor=admin,
        data=data,
        channel=channel,
        recommender_id=units[recommender] if recommender else None,
        now=submitted,
    )
    version = 1
    for status, moment in steps:
        version = applications.change_status(
            session=session,
            actor=admin,
            application_id=app_id,
            expected_version=version,
            to_status=status,
            note=NOTES.get(status, ""),
            now=moment,
        )
    return app_id


def build(session: Session, admin: Actor) -> dict[str, int]:
    units: dict[str, int] = {}
    for n, row in enumerate(ORGS):
        units[row[0]] = create_org(session, admin, n, row)
    for n, row in enumerate(APPS):
        create_app(session, admin, units, n, row)
    acts: dict[str, int] = {}
    versions: dict[str, int] = {}
    for key, title, category, starts, province, organiser, outcome, capacity in ACTS:
        data = ActivityInput(
            title=title,
            category=category,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            province=province,
            place="北京市生态环境宣传教育中心",
            organiser_id=units[organiser] if organiser else None,
            capacity=capacity,
        )
        (acts[key],) = activities.create_activity(session=session, actor=admin, data=data)
        versions[key] = 1
        if outcome is not None:
            versions[key] = activities.record_outcome(
                session=session,
                actor=admin,
                activity_id=acts[key],
                expected_version=1,
                outcome=Outcome(volunteers=outcome[0], service_hours=Decimal(outcome[1])),
            )
    signups: dict[tuple[str, str], int] = {}
    for act, unit, people, kind in SIGNUPS:
        result = activities.add_signup(
            session=session, actor=admin, activity_id=acts[act], organisation_id=units[unit], people=people, kind=kind
        )
        signups[(act, unit)] = result.id
    for act, unit in WITHDRAWN:
        activities.cancel_signup(session=session, actor=admin, signup_id=signups[(act, unit)], expected_version=1)
    for key in CANCELLED:
        activities.cancel_activity(
            session=session, actor=admin, activity_id=acts[key], expected_version=versions[key], reason="天气原因"
        )
    session_id = council.create_session(session=session, actor=admin, starts_on=SESSION_START)
    for seat, unit, starts_on, ends_on in TERMS:
        council.seat_term(
            session=session,
            actor=admin,
            session_id=session_id,
            seat=seat,
            organisation_id=units[unit],
            source="invited",
            starts_on=starts_on,
            ends_on=ends_on,
        )
    for key, kind, starts, attendance in MEETINGS:
        meeting_id = meetings.create_meeting(
            session=session,
            actor=admin,
            data=MeetingInput(kind=kind, title=f"会议{key}", starts_at=starts, place="秘书处会议室"),
        )
        if attendance:
            meetings.record_attendance(
                session=session,
                actor=admin,
                meeting_id=meeting_id,
                expected_version=1,
                entries={units[u]: (status, "") for u, status in attendance.items()},
            )
    return units


def first_admin(session: Session) -> Actor:
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


@pytest.fixture(scope="module")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A database of its own with the data above, written through the services and committed."""
    url = new_database_url(backend, tmp_path_factory.mktemp(f"overview_{backend}"))
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        with transaction(write=True, engine=engine) as session:
            admin = first_admin(session)
            units = build(session, admin)
        yield World(engine, admin, units)
    finally:
        engine.dispose()
        if backend == "postgresql":
            drop_pg_database(url)


@pytest.fixture
def reading(world: World) -> Iterator[Session]:
    with Session(bind=world.engine) as session:
        yield session


# ------------------------------------------------------------------------------------ the cases


def shift(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Case:
    """Filters as the page sets them, with the bounds worked out by hand."""

    first: date  # first month
    last: date  # last month
    province: str | None = None
    kind: str | None = None
    category: str | None = None

    @property
    def span(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def end(self) -> date:
        return shift(self.last, 1)

    def before(self) -> "Case":
        return Case(shift(self.first, -self.span), shift(self.first, -1), self.province, self.kind, self.category)

    def filters(self) -> OverviewFilters:
        return OverviewFilters(
            period=Period(self.first, self.last), province=self.province, kind=self.kind, category=self.category
        )


H2_2025 = (date(2025, 7, 1), date(2025, 12, 1))
CASES = {
    "no filters": Case(*H2_2025),
    "province 北京": Case(*H2_2025, province="北京"),
    "province 浙江": Case(*H2_2025, province="浙江"),
    "province 上海": Case(*H2_2025, province="上海"),
    "kind volunteer_team": Case(*H2_2025, kind="volunteer_team"),
    "kind academic": Case(*H2_2025, kind="academic"),
    "category training": Case(*H2_2025, category="training"),
    "category volunteering": Case(*H2_2025, category="volunteering"),
    "北京 volunteer_team training": Case(*H2_2025, province="北京", kind="volunteer_team", category="training"),
    "custom March 2025 to February 2026": Case(date(2025, 3, 1), date(2026, 2, 1)),
    "custom 2030 first half, nothing before": Case(date(2030, 1, 1), date(2030, 6, 1)),
    "the last 12 months": Case(date(2025, 12, 1), date(2026, 11, 1)),
    "the last 12 months, 浙江": Case(date(2025, 12, 1), date(2026, 11, 1), province="浙江"),
    "all, from the earliest month": Case(date(2024, 12, 1), date(2026, 11, 1)),
}


# ------------------------------------------------------------------------------------ counting by hand


def sql(session: Session, statement: str, columns: dict[str, Any] | None = None, **params: Any) -> list[Any]:
    """Rows of a hand-written SELECT; datetimes bound as UTC (SQLite keeps naive UTC text), dates as dates."""
    typed = [
        bindparam(name, type_=UTCDateTime() if isinstance(value, datetime) else Date())
        for name, value in params.items()
        if isinstance(value, date)
    ]
    query = text(statement).bindparams(*typed)
    if columns:
        query = query.columns(**columns)
    return list(session.execute(query, params).all())


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SH)


def month_of(moment: datetime) -> date:
    return moment.astimezone(SH).date().replace(day=1)


def unit_filters(case: Case, alias: str, params: dict[str, Any]) -> str:
    """Province and kind on a table that has both (organisations, applications)."""
    where = ""
    if case.province:
        where += f" AND {alias}.province = :province"
        params["province"] = case.province
    if case.kind:
        where += f" AND {alias}.kind = :kind"
        params["kind"] = case.kind
    return where


def activity_filters(case: Case, params: dict[str, Any]) -> str:
    """Activities: their own province and category, the organiser's kind (the secretariat has none)."""
    where = ""
    if case.province:
        where += " AND a.province = :province"
        params["province"] = case.province
    if case.kind:
        where += " AND o.kind = :kind"
        params["kind"] = case.kind
    if case.category:
        where += " AND a.category = :category"
        params["category"] = case.category
    return where


def members_on(session: Session, case: Case, day: date) -> int:
    params: dict[str, Any] = {"day": day}
    where = unit_filters(case, "o", params)
    (row,) = sql(
        session,
        "SELECT COUNT(*) FROM organisations o WHERE o.status = 'member' AND NOT o.is_secretariat"
        f" AND (o.joined_on IS NULL OR o.joined_on <= :day){where}",
        **params,
    )
    return int(row[0])


def joined_in(session: Session, case: Case) -> int:
    """Units (any status now) whose join date falls in the period."""
    params: dict[str, Any] = {"first": case.first, "end": case.end}
    where = unit_filters(case, "o", params)
    (row,) = sql(
        session,
        "SELECT COUNT(*) FROM organisations o WHERE NOT o.is_secretariat"
        f" AND o.joined_on >= :first AND o.joined_on < :end{where}",
        **params,
    )
    return int(row[0])


def pending_now(session: Session, case: Case) -> int:
    params: dict[str, Any] = {}
    where = unit_filters(case, "a", params)
    (row,) = sql(
        session,
        f"SELECT COUNT(*) FROM applications a WHERE a.status IN ('submitted', 'in_review', 'needs_more'){where}",
        **params,
    )
    return int(row[0])


def review_days(session: Session, case: Case) -> list[int]:
    """Whole days (24 hours) from submission to decision of the applications approved or rejected in the
    period."""
    params: dict[str, Any] = {"start": shanghai(case.first), "end": shanghai(case.end)}
    where = unit_filters(case, "a", params)
    found = sql(
        session,
        "SELECT a.submitted_at, a.decided_at FROM applications a WHERE a.status IN ('approved', 'rejected')"
        f" AND a.decided_at >= :start AND a.decided_at < :end{where}",
        {"submitted_at": UTCDateTime(), "decided_at": UTCDateTime()},
        **params,
    )
    return [max(int((decided - submitted).total_seconds() // 86400), 0) for submitted, decided in found]


def seats(session: Session) -> tuple[int, int]:
    soon = TODAY + timedelta(days=ENDING_DAYS)
    (filled,) = sql(
        session, "SELECT COUNT(*) FROM council_terms WHERE starts_on <= :today AND ends_on > :today", today=TODAY
    )
    (ending,) = sql(
        session,
        "SELECT COUNT(*) FROM council_terms WHERE starts_on <= :today AND ends_on > :today AND ends_on <= :soon",
        today=TODAY,
        soon=soon,
    )
    return int(filled[0]), int(ending[0])


def activity_sums(session: Session, case: Case) -> dict[str, float]:
    params: dict[str, Any] = {"start": shanghai(case.first), "end": shanghai(case.end)}
    where = activity_filters(case, params)
    live = (
        "FROM activities a LEFT JOIN organisations o ON o.id = a.organiser_id"
        f" WHERE a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end{where}"
    )
    ((held, volunteers, hours, trainings),) = sql(
        session,
        "SELECT COUNT(*), COALESCE(SUM(a.volunteers), 0), COALESCE(SUM(a.service_hours), 0),"
        f" COALESCE(SUM(CASE WHEN a.category = 'training' THEN 1 ELSE 0 END), 0) {live}",
        **params,
    )
    ((people,),) = sql(
        session,
        f"SELECT COALESCE(SUM(s.people), 0) FROM signups s WHERE s.status = 'confirmed'"
        f" AND s.activity_id IN (SELECT a.id {live})",
        **params,
    )
    return {
        "activities": int(held),
        "volunteers": int(volunteers),
        "hours": float(hours),
        "trainings": int(trainings),
        "people": int(people),
    }


def meetings_held(session: Session, case: Case) -> tuple[int, float | None]:
    """Meetings held in the period up to today (Shanghai), and the share of recorded attendance present."""
    params = {
        "start": shanghai(case.first),
        "end": shanghai(case.end),
        "tomorrow": shanghai(TODAY + timedelta(days=1)),
    }
    held_at = "m.starts_at >= :start AND m.starts_at < :end AND m.starts_at < :tomorrow"
    ((held,),) = sql(session, f"SELECT COUNT(*) FROM meetings m WHERE {held_at}", **params)
    ((present, recorded),) = sql(
        session,
        "SELECT COALESCE(SUM(CASE WHEN ma.status = 'present' THEN 1 ELSE 0 END), 0), COUNT(ma.id)"
        f" FROM meeting_attendance ma JOIN meetings m ON m.id = ma.meeting_id WHERE {held_at}",
        **params,
    )
    return int(held), (int(present) / int(recorded) if recorded else None)


def by_hand(session: Session, case: Case) -> dict[str, tuple[float | None, float | None]]:
    """Every KPI: (value, previous period's value), the previous None for today's figures. Council seats and
    meetings belong to the whole network: no filter applies to them."""
    before = case.before()
    figures: dict[str, tuple[float | None, float | None]] = {
        "members": (members_on(session, case, min(case.end - timedelta(days=1), TODAY)),
                    members_on(session, case, before.end - timedelta(days=1))),
        "new_members": (joined_in(session, case), joined_in(session, before)),
        "pending": (pending_now(session, case), None),
    }  # fmt: skip
    now_days, before_days = review_days(session, case), review_days(session, before)
    figures["median_review_days"] = (
        statistics.median(now_days) if now_days else None,
        statistics.median(before_days) if before_days else None,
    )
    filled, ending = seats(session)
    figures["seats_filled"] = (filled, None)
    figures["terms_ending"] = (ending, None)
    now_sums, before_sums = activity_sums(session, case), activity_sums(session, before)
    for key in ("activities", "volunteers", "hours", "trainings", "people"):
        figures[key] = (now_sums[key], before_sums[key])
    (held, rate), (held_before, rate_before) = meetings_held(session, case), meetings_held(session, before)
    figures["meetings"] = (held, held_before)
    figures["attendance"] = (rate, rate_before)
    return figures


def approx(value: float | None) -> Any:
    return None if value is None else pytest.approx(value)


def shown(tiles: list[overview.Kpi]) -> dict[str, tuple[float | None, float | None]]:
    """What the service says: each KPI's value and the previous figure its change is against."""
    return {k.key: (k.value, None if k.change is None else k.change.previous) for k in tiles}


# ------------------------------------------------------------------------------------ the KPIs


@pytest.mark.parametrize("name", list(CASES))
def test_every_kpi_and_its_previous_period_equal_the_counts_by_hand(reading, world, name):
    case = CASES[name]
    tiles = overview.kpis(session=reading, actor=world.admin, filters=case.filters(), today=TODAY)
    assert [k.key for k in tiles] == KPI_KEYS
    expected = by_hand(reading, case)
    # a median or a rate missing on either side has nothing to compare with; today's figures have no previous
    compared = {k: (v, None if v is None else p) for k, (v, p) in expected.items()}
    assert shown(tiles) == {k: (approx(v), approx(p)) for k, (v, p) in compared.items()}
    for tile in tiles:
        value, previous = compared[tile.key]
        if value is None or previous is None:
            assert tile.change is None, tile.key
            continue
        assert tile.change is not None, tile.key
        assert tile.change.value == pytest.approx(value)
        assert tile.change.delta == pytest.approx(value - previous)
        assert tile.change.ratio == (None if previous == 0 else pytest.approx((value - previous) / previous))


def test_the_second_half_of_2025_reads_as_worked_out_on_paper(reading, world):
    """The hand counts themselves, checked against the data above once (so a mistake in both is unlikely)."""
    got = shown(overview.kpis(session=reading, actor=world.admin, filters=CASES["no filters"].filters(), today=TODAY))
    # members at 31 December 2025: F1, D8, D1, D2, D3, D4, D10 and the units admitted from A1, A10, A15, A2, A12,
    # A4, A5, A14; at 30 June 2025: F1, D8, D1, D2, D10, A1, A10
    assert got["members"] == (15, 7)
    # joined July-December: D3, D4, D6 (since left), D7 (suspended), A15, A2, A12, A4, A5, A14; before: D1, D2,
    # D10, A1, A10
    assert got["new_members"] == (10, 5)
    assert got["pending"] == (3, None)  # A7, A8, A9
    # decided July-December: 61, 2, 14, 67, 30, 90, 15, 60, 0 days -> 30; January-June: 31, 10, 7, 8 -> 9
    assert got["median_review_days"] == (30, 9)
    assert got["seats_filled"] == (4, None) and got["terms_ending"] == (2, None)
    # X1, X3, X9, X2, X4, X10 (X5 cancelled); before: X6, X7, X12
    assert got["activities"] == (6, 3)
    assert got["volunteers"] == (50, 115)
    assert got["hours"] == (pytest.approx(114.5), pytest.approx(330))
    assert got["trainings"] == (2, 1)
    assert got["people"] == (0, 0)
    assert got["meetings"] == (3, 2)  # M1, M2, M5; before M3, M8
    assert got["attendance"] == (pytest.approx(4 / 6), pytest.approx(2 / 3))


def test_people_count_confirmed_sign_ups_of_live_activities_only(reading, world):
    filters = CASES["custom 2030 first half, nothing before"].filters()
    tiles = {k.key: k for k in overview.kpis(session=reading, actor=world.admin, filters=filters, today=TODAY)}
    got = shown(list(tiles.values()))
    # Y1: 4 + 5 confirmed (3 waitlisted); Y2: 6 (an invitation and a withdrawal not counted); Y3 cancelled
    assert got["people"] == (15, 0)
    assert got["activities"] == (3, 0) and got["trainings"] == (2, 0)
    people = tiles["people"].change
    assert people is not None and people.ratio is None  # nothing to compare with


def test_meetings_are_counted_up_to_today_in_shanghai(reading, world):
    got = shown(
        overview.kpis(session=reading, actor=world.admin, filters=CASES["the last 12 months"].filters(), today=TODAY)
    )
    # December 2025 to November 2026: M5 and M6 (today); M7 is tomorrow in Shanghai, M4 planned
    assert got["meetings"][0] == 2
    assert got["attendance"][0] == pytest.approx(3 / 4)


# ------------------------------------------------------------------------------------ the charts


def members_by_hand(session: Session, case: Case, column: str) -> dict[str, int]:
    params: dict[str, Any] = {}
    where = unit_filters(case, "o", params)
    found = sql(
        session,
        f"SELECT o.{column}, COUNT(*) FROM organisations o WHERE o.status = 'member' AND NOT o.is_secretariat"
        f"{where} GROUP BY o.{column}",
        **params,
    )
    return {str(k): int(n) for k, n in found}


def joined_by_hand(session: Session, case: Case) -> list[tuple[date, str, int]]:
    """Units that joined in the period per month and the channel of the application whose approval admitted
    them (decided on their join day in Shanghai); 'direct' without one."""
    params: dict[str, Any] = {"first": case.first, "end": case.end}
    where = unit_filters(case, "o", params)
    units = sql(
        session,
        "SELECT o.id, o.joined_on FROM organisations o WHERE NOT o.is_secretariat"
        f" AND o.joined_on >= :first AND o.joined_on < :end{where}",
        **params,
    )
    approvals = sql(
        session,
        "SELECT organisation_id, channel, decided_at FROM applications WHERE status = 'approved'",
        {"organisation_id": None, "channel": None, "decided_at": UTCDateTime()},
    )
    counted: dict[tuple[date, str], int] = defaultdict(int)
    for unit, joined in units:
        day = joined if isinstance(joined, date) else date.fromisoformat(str(joined))
        channels = [c for o, c, d in approvals if o == unit and d.astimezone(SH).date() == day]
        assert len(channels) <= 1
        counted[(day.replace(day=1), channels[0] if channels else "direct")] += 1
    return sorted((m, c, n) for (m, c), n in counted.items())


def funnel_by_hand(session: Session, case: Case) -> dict[str, int]:
    params: dict[str, Any] = {"start": shanghai(case.first), "end": shanghai(case.end)}
    where = unit_filters(case, "a", params)
    found = sql(
        session,
        "SELECT a.status, COUNT(*) FROM applications a"
        f" WHERE a.submitted_at >= :start AND a.submitted_at < :end{where} GROUP BY a.status",
        **params,
    )
    return {s: int(n) for s, n in found}


def bucket_by_hand(days: int) -> int:
    for index, high in enumerate((7, 14, 30, 60, 90)):
        if days <= high:
            return index
    return 5


def live_activities(session: Session, case: Case) -> list[Any]:
    """(id, organiser, starts at, category, hours, confirmed people) of the live activities in the period."""
    params: dict[str, Any] = {"start": shanghai(case.first), "end": shanghai(case.end)}
    where = activity_filters(case, params)
    return sql(
        session,
        "SELECT a.id, a.organiser_id, a.starts_at, a.category, a.service_hours,"
        " (SELECT COALESCE(SUM(s.people), 0) FROM signups s WHERE s.activity_id = a.id AND s.status = 'confirmed')"
        " AS people FROM activities a LEFT JOIN organisations o ON o.id = a.organiser_id"
        f" WHERE a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end{where}",
        {
            "id": None,
            "organiser_id": None,
            "starts_at": UTCDateTime(),
            "category": None,
            "service_hours": None,
            "people": None,
        },
        **params,
    )


def months_by_hand(session: Session, case: Case) -> list[tuple[date, str, int, float, int]]:
    counted: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for _, _, starts, category, hours, people in live_activities(session, case):
        figures = counted[(month_of(starts), category)]
        figures[0] += 1
        figures[1] += float(hours or 0)
        figures[2] += int(people)
    return sorted((m, c, int(a), h, int(p)) for (m, c), (a, h, p) in counted.items())


def organisers_by_hand(session: Session, case: Case) -> list[tuple[int | None, str, int, float]]:
    names = {int(i): n for i, n in sql(session, "SELECT id, name FROM organisations")}
    counted: dict[int | None, list[float]] = defaultdict(lambda: [0, 0.0])
    for _, organiser, _, _, hours, _ in live_activities(session, case):
        counted[organiser][0] += 1
        counted[organiser][1] += float(hours or 0)
    return sorted(
        ((o, names[o] if o is not None else "", int(n), h) for o, (n, h) in counted.items()),
        key=lambda r: (-r[2], -r[3]),
    )


def earliest_by_hand(session: Session) -> date | None:
    starts = [month_of(s) for (s,) in sql(session, "SELECT starts_at FROM activities", {"starts_at": UTCDateTime()})]
    submitted = [
        month_of(s) for (s,) in sql(session, "SELECT submitted_at FROM applications", {"submitted_at": UTCDateTime()})
    ]
    joined = [
        (j if isinstance(j, date) else date.fromisoformat(str(j))).replace(day=1)
        for (j,) in sql(
            session, "SELECT joined_on FROM organisations WHERE joined_on IS NOT NULL AND NOT is_secretariat"
        )
    ]
    found = starts + submitted + joined
    return min(found) if found else None


@pytest.mark.parametrize("name", list(CASES))
def test_every_chart_equals_the_counts_by_hand(reading, world, name):
    case = CASES[name]
    filters, admin = case.filters(), world.admin
    for column in ("kind", "province"):
        got = overview.members_by(session=reading, actor=admin, filters=filters, field=column)
        assert got == members_by_hand(reading, case, column), column
        assert list(got.values()) == sorted(got.values(), reverse=True), "largest first"

    assert overview.new_members_by_month(session=reading, actor=admin, filters=filters) == joined_by_hand(reading, case)
    assert overview.application_funnel(session=reading, actor=admin, filters=filters) == funnel_by_hand(reading, case)

    buckets = [0] * 6
    for days in review_days(reading, case):
        buckets[bucket_by_hand(days)] += 1
    assert overview.review_distribution(session=reading, actor=admin, filters=filters) == buckets

    months = [
        (m.month, m.category, m.activities, pytest.approx(m.hours), m.people)
        for m in overview.activities_by_month(session=reading, actor=admin, filters=filters)
        # a month whose only activities of a category were cancelled comes back as a row of zeros
        if (m.activities, m.hours, m.people) != (0, 0, 0)
    ]
    assert months == months_by_hand(reading, case)

    top = overview.top_organisers(session=reading, actor=admin, filters=filters)
    expected = organisers_by_hand(reading, case)
    assert sorted((t.organisation_id or 0, t.name, t.activities, t.hours) for t in top) == sorted(
        (o or 0, name, n, pytest.approx(h)) for o, name, n, h in expected
    )
    order = [(t.activities, t.hours) for t in top]
    assert order == sorted(order, reverse=True), "most activities first, then hours"


def test_the_second_half_of_2025_charts_read_as_worked_out_on_paper(reading, world):
    filters, admin, units = CASES["no filters"].filters(), world.admin, world.units
    # current members: D1, D3, D5, D9, D10 and the units of A1, A15, A12, A5, A14, A17; F1, D8, A2; D2, A4; D4, A10
    kinds = overview.members_by(session=reading, actor=admin, filters=filters, field="kind")
    assert kinds == {"volunteer_team": 11, "social": 3, "academic": 2, "enterprise": 2}
    assert overview.new_members_by_month(session=reading, actor=admin, filters=filters) == [
        (date(2025, 7, 1), "invited", 2),  # A15, A2
        (date(2025, 7, 1), "recommended", 1),  # A12
        (date(2025, 8, 1), "direct", 2),  # D3, D6
        (date(2025, 9, 1), "direct", 1),  # D7
        (date(2025, 9, 1), "self_applied", 1),  # A4, approved 00:20 on 1 September in Shanghai
        (date(2025, 11, 1), "direct", 1),  # D4
        (date(2025, 12, 1), "invited", 2),  # A5 (00:10 on 1 December), A14
    ]
    # submitted July-December (A2 at 23:30 on 30 June is June's)
    assert overview.application_funnel(session=reading, actor=admin, filters=filters) == {
        "approved": 4,  # A12, A4, A5, A14
        "rejected": 3,  # A3, A13, A16
        "withdrawn": 1,  # A6
        "in_review": 1,  # A7
        "needs_more": 1,  # A8
    }
    # 0, 2 | 14 | 15, 30 | 60 | 61, 67, 90 | -
    assert overview.review_distribution(session=reading, actor=admin, filters=filters) == [2, 1, 2, 1, 3, 0]
    assert overview.earliest_month(session=reading, actor=admin) == date(2024, 12, 1)
    top = overview.top_organisers(session=reading, actor=admin, filters=filters)
    assert [(t.organisation_id, t.activities, t.hours) for t in top] == [
        (units["D2"], 2, pytest.approx(9.0)),  # X3, X10
        (units["D1"], 1, pytest.approx(55.5)),  # X1 (X5 cancelled)
        (units["D3"], 1, pytest.approx(30.0)),  # X9
        (None, 1, pytest.approx(20.0)),  # X2, by the secretariat
        (units["D4"], 1, pytest.approx(0.0)),  # X4, no outcome yet
    ]
    assert top[3].name == "" and top[0].name == "复旦大学环境科学研究院"
    limited = overview.top_organisers(session=reading, actor=admin, filters=filters, limit=2)
    assert [t.organisation_id for t in limited] == [units["D2"], units["D1"]]


def test_activities_by_month_puts_an_activity_in_its_shanghai_month(reading, world):
    months = overview.activities_by_month(
        session=reading, actor=world.admin, filters=CASES["category volunteering"].filters()
    )
    # X9 at 23:00 on 31 August and X2 at 00:30 on 1 September (Shanghai) -- both 31 August in UTC
    assert [(m.month, m.activities, m.hours) for m in months] == [
        (date(2025, 8, 1), 1, pytest.approx(30.0)),
        (date(2025, 9, 1), 1, pytest.approx(20.0)),
    ]


def test_the_earliest_month_is_the_first_month_of_anything_counted(reading, world):
    # A18 was submitted at 00:30 on 1 December 2024 in Shanghai (30 November in UTC); the secretariat's own
    # join date (May 2024) does not count
    earliest = overview.earliest_month(session=reading, actor=world.admin)
    assert earliest == earliest_by_hand(reading) == date(2024, 12, 1)
    whole = CASES["all, from the earliest month"]
    assert preset("all", TODAY, earliest) == Period(whole.first, whole.last)


# ------------------------------------------------------------------------------------ found wanting


def joined_chart(session: Session, actor: Actor, case: Case) -> list[tuple[date, str, int]]:
    return overview.new_members_by_month(session=session, actor=actor, filters=case.filters())


def test_a_member_that_later_applies_for_a_council_seat_still_joined_directly(session, admin):
    unit = create_org(
        session, admin, 1, ("", "温州瓯江志愿服务协会", "social", "浙江", date(2025, 2, 10), "member", False)
    )
    app_id = create_app(
        session,
        admin,
        {},
        1,
        ("", "温州瓯江志愿服务协会", "social", "浙江", "invited", None, "council", at(2025, 5, 6, 10),
         [("in_review", at(2025, 5, 7, 10)), ("approved", at(2025, 6, 10, 10))]),
    )  # fmt: skip
    ((organisation_id,),) = sql(session, "SELECT organisation_id FROM applications WHERE id = :id", id=app_id)
    assert organisation_id == unit  # the same unit, still joined on 10 February
    year = Case(date(2025, 1, 1), date(2025, 12, 1))
    assert joined_by_hand(session, year) == [(date(2025, 2, 1), "direct", 1)]
    assert joined_chart(session, admin, year) == joined_by_hand(session, year)


def test_a_readmitted_unit_joins_under_the_channel_of_its_readmission(session, admin):
    recommender = create_org(session, admin, 2, ("", "绍兴鉴湖志愿队", "volunteer_team", "浙江", None, "member", False))
    row = ("", "台州湾湿地志愿队", "volunteer_team", "浙江")
    first = create_app(session, admin, {}, 1, (*row, "self_applied", None, "member", at(2025, 2, 3, 10),
                       [("in_review", at(2025, 2, 4, 10)), ("approved", at(2025, 3, 5, 10))]))  # fmt: skip
    ((unit,),) = sql(session, "SELECT organisation_id FROM applications WHERE id = :id", id=first)
    ((version,),) = sql(session, "SELECT version FROM organisations WHERE id = :id", id=unit)
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=unit, expected_version=version, status="exited", reason="停止活动"
    )
    create_app(session, admin, {"R": recommender}, 1, (*row, "recommended", "R", "member", at(2025, 9, 1, 10),
               [("in_review", at(2025, 9, 2, 10)), ("approved", at(2025, 9, 10, 10))]))  # fmt: skip
    year = Case(date(2025, 1, 1), date(2025, 12, 1))
    assert joined_by_hand(session, year) == [(date(2025, 9, 1), "recommended", 1)]
    assert joined_chart(session, admin, year) == joined_by_hand(session, year)


def test_the_earliest_month_includes_a_meeting_held_before_anything_else(session, admin):
    meetings.create_meeting(
        session=session,
        actor=admin,
        data=MeetingInput(kind="secretariat", title="秘书处工作会议", starts_at=at(2025, 3, 12, 14), place="会议室"),
    )
    activities.create_activity(
        session=session,
        actor=admin,
        data=ActivityInput(
            title="河湖巡护",
            category="volunteering",
            starts_at=at(2025, 6, 7),
            ends_at=at(2025, 6, 7, 12),
            province="北京",
            place="永定河",
        ),
    )
    assert overview.earliest_month(session=session, actor=admin) == date(2025, 3, 1)


# ------------------------------------------------------------------------------------ an empty database


@pytest.fixture
def empty_engine(fresh_engine: Engine) -> Engine:
    upgrade_to_head(fresh_engine)
    return fresh_engine


def test_an_empty_database_gives_zeros_and_empty_charts(empty_engine):
    admin = Actor(user_id=None, username="", role=Role.ADMIN)
    with Session(bind=empty_engine) as session:
        assert overview.earliest_month(session=session, actor=admin) is None
        for chosen in (Period(date(2026, 11, 1), date(2026, 11, 1)), Period(date(2025, 12, 1), date(2026, 11, 1))):
            for filters in (
                OverviewFilters(period=chosen),
                OverviewFilters(period=chosen, province="北京", kind="social", category="training"),
            ):
                tiles = overview.kpis(session=session, actor=admin, filters=filters, today=TODAY)
                assert [k.key for k in tiles] == KPI_KEYS
                for tile in tiles:
                    if tile.key in ("median_review_days", "attendance"):
                        assert tile.value is None and tile.change is None, tile.key
                        continue
                    assert tile.value == 0, tile.key
                    if tile.key in TODAY_FIGURES:
                        assert tile.change is None, tile.key
                    else:
                        assert tile.change is not None, tile.key
                        assert (tile.change.previous, tile.change.delta, tile.change.ratio) == (0, 0, None)
                for column in ("kind", "province"):
                    assert overview.members_by(session=session, actor=admin, filters=filters, field=column) == {}
                assert overview.new_members_by_month(session=session, actor=admin, filters=filters) == []
                assert overview.application_funnel(session=session, actor=admin, filters=filters) == {}
                assert overview.review_distribution(session=session, actor=admin, filters=filters) == [0] * 6
                assert overview.activities_by_month(session=session, actor=admin, filters=filters) == []
                assert overview.top_organisers(session=session, actor=admin, filters=filters) == []


# ------------------------------------------------------------------------------------ who may read it

FILTERS = OverviewFilters(period=Period(date(2025, 12, 1), date(2026, 11, 1)))
READS: dict[str, Callable[..., Any]] = {
    "kpis": lambda session, actor: overview.kpis(session=session, actor=actor, filters=FILTERS, today=TODAY),
    "members by kind": lambda session, actor: overview.members_by(
        session=session, actor=actor, filters=FILTERS, field="kind"
    ),
    "members by province": lambda session, actor: overview.members_by(
        session=session, actor=actor, filters=FILTERS, field="province"
    ),
    "new members by month": lambda session, actor: overview.new_members_by_month(
        session=session, actor=actor, filters=FILTERS
    ),
    "application funnel": lambda session, actor: overview.application_funnel(
        session=session, actor=actor, filters=FILTERS
    ),
    "review distribution": lambda session, actor: overview.review_distribution(
        session=session, actor=actor, filters=FILTERS
    ),
    "activities by month": lambda session, actor: overview.activities_by_month(
        session=session, actor=actor, filters=FILTERS
    ),
    "top organisers": lambda session, actor: overview.top_organisers(session=session, actor=actor, filters=FILTERS),
    "earliest month": lambda session, actor: overview.earliest_month(session=session, actor=actor),
}


@pytest.mark.parametrize("read", list(READS))
def test_an_anonymous_visitor_cannot_read_the_overview(session, read):
    with pytest.raises(PermissionDenied):
        READS[read](session, ANONYMOUS)


APPLICATION_FIGURES = ("application funnel", "review distribution")
APPLICATION_KPIS = ("pending", "median_review_days")


def test_admin_secretariat_council_and_viewer_read_every_figure_viewers_none_of_applications(
    session, admin, make_actor
):
    readers = [admin, *(make_actor(role) for role in READERS if role is not Role.ADMIN)]
    assert [r.role for r in readers] == list(READERS)
    for reader in readers:
        viewer = reader.role is Role.VIEWER
        for name, read in READS.items():
            if viewer and name in APPLICATION_FIGURES:
                # DESIGN.md: partner demos may not read applications — their figures neither
                with pytest.raises(PermissionDenied):
                    read(session, reader)
            else:
                read(session, reader)  # no PermissionDenied
        expected = [k for k in KPI_KEYS if not (viewer and k in APPLICATION_KPIS)]
        assert [k.key for k in READS["kpis"](session, reader)] == expected, reader.role
