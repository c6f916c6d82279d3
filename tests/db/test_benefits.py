"""The benefits ledger (成员权益台账) on both databases: a small network with trainings (some co-organised, one
cancelled), sign-ups confirmed, waitlisted and withdrawn, invitations, recommended applications approved and not,
nominations won and withdrawn, achievements published and pending, and council terms; every figure of the ledger
against counts written here by hand in SQL, over periods whose bounds are days in Shanghai."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Date, bindparam, text
from sqlalchemy.orm import Session

from db.base import UTCDateTime
from db.services import achievements, activities, applications, benefits, council, organisations, users
from db.services import selections as sel
from db.services.benefits import UnitRecord
from domain.activities import Outcome
from domain.applications import ApplicationInput
from domain.clock import SHANGHAI
from domain.errors import PermissionDenied, ValidationError
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import AchievementInput, CategoryInput, NominationInput, RoundInput
from tests.conftest import TODAY, org_input

FUTURE = date(2030, 6, 3)  # sign-ups are taken before an activity ends: they are made here, then it is moved
Y2025 = (date(2025, 1, 1), date(2025, 12, 31))
Y2026 = (date(2026, 1, 1), date(2026, 12, 31))
Y2027 = (date(2027, 1, 1), date(2027, 12, 31))
PERIODS = {
    "2025": Y2025,
    "2026": Y2026,
    "2027": Y2027,
    "first five months of 2026": (date(2026, 1, 1), date(2026, 5, 31)),
    "the last day of May 2026": (date(2026, 5, 31), date(2026, 5, 31)),
    "the first day of June 2026": (date(2026, 6, 1), date(2026, 6, 1)),
    "new year's eve and day": (date(2025, 12, 31), date(2026, 1, 1)),
    "new year's eve 2026": (date(2026, 12, 31), date(2026, 12, 31)),
    "ten years": (date(2020, 1, 1), date(2029, 12, 28)),
}

NAMES = [
    "阿拉善生态志愿队",
    "北京绿色骑行团",
    "长沙湿地守护队",
    "大连海洋志愿者",
    "鄂尔多斯治沙队",
    "福州闽江志愿队",
    "广州珠江卫士",
    "杭州西湖志愿队",
]


def shanghai(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def new_unit(session, admin, name: str, **kw: object) -> int:
    values: dict[str, object] = {"kind": "volunteer_team", "credit_code": ""}
    values.update(kw)
    return organisations.create_organisation(session=session, actor=admin, today=TODAY, data=org_input(name, **values))


def version_of(session, table: str, record_id: int) -> int:
    return session.execute(text(f"SELECT version FROM {table} WHERE id = :id"), {"id": record_id}).scalar_one()


class World:
    """The network the tests read: ids by name, built through the services."""

    def __init__(self, session, admin: Actor, staff: Actor) -> None:
        self.s, self.admin, self.staff = session, admin, staff
        self.u = [new_unit(session, admin, name) for name in NAMES]
        self.secretariat = new_unit(
            session,
            admin,
            "生态环境部宣传教育中心",
            kind="government",
            credit_code="91110000802100433B",
            is_secretariat=True,
        )
        self.late = new_unit(session, admin, "临沂新成员", joined_on=date(2026, 6, 1))
        self.suspended = new_unit(session, admin, "徐州暂停单位")
        self.exited = new_unit(session, admin, "宜昌退出单位")
        self._activities()
        self._achievements()
        self._applications()
        self._council()
        self._nominations()
        for unit, status in ((self.suspended, "suspended"), (self.exited, "exited")):
            organisations.set_organisation_status(
                session=session,
                actor=admin,
                organisation_id=unit,
                expected_version=version_of(session, "organisations", unit),
                status=status,
                reason="暂停",
            )

    # -- activities, sign-ups and invitations
    def activity(
        self, title: str, category: str, organiser: int | None, co: tuple[int, ...] = (), capacity: int | None = None
    ) -> int:
        data = activities.ActivityInput(
            title=title,
            category=category,
            starts_at=shanghai(FUTURE),
            ends_at=shanghai(FUTURE, 12),
            province="北京",
            place="北京",
            organiser_id=organiser,
            co_organiser_ids=co,
            capacity=capacity,
        )
        return activities.create_activity(session=self.s, actor=self.staff, data=data)[0]

    def sign(self, activity_id: int, unit: int, people: int = 1, kind: str = "signup") -> int:
        return activities.add_signup(
            session=self.s, actor=self.staff, activity_id=activity_id, organisation_id=unit, people=people, kind=kind
        ).id

    def withdraw(self, signup_id: int) -> None:
        activities.cancel_signup(
            session=self.s,
            actor=self.staff,
            signup_id=signup_id,
            expected_version=version_of(self.s, "signups", signup_id),
        )

    def move(self, activity_id: int, starts_at: datetime, hours: float = 3) -> None:
        data = activities.get_activity(session=self.s, actor=self.staff, activity_id=activity_id).as_input()
        activities.update_activity(
            session=self.s,
            actor=self.staff,
            activity_id=activity_id,
            expected_version=version_of(self.s, "activities", activity_id),
            data=replace(data, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours)),
        )

    def outcome(self, activity_id: int, volunteers: int, hours: str) -> None:
        activities.record_outcome(
            session=self.s,
            actor=self.staff,
            activity_id=activity_id,
            expected_version=version_of(self.s, "activities", activity_id),
            outcome=Outcome(volunteers=volunteers, service_hours=Decimal(hours)),
        )

    def _activities(self) -> None:
        u = self.u
        # T1: a training on the first half hour of 2026 in Beijing (still 2025 in UTC), co-organised by u1
        self.t1 = self.activity("新年首期骨干培训", "training", u[0], (u[1],), capacity=3)
        self.sign(self.t1, u[2], people=2)  # confirmed
        self.sign(self.t1, u[3])  # confirmed: the training is full
        self.sign(self.t1, u[4])  # waitlisted, never moved up
        self.withdraw(self.sign(self.t1, u[5]))  # withdrawn
        self.sign(self.t1, u[6], kind="invitation")
        self.withdraw(self.sign(self.t1, u[7], kind="invitation"))  # invitation withdrawn
        self.sign(self.t1, self.suspended)
        # T2: a training on the last half hour of 2025 in Beijing
        self.t2 = self.activity("年末培训", "training", u[1])
        self.sign(self.t2, u[2])
        self.sign(self.t2, u[3], kind="invitation")
        # T3: a forum (not a training) co-organised by u0, u3 and the secretariat
        self.t3 = self.activity("长江论坛", "forum", u[2], (u[0], u[3], self.secretariat))
        self.sign(self.t3, u[4])
        self.sign(self.t3, u[5], kind="invitation")
        # T4: a training that was cancelled after its sign-ups
        self.t4 = self.activity("取消的培训", "training", u[3], (u[4],))
        self.sign(self.t4, u[6])
        self.sign(self.t4, u[0], kind="invitation")
        activities.cancel_activity(
            session=self.s, actor=self.staff, activity_id=self.t4, expected_version=1, reason="场地不可用"
        )
        # T5: the secretariat's own training (no organiser unit) on new year's eve 2026, co-organised by u4
        self.t5 = self.activity("跨年培训", "training", None, (u[4],))
        self.sign(self.t5, u[0])
        self.sign(self.t5, u[7])
        # T6: a training ten minutes into 2027 in Beijing (still 2026 in UTC)
        self.t6 = self.activity("2027首训", "training", u[5])
        self.sign(self.t6, u[1])
        self.sign(self.t6, u[2], kind="invitation")
        # T7: an activity of the unit that is suspended afterwards
        self.t7 = self.activity("暂停单位的活动", "volunteering", self.suspended)

        self.move(self.t1, shanghai(date(2026, 1, 1), 0, 30))
        self.move(self.t2, shanghai(date(2025, 12, 31), 23, 30), hours=2)
        self.move(self.t3, shanghai(date(2026, 6, 1)))
        self.move(self.t5, shanghai(date(2026, 12, 31), 23, 30), hours=1.5)
        self.move(self.t6, shanghai(date(2027, 1, 1), 0, 10))
        self.move(self.t7, shanghai(date(2026, 4, 1)))
        self.outcome(self.t1, 20, "50.0")
        self.outcome(self.t2, 5, "7.5")
        self.outcome(self.t3, 10, "4.5")
        self.outcome(self.t7, 3, "6.0")

    # -- achievements
    def achievement(
        self, unit: int, title: str, achieved: date, published: date | None = None, rejected: bool = False
    ) -> int:
        today = date(2027, 1, 10)
        a = achievements.create_achievement(
            session=self.s,
            actor=self.staff,
            today=today,
            data=AchievementInput(unit, title, "摘要", achieved, "service_case"),
        )
        if published or rejected:
            achievements.decide_achievement(
                session=self.s,
                actor=self.staff,
                achievement_id=a,
                status="published" if published else "rejected",
                channel="wechat" if published else None,
                published_on=published,
                note="" if published else "不采用",
                expected_version=1,
                today=today,
            )
        return a

    def _achievements(self) -> None:
        u = self.u
        self.achievement(u[0], "春季巡河", date(2026, 2, 1), published=date(2026, 3, 1))
        self.achievement(u[0], "冬季观鸟", date(2025, 12, 1), published=date(2025, 12, 31))
        self.achievement(u[0], "待审成果", date(2026, 5, 1))
        self.achievement(u[0], "未采用成果", date(2026, 4, 1), rejected=True)
        self.achievement(u[1], "跨年成果", date(2026, 12, 1), published=date(2026, 12, 31))
        self.achievement(u[1], "次年发布", date(2026, 12, 20), published=date(2027, 1, 1))
        self.achievement(self.suspended, "暂停前的成果", date(2026, 5, 1), published=date(2026, 5, 5))

    # -- recommended applications
    def application(
        self,
        name: str,
        channel: str,
        recommender: int | None,
        submitted: datetime,
        decision: str | None = None,
        decided: datetime | None = None,
    ) -> int:
        data = ApplicationInput(organisation=org_input(name, kind="volunteer_team", credit_code=""), consent=True)
        app_id, _ = applications.create_application(
            session=self.s, actor=self.staff, data=data, channel=channel, recommender_id=recommender, now=submitted
        )
        if decision:
            for step in ("in_review", decision):
                applications.change_status(
                    session=self.s,
                    actor=self.staff,
                    application_id=app_id,
                    expected_version=version_of(self.s, "applications", app_id),
                    to_status=step,
                    note="不符合条件" if step == "rejected" else "",
                    now=decided or submitted,
                )
        return app_id

    def _applications(self) -> None:
        u = self.u
        self.application(
            "新年推荐队", "recommended", u[0], shanghai(date(2026, 1, 1), 0, 30), "approved", shanghai(date(2026, 2, 1))
        )
        self.application("五月推荐队", "recommended", u[0], shanghai(date(2026, 5, 1), 10))
        self.application(
            "除夕推荐队",
            "recommended",
            u[0],
            shanghai(date(2025, 12, 31), 23, 30),
            "approved",
            shanghai(date(2026, 1, 10)),
        )
        self.application("七月推荐队", "recommended", u[1], shanghai(date(2026, 7, 1)), "rejected")
        self.application("邀请入网队", "invited", None, shanghai(date(2026, 3, 3)), "approved")

    # -- council terms
    def _council(self) -> None:
        u = self.u
        session_id = council.create_session(session=self.s, actor=self.admin, starts_on=date(2026, 3, 1))
        for seat, unit in ((3, u[0]), (1, u[1]), (5, u[7])):
            term = council.seat_term(
                session=self.s,
                actor=self.admin,
                session_id=session_id,
                seat=seat,
                organisation_id=unit,
                source="invited",
            )
            if unit == u[1]:
                council.end_term_early(
                    session=self.s,
                    actor=self.admin,
                    term_id=term,
                    expected_version=1,
                    ends_on=date(2026, 6, 1),
                    reason="辞任",
                )
                council.fill_by_election(
                    session=self.s,
                    actor=self.admin,
                    vacated_term_id=term,
                    organisation_id=u[2],
                    representative="",
                    starts_on=date(2026, 6, 1),
                )

    # -- nominations: counted in the period in which their round's call for nominations closes
    def selection(self, name: str, year: int, deadline: date, today: date) -> tuple[int, int, int]:
        data = RoundInput(
            name,
            year,
            deadline,
            deadline + timedelta(days=10),
            (CategoryInput("优秀组织", "organisation", 2), CategoryInput("优秀个人", "individual", 1)),
        )
        round_id = sel.create_round(session=self.s, actor=self.staff, data=data, today=today)
        orgs, people = (
            c.id for c in sel.get_round(session=self.s, actor=self.staff, round_id=round_id, today=today).categories
        )
        return round_id, orgs, people

    def nominate(self, round_id: int, category: int, unit: int, name: str, today: date) -> int:
        return sel.add_nomination(
            session=self.s,
            actor=self.staff,
            round_id=round_id,
            today=today,
            data=NominationInput(category, unit, name, "理由"),
        )

    def _nominations(self) -> None:
        u = self.u
        # a 2026 round closing on 8 December 2026, published: u0 wins one of two, u1 withdrew, u3 wins
        self.round, orgs, people = self.selection("2026年度推选", 2026, TODAY + timedelta(days=10), TODAY)
        won = self.nominate(self.round, orgs, u[0], "阿拉善生态志愿队", TODAY)
        self.nominate(self.round, people, u[0], "张三", TODAY)
        gone = self.nominate(self.round, orgs, u[1], "北京绿色骑行团", TODAY)
        self.nominate(self.round, orgs, u[2], "长沙湿地守护队", TODAY)
        person = self.nominate(self.round, people, u[3], "李四", TODAY)
        sel.withdraw_nomination(
            session=self.s, actor=self.staff, nomination_id=gone, reason="撤回", expected_version=1, today=TODAY
        )
        sel.end_call(session=self.s, actor=self.staff, round_id=self.round, expected_version=1, today=TODAY)
        sel.publish_round(
            session=self.s,
            actor=self.staff,
            round_id=self.round,
            winners={orgs: [won], people: [person]},
            expected_version=2,
            today=TODAY,
        )
        # a 2025 round whose call closed on new year's eve 2025, never published
        early, orgs, _ = self.selection("2025年度推选", 2025, date(2025, 12, 31), date(2025, 12, 1))
        self.nominate(early, orgs, u[5], "福州闽江志愿队", date(2025, 12, 31))
        # a 2026 round whose call closes on 1 January 2027: its nominations count in 2027
        late, orgs, people = self.selection("2026年度推选（补充）", 2026, date(2027, 1, 1), TODAY)
        self.nominate(late, orgs, u[4], "鄂尔多斯治沙队", TODAY)
        self.nominate(late, people, u[0], "王五", TODAY)


# The network is built once per database (it takes half a second): the module's own `session` fixture gives
# each test a savepoint on the connection that holds it, rolled back after the test.


@pytest.fixture(scope="module")
def built(engine) -> Iterator[tuple[Connection, World]]:
    with engine.connect() as conn:
        outer = conn.begin()
        setup = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            token = users.issue_setup_token(session=setup)
            admin_id = users.create_first_admin(
                session=setup,
                actor=ANONYMOUS,
                token=token,
                username="root",
                display_name="管理员",
                password="first admin pass",
                password_repeat="first admin pass",
            )
            admin = Actor(user_id=admin_id, username="root", role=Role.ADMIN)
            staff = plain_user(setup, admin, "mishu", Role.SECRETARIAT)
            yield conn, World(setup, admin, staff)
        finally:
            setup.close()
            outer.rollback()


@pytest.fixture
def session(built) -> Iterator[Session]:
    conn, _ = built
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()


@pytest.fixture
def world(built) -> World:
    return built[1]


@pytest.fixture
def admin(world) -> Actor:
    return world.admin


@pytest.fixture
def staff(world) -> Actor:
    return world.staff


def plain_user(session, admin: Actor, username: str, role: Role, organisation_id: int | None = None) -> Actor:
    user_id = users.create_user(
        session=session,
        actor=admin,
        username=username,
        display_name=username,
        password="password 123",
        role=role,
        organisation_id=organisation_id,
    )
    return Actor(user_id=user_id, username=username, role=role, organisation_id=organisation_id)


# ---------------------------------------------------------------- the figures counted by hand


def rows(session, sql: str, first: date, last: date) -> list[tuple]:
    """Run a hand-written query with the period as dates (:first, :last) and as the instants Shanghai's days
    begin (:start, :end = the day after the last)."""
    start = datetime.combine(first, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)
    params = {
        "first": (first, Date()),
        "last": (last, Date()),
        "start": (start, UTCDateTime()),
        "end": (end, UTCDateTime()),
    }
    stmt = text(sql)
    used = [k for k in params if f":{k}" in sql]
    stmt = stmt.bindparams(*[bindparam(k, params[k][0], type_=params[k][1]) for k in used])
    return [tuple(r) for r in session.execute(stmt)]


# "Today" for the ledger in these tests: after every training of the world, so all of them have begun (the
# rule that a training still to come is not attended has its own test at the end).
HELD = date(2030, 1, 1)

HAND = {
    "achievements": """
        SELECT organisation_id, COUNT(*) FROM achievements
        WHERE status = 'published' AND published_on >= :first AND published_on <= :last
        GROUP BY organisation_id""",
    "trained": """
        SELECT s.organisation_id, COUNT(*) FROM signups s JOIN activities a ON a.id = s.activity_id
        WHERE s.kind = 'signup' AND s.status = 'confirmed' AND a.category = 'training'
          AND a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end
        GROUP BY s.organisation_id""",
    "invited": """
        SELECT s.organisation_id, COUNT(*) FROM signups s JOIN activities a ON a.id = s.activity_id
        WHERE s.kind = 'invitation' AND s.status = 'invited'
          AND a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end
        GROUP BY s.organisation_id""",
    "organised": """
        SELECT o.org, COUNT(*), SUM(CASE WHEN a.category = 'training' THEN 1 ELSE 0 END),
               COALESCE(SUM(a.volunteers), 0), COALESCE(SUM(a.service_hours), 0)
        FROM (SELECT organiser_id AS org, id AS activity_id FROM activities WHERE organiser_id IS NOT NULL
              UNION
              SELECT organisation_id, activity_id FROM activity_co_organisers) o
        JOIN activities a ON a.id = o.activity_id
        WHERE a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end
        GROUP BY o.org""",
    "recommended": """
        SELECT recommender_id, COUNT(*), SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) FROM applications
        WHERE channel = 'recommended' AND submitted_at >= :start AND submitted_at < :end
        GROUP BY recommender_id""",
    "nominated": """
        SELECT n.nominating_org_id, COUNT(*), SUM(CASE WHEN n.winner THEN 1 ELSE 0 END)
        FROM nominations n JOIN selection_rounds r ON r.id = n.round_id
        WHERE n.withdrawn_at IS NULL AND r.nomination_deadline >= :first AND r.nomination_deadline <= :last
        GROUP BY n.nominating_org_id""",
    "seats": """
        SELECT organisation_id, MIN(seat) FROM council_terms
        WHERE starts_on <= :last AND ends_on > :first
        GROUP BY organisation_id""",
}
LEDGER_UNITS = """
    SELECT id FROM organisations
    WHERE status = 'member' AND NOT is_secretariat AND (joined_on IS NULL OR joined_on <= :last)
    ORDER BY sort_key, id"""


def hand_records(session, first: date, last: date, ids: list[int] | None = None) -> dict[int, UnitRecord]:
    """Every unit's figures for the period, from the hand-written queries above."""
    names = dict(tuple(r) for r in session.execute(text("SELECT id, name FROM organisations")))
    figures: dict[int, dict[str, object]] = {i: {} for i in names}
    for org, n in rows(session, HAND["achievements"], first, last):
        figures[org]["achievements_published"] = int(n)
    for org, n in rows(session, HAND["trained"], first, last):
        figures[org]["trainings_attended"] = int(n)
    for org, n in rows(session, HAND["invited"], first, last):
        figures[org]["invitations"] = int(n)
    for org, n, trainings, volunteers, hours in rows(session, HAND["organised"], first, last):
        figures[org].update(
            activities_organised=int(n),
            trainings_organised=int(trainings),
            volunteers=int(volunteers),
            service_hours=Decimal(str(hours)),
        )
    for org, n, admitted in rows(session, HAND["recommended"], first, last):
        figures[org].update(units_recommended=int(n), units_admitted=int(admitted))
    for org, n, won in rows(session, HAND["nominated"], first, last):
        figures[org].update(nominations_made=int(n), nominations_won=int(won))
    for org, seat in rows(session, HAND["seats"], first, last):
        figures[org]["council_seat"] = int(seat)
    wanted = names if ids is None else ids
    return {i: UnitRecord(organisation_id=i, name=names[i], **figures[i]) for i in wanted}  # type: ignore[arg-type]


