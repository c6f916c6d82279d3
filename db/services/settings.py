"""Settings (intake open, current batch, …): one row per key, with a version for safe edits."""

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import Setting
from db.services import audit
from db.services.access import internal_write, requires
from domain.errors import StaleRecord, ValidationError
from domain.roles import Actor, Role
from domain.text import clean_text, has_control_characters

# Known settings and their defaults; a key not listed here cannot be written from the UI.
DEFAULTS: dict[str, Any] = {
    "intake_open": False,
    "current_batch": "首批",
    # DOMAIN.md: quorum = more than half of the seated units present; a decision passes with 同意 from more
    # than half of the units present.
    "quorum_share": 0.5,
    "pass_share": 0.5,
}
MAX_TEXT = 30
DEMO_FLAG = "demo_database"
SETUP_TOKEN_HASH = "setup_token_sha256"  # noqa: S105 (the name of a setting, not a secret)


def get_setting(*, session: Session, key: str) -> Any:
    """The value of a setting, or its default."""
    value = session.scalar(select(Setting.value).where(Setting.key == key))
    return DEFAULTS.get(key) if value is None else value


def get_setting_version(*, session: Session, key: str) -> int:
    """The version of a setting's row (0 when it was never written)."""
    return int(session.scalar(select(Setting.version).where(Setting.key == key)) or 0)


@internal_write("called by registered services and the demo seeder")
def put_setting(*, session: Session, actor: Actor, key: str, value: Any, expected_version: int | None) -> int:
    """Write a setting row (internal: callers are registered services); returns the new version."""
    current = session.execute(select(Setting.value, Setting.version).where(Setting.key == key)).first()
    if current is None:
        if expected_version not in (None, 0):
            raise StaleRecord()
        session.execute(insert(Setting).values(key=key, value=value, version=1, updated_by=actor.user_id))
        new_version = 1
        before = None
    else:
        stmt = update(Setting).where(Setting.key == key)
        if expected_version is not None:
            stmt = stmt.where(Setting.version == expected_version)
        result = session.execute(
            stmt.values(value=value, version=Setting.version + 1, updated_at=utcnow(), updated_by=actor.user_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleRecord()
        new_version = int(current.version) + 1
        before = {"value": current.value}
    shown = value if key != SETUP_TOKEN_HASH else "***"
    audit.record(
        session=session,
        actor=actor,
        action="setting.set",
        record_type="setting",
        record_id=key,
        before=before if key != SETUP_TOKEN_HASH else None,
        after={"value": shown},
    )
    return new_version


@requires(Role.ADMIN, Role.SECRETARIAT)
def set_setting(*, session: Session, actor: Actor, key: str, value: Any, expected_version: int) -> int:
    """Change a known setting if nobody changed it since `expected_version`; returns the new version."""
    if key not in DEFAULTS:
        raise ValidationError("validation.unknown_setting", field="key")
    if type(value) is not type(DEFAULTS[key]):
        raise ValidationError("validation.choice", field=key)
    if isinstance(value, float) and not 0 <= value < 1:
        raise ValidationError("validation.share_range", field=key)
    if isinstance(value, str):
        value = clean_text(value)
        if not value:
            raise ValidationError("validation.required", field=key)
        if len(value) > MAX_TEXT or has_control_characters(value):
            raise ValidationError("validation.too_long", field=key, max=MAX_TEXT)
    return put_setting(session=session, actor=actor, key=key, value=value, expected_version=expected_version)


def is_demo_database(*, session: Session) -> bool:
    """True in a database made by the demo seeder (the app shows a 演示数据 banner there)."""
    return bool(get_setting(session=session, key=DEMO_FLAG))
