"""Work meetings (工作会议): agenda, attendance per council unit, minutes, decisions with a vote per unit;
quorum and passing by DOMAIN.md's rules (the shares are settings)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from db.models import AgendaItem, CouncilTerm, Decision, DecisionVote, Meeting, MeetingAttendance, Organisation
from db.services import audit, settings
from db.services._versioned import versioned_update
from db.services.access import requires
from db.services.todos import TodoItem, todo_provider
from domain.clock import SHANGHAI, today
from domain.council import (
    MAX_MEETING_TEXT,
    MAX_MINUTES,
    Attendance,
    MeetingKind,
    Vote,
    VotingRule,
    decision_passes,
    quorum_met,
)
from domain.errors import NotFound, PermissionDenied, ValidationError
from domain.roles import Actor, Role
from domain.text import bounded_text

READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL})
MAX_AGENDA = 30


@dataclass(frozen=True)
class MeetingInput:
    """A meeting as typed by the secretariat."""

    kind: str
    title: str
    starts_at: datetime
    place: str = ""
    online_link: str = ""
    notice_on: date | None = None
    minutes: str = ""
    agenda: tuple[str, ...] = ()


def _clean(data: MeetingInput) -> dict[str, Any]:
    if data.kind not in {k.value for k in MeetingKind}:
        raise ValidationError("validation.choice", field="kind")
    title = bounded_text(data.title, field="title", limit=MAX_MEETING_TEXT, required=True)
    if data.starts_at.tzinfo is None:
        raise ValidationError("validation.date_invalid", field="starts_at")
    link = bounded_text(data.online_link, field="online_link", limit=500)
    if link and not link.lower().startswith(("https://", "http://")):
        raise ValidationError("validation.website_invalid", field="online_link")
    place = bounded_text(data.place, field="place", limit=MAX_MEETING_TEXT)
    if not place and not link:
        raise ValidationError("validation.place_or_link", field="place")
    if data.notice_on is not None and data.notice_on > data.starts_at.astimezone(SHANGHAI).date():
        raise ValidationError("validation.notice_after_meeting", field="notice_on")
    agenda = [bounded_text(item, field="agenda", limit=MAX_MEETING_TEXT) for item in data.agenda]
    agenda = [item for item in agenda if item]
    if len(agenda) > MAX_AGENDA:
        raise ValidationError("validation.too_many_items", field="agenda", max=MAX_AGENDA)
    return {
        "kind": data.kind,
        "title": title,
        "starts_at": data.starts_at,
        "place": place,
        "online_link": link,
        "notice_on": data.notice_on,
        "minutes": bounded_text(data.minutes, field="minutes", limit=MAX_MINUTES),
        "agenda": agenda,
    }


def _write_agenda(session: Session, meeting_id: int, agenda: list[str]) -> None:
    session.execute(delete(AgendaItem).where(AgendaItem.meeting_id == meeting_id))
    if agenda:
        session.execute(
            insert(AgendaItem),
            [{"meeting_id": meeting_id, "position": n, "title": item} for n, item in enumerate(agenda, start=1)],
        )


@requires(Role.ADMIN, Role.SECRETARIAT)
def create_meeting(*, session: Session, actor: Actor, data: MeetingInput) -> int:
    """Record a meeting (planned or held) with its agenda; returns its id."""
    values = _clean(data)
    agenda = values.pop("agenda")
    meeting_id = int(session.execute(insert(Meeting).values(**values).returning(Meeting.id)).scalar_one())
    _write_agenda(session, meeting_id, agenda)
    audit.record(
        session=session,
        actor=actor,
        action="meeting.create",
        record_type="meeting",
        record_id=meeting_id,
        after={**values, "agenda": agenda},
    )
    return meeting_id


@requires(Role.ADMIN, Role.SECRETARIAT)
def update_meeting(
    *, session: Session, actor: Actor, meeting_id: int, expected_version: int, data: MeetingInput
) -> int:
    """Save an edit (agenda and minutes included) made on the version the user saw; returns the new version."""
    before = session.execute(select(Meeting).where(Meeting.id == meeting_id)).scalar_one_or_none()
    if before is None:
        raise NotFound()
    values = _clean(data)
    agenda = values.pop("agenda")
    new_day = values["starts_at"].astimezone(SHANGHAI).date()
    if new_day != before.starts_at.astimezone(SHANGHAI).date():
        seated = {u for u, _ in _council_units_on(session, new_day)}
        recorded = set(
            session.scalars(select(MeetingAttendance.organisation_id).where(MeetingAttendance.meeting_id == meeting_id))
        )
        if recorded - seated:
            raise ValidationError("validation.moved_meeting_attendance", field="starts_at")
    old = {k: getattr(before, k) for k in values}
    version = versioned_update(
        session=session, model=Meeting, record_id=meeting_id, expected_version=expected_version, **values
    )
    _write_agenda(session, meeting_id, agenda)
    changed = {k: v for k, v in old.items() if v != values[k]}
    audit.record(
        session=session,
        actor=actor,
        action="meeting.update",
        record_type="meeting",
        record_id=meeting_id,
        before=changed,
        after={**{k: values[k] for k in changed}, "agenda": agenda},
    )
    return version


def _council_units_on(session: Session, day: date) -> list[tuple[int, str]]:
    """The units holding a seat on a day (who is expected at a meeting), by seat."""
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .join(CouncilTerm, CouncilTerm.organisation_id == Organisation.id)
        .where(CouncilTerm.starts_on <= day, day < CouncilTerm.ends_on)
        .order_by(CouncilTerm.seat)
    ).all()
    return [(int(i), n) for i, n in rows]


def _meeting_day(session: Session, meeting_id: int) -> date:
    starts = session.scalar(select(Meeting.starts_at).where(Meeting.id == meeting_id))
    if starts is None:
        raise NotFound()
    return starts.astimezone(SHANGHAI).date()


@requires(Role.ADMIN, Role.SECRETARIAT)
def record_attendance(
    *,
    session: Session,
    actor: Actor,
    meeting_id: int,
    expected_version: int,
    entries: dict[int, tuple[str, str]],
) -> int:
    """Attendance of the council units seated on the meeting's day: unit -> (出席/请假/缺席, proxy)."""
    seated = dict(_council_units_on(session, _meeting_day(session, meeting_id)))
    rows = []
    for unit, (status, proxy) in entries.items():
        if unit not in seated:
            raise ValidationError("validation.not_seated_then", field="attendance")
        if status not in {a.value for a in Attendance}:
            raise ValidationError("validation.choice", field="attendance")
        rows.append(
            {
                "meeting_id": meeting_id,
                "organisation_id": unit,
                "status": status,
                "proxy": bounded_text(proxy, field="proxy", limit=50),
            }
        )
    voted = {
        int(u)
        for u in session.scalars(
            select(DecisionVote.organisation_id)
            .join(Decision, Decision.id == DecisionVote.decision_id)
            .where(Decision.meeting_id == meeting_id)
        )
    }
    if any(entries.get(unit, ("", ""))[0] != Attendance.PRESENT.value for unit in voted):
        # a vote counts only from a unit present: its attendance cannot be changed under its vote
        raise ValidationError("validation.voted_unit_present", field="attendance")
    version = versioned_update(session=session, model=Meeting, record_id=meeting_id, expected_version=expected_version)
    session.execute(delete(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id))
    if rows:
        session.execute(insert(MeetingAttendance), rows)
    marked = {str(r["organisation_id"]): r["status"] for r in rows}
    audit.record(
        session=session,
        actor=actor,
        action="meeting.attendance",
        record_type="meeting",
        record_id=meeting_id,
        after={"attendance": marked},
    )
    return version


