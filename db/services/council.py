"""Council sessions (届) and terms (理事任期): the rules are checked here with clear messages, and again by
the database (migration 0002), which refuses overlapping terms even from a concurrent writer."""

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.models import CouncilSession, CouncilTerm, Organisation
from db.services import audit
from db.services._versioned import versioned_update
from db.services.access import requires
from domain.council import Interval, TermStatus, check_term, session_end
from domain.errors import NotFound, ValidationError
from domain.organisations import OrgStatus
from domain.roles import Actor, Role
from domain.text import clean_text


@dataclass(frozen=True)
class SessionRow:
    """A council session."""

    id: int
    number: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class TermRow:
    """A term as listed on the seat board."""

    id: int
    session_id: int
    seat: int
    organisation_id: int
    organisation_name: str
    representative: str
    starts_on: date
    ends_on: date
    source: str
    status: str
    version: int


def _session_row(session: Session, session_id: int) -> SessionRow:
    row = session.execute(
        select(CouncilSession.id, CouncilSession.number, CouncilSession.starts_on, CouncilSession.ends_on).where(
            CouncilSession.id == session_id
        )
    ).first()
    if row is None:
        raise NotFound()
    return SessionRow(*row)


def current_session(*, session: Session, on: date) -> SessionRow | None:
    """The session in force on a date, if any."""
    row = session.execute(
        select(CouncilSession.id, CouncilSession.number, CouncilSession.starts_on, CouncilSession.ends_on).where(
            CouncilSession.starts_on <= on, on < CouncilSession.ends_on
        )
    ).first()
    return SessionRow(*row) if row else None


@requires(Role.ADMIN, Role.SECRETARIAT)
def create_session(*, session: Session, actor: Actor, starts_on: date) -> int:
    """Open the next session: the first from any date, each later one exactly when the last ends (换届)."""
    last = session.execute(
        select(CouncilSession.number, CouncilSession.ends_on).order_by(CouncilSession.number.desc()).limit(1)
    ).first()
    if last is not None and starts_on != last.ends_on:
        raise ValidationError("validation.session_must_follow", field="starts_on")
    number = 1 if last is None else int(last.number) + 1
    ends_on = session_end(starts_on)
    session_id = session.execute(
        insert(CouncilSession).values(number=number, starts_on=starts_on, ends_on=ends_on).returning(CouncilSession.id)
    ).scalar_one()
    audit.record(
        session=session,
        actor=actor,
        action="council_session.create",
        record_type="council_session",
        record_id=session_id,
        after={"number": number, "starts_on": starts_on, "ends_on": ends_on},
    )
    return int(session_id)


def _overlapping(session: Session, column: Any, value: int, term: Interval, exclude_id: int | None) -> bool:
    stmt = select(CouncilTerm.id).where(
        column == value,
        CouncilTerm.starts_on < term.end,
        term.start < CouncilTerm.ends_on,
    )
    if exclude_id is not None:
        stmt = stmt.where(CouncilTerm.id != exclude_id)
    return session.scalar(stmt.limit(1)) is not None


