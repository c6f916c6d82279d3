"""Accounts: the first admin, creating users, checking passwords. Roles live here, not in the login library."""

import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Any

import bcrypt
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Organisation, Setting, User
from db.services import audit
from db.services.access import requires
from db.services.settings import SETUP_TOKEN_HASH, get_setting, put_setting
from domain.errors import ValidationError
from domain.passwords import check_password, check_username
from domain.roles import ANONYMOUS, Actor, Role
from domain.text import clean_text, has_control_characters

MAX_DISPLAY_NAME = 50
SYSTEM = Actor(user_id=None, username="system", role=None)


@dataclass(frozen=True)
class UserInfo:
    """What the app needs to know about a signed-in user."""

    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    is_active: bool

    def actor(self) -> Actor:
        return Actor(user_id=self.id, username=self.username, role=self.role, organisation_id=self.organisation_id)


def _rounds() -> int:
    # Tests lower the cost; production keeps bcrypt's default of 12.
    return max(4, min(15, int(os.environ.get("BCRYPT_ROUNDS", "12"))))


def hash_password(password: str) -> str:
    """A bcrypt hash of the password (at most 72 UTF-8 bytes, checked before)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=_rounds())).decode("ascii")


@functools.cache
def _dummy_hash() -> bytes:
    return hash_password(secrets.token_urlsafe(16)).encode("ascii")


def _password_matches(password: str, password_hash: str | None) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > 72:
        return False
    if password_hash is None:
        # An unknown user costs the same time as a wrong password, so timing does not reveal usernames.
        bcrypt.checkpw(encoded, _dummy_hash())
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


def _user_info_query() -> Select[int, str, str, str, int | None, str, bool]:
    return select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.organisation_id,
        Organisation.name.label("organisation_name"),
        User.is_active,
    ).outerjoin(Organisation, Organisation.id == User.organisation_id)


def _to_info(row: Any) -> UserInfo:
    return UserInfo(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        is_active=bool(row.is_active),
    )


def count_users(*, session: Session) -> int:
    """How many accounts exist (0 means the first-run page is shown)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def get_active_user(*, session: Session, username: str) -> UserInfo | None:
    """The active user with this username, or None."""
    row = session.execute(
        _user_info_query().where(User.username == username.strip().lower(), User.is_active.is_(True))
    ).first()
    return _to_info(row) if row else None


def authenticate(*, session: Session, username: str, password: str) -> UserInfo | None:
    """The user if the username and password match an active account, else None (same time either way)."""
    key = username.strip().lower()
    row = session.execute(select(User.password_hash).where(User.username == key, User.is_active.is_(True))).first()
    if not _password_matches(password, row.password_hash if row else None):
        return None
    return get_active_user(session=session, username=key)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def issue_setup_token(*, session: Session) -> str | None:
    """On a database with no account, make a new one-time setup token (only its hash is stored)."""
    if count_users(session=session) > 0:
        return None
    token = secrets.token_urlsafe(24)
    version = int(session.scalar(select(Setting.version).where(Setting.key == SETUP_TOKEN_HASH)) or 0)
    put_setting(
        session=session,
        actor=SYSTEM,
        key=SETUP_TOKEN_HASH,
        value=_token_digest(token),
        expected_version=version,
    )
    return token


def _check_display_name(display_name: str) -> str:
    name = clean_text(display_name)
    if not name:
        raise ValidationError("validation.required", field="display_name")
    if len(name) > MAX_DISPLAY_NAME:
        raise ValidationError("validation.too_long", field="display_name", max=MAX_DISPLAY_NAME)
    if has_control_characters(name):
        raise ValidationError("validation.control_characters", field="display_name")
    return name


def _insert_user(
    *,
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    organisation_id: int | None,
) -> int:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError("validation.username_taken", field="username")
    if role is Role.COUNCIL and organisation_id is None:
        raise ValidationError("validation.council_needs_unit", field="organisation_id")
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise ValidationError("validation.choice", field="organisation_id")
    try:
        with session.begin_nested():
            user_id = session.execute(
                insert(User)
                .values(
                    username=username,
                    display_name=display_name,
                    password_hash=hash_password(password),
                    role=role.value,
                    organisation_id=organisation_id,
                    is_active=True,
                )
                .returning(User.id)
            ).scalar_one()
    except IntegrityError as exc:  # a concurrent insert of the same username
        raise ValidationError("validation.username_taken", field="username") from exc
    who = actor if actor.user_id is not None else Actor(user_id=user_id, username=username, role=role)
    audit.record(
        session=session,
        actor=who,
        action="user.create",
        record_type="user",
        record_id=user_id,
        after={
            "username": username,
            "display_name": display_name,
            "role": role.value,
            "organisation_id": organisation_id,
            "is_active": True,
        },
    )
    return int(user_id)


@requires(public=True)
def create_first_admin(
    *,
    session: Session,
    actor: Actor,
    token: str,
    username: str,
    display_name: str,
    password: str,
    password_repeat: str,
) -> int:
    """Create the first administrator on an empty database, given the setup token from the server log."""
    del actor  # anonymous by nature: the token is the credential
    stored = get_setting(session=session, key=SETUP_TOKEN_HASH)
    if count_users(session=session) > 0 or not stored:
        raise ValidationError("validation.setup_done", field="token")
    if not hmac.compare_digest(str(stored), _token_digest(token)):
        raise ValidationError("validation.setup_token_wrong", field="token")
    name = check_username(username)
    shown = _check_display_name(display_name)
    check_password(password, password_repeat)
    user_id = _insert_user(
        session=session,
        actor=ANONYMOUS,
        username=name,
        display_name=shown,
        password=password,
        role=Role.ADMIN,
        organisation_id=None,
    )
    session.execute(delete(Setting).where(Setting.key == SETUP_TOKEN_HASH))
    return user_id


@requires(Role.ADMIN)
def create_user(
    *,
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    role: Role | str,
    organisation_id: int | None = None,
) -> int:
    """Create an account with a role (and, for council users, their unit)."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError("validation.choice", field="role") from exc
    return _insert_user(
        session=session,
        actor=actor,
        username=check_username(username),
        display_name=_check_display_name(display_name),
        password=check_password(password),
        role=role,
        organisation_id=organisation_id,
    )
