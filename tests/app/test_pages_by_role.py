"""Every registered page, run with Streamlit's AppTest for every role and for an anonymous visitor."""

import os
from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from db.engine import get_engine, make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import council, organisations, users
from domain.organisations import OrganisationInput
from domain.roles import ANONYMOUS, Actor, Role
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.i18n import t
from ui.navigation import PAGES, may_open

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = [Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER, None]


@pytest.fixture(scope="module")
def app_users(tmp_path_factory):
    """A migrated SQLite database with one user per role, used as the app's DATABASE_URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('apptest') / 'app.sqlite'}"
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_engine.cache_clear()
    upgrade_to_head(make_engine(url))
    infos = {}
    with transaction(write=True) as session:
        token = users.issue_setup_token(session=session)
        users.create_first_admin(
            session=session,
            actor=ANONYMOUS,
            token=token,
            username="admin1",
            display_name="管理员",
            password="password 123",
            password_repeat="password 123",
        )
        admin = users.get_active_user(session=session, username="admin1").actor()
        unit = organisations.create_organisation(
            session=session,
            actor=admin,
            today=date(2026, 11, 28),
            data=OrganisationInput(
                name="成都市绿色环保志愿者协会",
                kind="social",
                province="四川",
                city="成都",
                credit_code="91110000802100433B",
                contact_person="李娜",
                phone="13800138000",
            ),
        )
        council_session = council.create_session(
            session=session, actor=admin, starts_on=date.today() - timedelta(days=30)
        )
        council.seat_term(session=session, actor=admin, session_id=council_session, seat=1, organisation_id=unit,
                          source="invited")  # fmt: skip
        spare = organisations.create_organisation(
            session=session, actor=admin, today=date.today(),
            data=OrganisationInput(name="无席位志愿服务队", kind="volunteer_team", province="四川"),
        )  # fmt: skip
        users.create_user(session=session, actor=admin, username="council_no_term", display_name="无任期理事",
                          password="password 123", role=Role.COUNCIL, organisation_id=spare)  # fmt: skip
        infos["council_no_term"] = users.get_active_user(session=session, username="council_no_term")
        for role in (Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER):
            users.create_user(
                session=session,
                actor=admin,
                username=f"{role.value}1",
                display_name=role.value,
                password="password 123",
                role=role,
                organisation_id=unit if role is Role.COUNCIL else None,
            )
        for role in Role:
            infos[role] = users.get_active_user(session=session, username=f"{role.value}1")
    yield infos
    get_engine.cache_clear()
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old


def run_page(file: str, user) -> AppTest:
    at = AppTest.from_file(os.path.join(ROOT, file), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    if user is not None:
        at.session_state[USER_KEY] = user
    return at.run()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.key)
def test_each_page_opens_for_its_roles_and_refuses_the_others(app_users, spec, role):
    at = run_page(spec.file, app_users.get(role) if role else None)
    assert not at.exception, [e.message for e in at.exception]
    titles = [e.value for e in at.title]
    if may_open(spec, role):
        assert (titles and titles[0] == t(spec.title_key)) or (spec.key == "home" and titles[0] == t("home.title"))
        assert t("error.forbidden") not in [e.value for e in at.error]
    else:
        assert titles == [], f"{spec.key} rendered for {role}"
        refusals = [e.value for e in at.error] + [w.value for w in at.warning]
        assert refusals == [t("error.forbidden")] if role else refusals == [t("auth.login_required")]


def test_viewers_see_the_directory_without_contact_columns(app_users):
    viewer = run_page("pages/members.py", app_users[Role.VIEWER])
    staff = run_page("pages/members.py", app_users[Role.SECRETARIAT])
    viewer_columns = list(viewer.dataframe[0].value.columns)
    staff_columns = list(staff.dataframe[0].value.columns)
    assert t("field.phone") in staff_columns and t("field.contact_person") in staff_columns
    assert t("field.phone") not in viewer_columns and t("field.contact_person") not in viewer_columns
    assert "138 0013 8000" in staff.dataframe[0].value.to_string()
    assert "138 0013 8000" not in viewer.dataframe[0].value.to_string()
    assert "成都市绿色环保志愿者协会" in viewer.dataframe[0].value.to_string()


def test_a_filter_with_no_match_says_what_to_do_next(app_users):
    at = run_page("pages/members.py", app_users[Role.ADMIN])
    at.text_input(key="members_search").input("不存在的单位").run()
    assert [i.value for i in at.info] == [t("members.empty_staff")]
    viewer = run_page("pages/members.py", app_users[Role.VIEWER])
    viewer.text_input(key="members_search").input("不存在的单位").run()
    assert [i.value for i in viewer.info] == [t("members.empty")]


def test_the_public_form_says_politely_that_intake_is_closed(app_users):
    at = run_page("pages/apply.py", None)
    assert [i.value for i in at.info] == [t("apply.closed")]


def test_the_home_page_lists_the_staff_to_dos(app_users):
    admin = run_page("pages/home.py", app_users[Role.ADMIN])
    viewer = run_page("pages/home.py", app_users[Role.VIEWER])
    assert not admin.exception and not viewer.exception
    assert any(t("todo.secretariat_unit_missing", count=1) in m.value for m in admin.markdown)
    assert [s.value for s in viewer.success] == [t("home.no_todos")]


def test_a_council_user_whose_unit_holds_no_term_is_refused_council_pages(app_users):
    at = run_page("pages/applications.py", app_users["council_no_term"])
    assert [e.value for e in at.error] == [t("error.forbidden")]
    seated = run_page("pages/applications.py", app_users[Role.COUNCIL])
    assert [e.value for e in seated.title] == [t("page.applications")]


def test_the_admin_sees_every_account_and_the_audit_log_lists_the_writes(app_users):
    at = run_page("pages/users.py", app_users[Role.ADMIN])
    assert not at.exception
    listed = at.dataframe[0].value.to_string()
    for username in ("admin1", "secretariat1", "council1", "viewer1", "council_no_term"):
        assert username in listed
    log = run_page("pages/audit.py", app_users[Role.SECRETARIAT])
    assert not log.exception
    assert t("action.organisation.create") in log.dataframe[0].value.to_string()


def test_an_admin_creates_an_account_and_bad_input_is_shown_beside_the_field(app_users):
    at = run_page("pages/users.py", app_users[Role.ADMIN])
    form_inputs = {ti.label: ti for ti in at.text_input}
    form_inputs[t("field.username")].input("Bad Name")
    form_inputs[t("field.display_name")].input("新同事")
    form_inputs[t("users.temporary_password")].input("temporary 2026")
    submit = next(b for b in at.button if b.label == t("users.create"))
    submit.click().run()
    assert t("validation.username_invalid") in [e.value for e in at.error]
    form_inputs = {ti.label: ti for ti in at.text_input}
    assert form_inputs[t("field.display_name")].value == "新同事", "input stays on screen"
    form_inputs[t("field.username")].input("new.colleague")
    next(b for b in at.button if b.label == t("users.create")).click().run()
    assert [s.value for s in at.success] == [t("users.created", username="new.colleague")]
    assert "new.colleague" in at.dataframe[0].value.to_string()


def test_the_account_page_changes_the_password_only_with_the_current_one(app_users):
    at = run_page("pages/account.py", app_users[Role.VIEWER])
    boxes = {ti.label: ti for ti in at.text_input}
    boxes[t("field.current_password")].input("not my password")
    boxes[t("field.password")].input("a brand new passphrase")
    boxes[t("field.password_repeat")].input("a brand new passphrase")
    next(b for b in at.button if b.label == t("account.change_password")).click().run()
    assert t("validation.current_password_wrong") in [e.value for e in at.error]


def test_an_account_edit_made_on_a_stale_version_is_refused_and_the_other_save_kept(app_users):
    from db.services.users import update_user

    viewer = app_users[Role.VIEWER]
    admin = app_users[Role.ADMIN]
    at = run_page("pages/users.py", admin)
    at.selectbox(key="users_choose").select(viewer.id).run()
    at.text_input(key=f"user_name_{viewer.id}").input("管理员甲的修改")
    with transaction(write=True) as session:  # another administrator saves first
        current = next(u for u in users.list_users(session=session) if u.id == viewer.id)
        update_user(session=session, actor=admin.actor(), user_id=viewer.id, expected_version=current.version,
                    display_name="管理员乙的修改", role=Role.VIEWER, organisation_id=None)  # fmt: skip
    next(b for b in at.button if b.label == t("common.save")).click().run()
    assert t("error.stale") in [e.value for e in at.error]
    assert at.text_input(key=f"user_name_{viewer.id}").value == "管理员甲的修改", "the input stays on screen"
    with transaction() as session:
        saved = next(u for u in users.list_users(session=session) if u.id == viewer.id)
    assert saved.display_name == "管理员乙的修改"
    with transaction(write=True) as session:  # put the fixture back for the other tests
        update_user(session=session, actor=admin.actor(), user_id=viewer.id, expected_version=saved.version,
                    display_name="viewer", role=Role.VIEWER, organisation_id=None)  # fmt: skip


def _unit_id():
    with transaction() as session:
        rows, _ = organisations.list_organisations(
            session=session, actor=Actor(1, "x", Role.ADMIN), search="成都市绿色"
        )
    return rows[0].id


def run_with_query(file, user, **params):
    at = AppTest.from_file(os.path.join(ROOT, file), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_a_unit_record_opens_by_id_with_contacts_and_history_only_for_those_allowed(app_users):
    unit = str(_unit_id())
    staff = run_with_query("pages/members.py", app_users[Role.SECRETARIAT], id=unit)
    assert [e.value for e in staff.title] == ["成都市绿色环保志愿者协会"]
    assert "138 0013 8000" in staff.dataframe[0].value.to_string()
    viewer = run_with_query("pages/members.py", app_users[Role.VIEWER], id=unit)
    assert [e.value for e in viewer.title] == ["成都市绿色环保志愿者协会"]
    shown = viewer.dataframe[0].value.to_string()
    assert "138 0013 8000" not in shown and t("field.phone") not in shown
    missing = run_with_query("pages/members.py", app_users[Role.ADMIN], id="999999")
    assert [w.value for w in missing.warning] == [t("error.not_found")]
    back = next(b for b in missing.button if b.label == t("members.back"))
    back.click().run()
    assert [e.value for e in missing.title] == [t("page.members")] and "id" not in missing.query_params
    nonsense = run_with_query("pages/members.py", app_users[Role.ADMIN], id="1 OR 1=1")
    assert [w.value for w in nonsense.warning] == [t("error.not_found")]


def test_a_percent_sign_in_the_search_is_a_letter_not_a_wildcard(app_users):
    at = run_page("pages/members.py", app_users[Role.ADMIN])
    at.text_input(key="members_search").input("%").run()
    assert [i.value for i in at.info] == [t("members.empty_staff")]


def test_the_secretariat_opens_intake_and_the_public_form_says_so(app_users):
    staff = run_page("pages/settings.py", app_users[Role.SECRETARIAT])
    staff.toggle[0].set_value(True)
    next(b for b in staff.button if b.label == t("common.save")).click().run()
    assert [s.value for s in staff.success] == [t("settings.saved")]
    public = run_page("pages/apply.py", None)
    assert t("apply.closed") not in [i.value for i in public.info]
    # An empty batch name is refused beside its field, and nothing else changes.
    staff.text_input[0].input("   ")
    next(b for b in staff.button if b.label == t("common.save")).click().run()
    assert t("validation.required") in [e.value for e in staff.error]
    staff.text_input[0].input("第二批")
    staff.toggle[0].set_value(False)
    next(b for b in staff.button if b.label == t("common.save")).click().run()
    assert [s.value for s in staff.success] == [t("settings.saved")]
    assert [i.value for i in run_page("pages/apply.py", None).info] == [t("apply.closed")]


def test_a_settings_save_on_a_stale_version_is_refused(app_users):
    from db.services import settings as settings_service

    staff = run_page("pages/settings.py", app_users[Role.SECRETARIAT])
    with transaction(write=True) as session:  # someone else saves first
        version = settings_service.get_setting_version(session=session, key="current_batch")
        settings_service.set_setting(session=session, actor=app_users[Role.ADMIN].actor(), key="current_batch",
                                     value="第三批", expected_version=version)  # fmt: skip
    staff.text_input[0].input("第四批")
    next(b for b in staff.button if b.label == t("common.save")).click().run()
    assert t("error.stale") in [e.value for e in staff.error]
    with transaction() as session:
        assert settings_service.get_setting(session=session, key="current_batch") == "第三批"
    next(b for b in staff.button if b.label == t("common.reload")).click().run()
    assert staff.text_input[0].value == "第三批" and t("error.stale") not in [e.value for e in staff.error]


def test_deactivation_needs_its_confirmation_each_time_and_the_choice_survives_a_rename(app_users):
    viewer = app_users[Role.VIEWER]
    at = run_page("pages/users.py", app_users[Role.ADMIN])
    at.selectbox(key="users_choose").select(viewer.id).run()
    at.text_input(key=f"user_name_{viewer.id}").input("合作方 李四")
    next(b for b in at.button if b.label == t("common.save")).click().run()
    assert [s.value for s in at.success] == [t("users.saved")]
    assert at.selectbox(key="users_choose").value == viewer.id, "a rename keeps the same account chosen"
    at.checkbox(key=f"c{viewer.id}").check().run()
    at.button(key=f"toggle{viewer.id}").click().run()
    assert [s.value for s in at.success] == [t("users.deactivated")]
    assert at.checkbox(key=f"c{viewer.id}").value is False, "the confirmation does not stay ticked"
    assert at.button(key=f"toggle{viewer.id}").disabled
    at.checkbox(key=f"c{viewer.id}").check().run()
    at.button(key=f"toggle{viewer.id}").click().run()
    assert [s.value for s in at.success] == [t("users.activated")]
    with transaction(write=True) as session:  # put the fixture back for the other tests
        current = next(u for u in users.list_users(session=session) if u.id == viewer.id)
        users.update_user(session=session, actor=app_users[Role.ADMIN].actor(), user_id=viewer.id,
                          expected_version=current.version, display_name="viewer", role=Role.VIEWER,
                          organisation_id=None)  # fmt: skip


def test_a_name_longer_than_allowed_gets_a_message_instead_of_vanishing(app_users):
    viewer = app_users[Role.VIEWER]
    at = run_page("pages/users.py", app_users[Role.ADMIN])
    at.selectbox(key="users_choose").select(viewer.id).run()
    at.text_input(key=f"user_name_{viewer.id}").input("长" * 80)
    next(b for b in at.button if b.label == t("common.save")).click().run()
    assert t("validation.too_long", max=50) in [e.value for e in at.error]
    assert at.text_input(key=f"user_name_{viewer.id}").value == "长" * 80
