"""Audit entries (操作日志): written by every write service in the same transaction as the change."""

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from domain.roles import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: object | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry for a change made by `actor`."""
    session.execute(
        insert(AuditEntry).values(
            user_id=actor.user_id,
            username=actor.username or "",
            action=action,
            record_type=record_type,
            record_id=None if record_id is None else str(record_id),
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
        )
    )


def count_entries(*, session: Session, record_type: str | None = None, action: str | None = None) -> int:
    """How many audit entries there are, optionally of one record type or action."""
    stmt = select(func.count()).select_from(AuditEntry)
    if record_type is not None:
        stmt = stmt.where(AuditEntry.record_type == record_type)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return int(session.scalar(stmt) or 0)
