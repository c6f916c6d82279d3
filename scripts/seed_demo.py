"""Seed a separate demo database through the services (`make demo`); refuses a database that holds records.

Every unit and person here is fictional. The demo password is public by design and exists only in demo
databases, which the app marks with a 演示数据 banner. Each screen's issue extends `SEEDERS`.
"""

import calendar
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from db.engine import get_engine, transaction
from db.migrate import upgrade_to_head
from db.models import Activity, Application, CouncilTerm, Organisation, Signup, User
from db.services import (
    achievements,
    activities,
    applications,
    council,
    meetings,
    organisations,
    selections,
    settings,
    users,
)
from domain import clock
from domain.activities import Category, Outcome, Repeat, SignupKind, SignupStatus, local_datetime
from domain.applications import ApplicationInput, AppliedFor, AppStatus, Channel, Opinion
from domain.clock import SHANGHAI
from domain.council import SEATS, MeetingKind, TermSource
from domain.holidays import day_marks, known_year
from domain.organisations import NATIONAL, OrganisationInput, OrgKind, OrgStatus
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import (
    DEFAULT_CATEGORIES,
    AchievementCategory,
    AchievementInput,
    AchievementStatus,
    CategoryInput,
    NominationInput,
    NomineeKind,
    PublicityChannel,
    RoundInput,
)
from domain.text import name_key

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo@2026")
DEMO_ACCOUNTS = {
    "demo_admin": (Role.ADMIN, "演示管理员"),
    "demo_secretariat": (Role.SECRETARIAT, "演示秘书处"),
    "demo_council": (Role.COUNCIL, "演示理事"),
    "demo_viewer": (Role.VIEWER, "演示合作方"),
}
SECRETARIAT_NAME = "生态环境部宣传教育中心"
TODAY = clock.today()  # Asia/Shanghai, as every service judges dates

# (province, city, administrative division code) — a city per provincial region for believable variety.
PLACES = [
    ("北京", "北京", "110000"),
    ("天津", "天津", "120000"),
    ("河北", "石家庄", "130100"),
    ("山西", "太原", "140100"),
    ("内蒙古", "呼和浩特", "150100"),
    ("辽宁", "沈阳", "210100"),
    ("吉林", "长春", "220100"),
    ("黑龙江", "哈尔滨", "230100"),
    ("上海", "上海", "310000"),
    ("江苏", "南京", "320100"),
    ("浙江", "杭州", "330100"),
    ("安徽", "合肥", "340100"),
    ("福建", "福州", "350100"),
    ("江西", "南昌", "360100"),
    ("山东", "济南", "370100"),
    ("河南", "郑州", "410100"),
    ("湖北", "武汉", "420100"),
    ("湖南", "长沙", "430100"),
    ("广东", "广州", "440100"),
    ("广西", "南宁", "450100"),
    ("海南", "海口", "460100"),
    ("重庆", "重庆", "500000"),
    ("四川", "成都", "510100"),
    ("贵州", "贵阳", "520100"),
    ("云南", "昆明", "530100"),
    ("西藏", "拉萨", "540100"),
    ("陕西", "西安", "610100"),
    ("甘肃", "兰州", "620100"),
    ("青海", "西宁", "630100"),
    ("宁夏", "银川", "640100"),
    ("新疆", "乌鲁木齐", "650100"),
]
# How a provincial-level region is named: municipalities are 市, autonomous regions 自治区.
PROVINCE_TITLES = {
    "北京": "北京市",
    "天津": "天津市",
    "上海": "上海市",
    "重庆": "重庆市",
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}
NAME_PATTERNS = {
    OrgKind.GOVERNMENT: ("{city}市生态环境宣传教育中心", "{province}省环境宣传教育中心"),
    OrgKind.ACADEMIC: ("{city}理工学院环境科学与工程学院", "{province}生态环境科学研究院"),
    OrgKind.SOCIAL: ("{city}市环保志愿者协会", "{city}绿色发展促进会", "{city}市自然之友生态保护中心"),
    OrgKind.VOLUNTEER_TEAM: ("{city}大学绿色行动志愿服务队", "{city}市河湖守护志愿服务队"),
    OrgKind.ENTERPRISE: ("{city}青山环境科技有限公司", "{city}清源环保股份有限公司"),
    OrgKind.MASS: ("{city}市青年志愿者协会", "{city}市妇女环保促进会"),
}
REGISTRATION = {  # registration department and type digits of the credit code, by kind
    OrgKind.GOVERNMENT: "12",
    OrgKind.ACADEMIC: "12",
    OrgKind.SOCIAL: "51",
    OrgKind.ENTERPRISE: "91",
    OrgKind.MASS: "51",
    OrgKind.VOLUNTEER_TEAM: "52",
    OrgKind.OTHER: "93",
}
ORG_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "芳",
    "伟",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
]


def fake_credit_code(rng: random.Random, kind: OrgKind, division: str) -> str:
    """A well-formed, fictional unified social credit code (valid check character)."""
    while True:
        body = REGISTRATION[kind] + division + "".join(rng.choice(ORG_CODE_ALPHABET) for _ in range(9))
        code = body + uscc.calc_check_digit(body)
        if uscc.is_valid(code):
            return code


@dataclass
class DemoContext:
    """What each seeding step shares: the session, the acting admin, a seeded random source."""

    session: Session
    admin: Actor
    rng: random.Random
    organisation_ids: list[int]


def seed_organisations(ctx: DemoContext, count: int = 80) -> None:
    """The secretariat unit and about 80 member units across provinces and kinds."""
    secretariat = OrganisationInput(
        name=SECRETARIAT_NAME,
        kind=OrgKind.GOVERNMENT.value,
        province="全国",
        city="北京",
        credit_code=fake_credit_code(ctx.rng, OrgKind.GOVERNMENT, "110000"),
        contact_person="秘书处联络员",
        phone="010-84665555",
        email="secretariat@example.org",
        address="北京市（演示地址）",
        description="全国生态环境志愿服务网络秘书处（演示数据）",
        joined_on=TODAY - timedelta(days=300),
        batch="首批",
        is_secretariat=True,
    )
    ctx.organisation_ids.append(
        organisations.create_organisation(session=ctx.session, actor=ctx.admin, data=secretariat, today=TODAY)
    )
    kinds = list(NAME_PATTERNS)
    made: set[str] = set()
    while len(made) < count:
        province, city, division = ctx.rng.choice(PLACES)
        kind = ctx.rng.choices(kinds, weights=[3, 3, 5, 4, 2, 2])[0]
        name = ctx.rng.choice(NAME_PATTERNS[kind]).format(city=city, province=province)
        name = name.replace(f"{province}省", PROVINCE_TITLES.get(province, f"{province}省"))
        if name in made:
            continue
        made.add(name)
        person = ctx.rng.choice(SURNAMES) + ctx.rng.choice(GIVEN)
        code = "" if kind is OrgKind.VOLUNTEER_TEAM else fake_credit_code(ctx.rng, kind, division)
        data = OrganisationInput(
            name=name,
            kind=kind.value,
            province=province,
            city=city,
            credit_code=code,
            contact_person=person,
            phone=f"139{ctx.rng.randrange(10**8):08d}",
            email=f"unit{len(made):03d}@example.org",
            joined_on=TODAY - timedelta(days=ctx.rng.randrange(10, 280)),
            batch="首批" if ctx.rng.random() < 0.8 else "第二批",
            status="member" if len(made) <= SEATS or ctx.rng.random() < 0.95 else "suspended",
        )
        ctx.organisation_ids.append(
            organisations.create_organisation(session=ctx.session, actor=ctx.admin, data=data, today=TODAY)
        )


