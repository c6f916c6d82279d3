"""The benefits ledger (成员权益台账) in AppTest: viewers refused, the council reading it, a unit that used nothing
found with the only-unused toggle, the count of such units, searching, a custom period given the wrong way round,
and the member page's benefits section for the roles that may read it."""

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import bindparam, text
from streamlit.testing.v1 import AppTest

from db.engine import transaction
from db.services import achievements, organisations
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import Role
from domain.selections import AchievementInput
from tests.app.test_pages_by_role import ROOT, app_users  # noqa: F401 (fixture)
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.i18n import format_date, t

PAGE = "pages/benefits.py"
UNIT = t("benefits.col_unit")
PUBLISHED = t("benefits.col_achievements_published")

# --------------------------------------------------------------------------------------------- helpers


def _open(users, role: Role, page: str = PAGE, **query: str) -> AppTest:  # type: ignore[no-untyped-def]
    at = AppTest.from_file(os.path.join(ROOT, page), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = users[role]
    for key, value in query.items():
        at.query_params[key] = value
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _admin(users):  # type: ignore[no-untyped-def]
    return users[Role.ADMIN].actor()


def _unit(users, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        return organisations.create_organisation(
            session=session,
            actor=_admin(users),
            today=today(),
            data=OrganisationInput(name=name, kind="volunteer_team", province="四川"),
        )


def _published_achievement(users, unit: int, title: str) -> None:  # type: ignore[no-untyped-def]
    """An achievement published today: one benefit used this year."""
    with transaction(write=True) as session:
        achievement = achievements.create_achievement(
            session=session,
            actor=_admin(users),
            today=today(),
            data=AchievementInput(unit, title, "简介", today(), "service_case"),
        )
        achievements.decide_achievement(session=session, actor=_admin(users), achievement_id=achievement,
                                        status="published", channel="wechat", published_on=today(), note="",
                                        expected_version=1, today=today())  # fmt: skip


def _texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.value for e in elements]


def _units(at: AppTest) -> list[str]:
    return at.dataframe[0].value[UNIT].tolist() if at.dataframe else []


def _unused_by_hand(first: date, last: date) -> int:
    """Members (not the secretariat, joined by `last`) with nothing used in the period, counted by hand. In this
    module's database the only benefit ever used is a published achievement: the other kinds of records are
    checked to be absent."""
    with transaction() as session:
        for table in ("activities", "signups", "applications", "nominations"):
            assert session.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table  # fixed table names
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM organisations o WHERE o.status = 'member' AND NOT o.is_secretariat "
                    "AND (o.joined_on IS NULL OR o.joined_on <= :last) AND NOT EXISTS (SELECT 1 FROM achievements a "
                    "WHERE a.organisation_id = o.id AND a.status = 'published' AND a.published_on BETWEEN :first "
                    "AND :last)"
                ).bindparams(bindparam("first", first), bindparam("last", last))
            )
            or 0
        )


# --------------------------------------------------------------------------------------------- who may read


def test_a_viewer_is_refused_the_ledger(app_users):  # noqa: F811
    at = _open(app_users, Role.VIEWER)
    assert _texts(at.title) == []
    assert _texts(at.error) == [t("error.forbidden")]
    assert not at.dataframe and not at.toggle and not at.text_input


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL], ids=lambda r: r.value)
def test_staff_and_the_council_read_this_years_ledger(app_users, role):  # noqa: F811
    at = _open(app_users, role)
    assert _texts(at.title) == [t("page.benefits")]
    assert at.selectbox(key="ben_year").value == today().year
    first, last = date(today().year, 1, 1), date(today().year, 12, 31)
    assert t("benefits.period_caption", first=format_date(first), last=format_date(last)) in _texts(at.caption)
    assert "成都市绿色环保志愿者协会" in _units(at)
    seat = at.dataframe[0].value.set_index(UNIT).loc["成都市绿色环保志愿者协会", t("benefits.col_council_seat")]
    assert seat == t("benefits.seat", seat=1), "council service is shown"
    staff_hint = t("benefits.export_hint_staff") in _texts(at.caption)
    assert staff_hint is (role is not Role.COUNCIL), "only staff are told the export carries contact data"


# --------------------------------------------------------------------------------------------- unused benefits