def hand_ledger_ids(session, first: date, last: date) -> list[int]:
    return [r[0] for r in rows(session, LEDGER_UNITS, first, last)]


def used(record: UnitRecord) -> int:
    return sum(getattr(record, f) for f in benefits.USED_FIELDS)


def full_ledger(session, actor, first: date, last: date, **kw: object) -> benefits.LedgerPage:
    return benefits.ledger(today=HELD, session=session, actor=actor, first=first, last=last, limit=None, **kw)


# ---------------------------------------------------------------- every figure against the hand counts


@pytest.mark.parametrize("period", list(PERIODS))
def test_every_figure_of_the_ledger_equals_the_hand_counts(session, staff, world, period):
    first, last = PERIODS[period]
    page = full_ledger(session, staff, first, last)
    expected_ids = hand_ledger_ids(session, first, last)
    expected = hand_records(session, first, last, expected_ids)
    assert [r.organisation_id for r in page.rows] == expected_ids  # the units, in pinyin order
    assert {r.organisation_id: r for r in page.rows} == expected
    assert page.total == len(expected_ids)
    assert page.unused == sum(1 for r in expected.values() if used(r) == 0)


@pytest.mark.parametrize("period", ["2025", "2026", "2027"])
def test_a_units_record_counts_whatever_its_status(session, staff, world, period):
    first, last = PERIODS[period]
    everyone = [*world.u, world.secretariat, world.late, world.suspended, world.exited]
    got = benefits.unit_records(today=HELD, session=session, organisation_ids=everyone, first=first, last=last)
    assert got == hand_records(session, first, last, everyone)
    for unit in everyone:
        assert (
            benefits.unit_ledger(today=HELD, session=session, actor=staff, organisation_id=unit, first=first, last=last)
            == (got[unit])
        )


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2025", [(0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 0)]),
        ("2026", [(2, 1), (0, 0), (1, 0), (1, 1), (0, 0), (0, 0)]),  # u1's nomination was withdrawn
        ("2027", [(1, 0), (0, 0), (0, 0), (0, 0), (1, 0), (0, 0)]),
        ("new year's eve 2026", [(0, 0)] * 6),
    ],
)
def test_nominations_count_in_the_period_their_call_closes_made_and_won_but_not_withdrawn(
    session, world, period, expected
):
    first, last = PERIODS[period]
    got = benefits.unit_records(today=HELD, session=session, organisation_ids=world.u[:6], first=first, last=last)
    assert [(got[u].nominations_made, got[u].nominations_won) for u in world.u[:6]] == expected
    assert got == hand_records(session, first, last, world.u[:6])


