"""The applications screens in AppTest: the public form and lookup, the secretariat's review and decision,
a council unit's opinion, and the member record the approval makes."""

from datetime import date as _date

from sqlalchemy import func, select, text

from db.engine import transaction
from db.models import Application, AuditEntry, Organisation
from db.services import settings
from db.services.access import write_scope
from domain.roles import Role
from tests.app.test_pages_by_role import app_users, run_page, run_with_query  # noqa: F401 (fixture)
from ui.i18n import enum_label, t

TODAY_ = _date.today()

GOOD = {
    "apply_name": "绍兴市柯桥区河湖守护志愿者协会",
    "apply_code": "91330600MA2D5TX879",
    "apply_contact": "赵敏",
    "apply_phone": "13912345678",
    "apply_email": "river@example.org",
}


def _set_intake(staff, value: bool) -> None:
    with transaction(write=True) as session:
        version = settings.get_setting_version(session=session, key="intake_open")
        settings.set_setting(session=session, actor=staff.actor(), key="intake_open", value=value,
                             expected_version=version)  # fmt: skip


def _counts() -> tuple[int, int]:
    with transaction() as session:
        apps = session.scalar(select(func.count()).select_from(Application))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    return int(apps or 0), int(entries or 0)


def _fill(at, **values) -> None:  # type: ignore[no-untyped-def]
    for key, value in {**GOOD, **values}.items():
        at.text_input(key=key).input(value)
    at.selectbox(key="apply_kind").select("social")
    at.selectbox(key="apply_province").select("浙江")


def _submit(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label).click().run()


def _code_is_valid() -> None:
    from stdnum.cn import uscc

    assert uscc.is_valid(GOOD["apply_code"]), "test data: the credit code must be valid"


def test_bad_input_on_the_public_form_is_marked_beside_each_field_and_nothing_is_written(app_users):  # noqa: F811
    _set_intake(app_users[Role.SECRETARIAT], True)
    try:
        before = _counts()
        at = run_page("pages/apply.py", None)
        _fill(at, apply_name="", apply_code="91330600MA2D5TX87A", apply_phone="12345", apply_email="not-an-email")
        _submit(at, t("apply.submit"))
        errors = [e.value for e in at.error]
        assert t("validation.required") in errors
        assert t("validation.credit_code_invalid") in errors
        assert t("validation.phone_invalid") in errors
        assert t("validation.email_invalid") in errors
        assert t("validation.consent_required") in errors
        assert t("form.fix_marked") in errors
        assert at.text_input(key="apply_phone").value == "12345", "what was typed stays on screen"
        assert _counts() == before
    finally:
        _set_intake(app_users[Role.SECRETARIAT], False)


def test_the_public_form_gives_a_reference_and_the_applicant_follows_it_with_the_phone(app_users):  # noqa: F811
    _code_is_valid()
    _set_intake(app_users[Role.SECRETARIAT], True)
    try:
        at = run_page("pages/apply.py", None)
        _fill(at)
        at.checkbox(key="apply_consent").check()
        _submit(at, t("apply.submit"))
        assert not at.exception
        with transaction() as session:
            reference = session.scalar(select(Application.reference).where(Application.phone == "+8613912345678"))
        assert reference and [s.value for s in at.success] == [t("apply.done", reference=reference)]

        # The same organisation again (full-width name with spaces): refused, saying nothing about who applied.
        again = run_page("pages/apply.py", None)
        _fill(
            again,
            apply_name="绍兴市柯桥区 河湖守护志愿者协会",
            apply_code="91330600MA2D5TX8XD",
            apply_phone="13700000000",
        )
        again.checkbox(key="apply_consent").check()
        _submit(again, t("apply.submit"))
        assert [e.value for e in again.error] == [t("apply.duplicate")]
        assert reference not in str([m.value for m in again.markdown])

        lookup = run_with_query("pages/apply.py", None, ref=reference.lower())
        lookup.text_input(key="lookup_phone").input("139 1234 5678")
        _submit(lookup, t("apply.lookup"))
        status = t("apply.lookup_status", status=enum_label("app_status", "submitted"), submitted="")
        assert any(i.value.startswith(status.split("（")[0]) for i in lookup.info)
        wrong = run_with_query("pages/apply.py", None, ref=reference)
        wrong.text_input(key="lookup_phone").input("13900000000")
        _submit(wrong, t("apply.lookup"))
        assert [w.value for w in wrong.warning] == [t("apply.lookup_not_found")]
    finally:
        _set_intake(app_users[Role.SECRETARIAT], False)