@requires(Role.ADMIN, Role.SECRETARIAT)
def record_decision(
    *,
    session: Session,
    actor: Actor,
    meeting_id: int,
    expected_version: int,
    title: str,
    text: str,
    votes: dict[int, str],
) -> int:
    """A decision (决议) with each present unit's vote; only units marked present may vote. Returns its id."""
    clean_title = bounded_text(title, field="title", limit=MAX_MEETING_TEXT, required=True)
    clean_body = bounded_text(text, field="text", limit=MAX_MINUTES)
    present = {
        int(u)
        for u in session.scalars(
            select(MeetingAttendance.organisation_id).where(
                MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.status == Attendance.PRESENT.value
            )
        )
    }
    for unit, vote in votes.items():
        if vote not in {v.value for v in Vote}:
            raise ValidationError("validation.choice", field="votes")
        if unit not in present:
            raise ValidationError("validation.vote_needs_presence", field="votes")
    versioned_update(session=session, model=Meeting, record_id=meeting_id, expected_version=expected_version)
    position = int(session.scalar(select(func.count()).where(Decision.meeting_id == meeting_id)) or 0) + 1
    decision_id = int(
        session.execute(
            insert(Decision)
            .values(meeting_id=meeting_id, position=position, title=clean_title, text=clean_body)
            .returning(Decision.id)
        ).scalar_one()
    )
    if votes:
        session.execute(
            insert(DecisionVote),
            [{"decision_id": decision_id, "organisation_id": u, "vote": v} for u, v in votes.items()],
        )
    audit.record(
        session=session,
        actor=actor,
        action="meeting.decision",
        record_type="meeting",
        record_id=meeting_id,
        after={"decision": clean_title, "votes": {str(u): v for u, v in votes.items()}},
    )
    return decision_id


def voting_rule(*, session: Session) -> VotingRule:
    """The quorum and passing shares from the settings (DOMAIN.md's defaults: more than half)."""
    return VotingRule(
        quorum_share=float(settings.get_setting(session=session, key="quorum_share")),
        pass_share=float(settings.get_setting(session=session, key="pass_share")),
    )


@dataclass(frozen=True)
class MeetingRow:
    """A meeting as listed."""

    id: int
    kind: str
    title: str
    starts_at: datetime
    place: str
    online_link: str
    present: int
    expected: int
    decisions: int