def seed_accounts(ctx: DemoContext) -> None:
    """The other demo accounts; the council user belongs to a member unit."""
    for username, (role, display_name) in DEMO_ACCOUNTS.items():
        if role is Role.ADMIN:
            continue
        organisation_id = {
            Role.SECRETARIAT: ctx.organisation_ids[0],
            Role.COUNCIL: ctx.organisation_ids[1],
        }.get(role)
        users.create_user(
            session=ctx.session,
            actor=ctx.admin,
            username=username,
            display_name=display_name,
            password=DEMO_PASSWORD,
            role=role,
            organisation_id=organisation_id,
            temporary_password=False,
        )


def seed_council(ctx: DemoContext) -> None:
    """The first council session, begun about a year ago, with all ten seats filled (demo_council's unit too)."""
    session_id = council.create_session(session=ctx.session, actor=ctx.admin, starts_on=TODAY - timedelta(days=360))
    sources = [TermSource.SELF_APPLIED, TermSource.INVITED, TermSource.RECOMMENDED]
    for seat, organisation_id in enumerate(ctx.organisation_ids[1 : SEATS + 1], start=1):
        council.seat_term(
            session=ctx.session,
            actor=ctx.admin,
            session_id=session_id,
            seat=seat,
            organisation_id=organisation_id,
            source=sources[seat % len(sources)].value,
            representative=ctx.rng.choice(SURNAMES) + ctx.rng.choice(GIVEN),
        )


AREAS = ["", "高新区", "经开区", "滨江", "城东", "城西", "河西", "新区", "湖滨", "江北"]
CORES = [
    ("社区环保志愿服务队", OrgKind.VOLUNTEER_TEAM),
    ("青年环保志愿服务队", OrgKind.VOLUNTEER_TEAM),
    ("生态文明促进会", OrgKind.SOCIAL),
    ("绿色家园环保公益中心", OrgKind.SOCIAL),
    ("自然教育发展中心", OrgKind.SOCIAL),
    ("湿地保护志愿者协会", OrgKind.SOCIAL),
    ("环境监测站", OrgKind.GOVERNMENT),
    ("生态环境局宣传教育科", OrgKind.GOVERNMENT),
    ("职业技术学院环保社团", OrgKind.ACADEMIC),
    ("师范大学生态文明研究中心", OrgKind.ACADEMIC),
    ("绿源环保科技有限公司", OrgKind.ENTERPRISE),
    ("碧水环境工程有限公司", OrgKind.ENTERPRISE),
    ("团委青年志愿者服务中心", OrgKind.MASS),
    ("妇联巾帼环保志愿服务站", OrgKind.MASS),
]
# How the demo's applications end up: (target status, weight).
OUTCOMES = [
    (AppStatus.APPROVED, 60),
    (AppStatus.REJECTED, 8),
    (AppStatus.WITHDRAWN, 4),
    (AppStatus.NEEDS_MORE, 6),
    (AppStatus.IN_REVIEW, 10),
    (AppStatus.SUBMITTED, 12),
]
PATHS = {
    AppStatus.SUBMITTED: [],
    AppStatus.IN_REVIEW: [AppStatus.IN_REVIEW],
    AppStatus.NEEDS_MORE: [AppStatus.IN_REVIEW, AppStatus.NEEDS_MORE],
    AppStatus.APPROVED: [AppStatus.IN_REVIEW, AppStatus.APPROVED],
    AppStatus.REJECTED: [AppStatus.IN_REVIEW, AppStatus.REJECTED],
    AppStatus.WITHDRAWN: [AppStatus.WITHDRAWN],
}
NOTES = {
    AppStatus.NEEDS_MORE: "请补充单位近一年开展志愿服务活动的情况说明及登记证书扫描件。",
    AppStatus.REJECTED: "申请单位尚未开展生态环境志愿服务活动，建议开展活动后再次申请。",
    AppStatus.WITHDRAWN: "申请单位来函撤回申请。",
}


def _secretariat_actor(session: Session) -> Actor:
    """demo_secretariat, who keeps the network's records."""
    return Actor(
        user_id=session.scalar(select(User.id).where(User.username == "demo_secretariat")),
        username="demo_secretariat",
        role=Role.SECRETARIAT,
    )


def _council_actors(ctx: DemoContext) -> list[Actor]:
    """One council account per seated unit (demo_council holds seat 1; the others are for opinions)."""
    actors = []
    for seat, organisation_id in enumerate(ctx.organisation_ids[1 : SEATS + 1], start=1):
        username = "demo_council" if seat == 1 else f"demo_council_{seat:02d}"
        if seat > 1:
            users.create_user(
                session=ctx.session,
                actor=ctx.admin,
                username=username,
                display_name=f"理事单位联络员{seat}",
                password=DEMO_PASSWORD,
                role=Role.COUNCIL,
                organisation_id=organisation_id,
                temporary_password=False,
            )
        user_id = ctx.session.scalar(select(User.id).where(User.username == username))
        actors.append(Actor(user_id=user_id, username=username, role=Role.COUNCIL, organisation_id=organisation_id))
    return actors


