"""Throttle, revocation, passwords and the administrator's actions, on both databases."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import AuditEntry, User
from db.services import users
from domain.auth_policy import LoginPolicy
from domain.errors import StaleRecord, ValidationError
from domain.roles import Role
from tests.conftest import attempt_login

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
POLICY = LoginPolicy()
PASSWORD = "first admin pass"


def fail(session, times, start=T0, username="root"):
    for i in range(times):
        assert attempt_login(session, username, "wrong guess", now=start + timedelta(seconds=i)) is None


def actions(session, user_id):
    return session.scalars(
        select(AuditEntry.action).where(AuditEntry.record_type == "user", AuditEntry.record_id == str(user_id))
    ).all()


def test_five_failures_lock_the_account_even_against_the_right_password(session, admin):
    fail(session, 4)
    assert attempt_login(session, "root", PASSWORD, now=T0 + timedelta(seconds=5)) is not None  # resets the count
    fail(session, 5, start=T0 + timedelta(seconds=10))
    assert attempt_login(session, "root", PASSWORD, now=T0 + timedelta(minutes=5)) is None
    assert attempt_login(session, "root", PASSWORD, now=T0 + timedelta(minutes=16)) is not None
    log = actions(session, admin.user_id)
    assert log.count("user.login_failed") == 8 and log.count("user.locked") == 1
    assert log.count("user.login") == 2, "a locked account's right password was never checked"


def test_an_admin_unlocks_a_locked_account(session, admin, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    fail(session, 5, username=staff.username)
    assert attempt_login(session, staff.username, "password 123", now=T0 + timedelta(minutes=1)) is None
    users.unlock_user(session=session, actor=admin, user_id=staff.user_id)
    assert attempt_login(session, staff.username, "password 123", now=T0 + timedelta(minutes=1)) is not None


def test_unknown_users_cannot_be_locked_and_get_the_same_answer(session, admin):
    for i in range(6):
        assert attempt_login(session, "nobody", PASSWORD, now=T0 + timedelta(seconds=i)) is None
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.username == "nobody")) is None


def test_an_unknown_user_costs_the_same_bcrypt_work_as_a_wrong_password(session, admin, monkeypatch):
    """Wall-clock comparisons are flaky on a shared machine; the work done is not: both answers run one real
    bcrypt check of the same cost."""
    import bcrypt

    from db.services.users import hash_password

    real_check = bcrypt.checkpw
    costs: list[bytes] = []

    def counting_check(password: bytes, hashed: bytes) -> bool:
        costs.append(hashed[:7])  # b"$2b$04$": the algorithm and its cost
        return real_check(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_check)
    users._dummy_hash.cache_clear()
    try:
        assert attempt_login(session, "root", "not the password", now=T0) is None
        assert attempt_login(session, "nobody-here", "not the password", now=T0) is None
    finally:
        users._dummy_hash.cache_clear()
    expected_cost = hash_password("anything")[:7].encode()
    assert costs == [expected_cost, expected_cost]


def test_logout_ends_sessions_that_began_before_it(session, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    info = attempt_login(session, staff.username, "password 123", now=T0)
    users.logout(session=session, actor=staff, now=T0 + timedelta(minutes=5))
    after = users.get_active_user(session=session, username=staff.username)
    assert not users.session_still_valid(user=after, logged_in_at=T0, now=T0 + timedelta(minutes=6), policy=POLICY)
    assert users.session_still_valid(
        user=after, logged_in_at=T0 + timedelta(minutes=7), now=T0 + timedelta(minutes=8), policy=POLICY
    )
    assert info is not None and "user.logout" in actions(session, staff.user_id)


def test_deactivation_and_reset_end_the_users_sessions(session, admin, make_actor):
    viewer = make_actor(Role.VIEWER)
    row = session.get(User, viewer.user_id)
    before = datetime.now(UTC) - timedelta(seconds=1)
    users.reset_password(session=session, actor=admin, user_id=viewer.user_id, expected_version=row.version,
                         new_password="temporary 2026")  # fmt: skip
    info = users.get_active_user(session=session, username=viewer.username)
    assert info.must_change_password
    assert not users.session_still_valid(user=info, logged_in_at=before, now=datetime.now(UTC), policy=POLICY)
    session.expire_all()
    users.set_active(session=session, actor=admin, user_id=viewer.user_id,
                     expected_version=session.get(User, viewer.user_id).version, active=False)  # fmt: skip
    assert users.get_active_user(session=session, username=viewer.username) is None
    assert attempt_login(session, viewer.username, "temporary 2026") is None


def test_a_forced_change_is_cleared_by_choosing_a_new_password(session, admin, make_actor):
    council = make_actor(Role.COUNCIL)
    assert users.get_active_user(session=session, username=council.username).must_change_password
    with pytest.raises(ValidationError) as err:
        users.change_own_password(session=session, actor=council, current="wrong", new="new password 1",
                                  repeat="new password 1", now=T0)  # fmt: skip
    assert err.value.field == "current_password"
    with pytest.raises(ValidationError, match="password_unchanged"):
        users.change_own_password(session=session, actor=council, current="password 123", new="password 123",
                                  repeat="password 123", now=T0)  # fmt: skip
    users.change_own_password(session=session, actor=council, current="password 123", new="新的长密码 2026",
                              repeat="新的长密码 2026", now=T0)  # fmt: skip
    assert not users.get_active_user(session=session, username=council.username).must_change_password
    assert attempt_login(session, council.username, "新的长密码 2026") is not None


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(session, admin):
    version = session.get(User, admin.user_id).version
    with pytest.raises(ValidationError, match="last_admin"):
        users.set_active(session=session, actor=admin, user_id=admin.user_id, expected_version=version, active=False)
    with pytest.raises(ValidationError, match="last_admin"):
        users.update_user(session=session, actor=admin, user_id=admin.user_id, expected_version=version,
                          display_name="管理员", role=Role.VIEWER, organisation_id=None)  # fmt: skip
    second = users.create_user(session=session, actor=admin, username="admin2", display_name="管理员二",
                               password="password 123", role=Role.ADMIN)  # fmt: skip
    users.set_active(session=session, actor=admin, user_id=second, expected_version=1, active=False)
    with pytest.raises(ValidationError, match="last_admin"):
        users.set_active(session=session, actor=admin, user_id=admin.user_id, expected_version=version, active=False)


def test_a_stale_account_edit_is_refused(session, admin, make_actor):
    viewer = make_actor(Role.VIEWER)
    users.update_user(session=session, actor=admin, user_id=viewer.user_id, expected_version=1, display_name="甲",
                      role=Role.VIEWER, organisation_id=None)  # fmt: skip
    with pytest.raises(StaleRecord):
        users.update_user(session=session, actor=admin, user_id=viewer.user_id, expected_version=1,
                          display_name="乙", role=Role.VIEWER, organisation_id=None)  # fmt: skip
    session.expire_all()
    assert session.get(User, viewer.user_id).display_name == "甲"


def test_parallel_guesses_on_postgresql_get_no_more_password_checks_than_the_limit(fresh_engine, backend):
    """Attempts reserve their slot before bcrypt: a burst of guesses cannot outrun the counter."""
    import threading

    from db.engine import transaction
    from db.migrate import upgrade_to_head
    from domain.roles import ANONYMOUS

    upgrade_to_head(fresh_engine)
    with transaction(write=True, engine=fresh_engine) as session:
        token = users.issue_setup_token(session=session)
        users.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="victim",
                                 display_name="x", password=PASSWORD, password_repeat=PASSWORD)  # fmt: skip
    checked, lock = [], threading.Lock()

    def guess(password):
        with transaction(write=True, engine=fresh_engine) as session:
            ticket = users.begin_login(session=session, actor=ANONYMOUS, username="victim", policy=POLICY, now=T0)
        if ticket is not None:
            with lock:
                checked.append(password)
        matched = users.password_matches(ticket, password)
        with transaction(write=True, engine=fresh_engine) as session:
            users.finish_login(session=session, actor=ANONYMOUS, ticket=ticket, matched=matched, now=T0)

    threads = [threading.Thread(target=guess, args=(f"guess {i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(checked) == POLICY.max_failures
    with transaction(engine=fresh_engine) as session:
        assert attempt_login(session, "victim", PASSWORD, now=T0 + timedelta(minutes=1)) is None


def test_guessing_the_current_password_on_the_account_page_locks_and_ends_the_session(session, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    for i in range(POLICY.max_failures - 1):
        assert not users.count_wrong_current_password(
            session=session, actor=staff, policy=POLICY, now=T0 + timedelta(seconds=i)
        )
    assert users.count_wrong_current_password(
        session=session, actor=staff, policy=POLICY, now=T0 + timedelta(seconds=9)
    )
    info = users.get_active_user(session=session, username=staff.username)
    assert not users.session_still_valid(user=info, logged_in_at=T0, now=T0 + timedelta(seconds=10), policy=POLICY)
    assert attempt_login(session, staff.username, "password 123", now=T0 + timedelta(minutes=1)) is None


def test_a_reactivated_account_does_not_revive_sessions_from_before_its_deactivation(session, admin, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    logged_in = datetime.now(UTC) - timedelta(minutes=1)
    users.set_active(session=session, actor=admin, user_id=staff.user_id, expected_version=1, active=False)
    users.set_active(session=session, actor=admin, user_id=staff.user_id, expected_version=2, active=True)
    info = users.get_active_user(session=session, username=staff.username)
    assert info is not None
    assert not users.session_still_valid(user=info, logged_in_at=logged_in, now=datetime.now(UTC), policy=POLICY)


def test_activity_keeps_a_session_alive_and_eight_idle_hours_end_it(session, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    attempt_login(session, staff.username, "password 123", now=T0)
    users.touch_activity(session=session, actor=staff, now=T0 + timedelta(hours=7))
    info = users.get_active_user(session=session, username=staff.username)
    assert users.session_still_valid(user=info, logged_in_at=T0, now=T0 + timedelta(hours=9), policy=POLICY)
    assert not users.session_still_valid(
        user=info, logged_in_at=T0, now=T0 + timedelta(hours=15, seconds=1), policy=POLICY
    )


def test_an_admin_changes_role_and_unit_and_the_audit_shows_both(session, admin, make_actor):
    from db.services import organisations
    from tests.conftest import TODAY, org_input

    viewer = make_actor(Role.VIEWER)
    unit = organisations.create_organisation(session=session, actor=admin, today=TODAY, data=org_input())
    users.update_user(session=session, actor=admin, user_id=viewer.user_id, expected_version=1, display_name="新理事",
                      role=Role.COUNCIL, organisation_id=unit)  # fmt: skip
    row = session.get(User, viewer.user_id)
    session.refresh(row)
    assert (row.role, row.organisation_id, row.display_name) == ("council", unit, "新理事")
    entry = session.execute(select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action == "user.update")).one()
    assert entry.before["role"] == "viewer" and entry.after == {"display_name": "新理事", "role": "council",
                                                                "organisation_id": unit}  # fmt: skip
