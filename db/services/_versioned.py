"""Service-internal: the optimistic lock every editable record uses (UPDATE … WHERE id = ? AND version = ?).

It opens no write scope of its own, so it can only write inside a registered service (access.py refuses
any other write at run time)."""

from typing import Any

from sqlalchemy import update
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
