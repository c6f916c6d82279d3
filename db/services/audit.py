"""Audit entries (操作日志): written by every write service in the same transaction as the change."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.models import AuditEntry
from db.services import data_version
from db.services.access import internal_write
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


@internal_write("called by every write service")
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
    data_version.bump(session=session, topic=record_type)


@internal_write("called by bulk write services (imports)")
def record_many(
    *,
    session: Session,
    actor: Actor,
    action: str,
    record_type: str,
    entries: list[tuple[object, dict[str, Any] | None]],
) -> None:
    """One audit entry per record (record id, values after) in one statement, for an import of many rows."""
    if not entries:
        return
    session.execute(
        insert(AuditEntry),
        [
            {
                "user_id": actor.user_id,
                "username": actor.username or "",
                "action": action,
                "record_type": record_type,
                "record_id": str(record_id),
                "before": None,
                "after": _jsonable(after) if after is not None else None,
            }
            for record_id, after in entries
        ],
    )
    data_version.bump(session=session, topic=record_type)


def count_entries(*, session: Session, record_type: str | None = None, action: str | None = None) -> int:
    """How many audit entries there are, optionally of one record type or action."""
    stmt = select(func.count()).select_from(AuditEntry)
    if record_type is not None:
        stmt = stmt.where(AuditEntry.record_type == record_type)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as listed."""

    id: int
    at: datetime
    username: str
    action: str
    record_type: str
    record_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def list_entries(
    *,
    session: Session,
    username: str | None = None,
    record_type: str | None = None,
    record_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[AuditRow], int]:
    """Audit entries, newest first, filtered by user, record and time [since, until); and how many match."""
    filters = []
    if username:
        filters.append(AuditEntry.username == username)
    if record_type:
        filters.append(AuditEntry.record_type == record_type)
    if record_id:
        filters.append(AuditEntry.record_id == record_id)
    if since is not None:
        filters.append(AuditEntry.at >= since)
    if until is not None:
        filters.append(AuditEntry.at < until)
    total = int(session.scalar(select(func.count()).select_from(AuditEntry).where(*filters)) or 0)
    rows = session.execute(
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.username,
            AuditEntry.action,
            AuditEntry.record_type,
            AuditEntry.record_id,
            AuditEntry.before,
            AuditEntry.after,
        )
        .where(*filters)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [AuditRow(*row) for row in rows], total


def filter_choices(*, session: Session) -> tuple[list[str], list[str]]:
    """The usernames and record types that occur in the log, for the filter boxes."""
    names = session.scalars(select(AuditEntry.username).distinct().order_by(AuditEntry.username)).all()
    types = session.scalars(select(AuditEntry.record_type).distinct().order_by(AuditEntry.record_type)).all()
    return [n for n in names if n], list(types)