def _entered(users_by_role, name: str, phone: str) -> int:  # type: ignore[no-untyped-def]
    """An application entered by the secretariat through the service (status 已提交); returns its id."""
    from db.base import utcnow
    from db.services import applications
    from domain.applications import ApplicationInput
    from domain.organisations import OrganisationInput

    with transaction(write=True) as session:
        app_id, _ = applications.create_application(
            session=session,
            actor=users_by_role[Role.SECRETARIAT].actor(),
            data=ApplicationInput(
                OrganisationInput(
                    name=name, kind="volunteer_team", province="浙江", contact_person="吴勇", phone=phone
                ),
                consent=True,
            ),
            channel="invited",
            recommender_id=None,
            now=utcnow(),
        )
    return int(app_id)


def _application_id(name: str) -> int:
    with transaction() as session:
        return int(session.scalar(select(Application.id).where(Application.name == name)))


def test_staff_enter_an_application_and_council_and_staff_take_it_to_approval(app_users):  # noqa: F811
    staff = run_page("pages/applications.py", app_users[Role.SECRETARIAT])
    staff.button_group(key="app_view").set_value("new").run()
    name = "台州市椒江区海洋保护志愿服务队"
    staff.text_input(key="new_name").input(name)
    staff.selectbox(key="new_kind").select("volunteer_team")
    staff.selectbox(key="new_province").select("浙江")
    staff.text_input(key="new_contact").input("钱磊")
    staff.text_input(key="new_phone").input("0576-88881234")
    staff.selectbox(key="new_channel").select("invited")
    staff.checkbox(key="new_consent").check()
    _submit(staff, t("applications.create"))
    assert not staff.exception
    assert any(t("applications.created", reference="").split("，")[0] in s.value for s in staff.success)
    app_id = _application_id(name)

    record = run_with_query("pages/applications.py", app_users[Role.SECRETARIAT], id=str(app_id))
    record.selectbox(key=f"action_target_{app_id}").select("in_review")
    _submit(record, t("applications.apply_action"))
    assert [s.value for s in record.success] == [t("applications.moved", status=enum_label("app_status", "in_review"))]

    council = run_with_query("pages/applications.py", app_users[Role.COUNCIL], id=str(app_id))
    assert t("applications.process") not in [h.value for h in council.subheader], "council users do not decide"
    council.radio(key=f"opinion_{app_id}").set_value("agree")
    council.text_area(key=f"opinion_comment_{app_id}").input("同意吸纳。")
    _submit(council, t("applications.save_opinion"))
    assert [s.value for s in council.success] == [t("applications.opinion_saved")]
    assert [m.value for m in council.metric][:1] == ["1"]

    record = run_with_query("pages/applications.py", app_users[Role.SECRETARIAT], id=str(app_id))
    record.selectbox(key=f"action_target_{app_id}").select("approved")
    _submit(record, t("applications.apply_action"))
    assert t("validation.confirm_required") in [e.value for e in record.error], "a final decision is confirmed"
    record.checkbox(key=f"action_confirm_{app_id}").check()
    _submit(record, t("applications.apply_action"))
    assert [s.value for s in record.success] == [t("applications.moved", status=enum_label("app_status", "approved"))]
    with transaction() as session:
        unit = session.execute(select(Organisation.status, Organisation.batch).where(Organisation.name == name)).one()
    assert unit.status == "member" and unit.batch

    late = run_with_query("pages/applications.py", app_users[Role.COUNCIL], id=str(app_id))
    assert [i.value for i in late.info] == [t("applications.decided_no_opinion")]


def test_a_decision_on_a_stale_page_is_refused_and_the_first_kept(app_users):  # noqa: F811
    staff = run_page("pages/applications.py", app_users[Role.SECRETARIAT])
    staff.button_group(key="app_view").set_value("new").run()
    name = "湖州市安吉县竹林生态志愿服务队"
    staff.text_input(key="new_name").input(name)
    staff.selectbox(key="new_kind").select("volunteer_team")
    staff.selectbox(key="new_province").select("浙江")
    staff.text_input(key="new_contact").input("孙静")
    staff.text_input(key="new_phone").input("13811112222")
    staff.checkbox(key="new_consent").check()
    _submit(staff, t("applications.create"))
    app_id = _application_id(name)
    mine = run_with_query("pages/applications.py", app_users[Role.SECRETARIAT], id=str(app_id))
    other = run_with_query("pages/applications.py", app_users[Role.ADMIN], id=str(app_id))
    other.selectbox(key=f"action_target_{app_id}").select("withdrawn")
    other.checkbox(key=f"action_confirm_{app_id}").check()
    _submit(other, t("applications.apply_action"))
    mine.selectbox(key=f"action_target_{app_id}").select("in_review")
    _submit(mine, t("applications.apply_action"))
    assert t("error.stale") in [e.value for e in mine.error] or t("applications.changed_meanwhile") in [
        w.value for w in mine.warning
    ]
    with transaction() as session:
        assert session.scalar(select(Application.status).where(Application.id == app_id)) == "withdrawn"


