"""Service-internal: the optimistic lock every editable record uses (UPDATE … WHERE id = ? AND version = ?).

It opens no write scope of its own, so it can only write inside a registered service (access.py refuses
any other write at run time)."""

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.base import utcnow
from domain.errors import StaleRecord


def versioned_update(*, session: Session, model: Any, record_id: int, expected_version: int, **values: Any) -> int:
    """Apply `values` only if the row is still at `expected_version`; raise StaleRecord otherwise.

    Returns the new version. The caller's write service checks roles and writes the audit entry.
    """
    result = session.execute(
        update(model)
        .where(model.id == record_id, model.version == expected_version)
        .values(**values, version=model.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRecord()
    return expected_version + 1


def versioned_upsert(
    *,
    session: Session,
    model: Any,
    key: dict[str, Any],
    values: dict[str, Any],
    expected_version: int,
    kept: tuple[str, ...],
) -> tuple[int, dict[str, Any] | None]:
    """The one row per `key` (e.g. a council unit's opinion on an application): written for the first time when
    the user saw none (`expected_version` 0), otherwise changed only on the version seen. A concurrent first write
    by someone else hits the unique constraint and is refused as stale, like a concurrent update.

    Returns the new version and the `kept` columns as they were before (None for a first write)."""
    current = session.execute(
        select(model.id, *[getattr(model, name) for name in kept]).where(
            *[getattr(model, column) == value for column, value in key.items()]
        )
    ).first()
    if current is None:
        if expected_version != 0:
            raise StaleRecord()
        try:
            with session.begin_nested():
                session.execute(insert(model).values(**key, **values))
        except IntegrityError as exc:  # another user of the same unit wrote it meanwhile
            raise StaleRecord() from exc
        return 1, None
    new_version = versioned_update(
        session=session, model=model, record_id=current.id, expected_version=expected_version, **values
    )
    return new_version, {name: getattr(current, name) for name in kept}
