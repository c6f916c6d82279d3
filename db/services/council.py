"""Council sessions (届) and terms (理事任期): the rules are checked here with clear messages, and again by
the database (migration 0002), which refuses overlapping terms even from a concurrent writer."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.models import CouncilSession, CouncilTerm, Organisation
from db.services import audit
from db.services._sql import like_escape
from db.services._versioned import versioned_update
from db.services.access import requires
from db.services.todos import TodoItem, todo_provider
from domain.clock import SHANGHAI, today
from domain.council import (
    MAX_REPRESENTATIVE,
    SEATS,
    Intent,
    Interval,
    TermSource,
    TermStatus,
    check_term,
    consecutive_sessions,
    session_end,
)
from domain.errors import NotFound, ValidationError
from domain.organisations import OrgStatus
from domain.roles import Actor, Role
from domain.text import bounded_text, clean_text, name_key


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
    application_id: int | None = None,
    replaces_term_id: int | None = None,
) -> int:
    """Seat a unit for a period of a session (the whole session by default); returns the term id. A seat from
    the queue names its approved council-unit application; a by-election (补选) names the term it replaces."""
    council_session = _session_row(session, session_id)
    if application_id is not None:
        _check_queued(session, application_id, organisation_id)
    if source == TermSource.BY_ELECTION.value or replaces_term_id is not None:
        _check_vacancy(
            session,
            replaces_term_id,
            session_id=session_id,
            seat=seat,
            starts_on=starts_on or council_session.starts_on,
            source=source,
        )
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
        "application_id": application_id,
        "replaces_term_id": replaces_term_id,
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
    if row.status != TermStatus.ACTIVE.value:
        raise ValidationError("validation.term_already_ended", field="ends_on")
    if not why:
        raise ValidationError("validation.required", field="ended_reason")
    # Strictly before the term's own end: a term that runs to its end is 届满, not 辞任.
    if not row.starts_on < ends_on < row.ends_on:
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


def _check_queued(session: Session, application_id: int, organisation_id: int) -> None:
    """A seat from the queue: an approved 理事单位 application of this very unit, not used for a seat before."""
    from db.models import Application

    row = session.execute(
        select(Application.status, Application.applied_for, Application.organisation_id).where(
            Application.id == application_id
        )
    ).first()
    if (
        row is None
        or row.status != "approved"
        or row.applied_for != "council"
        or row.organisation_id != organisation_id
    ):
        raise ValidationError("validation.not_in_queue", field="application_id")
    if session.scalar(select(CouncilTerm.id).where(CouncilTerm.application_id == application_id).limit(1)):
        raise ValidationError("validation.queue_used", field="application_id")


def _check_vacancy(
    session: Session, replaces_term_id: int | None, *, session_id: int, seat: int, starts_on: date, source: str
) -> None:
    """A by-election (补选) fills the vacancy a term of the same seat and session left by ending early, once,
    from the day that term ended."""
    if source != TermSource.BY_ELECTION.value or replaces_term_id is None:
        raise ValidationError("validation.by_election_needs_vacancy", field="source")
    vacated = session.execute(select(CouncilTerm).where(CouncilTerm.id == replaces_term_id)).scalar_one_or_none()
    if (
        vacated is None
        or vacated.status != TermStatus.RESIGNED.value
        or vacated.seat != seat
        or vacated.session_id != session_id
    ):
        raise ValidationError("validation.by_election_needs_vacancy", field="source")
    if starts_on < vacated.ends_on:
        raise ValidationError("validation.by_election_starts_after", field="starts_on")
    if session.scalar(select(CouncilTerm.id).where(CouncilTerm.replaces_term_id == replaces_term_id).limit(1)):
        raise ValidationError("validation.vacancy_filled", field="source")


def _term(session: Session, term_id: int) -> CouncilTerm:
    term = session.execute(select(CouncilTerm).where(CouncilTerm.id == term_id)).scalar_one_or_none()
    if term is None:
        raise NotFound()
    return term


@requires(Role.ADMIN, Role.SECRETARIAT)
def fill_by_election(
    *,
    session: Session,
    actor: Actor,
    vacated_term_id: int,
    organisation_id: int,
    representative: str,
    starts_on: date,
    application_id: int | None = None,
) -> int:
    """Fill a seat left early (辞任) for the rest of its session (补选), with a unit from the queue (naming its
    application) or an invited member; returns the new term's id."""
    vacated = _term(session, vacated_term_id)
    return seat_term(
        session=session,
        actor=actor,
        session_id=vacated.session_id,
        seat=vacated.seat,
        organisation_id=organisation_id,
        source=TermSource.BY_ELECTION.value,
        representative=representative,
        starts_on=starts_on,
        replaces_term_id=vacated.id,
        application_id=application_id,
    )


