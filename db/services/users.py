"""Accounts: the first admin, creating users, checking passwords. Roles live here, not in the login library."""

import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt
from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import CouncilTerm, Organisation, Setting, User
from db.services import audit
from db.services._versioned import versioned_update
from db.services.access import internal_write, requires
from db.services.settings import SETUP_TOKEN_HASH, get_setting, put_setting
from domain.auth_policy import FailureState, LoginPolicy, after_failure, is_locked, session_is_valid
from domain.clock import today
from domain.errors import NotFound, ValidationError
from domain.organisations import OrgStatus
from domain.passwords import check_password, check_username
from domain.roles import ANONYMOUS, Actor, Role
from domain.text import clean_text, has_control_characters

MAX_DISPLAY_NAME = 50
MAX_SETUP_TOKENS = 5
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
    must_change_password: bool = False
    sessions_not_before: datetime | None = None
    last_activity_at: datetime | None = None
    council_active: bool = True

    @property
    def effective_role(self) -> Role:
        """The role that decides rights: a council user whose unit holds no active term has no council rights."""
        if self.role is Role.COUNCIL and not self.council_active:
            return Role.VIEWER
        return self.role

    def actor(self) -> Actor:
        return Actor(
            user_id=self.id, username=self.username, role=self.effective_role, organisation_id=self.organisation_id
        )


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


