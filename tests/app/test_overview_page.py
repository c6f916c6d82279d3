"""The metrics overview (数据概览) in AppTest: what each role sees, tiles equal to counts written by hand in SQL with
their change against the previous period, the filters and period presets, a write showing at the next rerun, an
empty database, the printable summary, the drill-down below the charts, and the viewers' headline on the home page."""

import os
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, text
from stdnum.cn import uscc
from streamlit.testing.v1 import AppTest

from db.base import UTCDateTime
from db.engine import get_engine, transaction
from db.services import activities, applications, organisations
from db.services.activities import ActivityInput
from domain.activities import Outcome
from domain.applications import ApplicationInput
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import Role
from tests.app.databases import app_database
from tests.app.test_pages_by_role import ROOT, app_users  # noqa: F401 (fixture)
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.i18n import enum_label, format_date, t
from ui.printable import overview_html

PAGE = "pages/overview.py"
HOME = "pages/home.py"
ROLES = [Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER]
# Written out here rather than read from the code under test.
SH = ZoneInfo("Asia/Shanghai")
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
CHART_NAMES = ["kinds", "provinces", "new_members", "funnel", "reviews", "activities", "hours", "organisers"]


# --------------------------------------------------------------------------------------------- months, by hand


def _month(back: int) -> date:
    """The first day of the month `back` months before this one (Asia/Shanghai)."""
    on = today()
    index = on.year * 12 + on.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _last_day(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _at(month: date, day: int, hour: int) -> datetime:
    return datetime.combine(month.replace(day=day), time(hour), tzinfo=SH)


def _earlier_this_month() -> datetime:
    """A moment already past in this month (an outcome may only be recorded once the activity has begun)."""
    now = datetime.now(SH).replace(microsecond=0)
    start_of_month = datetime.combine(now.date().replace(day=1), time(0), tzinfo=SH)
    return max(start_of_month, now - timedelta(hours=2))


# The default period (近 12 个月): this month and the 11 before; the previous period: the 12 months before that.
def _now_period() -> tuple[date, date]:
    return _month(11), _month(-1)


def _before_period() -> tuple[date, date]:
    return _month(23), _month(11)


# --------------------------------------------------------------------------------------------- counts, by hand


def _scalar(sql: str, **params: object) -> float:
    stamps = [bindparam(k, type_=UTCDateTime()) for k, v in params.items() if isinstance(v, datetime)]
    with get_engine().connect() as conn:
        return conn.execute(text(sql).bindparams(*stamps), params).scalar_one()  # type: ignore[no-any-return]


def _members(day: date, *, province: str | None = None, kind: str | None = None) -> int:
    """Member units (not the secretariat) that had joined by `day` (no join date: founding)."""
    sql = (
        "SELECT count(*) FROM organisations WHERE status = 'member' AND is_secretariat = 0 "
        "AND (joined_on IS NULL OR joined_on <= :day)"
    )
    params: dict[str, object] = {"day": day.isoformat()}
    if province:
        sql += " AND province = :province"
        params["province"] = province
    if kind:
        sql += " AND kind = :kind"
        params["kind"] = kind
    return int(_scalar(sql, **params))


def _joined(first: date, end: date) -> int:
    """Units (not the secretariat) whose join date falls in [first, end)."""
    return int(
        _scalar(
            "SELECT count(*) FROM organisations WHERE is_secretariat = 0 AND joined_on >= :first AND joined_on < :end",
            first=first.isoformat(),
            end=end.isoformat(),
        )
    )


def _activities(
    first: date,
    end: date,
    *,
    category: str | None = None,
    province: str | None = None,
    kind: str | None = None,
) -> tuple[int, float]:
    """Activities not cancelled starting in [first, end) (Asia/Shanghai days) and their service hours."""
    sql = (
        "SELECT count(*), coalesce(sum(a.service_hours), 0) FROM activities a "
        "LEFT JOIN organisations o ON o.id = a.organiser_id "
        "WHERE a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end"
    )
    params: dict[str, object] = {
        "start": datetime.combine(first, time(0), tzinfo=SH),
        "end": datetime.combine(end, time(0), tzinfo=SH),
    }
    if category:
        sql += " AND a.category = :category"
        params["category"] = category
    if province:
        sql += " AND a.province = :province"
        params["province"] = province
    if kind:
        sql += " AND o.kind = :kind"
        params["kind"] = kind
    stamps = [bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())]
    with get_engine().connect() as conn:
        count, hours = conn.execute(text(sql).bindparams(*stamps), params).one()
    return int(count), float(hours)