@requires(Role.ADMIN, Role.SECRETARIAT)
def change_representative(
    *, session: Session, actor: Actor, term_id: int, expected_version: int, representative: str
) -> int:
    """Name a new representative of a unit without ending its term; returns the new version."""
    term = _term(session, term_id)
    person = bounded_text(representative, field="representative", limit=MAX_REPRESENTATIVE, required=True)
    before = term.representative
    version = versioned_update(
        session=session,
        model=CouncilTerm,
        record_id=term_id,
        expected_version=expected_version,
        representative=person,
    )
    audit.record(
        session=session,
        actor=actor,
        action="council_term.representative",
        record_type="council_term",
        record_id=term_id,
        before={"representative": before},
        after={"representative": person},
    )
    return version


@requires(Role.ADMIN, Role.SECRETARIAT)
def set_continue_intent(
    *, session: Session, actor: Actor, term_id: int, expected_version: int, intent: str | None
) -> int:
    """Record whether a sitting unit will serve in the next session (None: not said yet)."""
    if intent is not None and intent not in {i.value for i in Intent}:
        raise ValidationError("validation.choice", field="continue_intent")
    term = _term(session, term_id)
    before = term.continue_intent
    version = versioned_update(
        session=session,
        model=CouncilTerm,
        record_id=term_id,
        expected_version=expected_version,
        continue_intent=intent,
    )
    audit.record(
        session=session,
        actor=actor,
        action="council_term.intent",
        record_type="council_term",
        record_id=term_id,
        before={"continue_intent": before},
        after={"continue_intent": intent},
    )
    return version


@dataclass(frozen=True)
class PlannedSeat:
    """One seat of the next session in a rotation plan."""

    seat: int
    organisation_id: int
    source: str
    representative: str = ""
    application_id: int | None = None


@requires(Role.ADMIN, Role.SECRETARIAT)
def rotate(*, session: Session, actor: Actor, plan: list[PlannedSeat]) -> int:
    """换届: open the session that follows the last one, with all ten seats, in one transaction; returns its id."""
    seats = sorted(p.seat for p in plan)
    if seats != list(range(1, SEATS + 1)):
        raise ValidationError("validation.rotation_needs_all_seats", field="seat", seats=SEATS)
    units = [p.organisation_id for p in plan]
    if len(set(units)) != len(units):
        raise ValidationError("validation.unit_has_seat", field="organisation_id")
    if any(p.source == TermSource.BY_ELECTION.value for p in plan):
        raise ValidationError("validation.choice", field="source")
    last = session.execute(select(CouncilSession.ends_on).order_by(CouncilSession.number.desc()).limit(1)).scalar()
    if last is None:
        raise ValidationError("validation.no_session", field="seat")
    # Every seat is checked before anything is written, so a refused plan leaves nothing behind.
    statuses = dict(
        (int(i), st)
        for i, st in session.execute(select(Organisation.id, Organisation.status).where(Organisation.id.in_(units)))
    )
    for planned in plan:
        check_term(
            seat=planned.seat,
            term=Interval(last, session_end(last)),
            session=Interval(last, session_end(last)),
            source=planned.source,
            representative=clean_text(planned.representative),
        )
        if statuses.get(planned.organisation_id) != OrgStatus.MEMBER.value:
            raise ValidationError("validation.unit_not_member", field="organisation_id")
        if planned.application_id is not None:
            _check_queued(session, planned.application_id, planned.organisation_id)
    new_session = create_session(session=session, actor=actor, starts_on=last)
    for planned in plan:
        seat_term(
            session=session,
            actor=actor,
            session_id=new_session,
            seat=planned.seat,
            organisation_id=planned.organisation_id,
            source=planned.source,
            representative=planned.representative,
            application_id=planned.application_id,
        )
    return new_session