# ---------------------------------------------------------------- what the figures mean, spelled out


def figures(record: UnitRecord, *names: str) -> tuple[object, ...]:
    return tuple(getattr(record, n) for n in names)


def test_the_2026_figures_follow_the_definitions(session, staff, world):
    u = world.u
    got = {r.organisation_id: r for r in full_ledger(session, staff, *Y2026).rows}
    # u0: organises T1 and co-organises the forum T3; attends T5; its invitation was to the cancelled T4;
    # recommended two units in 2026 (one admitted; the one of new year's eve counts in 2025); sits in seat 3
    assert figures(
        got[u[0]],
        "achievements_published",
        "trainings_attended",
        "trainings_organised",
        "invitations",
        "units_recommended",
        "units_admitted",
        "activities_organised",
        "volunteers",
        "service_hours",
        "council_seat",
    ) == (1, 1, 1, 0, 2, 1, 2, 30, Decimal("54.5"), 3)
    # u1: co-organised T1 (a training); published on new year's eve; seat 1 until its term ended on 1 June
    assert figures(
        got[u[1]],
        "achievements_published",
        "trainings_organised",
        "activities_organised",
        "units_recommended",
        "units_admitted",
        "council_seat",
    ) == (1, 1, 1, 1, 0, 1)
    # u2: attended T1 (T2 was in 2025); organised the forum; seat 1 by the by-election from 1 June
    assert figures(
        got[u[2]], "trainings_attended", "trainings_organised", "activities_organised", "volunteers", "council_seat"
    ) == (1, 0, 1, 10, 1)
    # u4: waitlisted on T1 and at the forum (not a training): no training attended; co-organises T5
    assert figures(got[u[4]], "trainings_attended", "trainings_organised", "activities_organised", "volunteers") == (
        0,
        1,
        1,
        0,
    )
    # u5: its T1 sign-up withdrawn; invited to the forum; organises T6, which is in 2027
    assert figures(got[u[5]], "trainings_attended", "invitations", "activities_organised") == (0, 1, 0)
    # u6: invited to T1; its T4 sign-up went with the cancelled training
    assert figures(got[u[6]], "trainings_attended", "invitations") == (0, 1)
    # u7: its T1 invitation withdrawn; attends T5 on new year's eve
    assert figures(got[u[7]], "trainings_attended", "invitations", "council_seat") == (1, 0, 5)