@requires(Role.ADMIN, Role.SECRETARIAT)
def seat_term(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    seat: int,
    organisation_id: int,
    source: str,
    representative: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> int:
    """Seat a unit for a period of a session (the whole session by default); returns the term id."""
    council_session = _session_row(session, session_id)
    term = Interval(starts_on or council_session.starts_on, ends_on or council_session.ends_on)
    person = clean_text(representative)
    check_term(
        seat=seat,
        term=term,
        session=Interval(council_session.starts_on, council_session.ends_on),
        source=source,
        representative=person,
    )
    status = session.scalar(select(Organisation.status).where(Organisation.id == organisation_id))
    if status is None:
        raise ValidationError("validation.choice", field="organisation_id")
    if status != OrgStatus.MEMBER.value:
        raise ValidationError("validation.unit_not_member", field="organisation_id")
    if _overlapping(session, CouncilTerm.seat, seat, term, None):
        raise ValidationError("validation.seat_taken", field="seat", seat=seat)
    if _overlapping(session, CouncilTerm.organisation_id, organisation_id, term, None):
        raise ValidationError("validation.unit_has_seat", field="organisation_id")
    values = {
        "session_id": session_id,
        "seat": seat,
        "organisation_id": organisation_id,
        "representative": person,
        "starts_on": term.start,
        "ends_on": term.end,
        "source": source,
        "status": TermStatus.ACTIVE.value,
        "ended_reason": "",
    }
    try:
        with session.begin_nested():
            term_id = session.execute(insert(CouncilTerm).values(**values).returning(CouncilTerm.id)).scalar_one()
    except DBAPIError as exc:
        # A concurrent writer got there first and the database refused ours: say which rule, if it is one.
        if _overlapping(session, CouncilTerm.seat, seat, term, None):
            raise ValidationError("validation.seat_taken", field="seat", seat=seat) from exc
        if _overlapping(session, CouncilTerm.organisation_id, organisation_id, term, None):
            raise ValidationError("validation.unit_has_seat", field="organisation_id") from exc
        raise
    audit.record(
        session=session,
        actor=actor,
        action="council_term.create",
        record_type="council_term",
        record_id=term_id,
        after=values,
    )
    return int(term_id)


@requires(Role.ADMIN, Role.SECRETARIAT)
def end_term_early(
    *, session: Session, actor: Actor, term_id: int, expected_version: int, ends_on: date, reason: str
) -> None:
    """End a term before its session ends (辞任), with a reason; the seat is free from `ends_on`."""
    row = session.execute(
        select(CouncilTerm.starts_on, CouncilTerm.ends_on, CouncilTerm.status).where(CouncilTerm.id == term_id)
    ).first()
    if row is None:
        raise NotFound()
    why = clean_text(reason)
    if not why:
        raise ValidationError("validation.required", field="ended_reason")
    if not row.starts_on < ends_on <= row.ends_on:
        raise ValidationError("validation.end_outside_term", field="ends_on")
    versioned_update(
        session=session,
        model=CouncilTerm,
        record_id=term_id,
        expected_version=expected_version,
        ends_on=ends_on,
        status=TermStatus.RESIGNED.value,
        ended_reason=why,
    )
    audit.record(
        session=session,
        actor=actor,
        action="council_term.end_early",
        record_type="council_term",
        record_id=term_id,
        before={"ends_on": row.ends_on, "status": row.status},
        after={"ends_on": ends_on, "status": TermStatus.RESIGNED.value, "ended_reason": why},
    )


def _term_columns() -> Any:
    return (
        select(
            CouncilTerm.id,
            CouncilTerm.session_id,
            CouncilTerm.seat,
            CouncilTerm.organisation_id,
            Organisation.name,
            CouncilTerm.representative,
            CouncilTerm.starts_on,
            CouncilTerm.ends_on,
            CouncilTerm.source,
            CouncilTerm.status,
            CouncilTerm.version,
        )
    ).join(Organisation, Organisation.id == CouncilTerm.organisation_id)


def active_terms(*, session: Session, on: date) -> list[TermRow]:
    """The terms in force on a date, by seat (at most ten)."""
    rows = session.execute(
        _term_columns().where(CouncilTerm.starts_on <= on, on < CouncilTerm.ends_on).order_by(CouncilTerm.seat)
    ).all()
    return [TermRow(*row) for row in rows]


def terms_of_organisation(*, session: Session, actor: Actor, organisation_id: int) -> list[TermRow]:
    """Every council term a unit has held, newest first; viewers do not receive the representative's name."""
    from db.services.organisations import may_see_contacts

    rows = session.execute(
        _term_columns().where(CouncilTerm.organisation_id == organisation_id).order_by(CouncilTerm.starts_on.desc())
    ).all()
    terms = [TermRow(*row) for row in rows]
    if may_see_contacts(actor):
        return terms
    return [replace(term, representative="") for term in terms]


def has_active_term(*, session: Session, organisation_id: int, on: date) -> bool:
    """Whether a unit holds a seat on a date and is still a member (council rights follow an active term;
    a suspended unit or one that left has none, whatever its term says)."""
    count = session.scalar(
        select(func.count())
        .select_from(CouncilTerm)
        .join(Organisation, Organisation.id == CouncilTerm.organisation_id)
        .where(
            CouncilTerm.organisation_id == organisation_id,
            CouncilTerm.starts_on <= on,
            on < CouncilTerm.ends_on,
            Organisation.status == OrgStatus.MEMBER.value,
        )
    )
    return bool(count)