def _activity_titles(
    first: date, end: date, *, category: str | None = None, kind: str | None = None, organiser: int | None = 0
) -> set[str]:
    """Titles of the activities (not cancelled) starting in [first, end), of a category, of organisers of a unit
    kind, of one organiser (None: the secretariat; 0: any)."""
    sql = (
        "SELECT a.title FROM activities a LEFT JOIN organisations o ON o.id = a.organiser_id "
        "WHERE a.cancelled_at IS NULL AND a.starts_at >= :start AND a.starts_at < :end"
    )
    params: dict[str, object] = {
        "start": datetime.combine(first, time(0), tzinfo=SH),
        "end": datetime.combine(end, time(0), tzinfo=SH),
    }
    if category:
        sql += " AND a.category = :category"
        params["category"] = category
    if kind:
        sql += " AND o.kind = :kind"
        params["kind"] = kind
    if organiser is None:
        sql += " AND a.organiser_id IS NULL"
    elif organiser:
        sql += " AND a.organiser_id = :organiser"
        params["organiser"] = organiser
    stamps = [bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())]
    with get_engine().connect() as conn:
        return {r[0] for r in conn.execute(text(sql).bindparams(*stamps), params)}


def _month_titles(month: date, category: str, *, kind: str | None = None) -> set[str]:
    return _activity_titles(month, _last_day(month) + timedelta(days=1), category=category, kind=kind)


def _earliest_month() -> date:
    """The first month holding an activity's start, a unit's join date or an application's submission."""
    sql = (
        "SELECT min(m) FROM ("
        " SELECT strftime('%Y-%m-01', starts_at, '+8 hours') AS m FROM activities"
        " UNION ALL SELECT strftime('%Y-%m-01', joined_on) FROM organisations WHERE joined_on IS NOT NULL"
        " UNION ALL SELECT strftime('%Y-%m-01', submitted_at, '+8 hours') FROM applications)"
    )
    return date.fromisoformat(str(_scalar(sql)))


def _delta(now: float, before: float, decimals: int = 0) -> str:
    """The change text a tile should carry (empty: none)."""
    diff = now - before
    amount = f"{diff:+,.{decimals}f}"
    if before == 0:
        return t("overview.delta_new", amount=amount) if diff else ""
    return t("overview.delta", amount=amount, ratio=f"{diff / before:+.0%}")


# ------------------------------------------------------------------------------ data, through the services


def _code(n: int) -> str:
    body = f"91330000{n:09d}"
    return body + uscc.calc_check_digit(body)


