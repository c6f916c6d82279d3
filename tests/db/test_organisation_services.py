"""Organisation services on both databases: validation, duplicates, versions, masking, audit."""

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, Organisation
from db.services import audit, organisations
from domain.errors import PermissionDenied, StaleRecord, ValidationError
from domain.roles import Role
from tests.conftest import TODAY, org_input


def org_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Organisation))


def test_secretariat_enters_an_organisation_and_an_audit_entry_records_it(session, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    before = org_count(session)
    org_id = organisations.create_organisation(session=session, actor=staff, data=org_input(), today=TODAY)
    assert org_count(session) == before + 1
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.record_type == "organisation", AuditEntry.record_id == str(org_id))
    ).scalar_one()
    assert entry.user_id == staff.user_id and entry.action == "organisation.create"
    assert entry.after["name"] == "杭州市环保志愿者协会" and entry.after["phone"] == "+8613800138000"


def test_identifiers_are_stored_normalised(session, admin):
    org_id = organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=org_input(credit_code=" ９１１１００００８０２１００４３３ｂ ", phone="138-0013-8000"),
    )
    row = session.get(Organisation, org_id)
    assert row.credit_code == "91110000802100433B" and row.phone == "+8613800138000"


@pytest.mark.parametrize("variant", ["杭州市 环保志愿者协会", " 杭州市环保志愿者协会　", "杭州市环保\u200b志愿者协会"])
def test_a_duplicate_name_is_refused_even_with_other_spacing(session, admin, variant):
    organisations.create_organisation(session=session, actor=admin, data=org_input(), today=TODAY)
    count = org_count(session)
    with pytest.raises(ValidationError) as err:
        organisations.create_organisation(
            session=session,
            actor=admin,
            data=org_input(variant, kind="volunteer_team", credit_code=""),
            today=TODAY,
        )
    assert err.value.key == "validation.duplicate_name" and err.value.field == "name"
    assert org_count(session) == count


def test_full_width_letters_in_a_name_count_as_duplicates(session, admin):
    organisations.create_organisation(session=session, actor=admin, data=org_input("ABC绿色联盟"), today=TODAY)
    with pytest.raises(ValidationError, match="duplicate_name"):
        organisations.create_organisation(
            session=session,
            actor=admin,
            data=org_input("ＡＢＣ绿色联盟", kind="volunteer_team", credit_code=""),
            today=TODAY,
        )


def test_a_credit_code_used_by_another_unit_is_refused(session, admin):
    organisations.create_organisation(session=session, actor=admin, data=org_input(), today=TODAY)
    with pytest.raises(ValidationError) as err:
        organisations.create_organisation(session=session, actor=admin, data=org_input("另一家单位"), today=TODAY)
    assert err.value.key == "validation.duplicate_credit_code"


@pytest.mark.parametrize(
    ("overrides", "field", "key"),
    [
        ({"name": "   "}, "name", "validation.required"),
        ({"name": "长" * 101}, "name", "validation.too_long"),
        ({"credit_code": "91110000802100433A"}, "credit_code", "validation.credit_code_invalid"),
        ({"credit_code": ""}, "credit_code", "validation.credit_code_required"),
        ({"phone": "12345"}, "phone", "validation.phone_invalid"),
        ({"phone": "+1 202 555 0100"}, "phone", "validation.phone_invalid"),
        ({"email": "not-an-email"}, "email", "validation.email_invalid"),
        ({"website": "javascript:alert(1)"}, "website", "validation.website_invalid"),
        ({"kind": "<script>"}, "kind", "validation.choice"),
        ({"province": "'; DROP TABLE organisations; --"}, "province", "validation.choice"),
        ({"contact_person": "王\x00芳"}, "contact_person", "validation.control_characters"),
    ],
)
def test_bad_input_is_refused_with_a_field_message_and_nothing_written(session, admin, overrides, field, key):
    count, audits = org_count(session), audit.count_entries(session=session)
    with pytest.raises(ValidationError) as err:
        organisations.create_organisation(session=session, actor=admin, data=org_input(**overrides), today=TODAY)
    assert (err.value.field, err.value.key) == (field, key)
    assert org_count(session) == count and audit.count_entries(session=session) == audits


def test_a_volunteer_team_may_have_no_credit_code(session, admin):
    org_id = organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=org_input("某大学绿色志愿服务队", kind="volunteer_team", credit_code=""),
    )
    assert session.get(Organisation, org_id).credit_code is None


def test_html_and_emoji_are_stored_as_typed(session, admin):
    name = "<b>绿色</b>🌱志愿队"
    org_id = organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )
    assert session.get(Organisation, org_id).name == name


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_council_and_viewer_cannot_enter_organisations(session, make_actor, role):
    actor = make_actor(role)
    count = org_count(session)
    with pytest.raises(PermissionDenied):
        organisations.create_organisation(session=session, actor=actor, data=org_input("新单位"), today=TODAY)
    assert org_count(session) == count


def test_a_stale_edit_is_refused_and_the_first_save_kept(session, admin):
    org_id = organisations.create_organisation(session=session, actor=admin, data=org_input(), today=TODAY)
    organisations.update_organisation(
        session=session,
        actor=admin,
        organisation_id=org_id,
        expected_version=1,
        data=org_input(city="宁波"),
        today=TODAY,
    )
    with pytest.raises(StaleRecord):
        organisations.update_organisation(
            session=session,
            actor=admin,
            organisation_id=org_id,
            expected_version=1,
            data=org_input(city="温州"),
            today=TODAY,
        )
    session.expire_all()
    row = session.get(Organisation, org_id)
    assert (row.city, row.version) == ("宁波", 2)
    changes = session.execute(
        select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action == "organisation.update")
    ).all()
    assert [(c.before, c.after) for c in changes] == [({"city": "杭州"}, {"city": "宁波"})]


def test_viewers_never_receive_contact_data(session, admin, make_actor):
    organisations.create_organisation(session=session, actor=admin, data=org_input(), today=TODAY)
    viewer, council = make_actor(Role.VIEWER), make_actor(Role.COUNCIL)
    seen_by_viewer, _ = organisations.list_organisations(session=session, actor=viewer, search="杭州")
    seen_by_council, _ = organisations.list_organisations(session=session, actor=council, search="杭州")
    assert seen_by_viewer[0].phone is None and seen_by_viewer[0].contact_person is None
    assert seen_by_viewer[0].email is None and seen_by_viewer[0].address is None
    assert seen_by_council[0].phone == "+8613800138000"


def test_listing_filters_and_counts_in_sql(session, admin):
    for i, province in enumerate(["浙江", "浙江", "北京"]):
        organisations.create_organisation(
            session=session,
            actor=admin,
            today=TODAY,
            data=org_input(f"单位{i}", province=province, kind="volunteer_team", credit_code="", city="某市"),
        )
    rows, total = organisations.list_organisations(session=session, actor=admin, province="浙江")
    assert total == 2 and {r.province for r in rows} == {"浙江"}
    rows, total = organisations.list_organisations(session=session, actor=admin, search="单位", limit=2)
    assert total == 3 and len(rows) == 2


def test_the_home_page_asks_staff_to_record_the_secretariat_unit(session, admin, make_actor):
    from db.services.todos import collect_todos

    assert [i.key for i in collect_todos(session=session, actor=admin)] == ["todo.secretariat_unit_missing"]
    assert collect_todos(session=session, actor=make_actor(Role.VIEWER)) == []
    organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=org_input("生态环境部宣传教育中心", kind="government", province="全国", is_secretariat=True),
    )
    assert collect_todos(session=session, actor=admin) == []