def _user_info_query() -> Select[Any]:
    active_term = (
        select(CouncilTerm.id)
        .where(
            CouncilTerm.organisation_id == User.organisation_id,
            CouncilTerm.starts_on <= today(),
            today() < CouncilTerm.ends_on,
        )
        .exists()
    )
    return select(  # type: ignore[return-value]
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.organisation_id,
        Organisation.name.label("organisation_name"),
        User.is_active,
        User.must_change_password,
        User.sessions_not_before,
        User.last_activity_at,
        # Council rights follow an active term of a unit that is still a member (not suspended, not left).
        and_(active_term, Organisation.status == OrgStatus.MEMBER.value).label("council_active"),
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
        must_change_password=bool(row.must_change_password),
        sessions_not_before=row.sessions_not_before,
        last_activity_at=row.last_activity_at,
        council_active=bool(row.council_active),
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


@dataclass(frozen=True)
class LoginTicket:
    """A login attempt reserved against the throttle, to be finished after the password check."""

    user_id: int
    username: str
    password_hash: str
    locked_by_this_attempt: bool


@requires(public=True)
def begin_login(
    *, session: Session, actor: Actor, username: str, policy: LoginPolicy, now: datetime
) -> LoginTicket | None:
    """Reserve one attempt: count it as a failure before the password is checked, so parallel guesses can
    never exceed the limit. None for an unknown, inactive or locked account (no password check allowed)."""
    del actor  # anonymous by nature
    key = username.strip().lower()
    row = session.execute(
        select(User.id, User.password_hash, User.failed_attempts, User.failed_window_start, User.locked_until)
        .where(User.username == key, User.is_active.is_(True))
        .with_for_update()  # PostgreSQL: attempts on one account queue here; SQLite: BEGIN IMMEDIATE does it
    ).first()
    if row is None:
        return None
    state = FailureState(row.failed_attempts, row.failed_window_start, row.locked_until)
    if is_locked(state, now):
        return None
    new = after_failure(state, now, policy)
    session.execute(
        update(User)
        .where(User.id == row.id)
        .values(
            failed_attempts=new.failed_attempts, failed_window_start=new.window_start, locked_until=new.locked_until
        )
    )
    return LoginTicket(
        user_id=row.id,
        username=key,
        password_hash=row.password_hash,
        locked_by_this_attempt=new.locked_until is not None,
    )


def password_matches(ticket: LoginTicket | None, password: str) -> bool:
    """The bcrypt check, run outside any transaction; an unknown user costs the same (a dummy hash)."""
    return _password_matches(password, ticket.password_hash if ticket else None)


@requires(public=True)
def finish_login(
    *, session: Session, actor: Actor, ticket: LoginTicket | None, matched: bool, now: datetime
) -> UserInfo | None:
    """Record the outcome: a match clears the reserved failure and signs in; a miss stays counted."""
    del actor
    if ticket is None:
        return None
    who = Actor(user_id=ticket.user_id, username=ticket.username, role=None)
    if not matched:
        action = "user.locked" if ticket.locked_by_this_attempt else "user.login_failed"
        audit.record(session=session, actor=who, action=action, record_type="user", record_id=ticket.user_id)
        return None
    session.execute(
        update(User)
        .where(User.id == ticket.user_id)
        .values(failed_attempts=0, failed_window_start=None, locked_until=None, last_activity_at=now)
    )
    audit.record(session=session, actor=who, action="user.login", record_type="user", record_id=ticket.user_id)
    return get_active_user(session=session, username=ticket.username)


def login_attempt(
    *, session: Session, actor: Actor, username: str, password: str, policy: LoginPolicy, now: datetime
) -> UserInfo | None:
    """The three steps of a login on one session (scripts and tests); the login form runs each step in its
    own transaction so that no lock is held during bcrypt."""
    ticket = begin_login(session=session, actor=actor, username=username, policy=policy, now=now)
    matched = password_matches(ticket, password)
    return finish_login(session=session, actor=actor, ticket=ticket, matched=matched, now=now)


def session_still_valid(*, user: UserInfo, logged_in_at: datetime, now: datetime, policy: LoginPolicy) -> bool:
    """Whether a session or cookie that began at `logged_in_at` may go on (not revoked, not idle too long)."""
    return session_is_valid(
        logged_in_at=logged_in_at,
        sessions_not_before=user.sessions_not_before,
        last_activity_at=user.last_activity_at,
        now=now,
        policy=policy,
    )


ACTIVITY_GRANULARITY = timedelta(minutes=1)


@requires(Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER)
def touch_activity(*, session: Session, actor: Actor, now: datetime) -> None:
    """Note that the user is active (at most once a minute). Session bookkeeping: no audit entry."""
    session.execute(
        update(User)
        .where(
            User.id == actor.user_id,
            or_(User.last_activity_at.is_(None), User.last_activity_at < now - ACTIVITY_GRANULARITY),
        )
        .values(last_activity_at=now)
    )


@requires(Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER)
def logout(*, session: Session, actor: Actor, now: datetime) -> None:
    """End every session and cookie of the user issued before now (the library only deletes its cookie)."""
    session.execute(update(User).where(User.id == actor.user_id).values(sessions_not_before=now))
    audit.record(session=session, actor=actor, action="user.logout", record_type="user", record_id=actor.user_id)


@requires(Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER)
def count_wrong_current_password(*, session: Session, actor: Actor, policy: LoginPolicy, now: datetime) -> bool:
    """Count a wrong current password like a failed login (in its own transaction, after the refusal rolled
    back); at the limit the account locks and its sessions end. Returns True when it locked."""
    row = session.execute(
        select(User.failed_attempts, User.failed_window_start, User.locked_until)
        .where(User.id == actor.user_id)
        .with_for_update()
    ).first()
    if row is None:
        return False
    new = after_failure(FailureState(*row), now, policy)
    values: dict[str, Any] = {
        "failed_attempts": new.failed_attempts,
        "failed_window_start": new.window_start,
        "locked_until": new.locked_until,
    }
    if new.locked_until is not None:
        values["sessions_not_before"] = now
    session.execute(update(User).where(User.id == actor.user_id).values(**values))
    action = "user.locked" if new.locked_until is not None else "user.wrong_current_password"
    audit.record(session=session, actor=actor, action=action, record_type="user", record_id=actor.user_id)
    return new.locked_until is not None


@requires(Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER)
def change_own_password(*, session: Session, actor: Actor, current: str, new: str, repeat: str, now: datetime) -> None:
    """Change one's own password (the current one is required); other sessions of the user end."""
    row = session.execute(select(User.password_hash).where(User.id == actor.user_id)).first()
    if row is None or not _password_matches(current, row.password_hash):
        raise ValidationError("validation.current_password_wrong", field="current_password")
    check_password(new, repeat)
    if new == current:
        raise ValidationError("validation.password_unchanged", field="password")
    session.execute(
        update(User)
        .where(User.id == actor.user_id)
        .values(
            password_hash=hash_password(new),
            must_change_password=False,
            sessions_not_before=now,
            updated_at=now,
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action="user.change_password",
        record_type="user",
        record_id=actor.user_id,
        after={"must_change_password": False},
    )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


@internal_write("the app at start, on an empty database")
def issue_setup_token(*, session: Session) -> str | None:
    """On a database with no account, make a new one-time setup token; only hashes are stored, and the few
    latest stay valid so that replicas or a restart do not invalidate the token an operator already copied."""
    if count_users(session=session) > 0:
        return None
    token = secrets.token_urlsafe(24)
    row = session.execute(select(Setting.value, Setting.version).where(Setting.key == SETUP_TOKEN_HASH)).first()
    hashes = row.value if row is not None and isinstance(row.value, list) else []
    put_setting(
        session=session,
        actor=SYSTEM,
        key=SETUP_TOKEN_HASH,
        value=[*hashes, _token_digest(token)][-MAX_SETUP_TOKENS:],
        expected_version=row.version if row is not None else 0,
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
    must_change_password: bool = False,
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
                    must_change_password=must_change_password,
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
    digest = _token_digest(token)
    if not any(hmac.compare_digest(str(known), digest) for known in stored):
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
    temporary_password: bool = True,
) -> int:
    """Create an account with a role (and, for council users, their unit).

    The password an administrator types is temporary by default: the user must choose their own at first login.
    """
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
        must_change_password=temporary_password,
    )


@dataclass(frozen=True)
class UserRow:
    """An account as the administrator lists it."""

    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    organisation_name: str | None
    is_active: bool
    locked_until: datetime | None
    must_change_password: bool
    last_activity_at: datetime | None
    version: int


def list_users(*, session: Session) -> list[UserRow]:
    """Every account with its unit, for the administrator."""
    rows = session.execute(
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.organisation_id,
            Organisation.name,
            User.is_active,
            User.locked_until,
            User.must_change_password,
            User.last_activity_at,
            User.version,
        )
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .order_by(User.is_active.desc(), User.role, User.username)
    ).all()
    return [UserRow(*row) for row in rows]