def test_the_2025_figures_take_new_years_eve_in_beijing(session, staff, world):
    u = world.u
    got = {r.organisation_id: r for r in full_ledger(session, staff, *Y2025).rows}
    assert figures(
        got[u[0]],
        "achievements_published",
        "units_recommended",
        "units_admitted",
        "trainings_organised",
        "council_seat",
    ) == (1, 1, 1, 0, None)
    assert figures(got[u[1]], "trainings_organised", "volunteers", "service_hours") == (1, 5, Decimal("7.5"))
    assert figures(got[u[2]], "trainings_attended") == (1,)
    assert figures(got[u[3]], "invitations") == (1,)


def test_the_2027_figures_take_the_first_minutes_of_the_year_in_beijing(session, staff, world):
    u = world.u
    got = {r.organisation_id: r for r in full_ledger(session, staff, *Y2027).rows}
    assert figures(got[u[1]], "trainings_attended", "achievements_published", "council_seat") == (1, 1, None)
    assert figures(got[u[2]], "invitations", "council_seat") == (1, 1)
    assert figures(got[u[5]], "trainings_organised", "activities_organised") == (1, 1)


def test_a_term_counts_up_to_the_day_before_it_ended(session, staff, world):
    u = world.u

    def seats(first: date, last: date) -> tuple[int | None, int | None]:
        got = benefits.unit_records(today=HELD, session=session, organisation_ids=[u[1], u[2]], first=first, last=last)
        return got[u[1]].council_seat, got[u[2]].council_seat

    assert seats(date(2026, 5, 31), date(2026, 5, 31)) == (1, None)
    assert seats(date(2026, 6, 1), date(2026, 6, 1)) == (None, 1)
    assert seats(date(2026, 2, 1), date(2026, 2, 28)) == (None, None)  # before the session began