def seed_applications(ctx: DemoContext, count: int = 320) -> None:
    """About 320 applications over the last eleven months in every channel and status, with council opinions;
    the approved ones become members, so the directory holds a few hundred units with their history."""
    rng, session = ctx.rng, ctx.session
    council_actors = _council_actors(ctx)
    staff = _secretariat_actor(session)
    # a recommender must be a current member: the founding units include a few suspended ones
    members = list(
        session.scalars(
            select(Organisation.id)
            .where(Organisation.id.in_(ctx.organisation_ids[1:]), Organisation.status == OrgStatus.MEMBER.value)
            .order_by(Organisation.id)
        )
    )
    taken = set(session.scalars(select(Organisation.name_key)).all())
    outcomes, weights = zip(*OUTCOMES, strict=True)
    settings.put_setting(session=session, actor=ctx.admin, key="intake_open", value=True, expected_version=None)
    made = 0
    while made < count:
        province, city, division = rng.choice(PLACES)
        core, kind = rng.choice(CORES)
        name = f"{city}{rng.choice(AREAS)}{core}"
        if name_key(name) in taken:
            continue
        taken.add(name_key(name))
        made += 1
        submitted = datetime.combine(TODAY - timedelta(days=rng.randrange(3, 330)), time(1, rng.randrange(60)), UTC)
        channel = rng.choices(list(Channel), weights=[60, 25, 15])[0]
        data = ApplicationInput(
            organisation=OrganisationInput(
                name=name,
                kind=kind.value,
                province=province,
                city=city,
                credit_code="" if kind is OrgKind.VOLUNTEER_TEAM else fake_credit_code(rng, kind, division),
                contact_person=rng.choice(SURNAMES) + rng.choice(GIVEN),
                phone=f"137{rng.randrange(10**8):08d}",
                email=f"apply{made:03d}@example.org",
                description="（演示数据）",
            ),
            applied_for=AppliedFor.COUNCIL.value if rng.random() < 0.08 else AppliedFor.MEMBER.value,
            statement="本单位长期开展河湖巡护、垃圾分类宣传等生态环境志愿服务，希望加入网络交流学习。",
            materials="登记证书扫描件；近一年活动总结（演示数据）",
            consent=True,
        )
        if channel is Channel.SELF_APPLIED and rng.random() < 0.5:
            # Half the self-applications came through the public form.
            applications.submit_application(session=session, actor=ANONYMOUS, data=data, now=submitted)
            app_id = session.scalar(select(Application.id).where(Application.name_key == name_key(name)))
        else:
            recommender = rng.choice(members) if channel is Channel.RECOMMENDED else None
            app_id, _ = applications.create_application(
                session=session,
                actor=staff,
                data=data,
                channel=channel.value,
                recommender_id=recommender,
                now=submitted,
            )
        target = rng.choices(outcomes, weights=weights)[0]
        moment = submitted
        for step in PATHS[target]:
            moment += timedelta(days=rng.randrange(1, 12), hours=rng.randrange(8))
            moment = min(moment, datetime.combine(TODAY, time(1), UTC))
            if step in (AppStatus.APPROVED, AppStatus.REJECTED) or (
                step is AppStatus.NEEDS_MORE and target is AppStatus.NEEDS_MORE
            ):
                for council_actor in rng.sample(council_actors[1:], rng.randrange(2, 8)):
                    applications.give_opinion(
                        session=session,
                        actor=council_actor,
                        application_id=app_id,
                        opinion=rng.choices(list(Opinion), weights=[8, 1, 1])[0].value,
                        comment=rng.choice(["", "同意吸纳。", "建议加强活动记录。", "材料齐全。"]),
                        expected_version=0,
                        today=TODAY,
                    )
            version = session.scalar(select(Application.version).where(Application.id == app_id))
            applications.change_status(
                session=session,
                actor=staff,
                application_id=app_id,
                expected_version=version,
                to_status=step.value,
                note=NOTES.get(step, ""),
                now=moment,
            )
            if step is AppStatus.APPROVED:
                members.append(session.scalar(select(Application.organisation_id).where(Application.id == app_id)))
    settings.put_setting(session=session, actor=ctx.admin, key="intake_open", value=False, expected_version=None)


MEETING_TOPICS = [
    ("理事会第一次会议", MeetingKind.COUNCIL, ["审议《网络运营管理办法（草案）》", "确定年度工作计划"]),
    ("秘书处第一季度工作会议", MeetingKind.SECRETARIAT, ["通报首批成员招募情况", "部署志愿服务培训"]),
    ("生态环境志愿服务品牌项目专题会", MeetingKind.TOPIC, ["品牌项目评选标准讨论"]),
    ("理事会第二次会议", MeetingKind.COUNCIL, ["审议第二批成员单位入网名单", "讨论先进典型推选方案"]),
    ("秘书处第二季度工作会议", MeetingKind.SECRETARIAT, ["总结上半年工作", "部署六五环境日活动"]),
    ("理事会第三次会议", MeetingKind.COUNCIL, ["审议年度工作总结", "讨论换届筹备工作"]),
]


def seed_council_history(ctx: DemoContext) -> None:
    """A year of the first session: a resignation filled by a by-election, intentions, and work meetings with
    agenda, attendance, minutes and decisions voted by the units present."""
    rng, session = ctx.rng, ctx.session
    current = council.current_session(session=session, on=TODAY)
    assert current is not None
    board = council.seat_board(session=session, actor=ctx.admin, session_id=current.id, on=TODAY)
    leaving = board[-1]
    assert leaving.term_id is not None
    council.end_term_early(
        session=session,
        actor=ctx.admin,
        term_id=leaving.term_id,
        expected_version=leaving.version,
        ends_on=TODAY - timedelta(days=120),
        reason="单位工作调整，申请辞去理事单位",
    )
    seated = {b.organisation_id for b in board}
    members = set(session.scalars(select(Organisation.id).where(Organisation.status == "member")))
    successor = next(o for o in ctx.organisation_ids[SEATS + 1 :] if o not in seated and o in members)
    council.fill_by_election(
        session=session,
        actor=ctx.admin,
        vacated_term_id=leaving.term_id,
        organisation_id=successor,
        representative="赵磊",
        starts_on=TODAY - timedelta(days=90),
    )
    for b in board[:6]:
        version = session.scalar(select(CouncilTerm.version).where(CouncilTerm.id == b.term_id))
        council.set_continue_intent(
            session=session,
            actor=ctx.admin,
            term_id=b.term_id,
            expected_version=version,
            intent=rng.choice(["continue", "continue", "leave"]),
        )
    for n, (title, kind, agenda) in enumerate(MEETING_TOPICS):
        day = TODAY - timedelta(days=330 - n * 55)
        starts = datetime.combine(day, time(9, 30), tzinfo=SHANGHAI)
        meeting_id = meetings.create_meeting(
            session=session,
            actor=ctx.admin,
            data=meetings.MeetingInput(
                kind=kind.value,
                title=title,
                starts_at=starts,
                place="北京市（演示地址）会议室",
                notice_on=day - timedelta(days=7),
                agenda=tuple(agenda),
            ),
        )
        detail = meetings.get_meeting(session=session, actor=ctx.admin, meeting_id=meeting_id)
        entries = {
            a.organisation_id: (rng.choices(["present", "leave", "absent"], weights=[8, 2, 1])[0], "")
            for a in detail.attendance
        }
        version = meetings.record_attendance(
            session=session, actor=ctx.admin, meeting_id=meeting_id, expected_version=detail.version, entries=entries
        )
        present = [u for u, (status, _) in entries.items() if status == "present"]
        for item in agenda[:1]:
            votes = {u: rng.choices(["agree", "oppose", "abstain"], weights=[8, 1, 1])[0] for u in present}
            meetings.record_decision(
                session=session,
                actor=ctx.admin,
                meeting_id=meeting_id,
                expected_version=version,
                title=f"关于{item.lstrip('审议讨论确定')}的决议",
                text="会议同意该事项。",
                votes=votes,
            )
            version += 1
        data = meetings.MeetingInput(
            kind=kind.value,
            title=title,
            starts_at=starts,
            place="北京市（演示地址）会议室",
            notice_on=day - timedelta(days=7),
            agenda=tuple(agenda),
            minutes=f"会议由秘书处主持。与会理事单位围绕“{agenda[0]}”进行了讨论。（演示数据）",
        )
        meetings.update_meeting(
            session=session, actor=ctx.admin, meeting_id=meeting_id, expected_version=version, data=data
        )


