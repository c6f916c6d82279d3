"""The data-version stamp: a counter per record type, raised in the same transaction as every write."""

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import DataVersion
from db.services.access import internal_write


@internal_write("called by audit.record within every write")
def bump(*, session: Session, topic: str) -> None:
    """Raise the counter of a record type (called by audit.record, so by every write)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DataVersion).values(topic=topic, version=1)
    session.execute(
        stmt.on_conflict_do_update(index_elements=[DataVersion.topic], set_={"version": DataVersion.version + 1})
    )


def stamp(*, session: Session, topics: tuple[str, ...] = ()) -> int:
    """A number that grows with every write to these record types (all types when none are named)."""
    stmt = select(func.coalesce(func.sum(DataVersion.version), 0))
    if topics:
        stmt = stmt.where(DataVersion.topic.in_(topics))
    return int(session.scalar(stmt) or 0)


def unchanged_since(*, session: Session, seen: int, topics: tuple[str, ...] = ()) -> bool:
    """Whether nothing of these types was written since the stamp `seen` was read."""
    return stamp(session=session, topics=topics) == seen