def test_viewers_cannot_read_applications_and_their_unit_records_show_no_contacts(app_users):  # noqa: F811
    with transaction() as session:
        unit = session.scalar(select(Organisation.id).where(Organisation.name == "成都市绿色环保志愿者协会"))
    viewer = run_with_query("pages/members.py", app_users[Role.VIEWER], id=str(unit))
    shown = viewer.dataframe[0].value.to_string()
    assert "138 0013 8000" not in shown and "李娜" not in shown
    assert t("members.applications") not in [h.value for h in viewer.subheader]
    staff = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(unit))
    assert "李娜" in staff.dataframe[0].value.to_string()


def test_the_secretariat_suspends_a_unit_with_a_reason_after_confirming(app_users):  # noqa: F811
    with transaction() as session:
        unit = session.scalar(select(Organisation.id).where(Organisation.name == "无席位志愿服务队"))
    at = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(unit))
    at.selectbox(key=f"status_target_{unit}").select("suspended")
    _submit(at, t("members.change_status"))
    assert t("validation.confirm_required") in [e.value for e in at.error]
    at.checkbox(key=f"status_confirm_{unit}").check()
    _submit(at, t("members.change_status"))
    assert t("validation.reason_required") in [e.value for e in at.error]
    at.text_area(key=f"status_reason_{unit}").input("连续一年未参加网络活动")
    _submit(at, t("members.change_status"))
    assert [s.value for s in at.success] == [t("members.status_changed", status=enum_label("org_status", "suspended"))]
    with transaction(write=True) as session, write_scope("test: restore the unit for the other tests"):
        session.execute(text("UPDATE organisations SET status = 'member' WHERE id = :id"), {"id": unit})


def test_the_list_shows_a_new_application_at_once_although_it_is_cached(app_users):  # noqa: F811
    from db.base import utcnow
    from db.services import applications
    from domain.applications import ApplicationInput
    from domain.organisations import OrganisationInput

    at = run_page("pages/applications.py", app_users[Role.SECRETARIAT])
    at.run()  # the second run is served from the cache
    assert "缓存测试志愿服务队" not in at.dataframe[0].value[t("field.name")].tolist()
    with transaction(write=True) as session:
        applications.create_application(
            session=session,
            actor=app_users[Role.SECRETARIAT].actor(),
            data=ApplicationInput(
                OrganisationInput(name="缓存测试志愿服务队", kind="volunteer_team", province="浙江",
                                  contact_person="吴勇", phone="13822223333"),
                consent=True,
            ),
            channel="invited",
            recommender_id=None,
            now=utcnow(),
        )  # fmt: skip
    at.run()
    names = at.dataframe[0].value[t("field.name")].tolist()
    assert "缓存测试志愿服务队" in names


def test_the_home_page_asks_the_secretariat_to_process_and_the_council_to_give_opinions(app_users):  # noqa: F811
    from db.base import utcnow
    from db.services import applications
    from db.services.todos import collect_todos
    from domain.applications import ApplicationInput
    from domain.organisations import OrganisationInput

    with transaction(write=True) as session:
        applications.create_application(
            session=session,
            actor=app_users[Role.SECRETARIAT].actor(),
            data=ApplicationInput(
                OrganisationInput(name="首页待办志愿服务队", kind="volunteer_team", province="浙江",
                                  contact_person="吴勇", phone="13822224444"),
                consent=True,
            ),
            channel="invited",
            recommender_id=None,
            now=utcnow(),
        )  # fmt: skip
    with transaction() as session:
        staff_items = {
            i.key: i.count for i in collect_todos(session=session, actor=app_users[Role.SECRETARIAT].actor())
        }
        council_items = {i.key: i.count for i in collect_todos(session=session, actor=app_users[Role.COUNCIL].actor())}
        pending = session.scalar(
            select(func.count()).select_from(Application).where(Application.status.in_(["submitted", "in_review",
                                                                                        "needs_more"]))
        )  # fmt: skip
    assert pending
    staff = run_page("pages/home.py", app_users[Role.SECRETARIAT])
    council = run_page("pages/home.py", app_users[Role.COUNCIL])
    viewer = run_page("pages/home.py", app_users[Role.VIEWER])
    staff_text = " ".join(m.value for m in staff.markdown)
    council_text = " ".join(m.value for m in council.markdown)
    assert t("todo.applications_new", count=staff_items["todo.applications_new"]) in staff_text
    assert "todo.applications_opinion" in council_items
    assert t("todo.applications_opinion", count=council_items["todo.applications_opinion"]) in council_text
    assert t("todo.applications_opinion", count=council_items["todo.applications_opinion"]) not in staff_text
    assert not any("申请" in m.value for m in viewer.markdown), "viewers get no application to-dos"