class _Unit(NamedTuple):
    """A member unit as the calendar seeder picks it: organiser, co-organiser or a unit signing up."""

    id: int
    province: str
    city: str


@dataclass(frozen=True)
class _Profile:
    """How the activities of a category look: how often, how long, where, how many take part."""

    weight: int
    lengths: tuple[int, int, int, int, int]  # weights of 2 hours, half a day, a day, two days, three days
    online: float  # share held online
    capacities: tuple[int, ...]  # empty: no limit
    weekends: bool  # may fall on a day off (volunteers go out at weekends; trainings keep working days)
    volunteers: tuple[int, int]
    venues: tuple[str, ...]  # where it takes place, in the host's city
    description: str
    summary: str


PROFILES = {
    Category.TRAINING: _Profile(
        18, (1, 2, 3, 3, 2), 0.3, (30, 40, 50, 60, 80, 100, 120), False, (20, 100),
        ("{city}市生态环境宣传教育中心培训室", "{city}市志愿服务指导中心多功能厅"),
        "面向成员单位志愿服务骨干，讲授志愿服务组织管理、项目设计与安全保障等内容。",
        "学员完成全部课程，考核合格后颁发结业证书。",
    ),
    Category.SEMINAR: _Profile(
        14, (3, 4, 2, 1, 0), 0.3, (), False, (12, 60),
        ("{city}市生态环境局第一会议室", "{city}市志愿服务指导中心会议室"),
        "成员单位代表围绕志愿服务组织与项目开展情况交流经验、研讨问题。",
        "与会代表交流发言，形成会议纪要报送秘书处。",
    ),
    Category.SHOWCASE: _Profile(
        12, (1, 3, 3, 1, 0), 0.05, (), True, (20, 150),
        ("{city}市民广场", "{city}市科技馆临展厅"),
        "通过展板、互动体验和科普讲解，宣传生态文明理念和志愿服务成果。",
        "现场发放宣传资料，市民踊跃参与互动体验。",
    ),
    Category.VOLUNTEERING: _Profile(
        26, (3, 4, 2, 0, 0), 0.0, (), True, (15, 200),
        ("{city}市湿地公园", "{city}市城区河道沿线", "{city}市森林公园", "{city}市社区党群服务中心"),
        "组织志愿者开展河湖巡护、垃圾清理、生态宣传等志愿服务。",
        "志愿者清理垃圾、劝导不文明行为，并记录巡护情况。",
    ),
    Category.FORUM: _Profile(
        5, (0, 0, 3, 2, 0), 0.15, (150, 200, 300), False, (40, 200),
        ("{city}国际会议中心",),
        "邀请专家学者、成员单位和志愿者代表围绕生态环境志愿服务发展开展交流。",
        "论坛发布倡议，与会代表围绕主题开展研讨。",
    ),
    Category.RESEARCH: _Profile(
        8, (0, 1, 3, 2, 2), 0.1, (), False, (5, 40),
        ("{city}市及周边区县",),
        "深入基层了解生态环境志愿服务开展情况，形成调研报告。",
        "完成问卷调查和实地走访，形成调研报告初稿。",
    ),
    Category.BRAND: _Profile(
        8, (2, 3, 2, 0, 0), 0.2, (), False, (10, 80),
        ("{city}市青年活动中心",),
        "展示和推介生态环境志愿服务品牌项目，交流项目运营经验。",
        "项目团队进行展示推介，专家现场点评。",
    ),
    Category.OTHER: _Profile(
        7, (3, 3, 1, 0, 0), 0.3, (), False, (8, 50),
        ("{city}市志愿服务指导中心",),
        "网络成员单位之间的联络与协作活动。",
        "活动按计划完成。",
    ),
}  # fmt: skip
# (start, end, days later the end falls) for each length: 2 hours up to 3 days, in Asia/Shanghai working hours.
SLOTS = (
    ((time(9), time(11), 0), (time(9, 30), time(11, 30), 0), (time(14, 30), time(16, 30), 0)),
    ((time(9), time(12), 0), (time(14), time(17), 0)),
    ((time(9), time(17, 30), 0),),
    ((time(9), time(17), 1),),
    ((time(9), time(12), 2), (time(8, 30), time(17), 2)),
)
YANGTZE = frozenset({"青海", "西藏", "四川", "云南", "重庆", "湖北", "湖南", "江西", "安徽", "江苏", "上海", NATIONAL})
COAST = frozenset({"辽宁", "河北", "天津", "山东", "江苏", "上海", "浙江", "福建", "广东", "广西", "海南", NATIONAL})
SECRETARIAT_ONLY = frozenset({NATIONAL})
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (10, 1), (10, 2), (10, 3), (10, 4), (10, 5)}  # 元旦, 劳动节, 国庆节
BACKBONE = "生态环境志愿服务骨干培训班（第{n}期）"  # numbered in date order once every activity is planned
# Titles by category, each with the organisers' provinces it suits (None: any; 全国: the secretariat's own).
ACTIVITY_TITLES: dict[Category, list[tuple[str, frozenset[str] | None]]] = {
    Category.TRAINING: [
        (BACKBONE, SECRETARIAT_ONLY),
        ("{region}生态环境志愿服务项目管理培训", None),
        ("环境教育讲解员能力提升培训", None),
        ("志愿服务安全与风险防范专题培训", None),
        ("生态环境志愿服务宣讲员培训", None),
        ("自然教育导赏员培训", None),
    ],
    Category.SEMINAR: [
        ("生态环境志愿服务经验交流会", None),
        ("河湖保护志愿服务研讨会", None),
        ("青少年自然教育工作研讨会", None),
        ("垃圾分类社区志愿服务交流座谈会", None),
        ("企业环境志愿服务交流沙龙", None),
        ("{region}生态环境志愿服务组织负责人座谈会", None),
    ],
    Category.SHOWCASE: [
        ("“美丽中国，我是行动者”主题宣传活动", None),
        ("生态环境志愿服务摄影作品展", None),
        ("生物多样性保护科普展", None),
        ("{region}生态环境志愿服务成果展", None),
        ("环保设施向公众开放日志愿讲解", None),
    ],
    Category.VOLUNTEERING: [
        ("长江大保护河湖巡护行动", YANGTZE),
        ("净滩行动——海岸垃圾清理", COAST),
        ("{region}河湖巡护志愿服务行动", None),
        ("湿地鸟类调查与保护志愿服务", None),
        ("社区垃圾分类入户宣传", None),
        ("城市公园植树护绿志愿服务", None),
        ("“无废城市”社区志愿服务", None),
    ],
    Category.FORUM: [
        ("生态环境志愿服务论坛", SECRETARIAT_ONLY),
        ("生态环境志愿服务高质量发展论坛", None),
        ("青年生态文明论坛", None),
        ("长江生态保护志愿服务论坛", YANGTZE),
    ],
    Category.RESEARCH: [
        ("{region}生态环境志愿服务组织现状调研", None),
        ("城市河流水质公众监测调查", None),
        ("公众生态环境行为调查", None),
        ("志愿服务队伍建设情况专题调研", None),
    ],
    Category.BRAND: [
        ("生态环境志愿服务品牌项目路演", None),
        ("“绿色守护者”品牌项目启动仪式", None),
        ("品牌项目申报辅导会", None),
        ("优秀生态环境志愿服务项目交流展示", None),
    ],
    Category.OTHER: [
        ("成员单位联络员工作会", None),
        ("志愿服务数据填报说明会", None),
        ("秘书处开放日", SECRETARIAT_ONLY),
    ],
}
CANCEL_REASONS = {
    Category.VOLUNTEERING: "气象部门发布暴雨预警，为保障志愿者安全，本次活动取消。",
    Category.SHOWCASE: "活动场地临时检修，本次活动取消，后续安排另行通知。",
}
OTHER_CANCEL_REASON = "因工作安排调整，本次活动取消，后续安排另行通知。"
WITHDRAW_REASON = "单位工作安排冲突，无法派员参加。"
SIGNUP_NOTES = ["", "", "", "", "需开具培训证明", "含新入职志愿服务管理人员", "请安排无障碍座位"]