def test_the_ledger_lists_members_joined_by_the_periods_end_without_the_secretariat(session, staff, world):
    for first, last in (Y2025, Y2026, (date(2026, 1, 1), date(2026, 5, 31))):
        listed = {r.organisation_id for r in full_ledger(session, staff, first, last).rows}
        assert set(world.u) <= listed
        assert not {world.secretariat, world.suspended, world.exited} & listed
        assert (world.late in listed) == (last >= date(2026, 6, 1))
    names_2025 = {r.name for r in full_ledger(session, staff, *Y2025).rows}
    names_2026 = {r.name for r in full_ledger(session, staff, *Y2026).rows}
    # the units admitted on 10 January and 1 February 2026 are members from then on
    assert names_2026 - names_2025 == {"临沂新成员", "新年推荐队", "除夕推荐队", "邀请入网队"}


# ---------------------------------------------------------------- unused, search and pages


@pytest.mark.parametrize("period", ["2025", "2026", "2027"])
def test_the_unused_list_holds_exactly_the_members_that_used_none_of_their_benefits(session, staff, world, period):
    first, last = PERIODS[period]
    expected = hand_records(session, first, last, hand_ledger_ids(session, first, last))
    unused_ids = [i for i, r in expected.items() if used(r) == 0]
    page = full_ledger(session, staff, first, last, only_unused=True)
    assert [r.organisation_id for r in page.rows] == unused_ids
    assert page.total == page.unused == len(unused_ids)