def test_a_council_user_whose_opinion_went_stale_reloads_and_saves_again(app_users):  # noqa: F811
    from db.base import utcnow
    from db.services import applications
    from domain.applications import ApplicationInput
    from domain.organisations import OrganisationInput

    with transaction(write=True) as session:
        app_id, _ = applications.create_application(
            session=session,
            actor=app_users[Role.SECRETARIAT].actor(),
            data=ApplicationInput(
                OrganisationInput(name="两个标签页志愿服务队", kind="volunteer_team", province="浙江",
                                  contact_person="吴勇", phone="13822225555"),
                consent=True,
            ),
            channel="invited",
            recommender_id=None,
            now=utcnow(),
        )  # fmt: skip
    council = app_users[Role.COUNCIL]
    first = run_with_query("pages/applications.py", council, id=str(app_id))
    second = run_with_query("pages/applications.py", council, id=str(app_id))
    second.radio(key=f"opinion_{app_id}").set_value("oppose")
    _submit(second, t("applications.save_opinion"))
    first.radio(key=f"opinion_{app_id}").set_value("agree")
    _submit(first, t("applications.save_opinion"))
    assert t("error.stale") in [e.value for e in first.error], "the other tab's opinion is not overwritten"
    first.button(key="reload_opinion").click().run()
    assert first.radio(key=f"opinion_{app_id}").value == "oppose", "the reload shows the saved opinion"
    first.radio(key=f"opinion_{app_id}").set_value("agree")
    _submit(first, t("applications.save_opinion"))
    assert [s.value for s in first.success] == [t("applications.opinion_saved")]


def test_the_home_to_dos_open_the_list_filtered(app_users):  # noqa: F811
    _entered(app_users, "筛选待办志愿服务队", "13822226666")
    staff = run_with_query("pages/applications.py", app_users[Role.SECRETARIAT], status="submitted")
    assert staff.selectbox(key="app_status").value == "submitted"
    assert set(staff.dataframe[0].value[t("field.status")]) == {enum_label("app_status", "submitted")}
    council = run_with_query("pages/applications.py", app_users[Role.COUNCIL], awaiting="mine")
    assert council.toggle(key="app_awaiting").value is True
    with transaction() as session:
        from db.services import applications

        expected = applications.list_applications(
            session=session,
            actor=app_users[Role.COUNCIL].actor(),
            filters=applications.ApplicationFilters(awaiting_unit=app_users[Role.COUNCIL].organisation_id),
        )[1]
    assert expected and t("applications.count", total=expected) in [c.value for c in council.caption]


def test_after_a_move_the_action_form_is_empty_so_a_second_click_does_nothing_unintended(app_users):  # noqa: F811
    app_id = _entered(app_users, "二次点击志愿服务队", "13822227777")
    record = run_with_query("pages/applications.py", app_users[Role.SECRETARIAT], id=str(app_id))
    record.selectbox(key=f"action_target_{app_id}").select("needs_more")
    record.text_area(key=f"action_note_{app_id}").input("请补充登记证书")
    _submit(record, t("applications.apply_action"))
    assert [s.value for s in record.success] == [t("applications.moved", status=enum_label("app_status", "needs_more"))]
    assert [a.value for a in record.text_area if a.value == "请补充登记证书"] == [], (
        "the note is not kept for the next step"
    )
    _submit(record, t("applications.apply_action"))  # nothing chosen or written: refused, nothing moves
    assert t("validation.choose_status") in [e.value for e in record.error]
    with transaction() as session:
        status, message = session.execute(
            select(Application.status, Application.message_to_applicant).where(Application.id == app_id)
        ).one()
    assert (status, message) == ("needs_more", "请补充登记证书")