def list_meetings(*, session: Session, actor: Actor) -> list[MeetingRow]:
    """Every meeting, newest first, with attendance counts (three statements in all)."""
    if actor.role not in READERS:
        raise PermissionDenied()
    meetings = session.execute(
        select(Meeting.id, Meeting.kind, Meeting.title, Meeting.starts_at, Meeting.place, Meeting.online_link).order_by(
            Meeting.starts_at.desc()
        )
    ).all()
    counts = {
        int(m): (int(p), int(e))
        for m, p, e in session.execute(
            select(
                MeetingAttendance.meeting_id,
                func.count().filter(MeetingAttendance.status == Attendance.PRESENT.value),
                func.count(),
            ).group_by(MeetingAttendance.meeting_id)
        )
    }
    decisions = dict(
        (int(m), int(n))
        for m, n in session.execute(select(Decision.meeting_id, func.count()).group_by(Decision.meeting_id))
    )
    return [MeetingRow(*m, *counts.get(int(m[0]), (0, 0)), decisions.get(int(m[0]), 0)) for m in meetings]


@dataclass(frozen=True)
class AttendanceRow:
    """A seated unit at a meeting (status None: not recorded yet)."""

    organisation_id: int
    unit: str
    status: str | None
    proxy: str


@dataclass(frozen=True)
class DecisionRow:
    """A decision with its tally and result."""

    id: int
    title: str
    text: str
    votes: dict[int, str]
    agree: int
    oppose: int
    abstain: int
    passed: bool


@dataclass(frozen=True)
class MeetingDetail:
    """A meeting with its agenda, attendance, quorum and decisions."""

    id: int
    kind: str
    title: str
    starts_at: datetime
    place: str
    online_link: str
    notice_on: date | None
    minutes: str
    version: int
    agenda: list[str]
    attendance: list[AttendanceRow]
    present: int
    seated: int
    quorum: bool
    decisions: list[DecisionRow]
    rule: VotingRule


def get_meeting(*, session: Session, actor: Actor, meeting_id: int) -> MeetingDetail:
    """One meeting as the secretariat and council read it; NotFound if absent."""
    if actor.role not in READERS:
        raise PermissionDenied()
    meeting = session.execute(select(Meeting).where(Meeting.id == meeting_id)).scalar_one_or_none()
    if meeting is None:
        raise NotFound()
    day = meeting.starts_at.astimezone(SHANGHAI).date()
    seated = _council_units_on(session, day)
    recorded = {
        int(u): (s, p)
        for u, s, p in session.execute(
            select(MeetingAttendance.organisation_id, MeetingAttendance.status, MeetingAttendance.proxy).where(
                MeetingAttendance.meeting_id == meeting_id
            )
        )
    }
    attendance = [AttendanceRow(u, name, *recorded.get(u, (None, ""))) for u, name in seated]
    present = sum(1 for a in attendance if a.status == Attendance.PRESENT.value)
    rule = voting_rule(session=session)
    quorum = quorum_met(seated=len(seated), present=present, rule=rule)
    votes: dict[int, dict[int, str]] = {}
    for decision_id, unit, vote in session.execute(
        select(DecisionVote.decision_id, DecisionVote.organisation_id, DecisionVote.vote)
        .join(Decision, Decision.id == DecisionVote.decision_id)
        .where(Decision.meeting_id == meeting_id)
    ):
        votes.setdefault(int(decision_id), {})[int(unit)] = vote
    decisions = []
    for d in session.execute(
        select(Decision.id, Decision.title, Decision.text)
        .where(Decision.meeting_id == meeting_id)
        .order_by(Decision.position)
    ):
        cast = votes.get(int(d.id), {})
        agree = sum(1 for v in cast.values() if v == Vote.AGREE.value)
        decisions.append(
            DecisionRow(
                id=int(d.id),
                title=d.title,
                text=d.text,
                votes=cast,
                agree=agree,
                oppose=sum(1 for v in cast.values() if v == Vote.OPPOSE.value),
                abstain=sum(1 for v in cast.values() if v == Vote.ABSTAIN.value),
                passed=decision_passes(present=present, agree=agree, quorum=quorum, rule=rule),
            )
        )
    agenda = list(
        session.scalars(
            select(AgendaItem.title).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    )
    return MeetingDetail(
        id=meeting.id,
        kind=meeting.kind,
        title=meeting.title,
        starts_at=meeting.starts_at,
        place=meeting.place,
        online_link=meeting.online_link,
        notice_on=meeting.notice_on,
        minutes=meeting.minutes,
        version=meeting.version,
        agenda=agenda,
        attendance=attendance,
        present=present,
        seated=len(seated),
        quorum=quorum,
        decisions=decisions,
        rule=rule,
    )


@todo_provider
def _meeting_todos(session: Session, actor: Actor) -> list[TodoItem]:
    if actor.role not in READERS:
        return []
    start = datetime.combine(today(), datetime.min.time(), tzinfo=SHANGHAI)
    upcoming = int(
        session.scalar(
            select(func.count()).where(Meeting.starts_at >= start, Meeting.starts_at < start + timedelta(days=15))
        )
        or 0
    )
    return [TodoItem("todo.meetings_upcoming", upcoming, "council", query={"view": "meetings"})] if upcoming else []