def test_in_2026_the_new_units_and_the_late_joiner_used_nothing_but_council_service_is_not_a_benefit(
    session, staff, world
):
    page = full_ledger(session, staff, *Y2026, only_unused=True)
    assert {r.name for r in page.rows} == {"临沂新成员", "新年推荐队", "除夕推荐队", "邀请入网队"}
    # a unit whose only record is a council seat has used none of the benefits
    only_seat = new_unit(session, world.admin, "仅任理事单位")
    session_id = session.execute(text("SELECT id FROM council_sessions")).scalar_one()
    council.seat_term(
        session=session, actor=world.admin, session_id=session_id, seat=9, organisation_id=only_seat, source="invited"
    )
    again = full_ledger(session, staff, *Y2026, only_unused=True)
    assert only_seat in {r.organisation_id for r in again.rows}
    assert again.unused == page.unused + 1


@pytest.mark.parametrize("search", ["志愿", "志 愿", "志\u3000愿", "北京", "骑行团", "推荐队", "不存在", "%", "_"])
def test_search_finds_the_members_whose_name_contains_the_text(session, staff, world, search):
    first, last = Y2026
    like = "%" + search.replace(" ", "").replace("\u3000", "").replace("%", "\\%").replace("_", "\\_") + "%"
    expected_ids = [
        r[0]
        for r in rows(
            session, LEDGER_UNITS.replace("ORDER BY", "AND name LIKE '" + like + "' ESCAPE '\\' ORDER BY"), first, last
        )
    ]
    expected = hand_records(session, first, last, expected_ids)
    page = full_ledger(session, staff, first, last, search=search)
    assert [r.organisation_id for r in page.rows] == expected_ids
    assert page.total == len(expected_ids)
    assert page.unused == sum(1 for r in expected.values() if used(r) == 0)


