"""Achievements (成果展示) in AppTest: viewers refused, the council reading without staff forms, the secretariat
recording an achievement and deciding 已发布 (channel and date required) or 未采用 (a reason required, after
confirming), the list's filters and its ?status=pending and ?unit= presets, and user text kept inert."""

import os
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.engine import transaction
from db.models import Achievement
from db.services import achievements as svc
from db.services import organisations
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import Role
from domain.selections import AchievementInput
from tests.app.test_pages_by_role import ROOT, app_users  # noqa: F401 (fixture)
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.forms import plain
from ui.i18n import enum_label, format_date, t

PAGE = "pages/achievements.py"
NEW = "ach_new_new_0"  # the key prefix of the blank new-achievement form
HOSTILE = "<script>alert(1)</script> **粗体** [x](http://evil)"

# --------------------------------------------------------------------------------------------- helpers


def _open(users, role: Role, state: dict | None = None, **query: str) -> AppTest:  # type: ignore[no-untyped-def]
    """The achievements page as `role`, with session state set before the first run and query parameters."""
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = users[role]
    for key, value in (state or {}).items():
        at.session_state[key] = value
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


def _achievement(  # type: ignore[no-untyped-def]
    users, unit: int, title: str, *, status: str = "pending", on: date | None = None, category: str = "service_case"
) -> int:
    """An achievement recorded (and decided, unless pending) through the service."""
    achieved = on or today() - timedelta(days=3)
    with transaction(write=True) as session:
        achievement = svc.create_achievement(
            session=session,
            actor=_admin(users),
            today=today(),
            data=AchievementInput(unit, title, f"{title}的简介", achieved, category),
        )
        if status != "pending":
            published = status == "published"
            svc.decide_achievement(session=session, actor=_admin(users), achievement_id=achievement, status=status,
                                   channel="wechat" if published else None, published_on=today() if published else None,
                                   note="" if published else "内容与网络宗旨不符", expected_version=1,
                                   today=today())  # fmt: skip
    return achievement


def _row(achievement: int) -> Achievement:
    with transaction() as session:
        return session.execute(select(Achievement).where(Achievement.id == achievement)).scalar_one()


def _widget(widgets, base: str):  # type: ignore[no-untyped-def]
    """The widget keyed `base` or a renewed `base_<generation>` (forms are emptied by new keys after a save)."""
    found = [w for w in widgets if w.key and re.fullmatch(rf"{re.escape(base)}(_\d+)?", w.key)]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def _submit(at: AppTest, form: str, label: str) -> AppTest:
    [button] = [b for b in at.button if b.form_id == form and b.label == label]
    button.click()
    return _run(at)


def _texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.value for e in elements]


def _titles(at: AppTest) -> list[str]:
    """The titles listed in the achievements table ([] when the list is empty)."""
    return at.dataframe[0].value[t("field.title")].tolist() if at.dataframe else []


