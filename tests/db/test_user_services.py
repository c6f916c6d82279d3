"""Accounts on both databases: the first admin with the setup token, passwords, roles."""

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, Setting, User
from db.services import users
from db.services.settings import SETUP_TOKEN_HASH
from domain.errors import PermissionDenied, ValidationError
from domain.roles import ANONYMOUS, Role
from tests.conftest import attempt_login as login


def user_count(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def first_admin(session, token, **overrides):
    values = {
        "username": "root",
        "display_name": "管理员",
        "password": "long enough pass",
        "password_repeat": "long enough pass",
    }
    values.update(overrides)
    return users.create_first_admin(session=session, actor=ANONYMOUS, token=token, **values)


def test_the_setup_token_creates_the_first_admin_once(session):
    token = users.issue_setup_token(session=session)
    user_id = first_admin(session, token)
    info = users.get_active_user(session=session, username="root")
    assert info.id == user_id and info.role is Role.ADMIN
    assert session.scalar(select(Setting.value).where(Setting.key == SETUP_TOKEN_HASH)) is None
    with pytest.raises(ValidationError, match="setup_done"):
        first_admin(session, token, username="second")
    assert users.issue_setup_token(session=session) is None
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.create")) == 1


def test_neither_the_setup_token_nor_its_hash_reaches_the_audit_log(session):
    tokens = [users.issue_setup_token(session=session) for _ in range(2)]
    stored = session.scalar(select(Setting.value).where(Setting.key == SETUP_TOKEN_HASH))
    assert all(token not in str(stored) for token in tokens)
    first_admin(session, tokens[1])
    entries = session.execute(select(AuditEntry.before, AuditEntry.after)).all()
    assert entries, "the writes left audit entries"
    for entry in entries:
        text = str(entry.before) + str(entry.after)
        assert all(token not in text for token in tokens)
        assert all(digest not in text for digest in stored)


def test_a_wrong_setup_token_creates_nothing(session):
    users.issue_setup_token(session=session)
    with pytest.raises(ValidationError) as err:
        first_admin(session, "guessed-token")
    assert (err.value.field, err.value.key) == ("token", "validation.setup_token_wrong")
    assert user_count(session) == 0


def test_tokens_printed_by_recent_starts_stay_valid_until_the_first_admin_exists(session):
    tokens = [users.issue_setup_token(session=session) for _ in range(users.MAX_SETUP_TOKENS + 1)]
    with pytest.raises(ValidationError, match="setup_token_wrong"):
        first_admin(session, tokens[0])  # the oldest has dropped out
    first_admin(session, tokens[1])
    with pytest.raises(ValidationError, match="setup_done"):
        first_admin(session, tokens[-1], username="second")


@pytest.mark.parametrize(
    ("overrides", "field", "key"),
    [
        ({"username": "Ab"}, "username", "validation.username_invalid"),
        ({"username": "<script>"}, "username", "validation.username_invalid"),
        ({"display_name": "  "}, "display_name", "validation.required"),
        ({"password": "short", "password_repeat": "short"}, "password", "validation.password_too_short"),
        ({"password_repeat": "something else"}, "password_repeat", "validation.password_mismatch"),
        (
            {"password": " padded pass ", "password_repeat": " padded pass "},
            "password",
            "validation.password_outer_space",
        ),
        ({"password": "绿" * 25, "password_repeat": "绿" * 25}, "password", "validation.password_too_long"),
    ],
)
def test_bad_first_admin_input_is_refused(session, overrides, field, key):
    token = users.issue_setup_token(session=session)
    with pytest.raises(ValidationError) as err:
        first_admin(session, token, **overrides)
    assert (err.value.field, err.value.key) == (field, key)
    assert user_count(session) == 0


def test_a_passphrase_of_72_bytes_works_and_has_no_20_character_cap(session):
    passphrase = "绿" * 24  # 72 UTF-8 bytes
    token = users.issue_setup_token(session=session)
    first_admin(session, token, password=passphrase, password_repeat=passphrase)
    assert login(session, "root", passphrase) is not None
    long_ascii = "correct horse battery staple " * 2
    long_ascii = long_ascii.strip()
    assert len(long_ascii) > 20
    admin = users.get_active_user(session=session, username="root").actor()
    users.create_user(
        session=session,
        actor=admin,
        username="staff",
        display_name="秘书处",
        password=long_ascii,
        role=Role.SECRETARIAT,
    )
    assert login(session, "staff", long_ascii).role is Role.SECRETARIAT


def test_authentication_refuses_wrong_passwords_unknown_users_and_is_case_insensitive_on_names(session, admin):
    assert login(session, "ROOT ", "first admin pass").username == "root"
    assert login(session, "root", "wrong password") is None
    assert login(session, "nobody", "first admin pass") is None
    assert login(session, "root", "x" * 100) is None


def test_a_council_account_needs_a_unit(session, admin):
    with pytest.raises(ValidationError) as err:
        users.create_user(
            session=session,
            actor=admin,
            username="lishi",
            display_name="理事",
            password="password 123",
            role=Role.COUNCIL,
        )
    assert err.value.key == "validation.council_needs_unit"


def test_usernames_are_unique_ignoring_case(session, admin):
    with pytest.raises(ValidationError, match="username_taken"):
        users.create_user(
            session=session,
            actor=admin,
            username="ROOT",
            display_name="x",
            password="password 123",
            role=Role.VIEWER,
        )


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER])
def test_only_an_admin_creates_accounts(session, make_actor, role):
    actor = make_actor(role)
    count = user_count(session)
    with pytest.raises(PermissionDenied):
        users.create_user(
            session=session,
            actor=actor,
            username="newbie",
            display_name="x",
            password="password 123",
            role=Role.ADMIN,
        )
    assert user_count(session) == count


def test_anonymous_visitors_cannot_create_accounts(session):
    with pytest.raises(PermissionDenied):
        users.create_user(
            session=session,
            actor=ANONYMOUS,
            username="intruder",
            display_name="x",
            password="password 123",
            role=Role.ADMIN,
        )