def _load(session: Session, user_id: int) -> Any:
    row = session.execute(
        select(
            User.id, User.username, User.display_name, User.role, User.organisation_id, User.is_active, User.version
        ).where(User.id == user_id)
    ).first()
    if row is None:
        raise NotFound()
    return row


def _other_active_admins(session: Session, user_id: int) -> int:
    # Lock the active administrators' rows (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers),
    # so two administrators removing each other at the same moment cannot both succeed.
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True)).with_for_update()
    ).all()
    return len([a for a in admins if a != user_id])


def _versioned_update(session: Session, user_id: int, expected_version: int, **values: Any) -> None:
    versioned_update(session=session, model=User, record_id=user_id, expected_version=expected_version, **values)


@requires(Role.ADMIN)
def update_user(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    expected_version: int,
    display_name: str,
    role: Role | str,
    organisation_id: int | None,
) -> None:
    """Change an account's name, role and unit; the last active administrator keeps the admin role."""
    before = _load(session, user_id)
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError("validation.choice", field="role") from exc
    name = _check_display_name(display_name)
    if role is Role.COUNCIL and organisation_id is None:
        raise ValidationError("validation.council_needs_unit", field="organisation_id")
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise ValidationError("validation.choice", field="organisation_id")
    if before.role == Role.ADMIN.value and role is not Role.ADMIN and before.is_active:
        if _other_active_admins(session, user_id) == 0:
            raise ValidationError("validation.last_admin", field="role")
    _versioned_update(
        session, user_id, expected_version, display_name=name, role=role.value, organisation_id=organisation_id
    )
    audit.record(
        session=session,
        actor=actor,
        action="user.update",
        record_type="user",
        record_id=user_id,
        before={"display_name": before.display_name, "role": before.role, "organisation_id": before.organisation_id},
        after={"display_name": name, "role": role.value, "organisation_id": organisation_id},
    )


@requires(Role.ADMIN)
def set_active(*, session: Session, actor: Actor, user_id: int, expected_version: int, active: bool) -> None:
    """Deactivate (ending the user's sessions at once) or reactivate an account; never the last active admin."""
    before = _load(session, user_id)
    if not active and before.role == Role.ADMIN.value and _other_active_admins(session, user_id) == 0:
        raise ValidationError("validation.last_admin", field="is_active")
    values: dict[str, Any] = {"is_active": active}
    if not active:
        values["sessions_not_before"] = utcnow()
    _versioned_update(session, user_id, expected_version, **values)
    audit.record(
        session=session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        record_type="user",
        record_id=user_id,
        before={"is_active": bool(before.is_active)},
        after={"is_active": active},
    )


@requires(Role.ADMIN)
def unlock_user(*, session: Session, actor: Actor, user_id: int) -> None:
    """Lift a login lock and forget the counted failures."""
    _load(session, user_id)
    session.execute(
        update(User).where(User.id == user_id).values(failed_attempts=0, failed_window_start=None, locked_until=None)
    )
    audit.record(session=session, actor=actor, action="user.unlock", record_type="user", record_id=user_id)


@requires(Role.ADMIN)
def reset_password(*, session: Session, actor: Actor, user_id: int, expected_version: int, new_password: str) -> None:
    """Set a temporary password: the user's sessions end and a change is forced at the next login."""
    _load(session, user_id)
    check_password(new_password)
    _versioned_update(
        session,
        user_id,
        expected_version,
        password_hash=hash_password(new_password),
        must_change_password=True,
        sessions_not_before=utcnow(),
        failed_attempts=0,
        failed_window_start=None,
        locked_until=None,
    )
    audit.record(
        session=session,
        actor=actor,
        action="user.reset_password",
        record_type="user",
        record_id=user_id,
        after={"must_change_password": True},
    )