@pytest.fixture(scope="module")
def seeded(app_users):  # noqa: F811
    """Units, applications and activities with outcomes in this period and the previous one, all written through
    the services; returns the admin's UserInfo and the unit ids by name."""
    admin = app_users[Role.ADMIN].actor()
    units: dict[str, int] = {}
    with transaction(write=True) as session:
        for n, (name, kind, province, back) in enumerate(
            [
                ("浙江社会组织甲", "social", "浙江", 0),
                ("广东志愿队乙", "volunteer_team", "广东", 2),
                ("北京科研院校丙", "academic", "北京", 5),
                ("浙江企业丁", "enterprise", "浙江", 14),
                ("四川志愿队戊", "volunteer_team", "四川", 18),
            ],
            start=1,
        ):
            joined = today() if back == 0 else _month(back).replace(day=15)
            units[name] = organisations.create_organisation(
                session=session,
                actor=admin,
                today=today(),
                data=OrganisationInput(
                    name=name,
                    kind=kind,
                    province=province,
                    credit_code="" if kind == "volunteer_team" else _code(n),
                    joined_on=joined,
                ),
            )

    def application(name: str, phone: str, submitted: datetime, steps: list[tuple[str, str, datetime]]) -> None:
        with transaction(write=True) as session:
            app_id, _ = applications.create_application(
                session=session,
                actor=admin,
                data=ApplicationInput(
                    organisation=OrganisationInput(
                        name=name, kind="volunteer_team", province="浙江", contact_person="张伟", phone=phone
                    ),
                    consent=True,
                ),
                channel="invited",
                recommender_id=None,
                now=submitted,
            )
            version = 1
            for status, note, at in steps:
                version = applications.change_status(
                    session=session,
                    actor=admin,
                    application_id=app_id,
                    expected_version=version,
                    to_status=status,
                    note=note,
                    now=at,
                )

    application(
        "浙江申请志愿队",
        "13900000001",
        _at(_month(3), 2, 10),
        [("in_review", "", _at(_month(3), 3, 10)), ("approved", "", _at(_month(3), 9, 10))],
    )
    application(
        "未通过的志愿队",
        "13900000002",
        _at(_month(13), 2, 10),
        [("in_review", "", _at(_month(13), 3, 10)), ("rejected", "不符合入网条件", _at(_month(13), 22, 10))],
    )
    application("待审核的志愿队", "13900000003", _at(_month(1), 2, 10), [])

    def activity(
        title: str,
        category: str,
        starts: datetime,
        province: str,
        organiser: str | None,
        *,
        hours: float = 3,
        outcome: tuple[int, str] | None = None,
        cancel: bool = False,
    ) -> None:
        with transaction(write=True) as session:
            [activity_id] = activities.create_activity(
                session=session,
                actor=admin,
                data=ActivityInput(
                    title=title,
                    category=category,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=hours),
                    province=province,
                    organiser_id=units[organiser] if organiser else None,
                    place=f"{title}会场",
                ),
            )
            if outcome:
                volunteers, service_hours = outcome
                activities.record_outcome(
                    session=session,
                    actor=admin,
                    activity_id=activity_id,
                    expected_version=1,
                    outcome=Outcome(volunteers=volunteers, service_hours=Decimal(service_hours)),
                )
            if cancel:
                activities.cancel_activity(
                    session=session, actor=admin, activity_id=activity_id, expected_version=1, reason="天气原因"
                )

    # this period
    now = _earlier_this_month()
    activity("本月垃圾分类培训", "training", now, "浙江", "浙江社会组织甲", hours=0.5, outcome=(4, "2"))
    activity("广东湿地保护培训", "training", _at(_month(2), 12, 9), "广东", "广东志愿队乙", outcome=(10, "25.5"))
    activity("浙江河长制培训", "training", _at(_month(2), 20, 14), "浙江", "浙江社会组织甲", outcome=(5, "15"))
    activity("广东环保研讨会", "seminar", _at(_month(2), 16, 9), "广东", "广东志愿队乙", outcome=(3, "9"))
    activity("已取消的培训", "training", _at(_month(2), 25, 9), "浙江", "浙江社会组织甲", cancel=True)
    activity("北京碳中和研讨", "seminar", _at(_month(4), 5, 9), "北京", None, outcome=(6, "12"))
    activity("北京垃圾分类培训", "training", _at(_month(4), 10, 9), "北京", "北京科研院校丙", outcome=(7, "14"))
    # a training camp from the last evening of one month into the next morning
    camp = datetime.combine(_last_day(_month(5)), time(20), tzinfo=SH)
    activity("跨月培训营", "training", camp, "北京", "北京科研院校丙", hours=13, outcome=(2, "20"))
    activity("钱塘江净滩行动", "volunteering", _at(_month(6), 8, 8), "浙江", "浙江企业丁", outcome=(20, "60"))
    activity("下月科普展", "showcase", _at(_month(-1), 10, 9), "浙江", None)
    # the previous period
    activity("四川志愿者培训", "training", _at(_month(14), 6, 9), "四川", "四川志愿队戊", outcome=(8, "16"))
    activity("全国生态论坛", "forum", _at(_month(20), 18, 9), "浙江", None, outcome=(30, "90"))
    return app_users[Role.ADMIN], units


def _open(user, state: dict | None = None) -> AppTest:  # type: ignore[no-untyped-def]
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _tiles(at: AppTest) -> dict[str, tuple[str, str]]:
    """Tile label -> (value, delta text)."""
    return {m.label: (m.value, m.delta or "") for m in at.metric}


def _tile(at: AppTest, key: str) -> tuple[str, str]:
    return _tiles(at)[t(f"overview.kpi_{key}")]


def _texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.value for e in elements]