@dataclass
class _Plan:
    """An activity (or a series) before it is created; `role` marks the ones the demo needs to show something."""

    title: str
    category: Category
    starts_at: datetime
    ends_at: datetime
    organiser: _Unit | None  # None: the secretariat
    co: tuple[_Unit, ...] = ()
    province: str = NATIONAL
    place: str = ""
    link: str = ""
    capacity: int | None = None
    repeat: Repeat = Repeat.NONE
    count: int = 1
    role: str = ""  # "full" (a waitlist), "withdraw" (a withdrawal promotes the waitlist), "invite" (invitations)


def _months_later(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), on the month's last day when it is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Planner:
    """Draws believable activities: organiser, title, place, day and hours, capacity."""

    def __init__(self, rng: random.Random, units: list[_Unit], first: date, last: date) -> None:
        self.rng, self.units = rng, units
        self.marks = day_marks(first - timedelta(days=7), last + timedelta(days=7))

    def working(self, day: date) -> bool:
        """A working day: Monday to Friday unless a holiday, or a weekend day worked instead (调休). For a year
        the State Council has not published yet, at least the fixed-date holidays are kept free."""
        mark = self.marks.get(day)
        if mark is not None:
            return not mark.off
        return day.weekday() < 5 and (known_year(day.year) or (day.month, day.day) not in FIXED_HOLIDAYS)

    def next_working(self, day: date, days: int = 1) -> date:
        """The first day from `day` that begins `days` working days in a row."""
        while not all(self.working(day + timedelta(days=n)) for n in range(days)):
            day += timedelta(days=1)
        return day

    def co_organisers(self, organiser: _Unit | None) -> tuple[_Unit, ...]:
        """Sometimes one or two units of the organiser's province (any province for the secretariat)."""
        near = [u for u in self.units if organiser is None or (u.province == organiser.province and u != organiser)]
        if not near or self.rng.random() > (0.5 if organiser is None else 0.25):
            return ()
        return tuple(self.rng.sample(near, min(len(near), self.rng.choice([1, 1, 2]))))

    def where(self, category: Category, host: _Unit | None, online: bool) -> tuple[str, str]:
        """(place, online link): a place in the host's city (Beijing for the secretariat), or a meeting link."""
        if online:
            return "", f"https://meeting.example.org/j/{self.rng.randrange(10**8, 10**9)}"
        city = (host.city or host.province) if host is not None else "北京"
        return self.rng.choice(PROFILES[category].venues).format(city=city) + "（演示地址）", ""

    def plan(self, category: Category, days: list[date]) -> _Plan:
        """A random activity of the category on one of the days, organised by a member unit or the secretariat."""
        rng, profile = self.rng, PROFILES[category]
        organiser = None if rng.random() < 0.25 else rng.choice(self.units)
        home = organiser.province if organiser is not None else NATIONAL
        title = rng.choice([t for t, scope in ACTIVITY_TITLES[category] if scope is None or home in scope])
        region = "全国" if organiser is None else f"{organiser.city}市" if organiser.city else organiser.province
        start, end, extra = rng.choice(SLOTS[rng.choices(range(len(SLOTS)), weights=profile.lengths)[0]])
        for _ in range(20):
            day = rng.choice(days)
            if profile.weekends or all(self.working(day + timedelta(days=n)) for n in range(extra + 1)):
                break
        co = self.co_organisers(organiser)
        online = rng.random() < profile.online
        place, link = self.where(category, organiser or (co[0] if co else None), online)
        capacity = rng.choice(profile.capacities) if profile.capacities else None
        return _Plan(
            title=title.replace("{region}", region),
            category=category,
            starts_at=local_datetime(day, start),
            ends_at=local_datetime(day + timedelta(days=extra), end),
            organiser=organiser,
            co=co,
            province=home if rng.random() < 0.9 else NATIONAL,
            place=place,
            link=link,
            capacity=max(capacity, 200) if capacity is not None and online else capacity,
        )

    def secretariat(
        self,
        title: str,
        category: Category,
        day: date,
        hours: tuple[time, time],
        *,
        days: int = 0,
        online: bool = False,
        capacity: int | None = None,
        repeat: Repeat = Repeat.NONE,
        count: int = 1,
        role: str = "",
    ) -> _Plan:
        """An activity the secretariat organises on the network's behalf, sometimes hosted by a member unit."""
        co = self.co_organisers(None)
        place, link = self.where(category, co[0] if co else None, online)
        return _Plan(
            title=title,
            category=category,
            starts_at=local_datetime(day, hours[0]),
            ends_at=local_datetime(day + timedelta(days=days), hours[1]),
            organiser=None,
            co=co,
            place=place,
            link=link,
            capacity=capacity,
            repeat=repeat,
            count=count,
            role=role,
        )