def test_after_a_status_change_the_confirmation_is_asked_again(app_users):  # noqa: F811
    with transaction() as session:
        unit = session.scalar(select(Organisation.id).where(Organisation.name == "无席位志愿服务队"))
    at = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(unit))
    at.selectbox(key=f"status_target_{unit}").select("suspended")
    at.text_area(key=f"status_reason_{unit}").input("测试暂停")
    at.checkbox(key=f"status_confirm_{unit}").check()
    _submit(at, t("members.change_status"))
    assert [s.value for s in at.success] == [t("members.status_changed", status=enum_label("org_status", "suspended"))]
    assert not any(c.value for c in at.checkbox), "the confirmation starts unticked"
    _submit(at, t("members.change_status"))
    assert t("validation.choose_status") in [e.value for e in at.error], "a second click changes nothing"
    at.selectbox(key=f"status_target_{unit}_1").select("member")
    _submit(at, t("members.change_status"))
    assert t("validation.confirm_required") in [e.value for e in at.error]
    with transaction(write=True) as session, write_scope("test: restore the unit for the other tests"):
        assert session.scalar(select(Organisation.status).where(Organisation.id == unit)) == "suspended"
        session.execute(text("UPDATE organisations SET status = 'member' WHERE id = :id"), {"id": unit})


def test_suspending_a_seated_unit_warns_about_its_council_seat(app_users):  # noqa: F811
    with transaction() as session:
        seated = session.scalar(select(Organisation.id).where(Organisation.name == "成都市绿色环保志愿者协会"))
        spare = session.scalar(select(Organisation.id).where(Organisation.name == "无席位志愿服务队"))
    warned = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(seated))
    assert t("members.seat_warning", seat=1) in [w.value for w in warned.warning]
    quiet = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(spare))
    assert not any("席" in w.value for w in quiet.warning)


def _counts_all() -> tuple[int, int, int]:
    with transaction() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Application)) or 0),
            int(session.scalar(select(func.count()).select_from(Organisation)) or 0),
            int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


def test_bad_input_on_the_staff_entry_form_is_marked_and_nothing_is_written(app_users):  # noqa: F811
    before = _counts_all()
    staff = run_page("pages/applications.py", app_users[Role.SECRETARIAT])
    staff.button_group(key="app_view").set_value("new").run()
    staff.text_input(key="new_name").input("x" * 150)
    staff.selectbox(key="new_kind").select("enterprise")
    staff.text_input(key="new_phone").input("１２３")
    staff.text_input(key="new_website").input("javascript:alert(1)")
    staff.selectbox(key="new_channel").select("recommended")
    _submit(staff, t("applications.create"))
    errors = [e.value for e in staff.error]
    for key, params in (
        ("validation.too_long", {"max": 100}),
        ("validation.credit_code_required", {}),
        ("validation.phone_invalid", {}),
        ("validation.website_invalid", {}),
        ("validation.consent_required", {}),
    ):
        assert t(key, **params) in errors, key
    staff.checkbox(key="new_consent").check()
    staff.text_input(key="new_name").input("某企业环保志愿服务队")
    staff.selectbox(key="new_kind").select("volunteer_team")
    staff.text_input(key="new_phone").input("13822228888")
    staff.text_input(key="new_contact").input("郑伟")
    staff.text_input(key="new_website").input("")
    _submit(staff, t("applications.create"))  # still no recommender for a recommendation
    assert t("validation.recommender_required") in [e.value for e in staff.error]
    assert _counts_all() == before


def test_a_member_edit_with_a_bad_phone_is_refused_and_a_stale_edit_keeps_the_first(app_users):  # noqa: F811
    from dataclasses import replace

    from db.services import organisations

    with transaction() as session:
        unit = session.scalar(select(Organisation.id).where(Organisation.name == "无席位志愿服务队"))
        version = session.scalar(select(Organisation.version).where(Organisation.id == unit))
    at = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=str(unit))
    at.text_input(key=f"edit_{unit}_{version}_phone").input("123")
    _submit(at, t("common.save"))
    assert t("validation.phone_invalid") in [e.value for e in at.error]
    with transaction(write=True) as session:  # someone else saves the unit meanwhile
        data = organisations.organisation_input(
            session=session, actor=app_users[Role.ADMIN].actor(), organisation_id=unit
        )
        organisations.update_organisation(
            session=session,
            actor=app_users[Role.ADMIN].actor(),
            organisation_id=unit,
            expected_version=version,
            data=replace(data, city="乐山"),
            today=TODAY_,
        )
    at.text_input(key=f"edit_{unit}_{version}_phone").input("13822229999")
    _submit(at, t("common.save"))
    assert t("error.stale") in [e.value for e in at.error]
    with transaction() as session:
        city, phone = session.execute(
            select(Organisation.city, Organisation.phone).where(Organisation.id == unit)
        ).one()
    assert (city, phone) == ("乐山", "")
