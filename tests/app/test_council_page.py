"""The council screen in AppTest: what each role sees, and the secretariat seating, ending a term early, filling
it by a by-election, and recording a meeting with attendance and a decision vote."""

from datetime import date, timedelta

from sqlalchemy import select

from db.engine import transaction
from db.models import CouncilTerm, Organisation
from db.services import organisations
from domain.organisations import OrganisationInput
from domain.roles import Role
from tests.app.test_pages_by_role import app_users, run_page, run_with_query  # noqa: F401 (fixture)
from ui.i18n import enum_label, t


def _button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def _unit(name: str) -> int:
    with transaction() as session:
        return int(session.scalar(select(Organisation.id).where(Organisation.name == name)))


def _member(users, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        return organisations.create_organisation(
            session=session,
            actor=users[Role.ADMIN].actor(),
            today=date.today(),
            data=OrganisationInput(name=name, kind="volunteer_team", province="四川", contact_person="某人"),
        )


def test_viewers_see_seats_and_timeline_without_people_or_meetings(app_users):  # noqa: F811
    viewer = run_page("pages/council.py", app_users[Role.VIEWER])
    assert not viewer.exception
    assert viewer.button_group(key="c_view").options == [t("council.view_seats"), t("council.view_timeline")]
    columns = list(viewer.dataframe[0].value.columns)
    assert t("council.unit") in columns and t("field.representative") not in columns
    assert t("council.fill_seat") not in [e.label for e in viewer.expander]
    refused = run_with_query("pages/council.py", app_users[Role.VIEWER], meeting="1")
    assert [w.value for w in refused.warning] == [t("error.not_found")]


def test_council_users_read_everything_and_change_nothing(app_users):  # noqa: F811
    member = run_page("pages/council.py", app_users[Role.COUNCIL])
    assert t("council.view_meetings") in member.button_group(key="c_view").options
    assert t("field.representative") in list(member.dataframe[0].value.columns)
    assert not [e for e in member.expander if e.label in (t("council.fill_seat"), t("council.end_early"))]


def test_the_secretariat_seats_ends_early_and_fills_by_by_election(app_users):  # noqa: F811
    first = _member(app_users, "甲河湖守护志愿服务队")
    second = _member(app_users, "乙湿地保护志愿服务队")
    staff = run_page("pages/council.py", app_users[Role.SECRETARIAT])
    staff.selectbox(key="c_seat_no").select(2)
    staff.radio(key="c_seat_way").set_value("invite").run()
    staff.text_input(key="c_seat_search").input("甲河湖").run()
    staff.selectbox(key="c_seat_member").select(first)
    staff.text_input(key="c_seat_rep").input("张代表")
    staff.date_input(key="c_seat_start").set_value(date.today() - timedelta(days=20))  # seated three weeks ago
    staff.button(key="c_seat_go").click().run()
    assert [s.value for s in staff.success] == [t("council.seated", seat=2)], [e.value for e in staff.error]

    staff.selectbox(key="c_end_seat").select(2)
    _button(staff, t("council.end_term")).click().run()
    assert t("validation.confirm_required") in [e.value for e in staff.error]
    staff.checkbox(key="c_end_confirm").check()
    _button(staff, t("council.end_term")).click().run()
    assert t("validation.required") in [e.value for e in staff.error], "a reason is required"
    staff.text_area(key="c_end_reason").input("单位申请辞任")
    _button(staff, t("council.end_term")).click().run()
    assert [s.value for s in staff.success] == [t("council.ended", seat=2)], [e.value for e in staff.error]

    staff.selectbox(key="c_seat_no_1").select(2)
    staff.radio(key="c_seat_way_1").set_value("invite").run()
    staff.text_input(key="c_seat_search_1").input("乙湿地").run()
    staff.selectbox(key="c_seat_member_1").select(second)
    staff.button(key="c_seat_go").click().run()
    assert [s.value for s in staff.success] == [t("council.seated", seat=2)], [e.value for e in staff.error]
    with transaction() as session:
        terms = session.execute(
            select(CouncilTerm.organisation_id, CouncilTerm.source, CouncilTerm.status, CouncilTerm.replaces_term_id)
            .where(CouncilTerm.seat == 2)
            .order_by(CouncilTerm.id)
        ).all()
    assert [(t_.organisation_id, t_.source, t_.status) for t_ in terms] == [
        (first, "invited", "resigned"),
        (second, "by_election", "active"),
    ]
    assert terms[1].replaces_term_id is not None


def test_the_secretariat_records_a_meeting_with_attendance_and_a_vote(app_users):  # noqa: F811
    staff = run_page("pages/council.py", app_users[Role.SECRETARIAT])
    staff.button_group(key="c_view").set_value("meetings").run()
    _button(staff, t("council.save_meeting")).click().run()
    errors = [e.value for e in staff.error]
    assert t("validation.required") in errors, "a title is required"
    staff.text_input(key="m_title").input("理事会第一次会议")
    staff.text_area(key="m_agenda").input("审议运营管理办法\n确定年度计划")
    _button(staff, t("council.save_meeting")).click().run()
    assert t("validation.place_or_link") in [e.value for e in staff.error]
    staff.text_input(key="m_place").input("北京")
    _button(staff, t("council.save_meeting")).click().run()
    assert not staff.exception
    meeting_id = staff.query_params["meeting"]
    meeting_id = meeting_id[0] if isinstance(meeting_id, list) else meeting_id
    record = run_with_query("pages/council.py", app_users[Role.SECRETARIAT], meeting=str(meeting_id))
    assert [h.value for h in record.title] == ["理事会第一次会议"]
    unit = _unit("成都市绿色环保志愿者协会")
    version_key = next(s.key for s in record.selectbox if s.key.endswith(f"_{unit}") and s.key.startswith("m_att_"))
    record.selectbox(key=version_key).select("present")
    _button(record, t("council.save_attendance")).click().run()
    assert t("council.attendance_saved") in [s.value for s in record.success]
    record.text_input(key=f"d_title_{meeting_id}").input("关于运营管理办法的决议")
    record.selectbox(key=f"d_vote_{meeting_id}_{unit}").select("agree")
    _button(record, t("council.save_decision")).click().run()
    assert t("council.decision_saved") in [s.value for s in record.success]
    shown = " ".join(m.value for m in record.markdown)
    assert "关于运营管理办法的决议" in shown
    votes = record.dataframe[-1].value  # who voted how, on the page itself
    assert votes.values.tolist() == [["成都市绿色环保志愿者协会", enum_label("vote", "agree")]]
    seated = len([s for s in record.selectbox if s.key.startswith("m_att_")])
    passed = 1 > seated * 0.5
    result = t("council.passed") if passed else t("council.not_passed")
    assert f"— {result}" in shown
    council_view = run_with_query("pages/council.py", app_users[Role.COUNCIL], meeting=str(meeting_id))
    assert not council_view.exception and not council_view.selectbox, "council users read the meeting, not edit it"
    assert enum_label("attendance", "present") in council_view.dataframe[0].value.to_string()


def test_the_secretariat_sets_the_quorum_and_passing_shares_in_settings(app_users):  # noqa: F811
    from db.services import settings

    staff = run_page("pages/settings.py", app_users[Role.SECRETARIAT])
    staff.number_input(key="set_quorum_0").set_value(0.65)
    _button(staff, t("common.save")).click().run()
    assert [s.value for s in staff.success] == [t("settings.saved")]
    with transaction() as session:
        assert settings.get_setting(session=session, key="quorum_share") == 0.65
        assert settings.get_setting(session=session, key="pass_share") == 0.5
    with transaction(write=True) as session:
        version = settings.get_setting_version(session=session, key="quorum_share")
        settings.set_setting(session=session, actor=app_users[Role.ADMIN].actor(), key="quorum_share", value=0.5,
                             expected_version=version)  # fmt: skip


def _seat(users, seat: int, name: str) -> int:  # type: ignore[no-untyped-def]
    from db.services import council

    unit = _member(users, name)
    with transaction(write=True) as session:
        current = council.current_session(session=session, on=date.today())
        assert current is not None
        council.seat_term(session=session, actor=users[Role.ADMIN].actor(), session_id=current.id, seat=seat,
                          organisation_id=unit, source="invited", starts_on=current.starts_on)  # fmt: skip
    return unit


def test_a_stale_tab_cannot_end_a_term_someone_else_already_ended(app_users):  # noqa: F811
    _seat(app_users, 6, "丙生态文明促进会")
    _seat(app_users, 7, "丁绿色家园公益中心")
    first = run_page("pages/council.py", app_users[Role.SECRETARIAT])
    second = run_page("pages/council.py", app_users[Role.SECRETARIAT])
    for tab, reason in ((first, "第一个标签页"), (second, "第二个标签页")):
        tab.selectbox(key="c_end_seat").select(7)
        tab.text_area(key="c_end_reason").input(reason)
        tab.checkbox(key="c_end_confirm").check()
    _button(first, t("council.end_term")).click().run()
    assert [s.value for s in first.success] == [t("council.ended", seat=7)]
    _button(second, t("council.end_term")).click().run()
    refusals = [e.value for e in second.error]
    assert t("validation.term_already_ended") in refusals or t("error.stale") in refusals, "refused; no other seat"
    assert t("council.changed_meanwhile") in [w.value for w in second.warning]
    with transaction() as session:
        rows = session.execute(
            select(CouncilTerm.seat, CouncilTerm.status, CouncilTerm.ended_reason).where(
                CouncilTerm.seat.in_([1, 6, 7])
            )
        ).all()
    assert {(r.seat, r.status, r.ended_reason) for r in rows} == {
        (1, "active", ""),
        (6, "active", ""),
        (7, "resigned", "第一个标签页"),
    }


def test_a_stale_tab_cannot_overwrite_minutes_and_keeps_what_was_typed(app_users):  # noqa: F811
    from datetime import datetime, time

    from db.services import meetings
    from domain.clock import SHANGHAI

    with transaction(write=True) as session:
        meeting_id = meetings.create_meeting(
            session=session,
            actor=app_users[Role.ADMIN].actor(),
            data=meetings.MeetingInput(kind="council", title="纪要并发测试会议", place="北京",
                                       starts_at=datetime.combine(date.today(), time(10), tzinfo=SHANGHAI)),
        )  # fmt: skip
    first = run_with_query("pages/council.py", app_users[Role.SECRETARIAT], meeting=str(meeting_id))
    second = run_with_query("pages/council.py", app_users[Role.SECRETARIAT], meeting=str(meeting_id))
    first.text_area(key=f"m_minutes_{meeting_id}_1").input("甲记录的纪要")
    _button(first, t("council.save_minutes")).click().run()
    assert t("council.minutes_saved") in [s.value for s in first.success]
    second.text_area(key=f"m_minutes_{meeting_id}_1").input("乙记录的纪要")
    _button(second, t("council.save_minutes")).click().run()
    assert t("error.stale") in [e.value for e in second.error]
    assert second.text_area(key=f"m_minutes_{meeting_id}_1").value == "乙记录的纪要", "what was typed stays"
    with transaction() as session:
        detail = meetings.get_meeting(session=session, actor=app_users[Role.ADMIN].actor(), meeting_id=meeting_id)
    assert detail.minutes == "甲记录的纪要"