def _plan_calendar(planner: _Planner, today: date, first: date, last: date) -> list[_Plan]:
    """About 10–20 activities a month from `first` to `last`, plus the ones the demo must show: full trainings
    with a waitlist, a withdrawal, a forum with invitations, a weekly and a monthly series, a training running
    today and the environment days; in date order, the backbone trainings numbered."""
    rng = planner.rng
    months: list[tuple[list[date], int]] = []  # the days of each month in [first, last], and how many activities
    month = first.replace(day=1)
    while month <= last:
        following = _months_later(month, 1)
        days = [d for d in (month + timedelta(days=n) for n in range((following - month).days)) if first <= d <= last]
        months.append((days, max(1, round(rng.randint(9, 17) * len(days) / (following - month).days))))
        month = following
    # The categories in their proportions, shuffled over the months (independent draws left one category scarce).
    total, weight = sum(n for _, n in months), sum(p.weight for p in PROFILES.values())
    deck = [c for c, p in PROFILES.items() for _ in range(max(1, round(total * p.weight / weight)))]
    rng.shuffle(deck)
    deck = (deck + rng.choices(deck, k=total))[:total]
    plans = [planner.plan(deck.pop(), days) for days, n in months for _ in range(n)]
    for offset, capacity, role in ((12, 30, "full"), (33, 40, "full"), (54, 36, "withdraw")):
        day = planner.next_working(today + timedelta(days=offset), days=2)
        plans.append(
            planner.secretariat(
                BACKBONE, Category.TRAINING, day, (time(9), time(17)), days=1, capacity=capacity, role=role
            )
        )
    forum_day = planner.next_working(today + timedelta(days=40), days=2)
    plans.append(
        planner.secretariat(
            "生态环境志愿服务论坛", Category.FORUM, forum_day, (time(9), time(17)), days=1, capacity=300, role="invite"
        )
    )
    # Running now: a training on working days, otherwise a weekend volunteer action.
    workdays = all(planner.working(today + timedelta(days=n)) for n in (-1, 0, 1))
    running = planner.plan(Category.TRAINING if workdays else Category.VOLUNTEERING, [today])
    running.starts_at = local_datetime(today - timedelta(days=1), time(9))
    running.ends_at = local_datetime(today + timedelta(days=1), time(17))
    plans.append(running)
    wednesday = today - timedelta(days=14)
    wednesday -= timedelta(days=(wednesday.weekday() - 2) % 7)
    plans.append(
        planner.secretariat(
            "志愿服务管理线上课堂",
            Category.TRAINING,
            wednesday,
            (time(14, 30), time(16, 30)),
            online=True,
            capacity=300,
            repeat=Repeat.WEEKLY,
            count=4,
        )
    )
    plans.append(
        planner.secretariat(
            "成员单位月度工作交流会",
            Category.SEMINAR,
            _months_later(today.replace(day=10), -4),
            (time(15), time(17)),
            online=True,
            repeat=Repeat.MONTHLY,
            count=6,
        )
    )
    for year in range(first.year, last.year + 1):
        for day, title, category in (
            (date(year, 6, 5), "六五环境日主题宣传活动", Category.SHOWCASE),
            (date(year, 8, 15), "全国生态日主题志愿服务活动", Category.VOLUNTEERING),
        ):
            if first <= day <= last:
                plans.append(planner.secretariat(title, category, day, (time(9), time(12))))
    plans.sort(key=lambda p: p.starts_at)
    n = 0
    for plan in plans:
        if "{n}" in plan.title:
            n += 1
            plan.title = plan.title.replace("{n}", str(n))
    return plans


def _outcome(rng: random.Random, category: Category, starts_at: datetime, ends_at: datetime, number: int) -> Outcome:
    """Volunteers and service hours within what the activity's span allows, with a short summary."""
    low, high = PROFILES[category].volunteers
    volunteers = rng.randint(low, high)
    span = Decimal((ends_at - starts_at).total_seconds()) / 3600
    days = (ends_at.astimezone(SHANGHAI).date() - starts_at.astimezone(SHANGHAI).date()).days + 1
    worked = min(span, Decimal("7.5") * days) * Decimal(str(round(rng.uniform(0.6, 1.0), 2)))
    hours = (worked * volunteers).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    summary = f"{volunteers}名志愿者参加，累计志愿服务{hours}小时。{PROFILES[category].summary}（演示数据）"
    link = f"https://news.example.org/evsn/{starts_at:%Y%m}/{number}.html" if rng.random() < 0.4 else ""
    return Outcome(volunteers=volunteers, service_hours=hours, summary=summary, link=link)


def _version(session: Session, model: type[Activity] | type[Signup], record_id: int) -> int:
    return int(session.scalar(select(model.version).where(model.id == record_id)) or 0)


def _sign_up(ctx: DemoContext, staff: Actor, activity_id: int, unit: _Unit, people: int, kind: SignupKind) -> str:
    """A unit's sign-up or invitation through the service; returns its status."""
    return activities.add_signup(
        session=ctx.session,
        actor=staff,
        activity_id=activity_id,
        organisation_id=unit.id,
        people=people,
        kind=kind.value,
        note=ctx.rng.choice(SIGNUP_NOTES) if kind is SignupKind.SIGNUP else "",
    ).status


def _withdraw_until_promoted(ctx: DemoContext, staff: Actor, activity_id: int) -> None:
    """A confirmed unit withdraws and the first one waiting moves up: a group at least as large as the first
    waiting one frees room enough (otherwise the largest withdraws and the next try follows)."""
    for _ in range(5):
        rows = ctx.session.execute(
            select(Signup.id, Signup.people, Signup.status)
            .where(Signup.activity_id == activity_id, Signup.status != SignupStatus.CANCELLED.value)
            .order_by(Signup.created_at, Signup.id)
        ).all()
        waiting = [r for r in rows if r.status == SignupStatus.WAITLISTED.value]
        confirmed = [r for r in rows if r.status == SignupStatus.CONFIRMED.value]
        large = [r for r in confirmed if r.people >= waiting[0].people]
        leaving = ctx.rng.choice(large) if large else max(confirmed, key=lambda r: r.people)
        if activities.cancel_signup(
            session=ctx.session,
            actor=staff,
            signup_id=leaving.id,
            expected_version=_version(ctx.session, Signup, leaving.id),
            reason=WITHDRAW_REASON,
        ):
            return
    raise AssertionError(f"no waitlisted unit moved up on activity {activity_id}")