def _note(first: date, last: date, previous: date, previous_last: date) -> str:
    return t(
        "overview.period_note",
        first=format_date(first),
        last=format_date(last),
        previous=format_date(previous),
        previous_last=format_date(previous_last),
    )


# --------------------------------------------------------------------------------------------- every role


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_every_role_opens_the_overview_and_viewers_get_no_applications_tab(seeded, app_users, role):  # noqa: F811
    at = _open(app_users[role])
    assert _texts(at.title) == [t("page.overview")]
    labels = [m.label for m in at.metric]
    if role is Role.VIEWER:  # open question: may viewers, who may not read applications, see these two tiles?
        applications = {t("overview.kpi_pending"), t("overview.kpi_median_review_days")}
        others = [t(f"overview.kpi_{k}") for k in KPI_KEYS if t(f"overview.kpi_{k}") not in applications]
        assert [label for label in labels if label not in applications] == others
    else:
        assert labels == [t(f"overview.kpi_{k}") for k in KPI_KEYS]
    tabs = [tab.label for tab in at.tabs]
    if role is Role.VIEWER:
        assert tabs == [t("overview.tab_members"), t("overview.tab_activities"), t("overview.tab_council")]
        assert t("overview.empty_funnel") not in _texts(at.info)
        assert t("overview.empty_reviews") not in _texts(at.info)
    else:
        assert tabs == [
            t("overview.tab_members"),
            t("overview.tab_applications"),
            t("overview.tab_activities"),
            t("overview.tab_council"),
        ]
    assert "ov_chart_activities" in [c.key for c in at.get("vega_lite_chart")], "charts are drawn"


# --------------------------------------------------------------------------------------------- figures


def test_the_tiles_equal_counts_by_hand_and_show_the_change_against_the_previous_period(seeded):
    admin, _ = seeded
    at = _open(admin)
    (first, end), (before_first, before_end) = _now_period(), _before_period()
    assert _texts(at.caption)[0] == _note(first, end - timedelta(days=1), before_first, before_end - timedelta(days=1))

    members_now, members_before = _members(today()), _members(before_end - timedelta(days=1))
    assert _tile(at, "members") == (f"{members_now:,}", _delta(members_now, members_before))

    joined_now, joined_before = _joined(first, end), _joined(before_first, before_end)
    assert joined_now >= 4 and joined_before == 2, "the data: four units joined this period, two the one before"
    assert _tile(at, "new_members") == (f"{joined_now:,}", _delta(joined_now, joined_before))

    (held, hours), (held_before, hours_before) = _activities(first, end), _activities(before_first, before_end)
    assert held >= 8 and held_before == 2
    assert _tile(at, "activities") == (f"{held:,}", _delta(held, held_before))
    assert _tile(at, "hours") == (f"{hours:,.1f}", _delta(hours, hours_before, 1))
    assert t("overview.empty") not in _texts(at.info)


def test_choosing_a_category_counts_only_its_activities(seeded):
    admin, _ = seeded
    at = _open(admin)
    at.selectbox(key="ov_category").select("training").run()
    _ok(at)
    (first, end), (before_first, before_end) = _now_period(), _before_period()
    held, hours = _activities(first, end, category="training")
    held_before, hours_before = _activities(before_first, before_end, category="training")
    everything, _ = _activities(first, end)
    assert 0 < held < everything, "the data hold other categories too"
    assert _tile(at, "activities") == (f"{held:,}", _delta(held, held_before))
    assert _tile(at, "hours") == (f"{hours:,.1f}", _delta(hours, hours_before, 1))
    assert _tile(at, "trainings")[0] == f"{held:,}"

    at.selectbox(key="ov_category").select("forum").run()
    _ok(at)
    assert _tile(at, "activities") == ("0", _delta(0, _activities(before_first, before_end, category="forum")[0]))


def test_choosing_a_province_counts_its_units_and_activities(seeded):
    admin, _ = seeded
    at = _open(admin)
    at.selectbox(key="ov_province").select("广东").run()
    _ok(at)
    (first, end), (_, before_end) = _now_period(), _before_period()
    members = _members(today(), province="广东")
    assert 0 < members < _members(today())
    members_before = _members(before_end - timedelta(days=1), province="广东")
    assert _tile(at, "members") == (f"{members:,}", _delta(members, members_before))
    held, hours = _activities(first, end, province="广东")
    assert 0 < held < _activities(first, end)[0]
    assert _tile(at, "activities")[0] == f"{held:,}"
    assert _tile(at, "hours")[0] == f"{hours:,.1f}"