def test_search_and_unused_together(session, staff, world):
    page = full_ledger(session, staff, *Y2026, search="推荐队", only_unused=True)
    assert {r.name for r in page.rows} == {"新年推荐队", "除夕推荐队"}
    assert page.total == page.unused == 2


@pytest.mark.parametrize("size", [1, 3, 5, 100])
@pytest.mark.parametrize("only_unused", [False, True])
def test_the_pages_cover_the_ledger_once_in_order_with_the_same_totals(session, staff, world, size, only_unused):
    first, last = Y2026
    whole = full_ledger(session, staff, first, last, only_unused=only_unused)
    seen: list[int] = []
    for offset in range(0, whole.total + size, size):
        page = benefits.ledger(
            today=HELD,
            session=session,
            actor=staff,
            first=first,
            last=last,
            only_unused=only_unused,
            limit=size,
            offset=offset,
        )
        assert (page.total, page.unused) == (whole.total, whole.unused)
        assert len(page.rows) <= size
        seen.extend(r.organisation_id for r in page.rows)
    assert seen == [r.organisation_id for r in whole.rows]


# ---------------------------------------------------------------- periods and roles


@pytest.mark.parametrize(
    ("first", "last", "key"),
    [
        (date(2026, 1, 2), date(2026, 1, 1), "validation.dates_reversed"),
        (date(2016, 1, 1), date(2026, 12, 31), "validation.period_too_long"),
    ],
)
def test_a_reversed_or_too_long_period_is_refused(session, staff, first, last, key):
    with pytest.raises(ValidationError) as err:
        benefits.ledger(today=HELD, session=session, actor=staff, first=first, last=last)
    assert err.value.key == key
    with pytest.raises(ValidationError):
        benefits.unit_records(today=HELD, session=session, organisation_ids=[1], first=first, last=last)