def _query(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


# --------------------------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("query", [{}, {"new": "1"}, {"id": "1"}, {"status": "pending"}], ids=str)
def test_a_viewer_is_refused_the_achievements_page(app_users, query):  # noqa: F811
    at = _open(app_users, Role.VIEWER, **query)
    assert _texts(at.title) == []
    assert _texts(at.error) == [t("error.forbidden")]
    assert not at.dataframe and not at.text_input and not at.button


def test_the_council_reads_achievements_but_gets_no_staff_forms(app_users):  # noqa: F811
    unit = _unit(app_users, "成果只读测试志愿队")
    achievement = _achievement(app_users, unit, "理事只读成果")
    staff = _open(app_users, Role.SECRETARIAT)
    assert t("ach.new") in [b.label for b in staff.button]

    at = _open(app_users, Role.COUNCIL)
    assert _texts(at.title) == [t("page.achievements")]
    assert "理事只读成果" in _titles(at)
    assert t("ach.new") not in [b.label for b in at.button], "no new button for the council"

    page = _open(app_users, Role.COUNCIL, id=str(achievement))
    assert _texts(page.title) == ["理事只读成果"]
    assert _texts(page.info) == [t("ach.pending_line")]
    assert t("ach.decide") not in _texts(page.subheader), "no decide form"
    assert not page.radio and not page.checkbox and not page.text_input and not page.text_area
    assert not [b for b in page.button if b.form_id]
    assert t("ach.edit") not in [e.label for e in page.expander]

    new = _open(app_users, Role.COUNCIL, new="1")
    assert _texts(new.warning) == [t("error.forbidden")]
    assert not new.text_input and not [b for b in new.button if b.form_id]


# --------------------------------------------------------------------------------------------- recording


def test_the_secretariat_records_an_achievement_and_its_title_is_shown_as_typed(app_users):  # noqa: F811
    unit = _unit(app_users, "成果登记测试环保协会")
    at = _open(app_users, Role.SECRETARIAT, new="1")
    assert _texts(at.title) == [t("ach.new")]
    _submit(at, "ach_new", t("ach.create"))
    assert t("validation.required") in _texts(at.error), "the unit is required"

    _widget(at.text_input, f"{NEW}_search").input("成果登记测试")
    _run(at)
    picker = _widget(at.selectbox, f"{NEW}_unit")
    assert picker.options == [t("sel.choose_unit"), "成果登记测试环保协会"]
    picker.select(unit)
    _widget(at.text_input, f"{NEW}_title").input(HOSTILE)
    _widget(at.selectbox, f"{NEW}_category").select("publicity_work")
    _submit(at, "ach_new", t("ach.create"))
    assert t("validation.required") in _texts(at.error), "the summary is required"
    assert _widget(at.text_input, f"{NEW}_title").value == HOSTILE, "input stays on screen"

    _widget(at.text_area, f"{NEW}_summary").input("拍摄长江江豚保护宣传片并在多个平台发布。")
    _submit(at, "ach_new", t("ach.create"))
    assert _texts(at.success) == [t("ach.saved")], _texts(at.error)
    achievement = int(_query(at, "id") or 0)
    assert _texts(at.title) == [plain(HOSTILE)]
    assert "<script>" not in at.title[0].value and "http://" not in at.title[0].value
    assert _texts(at.info) == [t("ach.pending_line")]
    row = _row(achievement)
    assert (row.title, row.organisation_id, row.category, row.status) == (HOSTILE, unit, "publicity_work", "pending")
    assert row.achieved_on == today()

    listed = _open(app_users, Role.SECRETARIAT, unit=str(unit))
    assert _titles(listed) == [HOSTILE], "a table cell shows the text as it is"


# --------------------------------------------------------------------------------------------- deciding


def test_publishing_needs_a_decision_a_confirmation_and_the_channel(app_users):  # noqa: F811
    unit = _unit(app_users, "成果发布测试志愿队")
    achievement = _achievement(app_users, unit, "河道巡护案例集")
    at = _open(app_users, Role.SECRETARIAT, id=str(achievement))
    assert t("ach.decide") in _texts(at.subheader)

    _submit(at, "ach_decide", t("ach.save_decision"))
    assert t("validation.choose_status") in _texts(at.error)
    _widget(at.radio, f"decide_target_{achievement}").set_value("published")
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert t("validation.confirm_required") in _texts(at.error)

    _widget(at.checkbox, f"decide_confirm_{achievement}").check()
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert t("validation.required") in _texts(at.error), "the channel is required"
    assert _row(achievement).status == "pending"

    _widget(at.radio, f"decide_target_{achievement}").set_value("published")
    _widget(at.checkbox, f"decide_confirm_{achievement}").check()
    _widget(at.selectbox, f"decide_channel_{achievement}").select("website")
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert _texts(at.success)[0] == t("ach.decided", status=enum_label("achievement_status", "published"))
    expected = t("ach.published_line", channel=enum_label("publicity_channel", "website"), on=format_date(today()))
    assert expected in _texts(at.success)
    row = _row(achievement)
    assert (row.status, row.channel, row.published_on) == ("published", "website", today())
    assert t("ach.decide") not in _texts(at.subheader) and not at.radio, "a decision is final"


def test_rejecting_needs_a_reason(app_users):  # noqa: F811
    unit = _unit(app_users, "成果未采用测试志愿队")
    achievement = _achievement(app_users, unit, "社区垃圾分类课件")
    at = _open(app_users, Role.SECRETARIAT, id=str(achievement))
    _widget(at.radio, f"decide_target_{achievement}").set_value("rejected")
    _widget(at.checkbox, f"decide_confirm_{achievement}").check()
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert t("validation.reason_required") in _texts(at.error)
    assert _row(achievement).status == "pending"

    _widget(at.radio, f"decide_target_{achievement}").set_value("rejected")
    _widget(at.checkbox, f"decide_confirm_{achievement}").check()
    _widget(at.text_area, f"decide_note_{achievement}").input("材料不全")
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert _texts(at.success) == [t("ach.decided", status=enum_label("achievement_status", "rejected"))]
    assert _texts(at.info) == [t("ach.rejected_line", reason="材料不全")]
    row = _row(achievement)
    assert (row.status, row.channel, row.published_on, row.decision_note) == ("rejected", None, None, "材料不全")


def test_a_rejection_reason_with_markup_is_shown_as_typed(app_users):  # noqa: F811
    unit = _unit(app_users, "成果标记原因测试志愿队")
    achievement = _achievement(app_users, unit, "标记原因成果")
    at = _open(app_users, Role.SECRETARIAT, id=str(achievement))
    _widget(at.radio, f"decide_target_{achievement}").set_value("rejected")
    _widget(at.checkbox, f"decide_confirm_{achievement}").check()
    _widget(at.text_area, f"decide_note_{achievement}").input(HOSTILE)
    _submit(at, "ach_decide", t("ach.save_decision"))
    assert _texts(at.info) == [t("ach.rejected_line", reason=plain(HOSTILE))]


# --------------------------------------------------------------------------------------------- the list


def test_the_list_filters_by_status_category_year_and_title(app_users):  # noqa: F811
    unit = _unit(app_users, "成果筛选测试志愿队")
    _achievement(app_users, unit, "筛选测试待审成果")
    _achievement(app_users, unit, "筛选测试已发布成果", status="published", category="research")
    _achievement(app_users, unit, "筛选测试未采用成果", status="rejected")
    last_year = date(today().year - 1, 6, 1)
    _achievement(app_users, unit, "筛选测试去年成果", on=last_year)

    at = _open(app_users, Role.SECRETARIAT)
    at.text_input(key="ach_search").input("筛选测试")
    _run(at)
    assert sorted(_titles(at)) == sorted(
        ["筛选测试待审成果", "筛选测试已发布成果", "筛选测试未采用成果", "筛选测试去年成果"]
    )
    counts = " · ".join(
        f"{enum_label('achievement_status', s)} {n}" for s, n in (("pending", 2), ("published", 1), ("rejected", 1))
    )
    assert counts in _texts(at.caption), "the counts follow the other filters"
    assert t("ach.total", count=4) in _texts(at.caption)

    at.selectbox(key="ach_status").select("published")
    _run(at)
    assert _titles(at) == ["筛选测试已发布成果"]
    assert at.dataframe[0].value[t("field.channel_published")].tolist() == [enum_label("publicity_channel", "wechat")]

    at.selectbox(key="ach_status").select(None)
    at.selectbox(key="ach_category").select("research")
    _run(at)
    assert _titles(at) == ["筛选测试已发布成果"]

    at.selectbox(key="ach_category").select(None)
    at.selectbox(key="ach_year").select(last_year.year)
    _run(at)
    assert _titles(at) == ["筛选测试去年成果"]

    at.selectbox(key="ach_status").select("rejected")
    _run(at)
    assert _titles(at) == [] and _texts(at.info) == [t("ach.empty_staff")], "no match says so"


def test_the_pending_preset_opens_the_list_filtered_to_pending(app_users):  # noqa: F811
    unit = _unit(app_users, "成果预设测试志愿队")
    _achievement(app_users, unit, "预设测试待审成果")
    _achievement(app_users, unit, "预设测试已发布成果", status="published")
    at = _open(app_users, Role.SECRETARIAT, status="pending")
    assert at.selectbox(key="ach_status").value == "pending"
    titles = _titles(at)
    assert "预设测试待审成果" in titles and "预设测试已发布成果" not in titles
    shown = set(at.dataframe[0].value[t("field.status")].tolist())
    assert shown == {enum_label("achievement_status", "pending")}
    with transaction() as session:
        pending = session.scalars(select(Achievement.title).where(Achievement.status == "pending")).all()
    assert t("ach.total", count=len(pending)) in _texts(at.caption)

    at.selectbox(key="ach_status").select(None)
    _run(at)
    assert "预设测试已发布成果" in _titles(at), "the user can widen the preset filter"


def test_the_unit_preset_shows_only_that_units_achievements(app_users):  # noqa: F811
    mine, other = _unit(app_users, "成果单位测试甲队"), _unit(app_users, "成果单位测试乙队")
    _achievement(app_users, mine, "甲队成果")
    _achievement(app_users, other, "乙队成果")
    at = _open(app_users, Role.COUNCIL, unit=str(mine))
    assert _titles(at) == ["甲队成果"]
    assert t("ach.only_unit", name="成果单位测试甲队") in _texts(at.caption)
    next(b for b in at.button if b.label == t("ach.all_units")).click()
    _run(at)
    assert {"甲队成果", "乙队成果"} <= set(_titles(at))


def test_a_filter_changed_on_the_second_page_shows_what_it_found(app_users):  # noqa: F811
    unit = _unit(app_users, "成果分页测试志愿队")
    with transaction(write=True) as session:
        for i in range(51):
            data = AchievementInput(unit, f"分页成果{i:02d}", "简介", today(), "other")
            svc.create_achievement(session=session, actor=_admin(app_users), today=today(), data=data)
    at = _open(app_users, Role.SECRETARIAT, unit=str(unit))
    assert len(_titles(at)) == 50
    at.number_input(key="ach_page").set_value(2)
    _run(at)
    assert len(_titles(at)) == 1, "the second page"
    at.text_input(key="ach_search").input("分页成果07")
    _run(at)
    assert t("ach.total", count=1) in _texts(at.caption)
    assert _titles(at) == ["分页成果07"]


def test_an_unknown_achievement_says_not_found(app_users):  # noqa: F811
    for wanted in ("999999", "abc"):
        at = _open(app_users, Role.SECRETARIAT, id=wanted)
        assert _texts(at.warning) == [t("error.not_found")]
        assert t("ach.back") in [b.label for b in at.button]