def seed_activities(ctx: DemoContext) -> None:
    """Eighteen months of the calendar, about 250 activities of every category: the 15 months before today
    with outcomes (a few recent ones still without, so the home page reminds), the next three months with
    sign-ups, full trainings with a waitlist, a withdrawal that moved a unit up, forum invitations; a weekly
    and a monthly series; a few cancelled. The services refuse sign-ups once an activity is over, so only
    running and upcoming activities have them."""
    rng, session = ctx.rng, ctx.session
    staff = _secretariat_actor(session)
    today = clock.today()
    first, last = _months_later(today, -15), _months_later(today, 3)
    units = [
        _Unit(int(i), p, c)
        for i, p, c in session.execute(
            select(Organisation.id, Organisation.province, Organisation.city)
            .where(Organisation.status == OrgStatus.MEMBER.value, Organisation.is_secretariat.is_(False))
            .order_by(Organisation.id)
        )
    ]
    plans: dict[int, _Plan] = {}
    for plan in _plan_calendar(_Planner(rng, units, first, last), today, first, last):
        data = activities.ActivityInput(
            title=plan.title,
            category=plan.category.value,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            province=plan.province,
            organiser_id=plan.organiser.id if plan.organiser is not None else None,
            co_organiser_ids=tuple(u.id for u in plan.co),
            place=plan.place,
            online=bool(plan.link),
            online_link=plan.link,
            description=PROFILES[plan.category].description + "（演示数据）",
            capacity=plan.capacity,
        )
        for activity_id in activities.create_activity(
            session=session, actor=staff, data=data, repeat=plan.repeat.value, count=plan.count
        ):
            plans[activity_id] = plan
    periods = {
        int(i): (s, e)
        for i, s, e in session.execute(select(Activity.id, Activity.starts_at, Activity.ends_at).order_by(Activity.id))
    }
    now = datetime.now(UTC)

    # Outcomes on most finished activities; the two that ended last and some recent ones still wait for theirs.
    finished = sorted(((e, i) for i, (_, e) in periods.items() if e <= now), reverse=True)
    for rank, (ends_at, activity_id) in enumerate(finished):
        if rank < 2 or rng.random() < (0.3 if now - ends_at < timedelta(days=30) else 0.08):
            continue
        activities.record_outcome(
            session=session,
            actor=staff,
            activity_id=activity_id,
            expected_version=_version(session, Activity, activity_id),
            outcome=_outcome(rng, plans[activity_id].category, periods[activity_id][0], ends_at, activity_id),
        )

    # Sign-ups and invitations on what is running or still to come (the series' online sessions take none).
    seated = set(ctx.organisation_ids[1 : SEATS + 1])
    open_ids = [i for i, (_, e) in periods.items() if e > now + timedelta(minutes=30) and plans[i].count == 1]
    for activity_id in open_ids:
        plan = plans[activity_id]
        pool = [u for u in units if u != plan.organiser and u not in plan.co]
        rng.shuffle(pool)
        if plan.role in ("full", "withdraw"):
            waiting, wanted = 0, rng.randint(2, 4)
            for unit in pool:
                status = _sign_up(ctx, staff, activity_id, unit, rng.randint(1, 5), SignupKind.SIGNUP)
                waiting += status == SignupStatus.WAITLISTED.value
                if waiting >= wanted:
                    break
            if plan.role == "withdraw":
                _withdraw_until_promoted(ctx, staff, activity_id)
        elif plan.category is Category.FORUM:
            council_units = [u for u in pool if u.id in seated] if plan.role == "invite" else []
            others = [u for u in pool if u.id not in seated][: rng.randint(5, 10)]
            for unit in council_units + others:
                _sign_up(ctx, staff, activity_id, unit, rng.randint(1, 3), SignupKind.INVITATION)
        elif plan.capacity is not None:
            target, taken = int(plan.capacity * rng.uniform(0.3, 0.9)), 0
            for unit in pool:
                people = rng.randint(1, 5)
                if taken + people > target:
                    break
                _sign_up(ctx, staff, activity_id, unit, people, SignupKind.SIGNUP)
                taken += people
        elif rng.random() < 0.5:
            for unit in pool[: rng.randint(3, 8)]:
                _sign_up(ctx, staff, activity_id, unit, rng.randint(1, 5), SignupKind.SIGNUP)

    # Cancelled: three upcoming activities, with their reason (their sign-ups stay on record).
    later = [i for i in open_ids if plans[i].role == "" and periods[i][0] > now + timedelta(days=7)]
    rng.shuffle(later)
    cancelled: list[int] = []
    for category in (Category.VOLUNTEERING, Category.SHOWCASE, None):
        pick = next((i for i in later if i not in cancelled and category in (None, plans[i].category)), None)
        if pick is None:
            continue
        cancelled.append(pick)
        activities.cancel_activity(
            session=session,
            actor=staff,
            activity_id=pick,
            expected_version=_version(session, Activity, pick),
            reason=CANCEL_REASONS.get(plans[pick].category, OTHER_CANCEL_REASON),
        )


PROJECTS = [
    "母亲河守护行动",
    "无废校园共建计划",
    "候鸟迁徙观测志愿服务",
    "社区垃圾分类督导",
    "湿地自然课堂",
    "海岸线净滩行动",
    "低碳生活进万家",
    "长江江豚守护者",
]
REASONS = [
    "长期组织社区环保志愿服务，年均开展活动二十余场，带动居民参与垃圾分类与节能减排。",
    "牵头开展生态环境科普宣传，覆盖中小学校三十余所，形成可复制的志愿服务模式。",
    "坚持开展河湖巡护与水质监测志愿服务，积累监测数据，为地方治理提供参考。",
    "组织策划品牌志愿服务项目，培养骨干志愿者，项目获得地方表彰并被媒体多次报道。",
]
ACHIEVEMENTS = [
    ("{area}河湖巡护志愿服务年度报告", AchievementCategory.SERVICE_CASE),
    ("“绿色课堂”生态文明教育课程包", AchievementCategory.TRAINING_COURSE),
    ("垃圾分类入户督导经验总结", AchievementCategory.SERVICE_CASE),
    ("{area}候鸟保护宣传短视频", AchievementCategory.PUBLICITY_WORK),
    ("社区低碳生活调查报告", AchievementCategory.RESEARCH),
    ("“守护母亲河”品牌项目成果", AchievementCategory.BRAND_PROJECT),
    ("青少年自然观察手册", AchievementCategory.TRAINING_COURSE),
    ("生态环境志愿服务队伍建设研究", AchievementCategory.RESEARCH),
]


def _council_users(ctx: DemoContext) -> list[Actor]:
    """The council accounts of the demo (one per seated unit)."""
    rows = ctx.session.execute(
        select(User.id, User.username, User.organisation_id).where(User.role == Role.COUNCIL.value).order_by(User.id)
    ).all()
    return [Actor(user_id=i, username=u, role=Role.COUNCIL, organisation_id=o) for i, u, o in rows]


def _current_members(ctx: DemoContext) -> list[int]:
    return list(
        ctx.session.scalars(
            select(Organisation.id)
            .where(Organisation.status == OrgStatus.MEMBER.value, Organisation.is_secretariat.is_(False))
            .order_by(Organisation.id)
        )
    )


def _nominate(ctx: DemoContext, staff: Actor, round_id: int, on: date, count: int) -> list[int]:
    """`count` nominations spread over the round's categories, each by a different member unit."""
    rng = ctx.rng
    rnd = selections.get_round(session=ctx.session, actor=staff, round_id=round_id, today=on)
    members = _current_members(ctx)
    nominators = rng.sample(members, count)
    made = []
    for number, nominator in enumerate(nominators):
        category = rnd.categories[number % len(rnd.categories)]
        nominee_org = None
        if category.nominee_kind == NomineeKind.ORGANISATION:
            nominee_org = rng.choice([m for m in members if m != nominator])
            name = ctx.session.scalar(select(Organisation.name).where(Organisation.id == nominee_org)) or ""
        elif category.nominee_kind == NomineeKind.INDIVIDUAL:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        else:
            name = rng.choice(PROJECTS)
        made.append(
            selections.add_nomination(
                session=ctx.session,
                actor=staff,
                round_id=round_id,
                today=on,
                data=NominationInput(
                    category_id=category.id,
                    nominating_org_id=nominator,
                    nominee_name=name,
                    nominee_org_id=nominee_org,
                    reasons=rng.choice(REASONS),
                    evidence="事迹材料：活动照片、媒体报道链接、服务时长证明（纸质材料已报送秘书处）。",
                ),
            )
        )
    return made