def test_a_unit_that_used_nothing_is_found_with_the_only_unused_toggle_and_counted(app_users):  # noqa: F811
    idle = _unit(app_users, "权益测试未使用队")
    busy = _unit(app_users, "权益测试已使用队")
    _published_achievement(app_users, busy, "权益测试成果")
    first, last = date(today().year, 1, 1), date(today().year, 12, 31)

    at = _open(app_users, Role.SECRETARIAT)
    ledger = at.dataframe[0].value.set_index(UNIT)
    assert ledger.loc["权益测试已使用队", PUBLISHED] == 1 and ledger.loc["权益测试未使用队", PUBLISHED] == 0
    unused = _unused_by_hand(first, last)
    assert unused >= 2, "the fixture's units and the idle one used nothing"
    assert _texts(at.warning) == [t("benefits.unused_count", count=unused)]

    at.toggle(key="ben_unused").set_value(True)
    _run(at)
    shown = _units(at)
    assert "权益测试未使用队" in shown and "权益测试已使用队" not in shown
    assert len(shown) == unused and t("benefits.total", count=unused) in _texts(at.caption)

    _published_achievement(app_users, idle, "权益测试第二项成果")  # meanwhile the idle unit uses a benefit
    _run(at)
    assert _texts(at.warning) == [t("benefits.unused_count", count=unused - 1)], "the count is current"
    assert "权益测试未使用队" not in _units(at) and idle


def test_the_search_narrows_the_ledger_and_says_when_nothing_matches(app_users):  # noqa: F811
    _unit(app_users, "搜索测试湿地守护队")
    at = _open(app_users, Role.SECRETARIAT)
    at.text_input(key="ben_search").input("湿地守护")
    _run(at)
    assert _units(at) == ["搜索测试湿地守护队"]
    at.text_input(key="ben_search").input("不存在的单位名称")
    _run(at)
    assert _units(at) == [] and _texts(at.info) == [t("benefits.empty")]


def test_a_custom_period_ending_before_it_starts_is_refused_with_a_message(app_users):  # noqa: F811
    at = _open(app_users, Role.SECRETARIAT)
    at.selectbox(key="ben_period").select("custom")
    _run(at)
    assert at.date_input(key="ben_first").value == date(today().year, 1, 1)
    at.date_input(key="ben_first").set_value(today())
    at.date_input(key="ben_last").set_value(today() - timedelta(days=10))
    _run(at)
    assert _texts(at.error) == [f"{t('field.period')}：{t('validation.dates_reversed')}"]
    assert not at.dataframe and not at.warning, "no ledger for a reversed period"

    at.date_input(key="ben_first").set_value(date(today().year - 10, 1, 1))  # the earliest the box offers
    at.date_input(key="ben_last").set_value(today())
    _run(at)
    assert _texts(at.error) == [f"{t('field.period')}：{t('validation.period_too_long', years=10)}"]

    at.date_input(key="ben_first").set_value(today())
    _run(at)
    assert not at.error and at.dataframe, "a one-day period is fine"
    assert t("benefits.period_caption", first=format_date(today()), last=format_date(today())) in _texts(at.caption)


def test_a_search_matching_no_unit_does_not_claim_that_every_unit_used_a_benefit(app_users):  # noqa: F811
    at = _open(app_users, Role.SECRETARIAT)
    at.text_input(key="ben_search").input("不存在的单位名称")
    _run(at)
    assert _texts(at.info) == [t("benefits.empty")]
    assert t("benefits.all_used") not in _texts(at.success)


def test_a_search_typed_on_the_second_page_shows_what_it_found(app_users):  # noqa: F811
    for i in range(51):
        _unit(app_users, f"分页测试志愿队{i:02d}")
    at = _open(app_users, Role.SECRETARIAT)
    at.number_input(key="ben_page").set_value(2)
    _run(at)
    at.text_input(key="ben_search").input("分页测试志愿队07")
    _run(at)
    assert t("benefits.total", count=1) in _texts(at.caption)
    assert _units(at) == ["分页测试志愿队07"]


# --------------------------------------------------------------------------------------------- a member's page


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER], ids=lambda r: r.value)
def test_a_members_page_shows_its_benefits_to_staff_and_council_only(app_users, role):  # noqa: F811
    unit = _unit(app_users, f"成员页权益测试队{role.value}")
    _published_achievement(app_users, unit, f"成员页权益测试成果{role.value}")
    at = _open(app_users, role, page="pages/members.py", id=str(unit))
    tables = [d.value for d in at.dataframe if t("benefits.value") in d.value.columns]
    if role is Role.VIEWER:
        assert t("members.benefits") not in _texts(at.subheader)
        assert tables == []
    else:
        assert t("members.benefits") in _texts(at.subheader)
        [figures] = tables
        assert figures.set_index(t("benefits.figure")).loc[PUBLISHED, t("benefits.value")] == "1"
        first, last = date(today().year, 1, 1), date(today().year, 12, 31)
        assert t("benefits.period_caption", first=format_date(first), last=format_date(last)) in _texts(at.caption)
