"""Every registered write service leaves an audit entry and raises the data-version stamp."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, User
from db.services import council, data_version, organisations, settings, users
from db.services.access import WRITE_SERVICES
from domain.auth_policy import LoginPolicy
from domain.roles import ANONYMOUS, Role
from tests.conftest import TODAY, org_input

NOW = datetime.now(UTC)
# Session bookkeeping, not record changes: the login reservation (its entry comes from finish_login) and the
# once-a-minute activity note.
NOT_AUDITED = {"db.services.users.begin_login", "db.services.users.touch_activity"}


def _org(s, admin, name="某大学绿色志愿服务队"):
    return organisations.create_organisation(
        session=s, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )


def _term(s, admin):
    session_id = council.create_session(session=s, actor=admin, starts_on=TODAY - timedelta(days=10))
    return council.seat_term(session=s, actor=admin, session_id=session_id, seat=1, organisation_id=_org(s, admin),
                             source="invited")  # fmt: skip


def _version(s, user_id):
    return s.scalar(select(User.version).where(User.id == user_id))


CASES = {
    "db.services.organisations.create_organisation": lambda s, a, v: _org(s, a, "新单位"),
    "db.services.organisations.update_organisation": None,  # set up below (needs a record first)
    "db.services.settings.set_setting": lambda s, a, v: settings.set_setting(
        session=s, actor=a, key="intake_open", value=True, expected_version=0
    ),
    "db.services.council.create_session": lambda s, a, v: council.create_session(session=s, actor=a, starts_on=TODAY),
    "db.services.council.seat_term": None,
    "db.services.council.end_term_early": None,
    "db.services.users.create_user": lambda s, a, v: users.create_user(
        session=s, actor=a, username="newbie", display_name="x", password="password 123", role=Role.VIEWER
    ),
    "db.services.users.update_user": lambda s, a, v: users.update_user(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), display_name="改名",
        role=Role.VIEWER, organisation_id=None,
    ),
    "db.services.users.set_active": lambda s, a, v: users.set_active(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), active=False
    ),
    "db.services.users.unlock_user": lambda s, a, v: users.unlock_user(session=s, actor=a, user_id=v.user_id),
    "db.services.users.reset_password": lambda s, a, v: users.reset_password(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), new_password="temporary 1"
    ),
    "db.services.users.change_own_password": lambda s, a, v: users.change_own_password(
        session=s, actor=v, current="password 123", new="another pass 1", repeat="another pass 1", now=NOW
    ),
    "db.services.users.count_wrong_current_password": lambda s, a, v: users.count_wrong_current_password(
        session=s, actor=v, policy=LoginPolicy(), now=NOW
    ),
    "db.services.users.logout": lambda s, a, v: users.logout(session=s, actor=v, now=NOW),
    "db.services.users.create_first_admin": None,
    "db.services.users.finish_login": lambda s, a, v: users.finish_login(
        session=s, actor=ANONYMOUS, matched=False, now=NOW,
        ticket=users.begin_login(session=s, actor=ANONYMOUS, username=v.username, policy=LoginPolicy(), now=NOW),
    ),
}  # fmt: skip


def _prepared(name, s, a):
    if name == "db.services.organisations.update_organisation":
        org_id = _org(s, a)
        return lambda s, a, v: organisations.update_organisation(
            session=s, actor=a, organisation_id=org_id, expected_version=1, today=TODAY,
            data=org_input("某大学绿色志愿服务队", kind="volunteer_team", credit_code="", city="宁波"),
        )  # fmt: skip
    if name == "db.services.council.seat_term":
        session_id = council.create_session(session=s, actor=a, starts_on=TODAY - timedelta(days=10))
        org_id = _org(s, a)
        return lambda s, a, v: council.seat_term(
            session=s, actor=a, session_id=session_id, seat=2, organisation_id=org_id, source="invited"
        )
    if name == "db.services.council.end_term_early":
        term_id = _term(s, a)
        return lambda s, a, v: council.end_term_early(
            session=s, actor=a, term_id=term_id, expected_version=1, ends_on=TODAY, reason="辞任"
        )
    return CASES[name]


def test_the_table_names_every_registered_write():
    registered = {n for n in WRITE_SERVICES if n.startswith("db.services.")}
    assert registered - NOT_AUDITED == set(CASES)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n != "db.services.users.create_first_admin"))
def test_each_write_leaves_an_audit_entry_and_raises_the_stamp(session, admin, make_actor, name):
    viewer = make_actor(Role.VIEWER)
    call = _prepared(name, session, admin)
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    stamp = data_version.stamp(session=session)
    call(session, admin, viewer)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) > entries
    assert data_version.stamp(session=session) > stamp


def test_creating_the_first_admin_is_audited(session):
    token = users.issue_setup_token(session=session)
    users.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="root", display_name="x",
                             password="password 123", password_repeat="password 123")  # fmt: skip
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "user.create")) == "user.create"
