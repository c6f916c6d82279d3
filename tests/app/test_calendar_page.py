"""The activity calendar in AppTest: what each role sees, the secretariat creating activities (one, a weekly
series, a double booking saved on purpose), sign-ups until the activity is full with the waitlist moving up,
invitations, cancelling, the outcome, a stale edit, unknown ids, holidays, user text kept inert, and English."""

import os
import re
from dataclasses import replace
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, insert, select, text
from streamlit.testing.v1 import AppTest

from db.base import UTCDateTime, utcnow
from db.engine import transaction
from db.models import Activity, Signup
from db.services import activities as svc
from db.services import organisations
from db.services.access import write_scope
from db.services.todos import collect_todos
from domain.activities import Outcome, local_datetime
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import Role
from tests.app.test_pages_by_role import ROOT, app_users  # noqa: F401 (fixture)
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.forms import plain
from ui.i18n import enum_label, format_date, t

PAGE = "pages/calendar.py"
NEW = "a_new_blank_0"  # the key prefix of a blank new-activity form (first generation)
STAFF = [Role.ADMIN, Role.SECRETARIAT]
READERS = [Role.COUNCIL, Role.VIEWER]

# --------------------------------------------------------------------------------------------- helpers


def _open(users, role: Role, state: dict | None = None, **query: str) -> AppTest:  # type: ignore[no-untyped-def]
    """The calendar page as `role`, with session state set before the first run and query parameters."""
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = users[role]
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _admin(users):  # type: ignore[no-untyped-def]
    return users[Role.ADMIN].actor()


def _member(users, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        return organisations.create_organisation(
            session=session,
            actor=_admin(users),
            today=today(),
            data=OrganisationInput(name=name, kind="volunteer_team", province="四川"),
        )


def _activity(  # type: ignore[no-untyped-def]
    users,
    title: str,
    *,
    day: date | None = None,
    start: time = time(9),
    hours: float = 3,
    place: str = "",
    capacity: int | None = None,
) -> int:
    """An activity created through the service, by default a week from today (planned)."""
    starts = local_datetime(day or today() + timedelta(days=7), start)
    with transaction(write=True) as session:
        return svc.create_activity(
            session=session,
            actor=_admin(users),
            data=svc.ActivityInput(
                title=title,
                category="training",
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                province="四川",
                place=place or f"{title}会场",
                capacity=capacity,
            ),
        )[0]


def _signup_row(activity_id: int, unit: int, *, people: int) -> None:
    """A confirmed sign-up written straight to the table (the page reads it; no service under test is used)."""
    with write_scope("test: a sign-up"), transaction(write=True) as session:
        session.execute(
            insert(Signup).values(
                activity_id=activity_id, organisation_id=unit, kind="signup", status="confirmed", people=people
            )
        )


def _row(activity_id: int) -> Activity:
    with transaction() as session:
        return session.execute(select(Activity).where(Activity.id == activity_id)).scalar_one()


def _widget(widgets, base: str):  # type: ignore[no-untyped-def]
    """The widget keyed `base` or a renewed `base_<generation>` (forms are emptied by new keys after a save)."""
    found = [w for w in widgets if w.key and re.fullmatch(rf"{re.escape(base)}(_\d+)?", w.key)]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def _button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def _keys(widgets) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.key for w in widgets if w.key]


def _texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.value for e in elements]


def _query_id(at: AppTest) -> int:
    value = at.query_params["id"]
    return int(value[0] if isinstance(value, list) else value)


def _tab_labels(at: AppTest) -> list[str]:
    return [tab.label for tab in at.tabs]


# --------------------------------------------------------------------------------------------- every role