def sessions(*, session: Session) -> list[SessionRow]:
    """Every council session, first to last."""
    rows = session.execute(
        select(CouncilSession.id, CouncilSession.number, CouncilSession.starts_on, CouncilSession.ends_on).order_by(
            CouncilSession.number
        )
    ).all()
    return [SessionRow(*r) for r in rows]


@dataclass(frozen=True)
class BoardSeat:
    """One seat of a session on a date: its holder's term, or a vacancy (term_id None)."""

    seat: int
    term_id: int | None
    organisation_id: int | None
    unit: str
    kind: str
    province: str
    representative: str
    source: str
    starts_on: date | None
    ends_on: date | None
    consecutive: int
    days_left: int
    attendance: float | None
    continue_intent: str | None
    version: int
    vacated_term_id: int | None  # the last term of this seat that ended early (a by-election fills it)


def seat_board(*, session: Session, actor: Actor, session_id: int, on: date) -> list[BoardSeat]:
    """The ten seats of a session on a date, with consecutive sessions and attendance over the last 12 months;
    a fixed handful of statements whatever the history holds."""
    from db.models import Meeting, MeetingAttendance
    from db.services.organisations import may_see_contacts

    current = _session_row(session, session_id)
    terms = session.execute(
        select(CouncilTerm, Organisation.name, Organisation.kind, Organisation.province)
        .join(Organisation, Organisation.id == CouncilTerm.organisation_id)
        .where(CouncilTerm.session_id == session_id)
        .order_by(CouncilTerm.seat, CouncilTerm.starts_on)
    ).all()
    units = {t.organisation_id for t, *_ in terms}
    held: dict[int, set[int]] = {}
    if units:
        for unit, number in session.execute(
            select(CouncilTerm.organisation_id, CouncilSession.number)
            .join(CouncilSession, CouncilSession.id == CouncilTerm.session_id)
            .where(CouncilTerm.organisation_id.in_(units))
            .distinct()
        ):
            held.setdefault(int(unit), set()).add(int(number))
    since = datetime.combine(on - timedelta(days=365), time.min, tzinfo=SHANGHAI)
    until = datetime.combine(on + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    rates: dict[int, float] = {}
    if units:
        for unit, expected, present in session.execute(
            select(
                MeetingAttendance.organisation_id,
                func.count(),
                func.count(case((MeetingAttendance.status == "present", 1))),
            )
            .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
            .where(MeetingAttendance.organisation_id.in_(units), Meeting.starts_at >= since, Meeting.starts_at < until)
            .group_by(MeetingAttendance.organisation_id)
        ):
            rates[int(unit)] = int(present) / int(expected) if expected else 0.0
    show_people = may_see_contacts(actor)
    board: list[BoardSeat] = []
    for seat in range(1, SEATS + 1):
        of_seat = [(t, n, k, p) for t, n, k, p in terms if t.seat == seat]
        holder = next(((t, n, k, p) for t, n, k, p in of_seat if t.starts_on <= on < t.ends_on), None)
        filled = {o.replaces_term_id for o, *_ in of_seat}
        left_early = [t.id for t, *_ in of_seat if t.status == TermStatus.RESIGNED.value and t.id not in filled]
        vacated = left_early[-1] if left_early else None
        if holder is None:
            board.append(BoardSeat(seat, None, None, "", "", "", "", "", None, None, 0, 0, None, None, 0, vacated))
            continue
        t, name, kind, province = holder
        board.append(
            BoardSeat(
                seat=seat,
                term_id=t.id,
                organisation_id=t.organisation_id,
                unit=name,
                kind=kind,
                province=province,
                representative=t.representative if show_people else "",
                source=t.source,
                starts_on=t.starts_on,
                ends_on=t.ends_on,
                consecutive=consecutive_sessions(held.get(t.organisation_id, set()), current.number),
                days_left=(t.ends_on - on).days,
                attendance=rates.get(t.organisation_id),
                continue_intent=t.continue_intent,
                version=t.version,
                vacated_term_id=None,
            )
        )
    return board


@dataclass(frozen=True)
class HistoryRow:
    """A term as listed in the history and the timeline."""

    id: int
    session_number: int
    seat: int
    organisation_id: int
    unit: str
    kind: str
    province: str
    representative: str
    starts_on: date
    ends_on: date
    source: str
    status: str
    ended_reason: str


def term_history(
    *, session: Session, actor: Actor, session_number: int | None = None, search: str = "", source: str | None = None
) -> list[HistoryRow]:
    """Every term of every session (or one), filtered; viewers receive no representatives or reasons."""
    from db.services.organisations import may_see_contacts

    stmt = (
        select(
            CouncilTerm.id,
            CouncilSession.number,
            CouncilTerm.seat,
            CouncilTerm.organisation_id,
            Organisation.name,
            Organisation.kind,
            Organisation.province,
            CouncilTerm.representative,
            CouncilTerm.starts_on,
            CouncilTerm.ends_on,
            CouncilTerm.source,
            CouncilTerm.status,
            CouncilTerm.ended_reason,
        )
        .join(CouncilSession, CouncilSession.id == CouncilTerm.session_id)
        .join(Organisation, Organisation.id == CouncilTerm.organisation_id)
        .order_by(CouncilSession.number, CouncilTerm.seat, CouncilTerm.starts_on)
    )
    if session_number is not None:
        stmt = stmt.where(CouncilSession.number == session_number)
    if source:
        stmt = stmt.where(CouncilTerm.source == source)
    if search.strip():
        stmt = stmt.where(Organisation.name_key.like(f"%{like_escape(name_key(search))}%", escape="\\"))
    rows = [HistoryRow(*r) for r in session.execute(stmt)]  # type: ignore[call-arg]
    # A term that ran to its end is 届满 (the stored status stays 在任 until then; nothing has to move it).
    on = today()
    rows = [
        replace(r, status=TermStatus.EXPIRED.value) if r.status == TermStatus.ACTIVE.value and r.ends_on <= on else r
        for r in rows
    ]
    if may_see_contacts(actor):
        return rows
    return [replace(r, representative="", ended_reason="") for r in rows]


def composition(*, session: Session, on: date) -> tuple[dict[str, int], dict[str, int]]:
    """The council on a date: seated units by kind and by province (counted in SQL)."""
    active = [CouncilTerm.starts_on <= on, on < CouncilTerm.ends_on]
    by_kind = session.execute(
        select(Organisation.kind, func.count())
        .join(CouncilTerm, CouncilTerm.organisation_id == Organisation.id)
        .where(*active)
        .group_by(Organisation.kind)
    ).all()
    by_province = session.execute(
        select(Organisation.province, func.count())
        .join(CouncilTerm, CouncilTerm.organisation_id == Organisation.id)
        .where(*active)
        .group_by(Organisation.province)
    ).all()
    return {k: int(n) for k, n in by_kind}, {p: int(n) for p, n in by_province}


@todo_provider
def _rotation_todos(session: Session, actor: Actor) -> list[TodoItem]:
    if not (actor.is_staff or actor.role is Role.COUNCIL):
        return []
    on = today()
    current = current_session(session=session, on=on)
    if current is None:
        last = session.execute(
            select(CouncilSession.number, CouncilSession.ends_on).order_by(CouncilSession.number.desc()).limit(1)
        ).first()
        if last is None or last.ends_on > on:
            return []
        # the session has ended and no next one was opened: the most urgent reminder of all
        overdue = (on - last.ends_on).days
        return [
            TodoItem(
                "todo.rotation_overdue",
                overdue,
                "council",
                params={"number": last.number + 1},
                query={"view": "rotation"},
            )
        ]
    later = session.scalar(select(CouncilSession.id).where(CouncilSession.starts_on >= current.ends_on).limit(1))
    left = (current.ends_on - on).days
    if later is not None or left > ROTATION_WARNINGS[0]:
        return []
    key = "todo.rotation_90" if left <= ROTATION_WARNINGS[1] else "todo.rotation_180"
    return [TodoItem(key, left, "council", params={"number": current.number + 1}, query={"view": "rotation"})]


ROTATION_WARNINGS = (180, 90)
