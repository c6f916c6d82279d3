"""Seed a separate demo database through the services (`make demo`); refuses a database that holds records.

Every unit and person here is fictional. The demo password is public by design and exists only in demo
databases, which the app marks with a 演示数据 banner. Each screen's issue extends `SEEDERS`.
"""

import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from db.engine import get_engine, transaction
from db.migrate import upgrade_to_head
from db.models import Application, CouncilTerm, Organisation, User
from db.services import applications, council, meetings, organisations, settings, users
from domain.applications import ApplicationInput, AppliedFor, AppStatus, Channel, Opinion
from domain.clock import SHANGHAI
from domain.council import SEATS, MeetingKind, TermSource
from domain.organisations import OrganisationInput, OrgKind
from domain.roles import ANONYMOUS, Actor, Role
from domain.text import name_key

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Demo@2026")
DEMO_ACCOUNTS = {
    "demo_admin": (Role.ADMIN, "演示管理员"),
    "demo_secretariat": (Role.SECRETARIAT, "演示秘书处"),
    "demo_council": (Role.COUNCIL, "演示理事"),
    "demo_viewer": (Role.VIEWER, "演示合作方"),
}
SECRETARIAT_NAME = "生态环境部宣传教育中心"
TODAY = date.today()

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
    staff = Actor(
        user_id=session.scalar(select(User.id).where(User.username == "demo_secretariat")),
        username="demo_secretariat",
        role=Role.SECRETARIAT,
    )
    members = list(ctx.organisation_ids[1:])
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


# Each screen's issue appends its own step; they run in order in one transaction.
SEEDERS: list[Callable[[DemoContext], None]] = [
    seed_organisations,
    seed_council,
    seed_accounts,
    seed_applications,
    seed_council_history,
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
