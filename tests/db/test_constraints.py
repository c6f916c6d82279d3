"""The database itself refuses bad rows, whatever code (or person with a SQL prompt) writes them."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


@pytest.fixture(autouse=True)
def raw_sql_on_purpose():
    """These tests write raw SQL past the services on purpose, to prove the database itself refuses."""
    from db.services.access import write_scope

    with write_scope("test: raw SQL"):
        yield


GOOD_ORG = {
    "name": "示例单位",
    "name_key": "示例单位",
    "kind": "social",
    "province": "北京",
    "city": "",
    "credit_code": None,
    "contact_person": "",
    "phone": "",
    "email": "",
    "address": "",
    "website": "",
    "description": "",
    "batch": "",
    "status": "member",
    "is_secretariat": False,
    "version": 1,
}
ORG_SQL = text(
    "INSERT INTO organisations (name, name_key, kind, province, city, credit_code, contact_person, phone, email,"
    " address, website, description, batch, status, is_secretariat, version, created_at, updated_at) VALUES (:name,"
    " :name_key, :kind, :province, :city, :credit_code, :contact_person, :phone, :email, :address, :website,"
    " :description, :batch, :status, :is_secretariat, :version, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
)
USER_SQL = text(
    "INSERT INTO users (username, display_name, password_hash, role, organisation_id, is_active, version,"
    " created_at, updated_at) VALUES (:username, 'x', 'x', :role, :organisation_id, :is_active, :version,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def insert_org(session, **overrides):
    return session.execute(ORG_SQL, {**GOOD_ORG, **overrides}).scalar_one()


def refused(session, statement, params):
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(statement, params)


def test_a_good_organisation_row_is_accepted(session):
    assert insert_org(session) > 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "club"},
        {"province": "台北市"},
        {"status": "deleted"},
        {"credit_code": "SHORT"},
        {"name": "", "name_key": ""},
        {"version": 0},
    ],
    ids=["kind", "province", "status", "credit_code_length", "empty_name", "version"],
)
def test_an_organisation_row_breaking_a_check_is_refused(session, overrides):
    refused(session, ORG_SQL, {**GOOD_ORG, **overrides})


def test_two_organisations_cannot_share_a_normalised_name(session):
    insert_org(session)
    refused(session, ORG_SQL, {**GOOD_ORG, "name": "示例 单位"})


def test_two_organisations_cannot_share_a_credit_code(session):
    insert_org(session, credit_code="91110000802100433B")
    refused(session, ORG_SQL, {**GOOD_ORG, "name_key": "另一个", "credit_code": "91110000802100433B"})


def test_many_organisations_may_have_no_credit_code(session):
    insert_org(session, name_key="a")
    insert_org(session, name_key="b")


GOOD_USER = {
    "username": "someone",
    "role": "viewer",
    "organisation_id": None,
    "is_active": True,
    "version": 1,
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "superuser"},
        {"username": "Someone"},
        {"username": "ab"},
        {"role": "council", "organisation_id": None},
        {"organisation_id": 987654},
        {"version": 0},
    ],
    ids=["role", "upper_case_username", "short_username", "council_without_unit", "unknown_unit", "version"],
)
def test_a_user_row_breaking_a_rule_is_refused(session, overrides):
    refused(session, USER_SQL, {**GOOD_USER, **overrides})


def test_usernames_are_unique(session):
    session.execute(USER_SQL, GOOD_USER)
    refused(session, USER_SQL, GOOD_USER)


def test_an_organisation_with_users_cannot_be_deleted(session):
    org_id = insert_org(session)
    session.execute(USER_SQL, {**GOOD_USER, "role": "council", "organisation_id": org_id})
    refused(session, text("DELETE FROM organisations WHERE id = :id"), {"id": org_id})


def test_audit_entries_need_an_action(session):
    refused(
        session,
        text("INSERT INTO audit_entries (at, username, action, record_type) VALUES (CURRENT_TIMESTAMP, '', '', 'x')"),
        {},
    )


def test_a_negative_failure_count_and_a_zero_setting_version_are_refused(session):
    session.execute(USER_SQL, GOOD_USER)
    refused(session, text("UPDATE users SET failed_attempts = -1 WHERE username = 'someone'"), {})
    refused(
        session,
        text("INSERT INTO settings (key, value, version, updated_at) VALUES ('k', '1', 0, CURRENT_TIMESTAMP)"),
        {},
    )