def test_a_single_day_and_ten_years_are_accepted(session, staff):
    benefits.ledger(today=HELD, session=session, actor=staff, first=date(2026, 1, 1), last=date(2026, 1, 1))
    benefits.ledger(
        today=HELD, session=session, actor=staff, first=date(2016, 1, 1), last=date(2016, 1, 1) + timedelta(3660)
    )


def test_a_unit_without_any_record_reads_as_zeros(session, staff, admin):
    unit = new_unit(session, admin, "空白单位")
    record = benefits.unit_ledger(
        today=HELD, session=session, actor=staff, organisation_id=unit, first=Y2026[0], last=Y2026[1]
    )
    assert record == UnitRecord(organisation_id=unit, name="空白单位")
    assert (record.benefits_used, record.service_hours, record.council_seat) == (0, Decimal(0), None)


def test_staff_and_council_read_the_ledger_and_viewers_do_not(session, staff, admin):
    unit = new_unit(session, admin, "某单位")
    lishi = plain_user(session, admin, "lishi", Role.COUNCIL, unit)
    for actor in (staff, admin, lishi):
        assert unit in {r.organisation_id for r in full_ledger(session, actor, *Y2026).rows}
    for actor in (plain_user(session, admin, "guest", Role.VIEWER), ANONYMOUS):
        with pytest.raises(PermissionDenied):
            benefits.ledger(today=HELD, session=session, actor=actor, first=Y2026[0], last=Y2026[1])
        with pytest.raises(PermissionDenied):
            benefits.unit_ledger(
                today=HELD, session=session, actor=actor, organisation_id=unit, first=Y2026[0], last=Y2026[1]
            )


def test_a_record_survives_its_trip_through_json(session, staff, world):
    record = benefits.unit_ledger(
        today=HELD, session=session, actor=staff, organisation_id=world.u[0], first=Y2026[0], last=Y2026[1]
    )
    assert UnitRecord.from_json(record.as_json()) == record
    assert record.benefits_used == used(record) > 0


def test_only_staff_receive_the_contacts_of_units_to_reach_out_to(session, staff, admin, world):
    unused = [r.organisation_id for r in full_ledger(session, staff, *Y2026, only_unused=True).rows]
    got = benefits.contacts(session=session, actor=staff, organisation_ids=unused)
    expected = {
        i: (p, ph, e)
        for i, p, ph, e in session.execute(text("SELECT id, contact_person, phone, email FROM organisations"))
        if i in unused
    }
    assert {i: (c.contact_person, c.phone, c.email) for i, c in got.items()} == expected
    assert benefits.contacts(session=session, actor=admin, organisation_ids=[]) == {}
    lishi = plain_user(session, admin, "lishi", Role.COUNCIL, world.u[0])
    for actor in (lishi, plain_user(session, admin, "guest", Role.VIEWER), ANONYMOUS):
        with pytest.raises(PermissionDenied):
            benefits.contacts(session=session, actor=actor, organisation_ids=unused)


def test_a_training_still_to_come_is_not_attended_yet(session, world):
    """A confirmed sign-up counts as a training attended once the training has begun: u7's T5 starts at 23:30 on
    new year's eve 2026 in Beijing, so it counts from that day on, not the day before."""
    u = world.u
    first, last = date(2026, 1, 1), date(2027, 12, 31)
    before = benefits.unit_records(
        session=session, organisation_ids=[u[7]], first=first, last=last, today=date(2026, 12, 30)
    )[u[7]]
    after = benefits.unit_records(
        session=session, organisation_ids=[u[7]], first=first, last=last, today=date(2026, 12, 31)
    )[u[7]]
    assert after.trainings_attended == before.trainings_attended + 1