@pytest.mark.parametrize("role", STAFF + READERS, ids=lambda r: r.value)
def test_every_role_opens_this_month_and_only_staff_may_create(app_users, role):  # noqa: F811
    at = _open(app_users, role)
    assert _texts(at.title) == [t("page.calendar")]
    view = at.button_group(key="cal_view")
    assert view.options == [t("cal.view_month"), t("cal.view_week"), t("cal.view_list")]
    assert view.value == "month"
    on = today()
    assert f"#### {t('cal.month_title', year=on.year, month=on.month)}" in _texts(at.markdown)
    assert f"**{t('cal.wd_mon')}**" in _texts(at.markdown)
    today_cell = [m for m in _texts(at.markdown) if m.startswith(f"**{on.day}**")]
    assert [m for m in today_cell if f":green-badge[{t('cal.today')}]" in m], "today is marked"
    if role in STAFF:
        assert at.button(key="cal_new").label == t("cal.new")
    else:
        assert "cal_new" not in _keys(at.button)


@pytest.mark.parametrize("role", STAFF + READERS, ids=lambda r: r.value)
def test_on_an_activity_staff_get_the_forms_and_readers_only_the_signups(app_users, role):  # noqa: F811
    unit = _member(app_users, f"{role.value}角色测试志愿服务队")
    activity = _activity(app_users, f"{role.value}角色测试活动", capacity=10)
    _signup_row(activity, unit, people=4)
    at = _open(app_users, role, id=str(activity))
    assert _texts(at.title) == [f"{role.value}角色测试活动"]
    signups = at.dataframe[0].value
    assert signups[t("cal.unit")].tolist() == [f"{role.value}角色测试志愿服务队"]
    assert signups[t("field.people")].tolist() == [4]
    assert any(t("cal.places_used", used=4, capacity="10") in m for m in _texts(at.markdown))
    labels = _tab_labels(at)
    if role in STAFF:
        assert labels == [t("cal.tab_signups"), t("cal.tab_outcome"), t("cal.tab_edit"), t("cal.tab_cancel")]
        assert {"a_su_save", "a_wd_save", "a_cancel_save", "a_edit_save", "a_copy"} <= set(_keys(at.button))
        assert _widget(at.selectbox, "a_su_unit") is not None
    else:
        assert labels == [t("cal.tab_signups"), t("cal.tab_outcome")]
        assert not at.text_input and not at.text_area and not at.selectbox and not at.checkbox
        assert set(_keys(at.button)) == {"a_back"}, "readers get no form and no save button"


# --------------------------------------------------------------------------------------------- creating