def test_choosing_a_unit_kind_counts_its_units_and_the_activities_they_organise(seeded):
    admin, _ = seeded
    at = _open(admin)
    at.selectbox(key="ov_kind").select("volunteer_team").run()
    _ok(at)
    first, end = _now_period()
    members = _members(today(), kind="volunteer_team")
    assert 0 < members < _members(today())
    assert _tile(at, "members")[0] == f"{members:,}"
    held, hours = _activities(first, end, kind="volunteer_team")
    assert 0 < held < _activities(first, end)[0]
    assert _tile(at, "activities")[0] == f"{held:,}"
    assert _tile(at, "hours")[0] == f"{hours:,.1f}"


def test_the_period_presets_change_the_period_and_its_caption(seeded):
    admin, _ = seeded
    at = _open(admin)
    on = today()
    this_month, next_month = _month(0), _month(-1)
    last = next_month - timedelta(days=1)

    at.button_group(key="ov_preset").set_value("year").run()
    _ok(at)
    months = on.month
    january = date(on.year, 1, 1)
    previous = _month(2 * months - 1)
    assert _note(january, last, previous, january - timedelta(days=1)) in _texts(at.caption)
    held, _ = _activities(january, next_month)
    assert _tile(at, "activities")[0] == f"{held:,}"

    at.button_group(key="ov_preset").set_value("all").run()
    _ok(at)
    earliest = _earliest_month()
    assert earliest == _month(20), "the data's earliest record is the forum 20 months ago"
    length = (this_month.year - earliest.year) * 12 + this_month.month - earliest.month + 1
    before = _month(20 + length)
    assert _note(earliest, last, before, earliest - timedelta(days=1)) in _texts(at.caption)
    held, _ = _activities(earliest, next_month)
    assert _tile(at, "activities")[0] == f"{held:,}"

    at.button_group(key="ov_preset").set_value("custom").run()
    _ok(at)
    at.date_input(key="ov_from").set_value(_month(6) + timedelta(days=3))
    at.date_input(key="ov_to").set_value(_month(2) + timedelta(days=9)).run()
    _ok(at)
    assert _note(_month(6), _month(1) - timedelta(days=1), _month(11), _month(6) - timedelta(days=1)) in _texts(
        at.caption
    )
    held, hours = _activities(_month(6), _month(1))
    assert _tile(at, "activities")[0] == f"{held:,}"
    assert _tile(at, "hours")[0] == f"{hours:,.1f}"

    at.button_group(key="ov_preset").set_value("12m").run()
    _ok(at)
    (first, end), (before_first, before_end) = _now_period(), _before_period()
    assert _note(first, end - timedelta(days=1), before_first, before_end - timedelta(days=1)) in _texts(at.caption)


def test_custom_months_in_the_wrong_order_are_refused_with_a_message(seeded):
    admin, _ = seeded
    at = _open(admin)
    at.button_group(key="ov_preset").set_value("custom").run()
    at.date_input(key="ov_from").set_value(today())
    at.date_input(key="ov_to").set_value(_month(3)).run()
    _ok(at)
    errors = _texts(at.error)
    assert len(errors) == 1 and t("validation.dates_reversed") in errors[0], errors
    assert not at.metric, "no figures for a period that does not exist"


# --------------------------------------------------------------------------------------------- freshness


def test_an_activity_recorded_this_month_shows_at_the_next_rerun(seeded):
    admin, units = seeded
    at = _open(admin)
    first, end = _now_period()
    held, hours = _activities(first, end)
    assert _tile(at, "activities")[0] == f"{held:,}"
    at.run()  # served from the cache
    assert _tile(at, "activities")[0] == f"{held:,}"

    starts = _earlier_this_month()
    with transaction(write=True) as session:
        [new] = activities.create_activity(
            session=session,
            actor=admin.actor(),
            data=ActivityInput(
                title="本月新增宣传展示",
                category="showcase",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                province="广东",
                organiser_id=units["广东志愿队乙"],
                place="广州市海珠湿地",
            ),
        )
        activities.record_outcome(session=session, actor=admin.actor(), activity_id=new, expected_version=1,
                                  outcome=Outcome(volunteers=3, service_hours=Decimal("2.5")))  # fmt: skip
    at.run()
    _ok(at)
    assert _activities(first, end) == (held + 1, hours + 2.5)
    assert _tile(at, "activities")[0] == f"{held + 1:,}"
    assert _tile(at, "hours")[0] == f"{hours + 2.5:,.1f}"