def seed_selections(ctx: DemoContext) -> None:
    """Two model selection rounds: last year's, reviewed by the council and published, and this year's, open."""
    staff = _secretariat_actor(ctx.session)
    rng = ctx.rng
    start = TODAY - timedelta(days=360)  # the council session the demo seats
    nomination_deadline, review_deadline = start + timedelta(days=10), start + timedelta(days=25)
    year = TODAY.year - 1  # last year's selection, reviewed by the council the demo seats
    categories = tuple(CategoryInput(name, kind.value, places) for name, kind, places in DEFAULT_CATEGORIES)
    past_round = selections.create_round(
        session=ctx.session,
        actor=staff,
        today=start + timedelta(days=1),
        data=RoundInput(
            name=f"{year}年度生态环境志愿服务先进典型推选",
            year=year,
            nomination_deadline=nomination_deadline,
            review_deadline=review_deadline,
            categories=categories,
            description="面向全体成员单位征集优秀组织、优秀个人和优秀项目推荐，经理事会评审后公布。",
        ),
    )
    nominations = _nominate(ctx, staff, past_round, start + timedelta(days=5), 14)
    scoring_day = start + timedelta(days=15)
    for actor in _council_users(ctx):
        if actor.organisation_id is None or not council.has_active_term(
            session=ctx.session, organisation_id=actor.organisation_id, on=scoring_day
        ):
            continue
        for nomination_id in nominations:
            n = selections.get_nomination(session=ctx.session, actor=staff, nomination_id=nomination_id)
            own = actor.organisation_id in {n.nominating_org_id, n.nominee_org_id}
            recused = own or rng.random() < 0.04
            selections.score_nomination(
                session=ctx.session,
                actor=actor,
                nomination_id=nomination_id,
                score=None if recused else rng.choice([6, 7, 7, 8, 8, 8, 9, 9, 10]),
                recused=recused,
                comment="本单位为推荐单位，回避。" if own else "",
                expected_version=0,
                today=scoring_day,
            )
    publish_day = review_deadline + timedelta(days=2)
    ranked = selections.ranking(session=ctx.session, actor=staff, round_id=past_round, today=publish_day)
    rnd = selections.get_round(session=ctx.session, actor=staff, round_id=past_round, today=publish_day)
    places = {c.id: c.places for c in rnd.categories}
    winners: dict[int, list[int]] = {c: [] for c in places}
    for row in ranked:
        if row.scores and len(winners[row.category_id]) < places[row.category_id]:
            winners[row.category_id].append(row.nomination_id)
    selections.publish_round(
        session=ctx.session,
        actor=staff,
        round_id=past_round,
        winners=winners,
        expected_version=rnd.version,
        today=publish_day,
    )
    open_round = selections.create_round(
        session=ctx.session,
        actor=staff,
        today=TODAY,
        data=RoundInput(
            name=f"{TODAY.year}年度生态环境志愿服务先进典型推选",
            year=TODAY.year,
            nomination_deadline=TODAY + timedelta(days=20),
            review_deadline=TODAY + timedelta(days=40),
            categories=categories,
            description="征集本年度优秀组织、优秀个人和优秀项目；每个成员单位每个类别推荐 1 个对象。",
        ),
    )
    _nominate(ctx, staff, open_round, TODAY, 8)


def seed_achievements(ctx: DemoContext) -> None:
    """About 40 achievements over the last 18 months: most published through a channel, some waiting, a few not
    used."""
    staff = _secretariat_actor(ctx.session)
    rng = ctx.rng
    members = _current_members(ctx)
    channels = list(PublicityChannel)
    for number in range(42):
        unit = rng.choice(members)
        template, category = rng.choice(ACHIEVEMENTS)
        achieved_on = TODAY - timedelta(days=rng.randint(3, 540))
        achievement_id = achievements.create_achievement(
            session=ctx.session,
            actor=staff,
            today=TODAY,
            data=AchievementInput(
                organisation_id=unit,
                title=template.format(area=rng.choice(["", "城区", "流域", "沿海", "高原"])),
                summary="成员单位报送的成果材料，介绍项目背景、做法、成效及可推广的经验。",
                achieved_on=achieved_on,
                category=category.value,
                link=f"https://news.example.org/evsn/achievement/{number + 1}.html" if rng.random() < 0.5 else "",
            ),
        )
        roll = rng.random()
        if achieved_on > TODAY - timedelta(days=30) or roll < 0.2:
            continue  # still 待审核
        if roll < 0.32:
            achievements.decide_achievement(
                session=ctx.session,
                actor=staff,
                achievement_id=achievement_id,
                status=AchievementStatus.REJECTED.value,
                channel=None,
                published_on=None,
                note="材料与生态环境志愿服务关联不足，建议补充后重新报送。",
                expected_version=1,
                today=TODAY,
            )
            continue
        achievements.decide_achievement(
            session=ctx.session,
            actor=staff,
            achievement_id=achievement_id,
            status=AchievementStatus.PUBLISHED.value,
            channel=rng.choice(channels).value,
            published_on=min(TODAY, achieved_on + timedelta(days=rng.randint(3, 25))),
            note="",
            expected_version=1,
            today=TODAY,
        )


# Each screen's issue appends its own step; they run in order in one transaction.
SEEDERS: list[Callable[[DemoContext], None]] = [
    seed_organisations,
    seed_council,
    seed_accounts,
    seed_applications,
    seed_council_history,
    seed_activities,
    seed_selections,
    seed_achievements,
]


def database_state(session: Session) -> str:
    """'empty', 'demo' (seeded before) or 'records' (a real database: never touched)."""
    if settings.is_demo_database(session=session):
        return "demo"
    has_users = session.scalar(select(func.count()).select_from(User)) or 0
    has_orgs = session.scalar(select(func.count()).select_from(Organisation)) or 0
    return "records" if has_users or has_orgs else "empty"


def seed(*, engine: Engine | None = None, seed_value: int = 2026) -> None:
    """Fill an empty, migrated database with the demo data, all in one transaction."""
    with transaction(write=True, engine=engine) as session:
        token = users.issue_setup_token(session=session)
        assert token is not None
        username = "demo_admin"
        admin_id = users.create_first_admin(
            session=session,
            actor=ANONYMOUS,
            token=token,
            username=username,
            display_name=DEMO_ACCOUNTS[username][1],
            password=DEMO_PASSWORD,
            password_repeat=DEMO_PASSWORD,
        )
        admin = Actor(user_id=admin_id, username=username, role=Role.ADMIN)
        settings.put_setting(session=session, actor=admin, key=settings.DEMO_FLAG, value=True, expected_version=0)
        ctx = DemoContext(session=session, admin=admin, rng=random.Random(seed_value), organisation_ids=[])
        for step in SEEDERS:
            step(ctx)


def main() -> int:
    """Seed the configured database unless it holds real records; print the demo accounts."""
    engine = get_engine()
    upgrade_to_head(engine)
    with transaction(engine=engine) as session:
        state = database_state(session)
    where = engine.url.render_as_string(hide_password=True)
    if state == "records":
        print(f"拒绝：{where} 已有记录，不是演示数据库。演示数据只写入新的空数据库。", file=sys.stderr)
        print(f"refused: {where} holds records and is not a demo database", file=sys.stderr)
        return 1
    if state == "empty":
        seed(engine=engine)
        print(f"演示数据已写入 / demo data written to {where}")
    else:
        print(f"演示数据库已存在 / demo database already seeded: {where}")
    print("演示账号 / demo accounts (password: " + DEMO_PASSWORD + "):")
    for username, (role, _) in DEMO_ACCOUNTS.items():
        print(f"  {username:<18} {role.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