def test_staff_create_an_activity_and_are_told_what_is_missing_or_wrong(app_users):  # noqa: F811
    at = _open(app_users, Role.SECRETARIAT, new="1")
    assert _texts(at.title) == [t("cal.new_title")]
    at.button(key="a_new_save").click().run()
    assert t("validation.required") in _texts(at.error), "the title is required"
    assert at.query_params.get("new") in ("1", ["1"]), "still on the form"

    at.text_input(key=f"{NEW}_title").input("长江大保护志愿者培训")
    at.text_input(key=f"{NEW}_place").input("武汉市江滩公园")
    at.time_input(key=f"{NEW}_st").set_value(time(14))
    at.time_input(key=f"{NEW}_et").set_value(time(10))  # same day, before the start
    at.button(key="a_new_save").click().run()
    assert t("validation.end_before_start") in _texts(at.error)
    assert at.text_input(key=f"{NEW}_title").value == "长江大保护志愿者培训", "input stays on screen"
    with transaction() as session:
        assert session.scalar(select(Activity.id).where(Activity.title == "长江大保护志愿者培训")) is None

    at.time_input(key=f"{NEW}_et").set_value(time(17, 30))
    at.button(key="a_new_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _texts(at.success) == [t("cal.created")], _texts(at.error)
    new_id = _query_id(at)
    assert _texts(at.title) == ["长江大保护志愿者培训"]
    row = _row(new_id)
    week = today() + timedelta(days=7)
    assert row.title == "长江大保护志愿者培训" and row.place == "武汉市江滩公园"
    assert row.starts_at == local_datetime(week, time(14)) and row.ends_at == local_datetime(week, time(17, 30))


def test_staff_create_a_weekly_series_of_three(app_users):  # noqa: F811
    at = _open(app_users, Role.ADMIN, new="1")
    at.text_input(key=f"{NEW}_title").input("每周河道巡护")
    at.text_input(key=f"{NEW}_place").input("锦江九眼桥")
    at.radio(key=f"{NEW}_repeat").set_value("weekly").run()
    at.number_input(key=f"{NEW}_count").set_value(3)
    at.button(key="a_new_save").click().run()
    assert _texts(at.success) == [t("cal.created_series", count=3)], _texts(at.error)
    with transaction() as session:
        rows = session.execute(
            select(Activity.id, Activity.starts_at, Activity.series_id)
            .where(Activity.title == "每周河道巡护")
            .order_by(Activity.starts_at)
        ).all()
    assert len(rows) == 3
    assert _query_id(at) == rows[0].id, "the first occurrence opens"
    assert [r.starts_at - rows[0].starts_at for r in rows] == [timedelta(0), timedelta(weeks=1), timedelta(weeks=2)]
    assert rows[0].series_id and len({r.series_id for r in rows}) == 1
    assert any(t("cal.series") in m for m in _texts(at.markdown))


def test_a_double_booking_is_saved_only_once_the_user_confirms_it(app_users):  # noqa: F811
    day = today() + timedelta(days=12)
    existing = _activity(app_users, "湿地观鸟活动", day=day, start=time(9), hours=3, place="西溪湿地东门")
    at = _open(app_users, Role.SECRETARIAT, new="1")
    at.text_input(key=f"{NEW}_title").input("湿地垃圾清理")
    at.text_input(key=f"{NEW}_place").input("西溪湿地东门")
    at.date_input(key=f"{NEW}_sd").set_value(day)
    at.date_input(key=f"{NEW}_ed").set_value(day)
    at.time_input(key=f"{NEW}_st").set_value(time(10))
    at.time_input(key=f"{NEW}_et").set_value(time(13))
    at.run()
    warnings = _texts(at.warning)
    assert len(warnings) == 1 and warnings[0].startswith(t("cal.conflicts", count=1))
    assert "湿地观鸟活动" in warnings[0] and t("cal.conflict_place") in warnings[0]
    assert at.button(key="a_new_save").disabled, "no save before the user confirms"
    at.checkbox(key=f"{NEW}_anyway").check().run()
    assert not at.button(key="a_new_save").disabled
    at.button(key="a_new_save").click().run()
    assert _texts(at.success) == [t("cal.created")], _texts(at.error)
    created = _query_id(at)
    assert created != existing and _row(created).title == "湿地垃圾清理"
    assert _row(existing).cancelled_at is None, "the other activity is left as it was"


# --------------------------------------------------------------------------------------------- sign-ups


def _sign_up(at: AppTest, name: str, unit: int, *, people: int = 1, kind: str = "signup") -> None:
    _widget(at.text_input, "a_su_q").input(name).run()
    _widget(at.selectbox, "a_su_unit").select(unit)
    _widget(at.radio, "a_su_kind").set_value(kind)
    _widget(at.number_input, "a_su_people").set_value(people)
    at.button(key="a_su_save").click().run()
    assert not at.exception, [e.message for e in at.exception]


def _signups(activity_id: int) -> dict[int, str]:
    with transaction() as session:
        rows = session.execute(select(Signup.organisation_id, Signup.status).where(Signup.activity_id == activity_id))
        return {int(unit): status for unit, status in rows}


def test_sign_ups_fill_the_places_then_wait_and_move_up_when_a_place_is_freed(app_users):  # noqa: F811
    names = ["甲号报名志愿队", "乙号报名志愿队", "丙号报名志愿队", "丁号报名志愿队"]
    first, second, third, invited = (_member(app_users, n) for n in names)
    activity = _activity(app_users, "名额测试活动", capacity=3)
    at = _open(app_users, Role.SECRETARIAT, id=str(activity))
    assert _texts(at.info) == [t("cal.no_signups_staff")]

    _sign_up(at, names[0], first, people=2)
    assert _texts(at.success) == [t("cal.signup_confirmed", unit=plain(names[0]))], _texts(at.error)
    _sign_up(at, names[1], second, people=1)
    assert _texts(at.success) == [t("cal.signup_confirmed", unit=plain(names[1]))], _texts(at.error)
    assert any(t("cal.places_used", used=3, capacity="3") in m for m in _texts(at.markdown)), "now full"
    _sign_up(at, names[2], third, people=1)
    assert _texts(at.success) == [t("cal.signup_waitlisted", unit=plain(names[2]))], _texts(at.error)
    shown = at.dataframe[0].value
    waiting = shown[shown[t("cal.unit")] == names[2]][t("field.status")].tolist()
    assert waiting == [t("cal.waitlist_position", position=1)]

    _sign_up(at, names[3], invited, people=20, kind="invitation")
    assert _texts(at.success) == [t("cal.invitation_saved", unit=plain(names[3]))], _texts(at.error)
    assert any(t("cal.places_used", used=3, capacity="3") in m for m in _texts(at.markdown)), "no place taken"
    assert _signups(activity) == {first: "confirmed", second: "confirmed", third: "waitlisted", invited: "invited"}

    with transaction() as session:
        first_signup = session.scalar(select(Signup.id).where(Signup.organisation_id == first))
    pick = _widget(at.selectbox, "a_wd_pick")
    pick.select(first_signup)
    save = at.button(key="a_wd_save")
    assert save.disabled, "withdrawing asks for a confirmation first"
    _widget(at.checkbox, "a_wd_sure").check().run()
    at.button(key="a_wd_save").click().run()
    expected = t("cal.withdrawn_done", unit=plain(names[0])) + " " + t("cal.promoted", units=plain(names[2]))
    assert _texts(at.success) == [expected], _texts(at.error)
    assert _signups(activity) == {first: "cancelled", second: "confirmed", third: "confirmed", invited: "invited"}
    assert any(t("cal.places_used", used=2, capacity="3") in m for m in _texts(at.markdown))
    assert t("cal.withdrawn", count=1) in [e.label for e in at.expander]


def test_a_finished_activity_does_not_point_staff_to_a_sign_up_form_that_is_not_there(app_users):  # noqa: F811
    activity = _activity(app_users, "已结束无报名活动", day=today() - timedelta(days=3))
    at = _open(app_users, Role.SECRETARIAT, id=str(activity))
    assert "a_su_save" not in _keys(at.button), "a finished activity takes no sign-ups"
    assert t("cal.no_signups_staff") not in _texts(at.info)
    assert t("cal.no_signups") in _texts(at.info)


# --------------------------------------------------------------------------------------------- cancelling


def test_cancelling_without_a_reason_is_refused_and_changes_nothing(app_users):  # noqa: F811
    activity = _activity(app_users, "取消无理由测试活动")
    at = _open(app_users, Role.SECRETARIAT, id=str(activity))
    assert at.button(key="a_cancel_save").disabled, "not before the confirmation is ticked"
    _widget(at.checkbox, "a_cancel_sure").check().run()
    at.button(key="a_cancel_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert t("validation.required") in _texts(at.error)
    assert _row(activity).cancelled_at is None
    assert t("cal.tab_cancel") in _tab_labels(at), "the activity can still be cancelled"


def test_a_cancelled_activity_shows_the_note_and_no_edit_tabs(app_users):  # noqa: F811
    activity = _activity(app_users, "取消测试活动")
    at = _open(app_users, Role.SECRETARIAT, id=str(activity))
    _widget(at.text_area, "a_cancel_reason").input("场地临时关闭，**改期**另行通知")
    _widget(at.checkbox, "a_cancel_sure").check().run()
    at.button(key="a_cancel_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _texts(at.success) == [t("cal.cancelled_done")], _texts(at.error)
    row = _row(activity)
    assert row.cancelled_at is not None and row.cancel_reason == "场地临时关闭，**改期**另行通知"
    note = t("cal.cancelled_note", date=format_date(row.cancelled_at), reason=plain(row.cancel_reason))
    assert _texts(at.error) == [note], "the reason is shown as typed, not as Markdown"
    assert _tab_labels(at) == [t("cal.tab_signups"), t("cal.tab_outcome")], "no edit or cancel tab any more"
    assert "a_su_save" not in _keys(at.button) and "a_edit_save" not in _keys(at.button)
    assert any(enum_label("activity_status", "cancelled") in m for m in _texts(at.markdown))


# --------------------------------------------------------------------------------------------- outcome


def test_an_outcome_with_more_hours_than_the_activity_can_give_is_refused(app_users):  # noqa: F811
    activity = _activity(app_users, "成果测试活动", day=today() - timedelta(days=2), start=time(9), hours=3)
    at = _open(app_users, Role.ADMIN, id=str(activity))
    assert t("cal.outcome_missing") in _texts(at.info)
    at.number_input(key=f"a_out_v_{activity}_1").set_value(10)
    at.number_input(key=f"a_out_h_{activity}_1").set_value(30.5)
    at.text_area(key=f"a_out_s_{activity}_1").input("清理河岸垃圾 200 公斤")
    _button(at, t("cal.save_outcome")).click().run()
    assert t("validation.hours_over_span", max="30.0") in _texts(at.error)
    assert _row(activity).outcome_at is None
    assert at.number_input(key=f"a_out_h_{activity}_1").value == 30.5, "input stays on screen"

    at.number_input(key=f"a_out_h_{activity}_1").set_value(30.0)
    _button(at, t("cal.save_outcome")).click().run()
    assert _texts(at.success) == [t("cal.outcome_saved")], _texts(at.error)
    row = _row(activity)
    assert (row.volunteers, row.service_hours, row.outcome_summary) == (10, 30.0, "清理河岸垃圾 200 公斤")
    assert [m.value for m in at.metric] == ["10", "30.0"]


# --------------------------------------------------------------------------------------------- stale edits


def test_a_stale_edit_is_refused_and_the_other_change_is_kept(app_users):  # noqa: F811
    activity = _activity(app_users, "并发编辑测试活动")
    at = _open(app_users, Role.SECRETARIAT, id=str(activity))
    prefix = f"a_edit_{activity}_1"
    assert at.text_input(key=f"{prefix}_title").value == "并发编辑测试活动"
    with transaction(write=True) as session:
        current = svc.get_activity(session=session, actor=_admin(app_users), activity_id=activity)
        data = current.as_input()
        svc.update_activity(
            session=session,
            actor=_admin(app_users),
            activity_id=activity,
            expected_version=current.version,
            data=replace(data, title="另一位同事改的标题"),
        )
    at.text_input(key=f"{prefix}_title").input("我改的标题")
    at.button(key="a_edit_save").click().run()
    assert t("error.stale") in _texts(at.error)
    assert t("cal.changed_meanwhile") in _texts(at.warning)
    assert at.text_input(key=f"{prefix}_title").value == "我改的标题", "what was typed stays"
    row = _row(activity)
    assert (row.title, row.version) == ("另一位同事改的标题", 2)


# --------------------------------------------------------------------------------------------- not found


@pytest.mark.parametrize("wanted", ["abc", "999999"])
def test_an_unknown_activity_says_not_found_and_leads_back(app_users, wanted):  # noqa: F811
    at = _open(app_users, Role.VIEWER, id=wanted)
    assert _texts(at.title) == [t("page.calendar")]
    assert _texts(at.warning) == [t("error.not_found")]
    at.button(key="a_back").click().run()
    assert not at.exception
    assert "id" not in at.query_params
    assert at.button_group(key="cal_view").value == "month"


def test_returning_from_an_activity_keeps_the_chosen_view_and_filters(app_users):  # noqa: F811
    activity = _activity(app_users, "返回测试活动", day=today(), start=time(23), hours=0.5)
    at = _open(app_users, Role.VIEWER)
    at.button_group(key="cal_view").set_value("week").run()
    at.multiselect(key="cal_f_category").select("training").run()
    next(b for b in at.button if (b.key or "").startswith(f"wk_training_{activity}_")).click().run()
    assert _texts(at.title) == ["返回测试活动"]
    at.button(key="a_back").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.button_group(key="cal_view").value == "week"
    assert at.multiselect(key="cal_f_category").value == ["training"]


# --------------------------------------------------------------------------------------------- holidays


def test_national_day_is_marked_as_days_off(app_users):  # noqa: F811
    at = _open(app_users, Role.VIEWER, state={"cal_anchor": date(2026, 10, 1)})
    shown = _texts(at.markdown)
    assert f"#### {t('cal.month_title', year=2026, month=10)}" in shown
    first = next(m for m in shown if m.startswith("**1**") and f":red-badge[{t('cal.off')}]" in m)
    assert t("holiday.national_day") in first
    assert any(m.startswith("**10**") and f":gray-badge[{t('cal.workday')}]" in m for m in shown), "调休 Saturday"
    assert not [c for c in _texts(at.caption) if t("cal.holidays_unknown", years="2026") == c]


def test_a_year_without_published_holidays_says_so_and_still_shows(app_users):  # noqa: F811
    at = _open(app_users, Role.VIEWER, state={"cal_anchor": date(2027, 3, 1)})
    assert f"#### {t('cal.month_title', year=2027, month=3)}" in _texts(at.markdown)
    assert t("cal.holidays_unknown", years="2027") in _texts(at.caption)
    assert not any(f":red-badge[{t('cal.off')}]" in m for m in _texts(at.markdown))


# --------------------------------------------------------------------------------------------- user text


def test_a_title_with_markup_is_shown_as_typed(app_users):  # noqa: F811
    title = "**粗体** <script>alert(1)</script> [链接](http://example.com)"
    activity = _activity(app_users, title, day=today(), start=time(23), hours=0.5, place="标记测试会场")
    at = _open(app_users, Role.VIEWER)
    label = next(b.label for b in at.button if b.key and b.key.startswith(f"ev_training_{activity}_"))
    assert label == f"23:00 {plain(title)}"
    assert "\\*\\*粗体\\*\\*" in label and "\\<script\\>" in label and "\\[链接\\]" in label
    assert "](http://" not in label and "http://" not in label, "no live link"

    page = _open(app_users, Role.VIEWER, id=str(activity))
    shown = _texts(page.title)[0]
    assert shown == plain(title)
    assert "\\*\\*粗体\\*\\*" in shown and "<script>" not in shown and "http://" not in shown


# --------------------------------------------------------------------------------------------- English


def test_the_calendar_speaks_english_when_chosen(app_users):  # noqa: F811
    at = _open(app_users, Role.SECRETARIAT, state={"lang": "en"})
    assert _texts(at.title) == [t("page.calendar", lang="en")]
    assert at.button_group(key="cal_view").options == [
        t("cal.view_month", lang="en"),
        t("cal.view_week", lang="en"),
        t("cal.view_list", lang="en"),
    ]
    assert at.button(key="cal_new").label == t("cal.new", lang="en")
    assert at.button(key="cal_today").label == t("cal.today", lang="en")
    assert f"**{t('cal.wd_mon', lang='en')}**" in _texts(at.markdown)
    assert t("cal.filters", lang="en") in [e.label for e in at.expander]
    new = _open(app_users, Role.SECRETARIAT, state={"lang": "en"}, new="1")
    assert _texts(new.title) == [t("cal.new_title", lang="en")]
    assert new.text_input(key=f"{NEW}_title").label == t("field.title", lang="en") + " *"


def test_the_home_reminder_opens_the_list_of_finished_activities_without_outcome(app_users):  # noqa: F811
    missing = _activity(app_users, "无成果的巡护行动", day=today() - timedelta(days=5))
    recorded = _activity(app_users, "已登记成果的巡护行动", day=today() - timedelta(days=4))
    with transaction(write=True) as session:
        svc.record_outcome(session=session, actor=_admin(app_users), activity_id=recorded, expected_version=1,
                           outcome=Outcome(volunteers=3, service_hours=Decimal("6")))  # fmt: skip
        [todo] = [i for i in collect_todos(session=session, actor=_admin(app_users)) if i.page == "calendar"]
    at = _open(app_users, Role.SECRETARIAT, **todo.query)
    assert at.button_group(key="cal_view").value == "list"
    assert at.expander[0].label == t("cal.filters_active", count=1), "the filter is shown as set"
    titles = list(at.dataframe[0].value[t("field.title")])
    assert "无成果的巡护行动" in titles and "已登记成果的巡护行动" not in titles
    with transaction() as session:
        expected = session.scalar(
            text(
                "SELECT count(*) FROM activities WHERE cancelled_at IS NULL AND outcome_at IS NULL AND ends_at <= :now "
                "AND ends_at > :since"
            ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime())),
            {"now": utcnow(), "since": utcnow() - timedelta(days=svc.OUTCOME_REMINDER_DAYS)},
        )
    assert todo.count == expected == len(titles) and missing


def test_opening_an_activity_again_starts_from_what_is_stored_now(app_users):  # noqa: F811
    activity_id = _activity(app_users, "再访活动")
    at = _open(app_users, Role.SECRETARIAT, id=str(activity_id))
    at.button(key="a_back").click().run()
    with transaction(write=True) as session:  # meanwhile another user edits it
        seen = svc.get_activity(session=session, actor=_admin(app_users), activity_id=activity_id)
        edited = replace(seen.as_input(), title="别人改过的标题")
        svc.update_activity(session=session, actor=_admin(app_users), activity_id=activity_id,
                            expected_version=seen.version, data=edited)  # fmt: skip
    at.query_params["id"] = str(activity_id)  # the user opens it again later, in the same tab
    at.run()
    assert t("cal.changed_meanwhile") not in [w.value for w in at.warning], "nothing of the user's is stale"
    title = next(w for w in at.text_input if w.key and w.key.endswith("_title") and w.key.startswith("a_edit_"))
    assert title.value == "别人改过的标题"
    title.set_value("我的新标题").run()
    at.button(key="a_edit_save").click().run()
    assert t("cal.saved") in [s.value for s in at.success], [e.value for e in at.error]
    assert _row(activity_id).title == "我的新标题"


def test_a_withdrawal_of_a_sign_up_that_moved_up_meanwhile_is_refused(app_users):  # noqa: F811
    activity_id = _activity(app_users, "候补撤销", capacity=2)
    first, second = _member(app_users, "撤销单位丙三"), _member(app_users, "撤销单位丁四")
    with transaction(write=True) as session:
        svc.add_signup(
            session=session, actor=_admin(app_users), activity_id=activity_id, organisation_id=first, people=2
        )
        waiting = svc.add_signup(session=session, actor=_admin(app_users), activity_id=activity_id,
                                 organisation_id=second, people=2)  # fmt: skip
    assert waiting.status == "waitlisted"
    at = _open(app_users, Role.SECRETARIAT, id=str(activity_id))
    _widget(at.selectbox, "a_wd_pick").set_value(waiting.id)
    _widget(at.checkbox, "a_wd_sure").check()
    at.run()
    with transaction(write=True) as session:  # another user raises the capacity: the waiting unit moves up
        seen = svc.get_activity(session=session, actor=_admin(app_users), activity_id=activity_id)
        svc.update_activity(session=session, actor=_admin(app_users), activity_id=activity_id,
                            expected_version=seen.version, data=replace(seen.as_input(), capacity=4))  # fmt: skip
    at.button(key="a_wd_save").click().run()
    assert t("error.stale") in " ".join(e.value for e in at.error), (
        "the user withdrew a waiting unit, not a confirmed one"
    )
    assert _signups(activity_id)[second] == "confirmed"
    assert t("cal.signups_changed") in [w.value for w in at.warning]