# --------------------------------------------------------------------------------------------- an empty database


@pytest.fixture
def empty_database(app_users, tmp_path):  # noqa: F811
    """A fresh migrated SQLite database holding only the first administrator, as DATABASE_URL for one test."""
    with app_database(tmp_path) as admin:
        yield admin


def test_an_empty_database_says_so_on_the_page_and_on_every_chart(empty_database):
    at = _open(empty_database)
    infos = _texts(at.info)
    assert t("overview.empty") in infos
    for name in CHART_NAMES:
        assert t(f"overview.empty_{name}") in infos, name
    assert t("overview.empty_council") in infos + _texts(at.caption)
    assert not at.get("vega_lite_chart"), "no empty chart is drawn"
    assert [m.label for m in at.metric] == [t(f"overview.kpi_{k}") for k in KPI_KEYS]
    assert _tile(at, "members") == ("0", "") and _tile(at, "activities") == ("0", "")
    for preset in ("all", "year"):
        at.button_group(key="ov_preset").set_value(preset).run()
        _ok(at)
        assert t("overview.empty") in _texts(at.info)


# --------------------------------------------------------------------------------------------- printable summary


def test_the_printable_summary_is_offered_and_escapes_what_it_is_given(seeded):
    admin, _ = seeded
    at = _open(admin)
    [button] = [b for b in at.get("download_button") if b.key == "ov_print"]
    assert button.label == t("overview.print")

    page = overview_html(
        [(t("field.province"), "<script>alert('x')</script>"), ("<b>条件</b>", "浙江 & 广东")],
        [(t("overview.kpi_members"), "12", "<img src=x onerror=alert(1)>")],
        today=date(2026, 11, 28),
    ).decode()
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>条件</b>" not in page and "&lt;b&gt;条件&lt;/b&gt;" in page and "浙江 &amp; 广东" in page
    assert t("overview.print_title") in page and t("overview.kpi_members") in page
    assert t("overview.print_date", date=format_date(date(2026, 11, 28))) in page


# --------------------------------------------------------------------------------------------- drill-down


def _drill_table(at: AppTest):  # type: ignore[no-untyped-def]
    [table] = [d.value for d in at.dataframe if t("field.starts_at") in d.value.columns]
    return table


def test_the_drill_down_lists_exactly_the_training_activities_of_the_month_and_is_cleared(seeded):
    admin, _ = seeded
    month = _month(2)
    at = _open(admin, {"ov_drill": ("activities", f"{month:%Y-%m}", "training")})
    assert t("overview.drill_title") in _texts(at.subheader)
    expected = _month_titles(month, "training")
    assert expected == {"广东湿地保护培训", "浙江河长制培训"}, "the data: two trainings, a seminar, a cancelled one"
    table = _drill_table(at)
    assert set(table[t("field.title")]) == expected and len(table) == len(expected)
    assert t("overview.drill_activities", count=len(expected)) in _texts(at.caption)

    at.button(key="ov_drill_clear").click().run()
    _ok(at)
    assert "ov_drill" not in at.session_state
    assert t("overview.drill_title") not in _texts(at.subheader)
    assert not [d for d in at.dataframe if t("field.starts_at") in d.value.columns]


def test_the_drill_down_of_an_organiser_lists_its_activities_of_the_period(seeded):
    admin, units = seeded
    unit = units["广东志愿队乙"]
    at = _open(admin, {"ov_drill": ("organisers", None, str(unit))})
    first, end = _now_period()
    expected = _activity_titles(first, end, organiser=unit)
    assert {"广东湿地保护培训", "广东环保研讨会"} <= expected
    table = _drill_table(at)
    assert set(table[t("field.title")]) == expected and len(table) == len(expected)
    assert t("overview.drill_activities", count=len(expected)) in _texts(at.caption)


def test_the_funnel_drill_down_points_staff_to_the_applications_only(seeded, app_users):  # noqa: F811
    staff = _open(app_users[Role.SECRETARIAT], {"ov_drill": ("funnel", None, "submitted")})
    label = t("overview.drill_applications", status=enum_label("app_status", "submitted"))
    assert f"- {label}" in _texts(staff.markdown), "a link to the applications (plain text outside the router)"
    viewer = _open(app_users[Role.VIEWER], {"ov_drill": ("funnel", None, "submitted")})
    assert not [m for m in _texts(viewer.markdown) if label in m], "viewers may not read applications"


def test_the_drill_down_of_the_secretariat_bar_lists_only_what_the_secretariat_organised(seeded):
    admin, _ = seeded
    at = _open(admin, {"ov_drill": ("organisers", None, "0")})
    first, end = _now_period()
    expected = _activity_titles(first, end, organiser=None)
    assert expected == {"北京碳中和研讨"}
    assert set(_drill_table(at)[t("field.title")]) == expected


def test_the_drill_down_keeps_the_unit_kind_filter_of_the_bar(seeded):
    admin, _ = seeded
    month = _month(2)
    at = _open(admin, {"ov_kind": "volunteer_team", "ov_drill": ("activities", f"{month:%Y-%m}", "training")})
    expected = _month_titles(month, "training", kind="volunteer_team")
    assert expected == {"广东湿地保护培训"}
    assert set(_drill_table(at)[t("field.title")]) == expected


def test_the_drill_down_lists_what_the_bar_counts_when_an_activity_runs_into_the_next_month(seeded):
    admin, _ = seeded
    month = _month(4)
    at = _open(admin, {"ov_drill": ("activities", f"{month:%Y-%m}", "training")})
    expected = _month_titles(month, "training")
    assert expected == {"北京垃圾分类培训"}, "the camp starts the month before"
    assert t("overview.drill_activities", count=len(expected)) in _texts(at.caption)
    assert set(_drill_table(at)[t("field.title")]) == expected


# --------------------------------------------------------------------------------------------- home page


def test_viewers_see_the_headline_figures_on_the_home_page(seeded, app_users):  # noqa: F811
    at = AppTest.from_file(os.path.join(ROOT, HOME), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = app_users[Role.VIEWER]
    at.run()
    _ok(at)
    assert t("home.headline") in _texts(at.subheader)
    keys = ["members", "new_members", "activities", "hours"]
    assert [m.label for m in at.metric] == [t(f"overview.kpi_{k}") for k in keys]
    first, end = _now_period()
    held, hours = _activities(first, end)
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("overview.kpi_members")] == f"{_members(today()):,}"
    assert shown[t("overview.kpi_new_members")] == f"{_joined(first, end):,}"
    assert shown[t("overview.kpi_activities")] == f"{held:,}"
    assert shown[t("overview.kpi_hours")] == f"{hours:,.1f}"


def test_the_secretariat_sees_its_to_dos_and_no_headline_on_the_home_page(seeded, app_users):  # noqa: F811
    at = AppTest.from_file(os.path.join(ROOT, HOME), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = app_users[Role.SECRETARIAT]
    at.run()
    _ok(at)
    assert t("home.todos") in _texts(at.subheader)
    assert t("home.headline") not in _texts(at.subheader)
    assert not at.metric
    assert any(t("todo.secretariat_unit_missing", count=1) in m for m in _texts(at.markdown))


def test_the_drill_down_of_an_organiser_leaves_out_what_it_only_co_organised(seeded):
    """The organisers' bars count activities by their organiser: an activity the unit only co-organises is under
    another unit's bar, and must not appear in this unit's list either."""
    admin, units = seeded
    unit, other = units["广东志愿队乙"], units["浙江社会组织甲"]
    starts = datetime.combine(today().replace(day=1), time(10), tzinfo=SH)
    with transaction(write=True) as session:
        activities.create_activity(session=session, actor=admin.actor(), data=ActivityInput(
            title="浙江主办广东协办的培训", category="training", starts_at=starts, ends_at=starts + timedelta(hours=2),
            province="浙江", place="杭州", organiser_id=other, co_organiser_ids=(unit,)))  # fmt: skip
    at = _open(admin, {"ov_drill": ("organisers", None, str(unit))})
    titles = set(_drill_table(at)[t("field.title")])
    first, end = _now_period()
    assert titles == _activity_titles(first, end, organiser=unit)
    assert "浙江主办广东协办的培训" not in titles
