"""The activity calendar: activities and their series, sign-ups with a waitlist counted in people, invitations,
outcomes. Every view reads only the activities overlapping its visible range."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import Activity, ActivityCoOrganiser, Organisation, Signup
from db.services import audit, rollups
from db.services._sql import like_escape
from db.services._versioned import versioned_update
from db.services.access import requires
from db.services.todos import TodoItem, todo_provider
from domain.activities import (
    MAX_DESCRIPTION,
    MAX_DURATION,
    MAX_PLACE,
    MAX_TITLE,
    ActivityStatus,
    Category,
    Outcome,
    Repeat,
    SignupKind,
    SignupStatus,
    check_capacity,
    check_link,
    check_outcome,
    check_people,
    check_period,
    fits,
    place_key,
    promotions,
    series_starts,
    status_of,
)
from domain.clock import SHANGHAI, day_start, today
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.ical import IcsActivity
from domain.organisations import PROVINCES, OrgStatus
from domain.roles import Actor, Role
from domain.text import bounded_text, name_key

READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER})
MAX_CO_ORGANISERS = 20
MAX_NOTE = 500
# A view never holds more than this many activities in memory; the month and week cells show a few per day and
# count the rest, the list pages in SQL.
MAX_RANGE_ROWS = 20_000
MAX_ICS_EVENTS = 5_000
OUTCOME_REMINDER_DAYS = 90


def _check_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise PermissionDenied()


# --------------------------------------------------------------------------------------------------- editing


@dataclass(frozen=True)
class ActivityInput:
    """An activity as typed by the secretariat (times aware, in any zone; shown in Asia/Shanghai)."""

    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    province: str
    organiser_id: int | None = None
    co_organiser_ids: tuple[int, ...] = ()
    place: str = ""
    online: bool = False
    online_link: str = ""
    description: str = ""
    capacity: int | None = None


def _check_units(session: Session, ids: list[int], field: str) -> None:
    if not ids:
        return
    found = {
        int(i): status
        for i, status in session.execute(select(Organisation.id, Organisation.status).where(Organisation.id.in_(ids)))
    }
    for unit in ids:
        if unit not in found:
            raise ValidationError("validation.choice", field=field)
        if found[unit] != OrgStatus.MEMBER.value:
            raise ValidationError("validation.activity_unit_not_member", field=field)


def _clean(
    session: Session, data: ActivityInput, *, kept: frozenset[int] = frozenset()
) -> tuple[dict[str, Any], list[int]]:
    if data.category not in {c.value for c in Category}:
        raise ValidationError("validation.choice", field="category")
    title = bounded_text(data.title, field="title", limit=MAX_TITLE, required=True)
    check_period(data.starts_at, data.ends_at)
    if data.province not in PROVINCES:
        raise ValidationError("validation.choice", field="province")
    place = bounded_text(data.place, field="place", limit=MAX_PLACE)
    link = check_link(data.online_link, field="online_link")
    if data.online and not link:
        raise ValidationError("validation.required", field="online_link")
    if not data.online and not place:
        raise ValidationError("validation.place_or_link", field="place")
    co = list(dict.fromkeys(int(u) for u in data.co_organiser_ids))
    if data.organiser_id is not None and data.organiser_id in co:
        raise ValidationError("validation.co_organiser_is_organiser", field="co_organisers")
    if len(co) > MAX_CO_ORGANISERS:
        raise ValidationError("validation.too_many_items", field="co_organisers", max=MAX_CO_ORGANISERS)
    # Units already on the activity (`kept`) stay even if they have since left: a typo is still fixable.
    organiser = [data.organiser_id] if data.organiser_id is not None and data.organiser_id not in kept else []
    _check_units(session, organiser, "organiser")
    _check_units(session, [u for u in co if u not in kept], "co_organisers")
    values = {
        "title": title,
        "title_key": name_key(title)[:MAX_TITLE],
        "category": data.category,
        "organiser_id": data.organiser_id,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "place": place,
        "place_key": place_key(place) if place else "",
        "province": data.province,
        "online": bool(data.online),
        "online_link": link,
        "description": bounded_text(data.description, field="details", limit=MAX_DESCRIPTION),
        "capacity": check_capacity(data.capacity),
    }
    return values, co


@dataclass(frozen=True)
class Conflict:
    """Another live activity at the same time with the same organiser (or co-organiser) or at the same place."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    reason: str  # "organiser" or "place"


def _units_of() -> Any:
    """Organiser and co-organisers of each activity, as an SQL expression over (activity id, unit id)."""
    return (
        select(Activity.id.label("activity_id"), Activity.organiser_id.label("unit_id"))
        .where(Activity.organiser_id.is_not(None))
        .union_all(select(ActivityCoOrganiser.activity_id, ActivityCoOrganiser.organisation_id))
        .subquery()
    )


def find_conflicts(
    *,
    session: Session,
    actor: Actor,
    data: ActivityInput,
    exclude_id: int | None = None,
    starts: list[datetime] | None = None,
) -> list[Conflict]:
    """Double bookings of a planned activity (each occurrence of a series when `starts` is given); the screen
    warns and lets the secretariat save anyway."""
    _check_reader(actor)
    units = {u for u in [data.organiser_id, *data.co_organiser_ids] if u is not None}
    key = place_key(data.place) if data.place.strip() and not data.online else ""
    if not units and not key:
        return []
    length = data.ends_at - data.starts_at
    found: dict[int, Conflict] = {}
    for start in starts or [data.starts_at]:
        end = start + length
        overlap = [
            Activity.cancelled_at.is_(None),
            Activity.starts_at < end,
            Activity.ends_at > start,
            Activity.starts_at >= start - MAX_DURATION,
        ]
        if exclude_id is not None:
            overlap.append(Activity.id != exclude_id)
        reasons: list[tuple[str, ColumnElement[bool]]] = []
        if units:
            by_unit = _units_of()
            reasons.append(
                (
                    "organiser",
                    Activity.id.in_(select(by_unit.c.activity_id).where(by_unit.c.unit_id.in_(sorted(units)))),
                )
            )
        if key:
            reasons.append(("place", Activity.place_key == key))
        for reason, condition in reasons:
            for row in session.execute(
                select(Activity.id, Activity.title, Activity.starts_at, Activity.ends_at)
                .where(*overlap, condition)
                .order_by(Activity.starts_at)
                .limit(20)
            ):
                found.setdefault(int(row.id), Conflict(int(row.id), row.title, row.starts_at, row.ends_at, reason))
    return sorted(found.values(), key=lambda c: (c.starts_at, c.id))


def _write_co_organisers(session: Session, activity_id: int, units: list[int]) -> None:
    session.execute(
        ActivityCoOrganiser.__table__.delete().where(ActivityCoOrganiser.activity_id == activity_id)  # type: ignore[attr-defined]
    )
    if units:
        session.execute(
            insert(ActivityCoOrganiser), [{"activity_id": activity_id, "organisation_id": u} for u in units]
        )


@requires(Role.ADMIN, Role.SECRETARIAT)
def create_activity(
    *, session: Session, actor: Actor, data: ActivityInput, repeat: str = Repeat.NONE.value, count: int = 1
) -> list[int]:
    """Record an activity, or a weekly/monthly series of them (each occurrence its own record, with its own
    sign-ups); returns the ids in date order."""
    values, co = _clean(session, data)
    if repeat not in {r.value for r in Repeat}:
        raise ValidationError("validation.choice", field="repeat")
    starts = series_starts(data.starts_at, Repeat(repeat), count)
    length = data.ends_at - data.starts_at
    series_id = uuid.uuid4().hex if len(starts) > 1 else None
    ids = []
    for start in starts:
        row = {**values, "starts_at": start, "ends_at": start + length, "series_id": series_id}
        activity_id = int(session.execute(insert(Activity).values(**row).returning(Activity.id)).scalar_one())
        _write_co_organisers(session, activity_id, co)
        audit.record(
            session=session,
            actor=actor,
            action="activity.create",
            record_type="activity",
            record_id=activity_id,
            after={**row, "co_organisers": co},
        )
        ids.append(activity_id)
    rollups.touch(session=session, rollup="activities", months=starts)
    return ids


def _lock_activity(session: Session, activity_id: int) -> Activity:
    # PostgreSQL: the row lock makes concurrent sign-ups for one activity queue up, so two cannot both take
    # its last place. SQLite: write transactions already start with BEGIN IMMEDIATE, one at a time.
    activity = session.execute(
        select(Activity).where(Activity.id == activity_id).with_for_update()
    ).scalar_one_or_none()
    if activity is None:
        raise NotFound()
    return activity


def _live_activity(session: Session, activity_id: int) -> Activity:
    """The activity, locked, refusing a cancelled one (nothing changes on it any more)."""
    activity = _lock_activity(session, activity_id)
    if activity.cancelled_at is not None:
        raise ValidationError("validation.activity_cancelled")
    return activity


def _confirmed_people(session: Session, activity_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Signup.people), 0)).where(
                Signup.activity_id == activity_id, Signup.status == SignupStatus.CONFIRMED.value
            )
        )
        or 0
    )


def _promote(session: Session, actor: Actor, activity_id: int, capacity: int | None) -> list[int]:
    """Move waitlisted sign-ups up, in the order they came, while they fit; returns their unit ids."""
    waitlist = [
        (int(i), int(p), int(o))
        for i, p, o in session.execute(
            select(Signup.id, Signup.people, Signup.organisation_id)
            .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED.value)
            .order_by(Signup.created_at, Signup.id)
        )
    ]
    moved = promotions(
        capacity=capacity,
        confirmed_people=_confirmed_people(session, activity_id),
        waitlist=[(i, p) for i, p, _ in waitlist],
    )
    if not moved:
        return []
    session.execute(
        update(Signup)
        .where(Signup.id.in_(moved))
        .values(status=SignupStatus.CONFIRMED.value, version=Signup.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    units = {i: o for i, _, o in waitlist}
    audit.record_many(
        session=session,
        actor=actor,
        action="signup.promote",
        record_type="signup",
        entries=[(i, {"activity_id": activity_id, "status": SignupStatus.CONFIRMED.value}) for i in moved],
    )
    return [units[i] for i in moved]


@requires(Role.ADMIN, Role.SECRETARIAT)
def update_activity(
    *, session: Session, actor: Actor, activity_id: int, expected_version: int, data: ActivityInput
) -> int:
    """Save an edit made on the version the user saw; more capacity promotes the waitlist. Returns the new
    version."""
    before = _live_activity(session, activity_id)
    if before.version != expected_version:
        raise StaleRecord()
    old_co = sorted(
        int(u)
        for u in session.scalars(
            select(ActivityCoOrganiser.organisation_id).where(ActivityCoOrganiser.activity_id == activity_id)
        )
    )
    on_it = {*old_co, *([before.organiser_id] if before.organiser_id is not None else [])}
    values, co = _clean(session, data, kept=frozenset(on_it))
    confirmed = _confirmed_people(session, activity_id)
    if values["capacity"] is not None and values["capacity"] < confirmed:
        raise ValidationError("validation.capacity_below_confirmed", field="capacity", people=confirmed)
    largest_waiting = int(
        session.scalar(
            select(func.coalesce(func.max(Signup.people), 0)).where(
                Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED.value
            )
        )
        or 0
    )
    if values["capacity"] is not None and values["capacity"] < largest_waiting:
        # the queue keeps its order: a waiting group that could never fit would hold everyone behind it for ever
        raise ValidationError("validation.capacity_below_waiting", field="capacity", people=largest_waiting)
    old = {k: getattr(before, k) for k in values}
    version = versioned_update(
        session=session, model=Activity, record_id=activity_id, expected_version=expected_version, **values
    )
    _write_co_organisers(session, activity_id, co)
    changed = {k: v for k, v in old.items() if v != values[k]}
    after = {k: values[k] for k in changed}
    if sorted(co) != old_co:
        changed["co_organisers"], after["co_organisers"] = old_co, sorted(co)
    audit.record(
        session=session,
        actor=actor,
        action="activity.update",
        record_type="activity",
        record_id=activity_id,
        before=changed,
        after=after,
    )
    _promote(session, actor, activity_id, values["capacity"])
    rollups.touch(session=session, rollup="activities", months=[before.starts_at, values["starts_at"]])
    return version


@requires(Role.ADMIN, Role.SECRETARIAT)
def cancel_activity(*, session: Session, actor: Actor, activity_id: int, expected_version: int, reason: str) -> int:
    """Cancel an activity with a reason (never deleted: its record and sign-ups stay). Returns the new version."""
    text = bounded_text(reason, field="cancel_reason", limit=MAX_NOTE, required=True)
    activity = _live_activity(session, activity_id)
    version = versioned_update(
        session=session,
        model=Activity,
        record_id=activity_id,
        expected_version=expected_version,
        cancelled_at=utcnow(),
        cancel_reason=text,
    )
    audit.record(
        session=session,
        actor=actor,
        action="activity.cancel",
        record_type="activity",
        record_id=activity_id,
        after={"cancel_reason": text},
    )
    rollups.touch(session=session, rollup="activities", months=[activity.starts_at])
    return version


@requires(Role.ADMIN, Role.SECRETARIAT)
def record_outcome(*, session: Session, actor: Actor, activity_id: int, expected_version: int, outcome: Outcome) -> int:
    """Volunteers, service hours, summary and link of an activity that has begun. Returns the new version."""
    activity = _live_activity(session, activity_id)
    if activity.starts_at > utcnow():
        raise ValidationError("validation.outcome_before_start")
    clean = check_outcome(outcome, starts_at=activity.starts_at, ends_at=activity.ends_at)
    before = {
        "volunteers": activity.volunteers,
        "service_hours": activity.service_hours,
        "outcome_summary": activity.outcome_summary,
        "outcome_link": activity.outcome_link,
    }
    values = {
        "volunteers": clean.volunteers,
        "service_hours": float(clean.service_hours),
        "outcome_summary": clean.summary,
        "outcome_link": clean.link,
    }
    version = versioned_update(
        session=session,
        model=Activity,
        record_id=activity_id,
        expected_version=expected_version,
        outcome_at=utcnow(),
        **values,
    )
    audit.record(
        session=session,
        actor=actor,
        action="activity.outcome",
        record_type="activity",
        record_id=activity_id,
        before=before,
        after=values,
    )
    rollups.touch(session=session, rollup="activities", months=[activity.starts_at])
    return version


@dataclass(frozen=True)
class SignupResult:
    """What became of a sign-up: its id and status (confirmed, waitlisted or invited)."""

    id: int
    status: str


@requires(Role.ADMIN, Role.SECRETARIAT)
def add_signup(
    *,
    session: Session,
    actor: Actor,
    activity_id: int,
    organisation_id: int,
    people: int,
    kind: str = SignupKind.SIGNUP.value,
    note: str = "",
) -> SignupResult:
    """Record a member unit's sign-up (confirmed while places last, then waitlisted) or an invitation."""
    if kind not in {k.value for k in SignupKind}:
        raise ValidationError("validation.choice", field="signup_kind")
    activity = _live_activity(session, activity_id)
    if activity.ends_at <= utcnow():
        raise ValidationError("validation.activity_over")
    _check_units(session, [organisation_id], "organisation")
    capacity = activity.capacity if kind == SignupKind.SIGNUP.value else None
    count = check_people(people, capacity)
    text = bounded_text(note, field="note", limit=MAX_NOTE)
    live = session.scalar(
        select(Signup.id).where(
            Signup.activity_id == activity_id,
            Signup.organisation_id == organisation_id,
            Signup.status != SignupStatus.CANCELLED.value,
        )
    )
    if live is not None:
        raise ValidationError("validation.signup_exists", field="organisation")
    if kind == SignupKind.INVITATION.value:
        status = SignupStatus.INVITED
    else:
        # nobody overtakes the queue: a small group waits behind a waiting larger one even if it would fit
        waiting = session.scalar(
            select(Signup.id)
            .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED.value)
            .limit(1)
        )
        confirmed = _confirmed_people(session, activity_id)
        room = waiting is None and fits(capacity=capacity, confirmed_people=confirmed, people=count)
        status = SignupStatus.CONFIRMED if room else SignupStatus.WAITLISTED
    values = {
        "activity_id": activity_id,
        "organisation_id": organisation_id,
        "kind": kind,
        "status": status.value,
        "people": count,
        "note": text,
    }
    signup_id = int(session.execute(insert(Signup).values(**values).returning(Signup.id)).scalar_one())
    audit.record(
        session=session, actor=actor, action="signup.create", record_type="signup", record_id=signup_id, after=values
    )
    rollups.touch(session=session, rollup="activities", months=[activity.starts_at])
    return SignupResult(signup_id, status.value)


@requires(Role.ADMIN, Role.SECRETARIAT)
def cancel_signup(
    *, session: Session, actor: Actor, signup_id: int, expected_version: int, reason: str = ""
) -> list[int]:
    """Withdraw a sign-up or invitation; a place freed goes to the waitlist in order. Returns the units promoted."""
    activity_id = session.scalar(select(Signup.activity_id).where(Signup.id == signup_id))
    if activity_id is None:
        raise NotFound()
    activity = _lock_activity(session, int(activity_id))
    if activity.ends_at <= utcnow():
        raise ValidationError("validation.activity_over")
    signup = session.execute(select(Signup).where(Signup.id == signup_id)).scalar_one()
    if signup.status == SignupStatus.CANCELLED.value:
        raise ValidationError("validation.signup_cancelled")
    text = bounded_text(reason, field="cancel_reason", limit=MAX_NOTE)
    before = signup.status
    versioned_update(
        session=session,
        model=Signup,
        record_id=signup_id,
        expected_version=expected_version,
        status=SignupStatus.CANCELLED.value,
        cancelled_at=utcnow(),
        cancel_reason=text,
    )
    audit.record(
        session=session,
        actor=actor,
        action="signup.cancel",
        record_type="signup",
        record_id=signup_id,
        before={"status": before},
        after={"status": SignupStatus.CANCELLED.value, "cancel_reason": text},
    )
    rollups.touch(session=session, rollup="activities", months=[activity.starts_at])
    if activity.cancelled_at is not None:
        return []
    # a freed place, or a withdrawn group that was holding the queue, lets those waiting move up
    promoted = _promote(session, actor, int(activity_id), activity.capacity)
    if promoted:
        rollups.touch(session=session, rollup="activities", months=[activity.starts_at])
    return promoted


# --------------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ActivityFilters:
    """What a view shows: empty tuples and None mean "all"."""

    categories: tuple[str, ...] = ()
    organiser_id: int | None = None
    province: str | None = None
    statuses: tuple[str, ...] = ()
    online: bool | None = None
    needs_outcome: bool = False
    text: str = ""
    # The overview's drill-down: the organiser's unit kind ('' for the secretariat, organiser None), and only the
    # activities that start in the range (its bars count activities by the month they start in).
    organiser_kind: str | None = None
    starting_in_range: bool = False
    organiser_only: bool = False  # organiser_id as the organiser, not as a co-organiser


def _status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    live = Activity.cancelled_at.is_(None)
    if status == ActivityStatus.CANCELLED.value:
        return Activity.cancelled_at.is_not(None)
    if status == ActivityStatus.PLANNED.value:
        return and_(live, Activity.starts_at > now)
    if status == ActivityStatus.ONGOING.value:
        return and_(live, Activity.starts_at <= now, Activity.ends_at > now)
    if status == ActivityStatus.FINISHED.value:
        return and_(live, Activity.ends_at <= now)
    raise ValidationError("validation.choice", field="status")


def _filtered(stmt: Any, filters: ActivityFilters, now: datetime) -> Any:
    if filters.categories:
        stmt = stmt.where(Activity.category.in_(filters.categories))
    if filters.organiser_id is not None and filters.organiser_only:
        stmt = stmt.where(Activity.organiser_id == filters.organiser_id)
    elif filters.organiser_id is not None:
        co = exists().where(
            ActivityCoOrganiser.activity_id == Activity.id,
            ActivityCoOrganiser.organisation_id == filters.organiser_id,
        )
        stmt = stmt.where(or_(Activity.organiser_id == filters.organiser_id, co))
    if filters.province:
        stmt = stmt.where(Activity.province == filters.province)
    if filters.statuses:
        stmt = stmt.where(or_(*(_status_condition(s, now) for s in filters.statuses)))
    if filters.online is not None:
        stmt = stmt.where(Activity.online.is_(filters.online))
    if filters.needs_outcome:
        stmt = stmt.where(Activity.cancelled_at.is_(None), Activity.ends_at <= now, Activity.outcome_at.is_(None))
    if filters.organiser_kind == "":
        stmt = stmt.where(Activity.organiser_id.is_(None))
    elif filters.organiser_kind is not None:
        stmt = stmt.where(
            Activity.organiser_id.in_(select(Organisation.id).where(Organisation.kind == filters.organiser_kind))
        )
    key = like_escape(name_key(filters.text))
    if key:
        stmt = stmt.where(Activity.title_key.like(f"%{key}%", escape="\\"))
    return stmt


def _in_range(stmt: Any, first: date, last: date, *, starting: bool = False) -> Any:
    start, end = day_start(first), day_start(last + timedelta(days=1))
    if starting:
        return stmt.where(Activity.starts_at >= start, Activity.starts_at < end)
    # The lower bound on starts_at lets the (starts_at, ends_at) index answer: nothing lasts longer than that.
    return stmt.where(Activity.starts_at < end, Activity.starts_at >= start - MAX_DURATION, Activity.ends_at > start)


@dataclass(frozen=True)
class CalendarItem:
    """An activity as a calendar cell shows it."""

    id: int
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    status: str


@dataclass(frozen=True)
class CalendarRange:
    """The activities overlapping a range, in start order (truncated: more than MAX_RANGE_ROWS matched)."""

    items: list[CalendarItem]
    truncated: bool


def calendar_range(
    *, session: Session, actor: Actor, first: date, last: date, filters: ActivityFilters, now: datetime | None = None
) -> CalendarRange:
    """Activities overlapping [first, last] (Asia/Shanghai days) for the month and week views: one statement."""
    _check_reader(actor)
    now = now or utcnow()
    stmt = select(
        Activity.id, Activity.title, Activity.category, Activity.starts_at, Activity.ends_at, Activity.cancelled_at
    )
    stmt = _filtered(_in_range(stmt, first, last), filters, now).order_by(Activity.starts_at, Activity.id)
    rows = session.execute(stmt.limit(MAX_RANGE_ROWS + 1)).all()
    items = [
        CalendarItem(
            int(r.id),
            r.title,
            r.category,
            r.starts_at,
            r.ends_at,
            status_of(starts_at=r.starts_at, ends_at=r.ends_at, cancelled=r.cancelled_at is not None, now=now).value,
        )
        for r in rows[:MAX_RANGE_ROWS]
    ]
    return CalendarRange(items, len(rows) > MAX_RANGE_ROWS)


@dataclass(frozen=True)
class DayCell:
    """A day of the month or week view: the first activities of the day (by start) and how many there are."""

    day: date
    items: list[CalendarItem]
    total: int


def calendar_cells(
    *,
    session: Session,
    actor: Actor,
    first: date,
    last: date,
    filters: ActivityFilters,
    per_day: int,
    now: datetime | None = None,
) -> tuple[list[DayCell], bool]:
    """Each day of [first, last] with the activities running on it (a three-day training on all three days),
    at most `per_day` of them; the flag says the range held more than MAX_RANGE_ROWS activities."""
    found = calendar_range(session=session, actor=actor, first=first, last=last, filters=filters, now=now)
    days = (last - first).days + 1
    cells: list[list[CalendarItem]] = [[] for _ in range(days)]
    totals = [0] * days
    for item in found.items:
        start = max((item.starts_at.astimezone(SHANGHAI).date() - first).days, 0)
        # an activity ending at midnight does not run on the day it ends
        end_day = (item.ends_at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
        stop = min((end_day - first).days, days - 1)
        for n in range(start, stop + 1):
            totals[n] += 1
            if len(cells[n]) < per_day:
                cells[n].append(item)
    result = [DayCell(first + timedelta(days=n), cells[n], totals[n]) for n in range(days)]
    return result, found.truncated


@dataclass(frozen=True)
class ActivityRow:
    """An activity as the list view shows it."""

    id: int
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    organiser: str
    province: str
    place: str
    online: bool
    status: str
    capacity: int | None
    confirmed_people: int
    waitlisted: int
    volunteers: int | None
    service_hours: float | None


def _organiser_name() -> Any:
    return func.coalesce(Organisation.name, "")


def list_activities(
    *,
    session: Session,
    actor: Actor,
    first: date,
    last: date,
    filters: ActivityFilters,
    offset: int = 0,
    limit: int = 50,
    now: datetime | None = None,
) -> tuple[list[ActivityRow], int]:
    """One page of the activities overlapping [first, last] in start order, and how many there are (three
    statements whatever the page size: count, page, sign-up sums of the page)."""
    _check_reader(actor)
    now = now or utcnow()
    total = int(
        session.scalar(
            _filtered(
                _in_range(select(func.count(Activity.id)), first, last, starting=filters.starting_in_range),
                filters,
                now,
            )
        )
        or 0
    )
    stmt = (
        select(Activity, _organiser_name().label("organiser"))
        .outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        .order_by(Activity.starts_at, Activity.id)
    )
    page = session.execute(
        _filtered(_in_range(stmt, first, last, starting=filters.starting_in_range), filters, now)
        .offset(offset)
        .limit(limit)
    ).all()
    ids = [a.id for a, _ in page]
    sums: dict[int, tuple[int, int]] = {}
    if ids:
        for activity_id, people, waiting in session.execute(
            select(
                Signup.activity_id,
                func.coalesce(func.sum(Signup.people).filter(Signup.status == SignupStatus.CONFIRMED.value), 0),
                func.count().filter(Signup.status == SignupStatus.WAITLISTED.value),
            )
            .where(Signup.activity_id.in_(ids))
            .group_by(Signup.activity_id)
        ):
            sums[int(activity_id)] = (int(people), int(waiting))
    rows = [
        ActivityRow(
            id=a.id,
            title=a.title,
            category=a.category,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            organiser=organiser,
            province=a.province,
            place=a.place,
            online=a.online,
            status=status_of(
                starts_at=a.starts_at, ends_at=a.ends_at, cancelled=a.cancelled_at is not None, now=now
            ).value,
            capacity=a.capacity,
            confirmed_people=sums.get(a.id, (0, 0))[0],
            waitlisted=sums.get(a.id, (0, 0))[1],
            volunteers=a.volunteers,
            service_hours=a.service_hours,
        )
        for a, organiser in page
    ]
    return rows, total


@dataclass(frozen=True)
class RangeTotals:
    """What the activities of a range add up to (cancelled ones not counted)."""

    activities: int
    with_outcome: int
    volunteers: int
    service_hours: float
    signups_people: int


def range_totals(
    *, session: Session, actor: Actor, first: date, last: date, filters: ActivityFilters, now: datetime | None = None
) -> RangeTotals:
    """Totals for the activities overlapping a range, aggregated in SQL (two statements)."""
    _check_reader(actor)
    now = now or utcnow()
    base = _filtered(
        _in_range(
            select(
                func.count(Activity.id),
                func.count(Activity.outcome_at),
                func.coalesce(func.sum(Activity.volunteers), 0),
                func.coalesce(func.sum(Activity.service_hours), 0),
            ),
            first,
            last,
        ),
        filters,
        now,
    ).where(Activity.cancelled_at.is_(None))
    count, outcomes, volunteers, hours = session.execute(base).one()
    ids = _filtered(_in_range(select(Activity.id), first, last), filters, now).where(Activity.cancelled_at.is_(None))
    people = session.scalar(
        select(func.coalesce(func.sum(Signup.people), 0)).where(
            Signup.activity_id.in_(ids), Signup.status == SignupStatus.CONFIRMED.value
        )
    )
    return RangeTotals(int(count), int(outcomes), int(volunteers), float(hours or 0), int(people or 0))


@dataclass(frozen=True)
class SignupRow:
    """A sign-up or invitation on an activity's page (position: its place in the waitlist)."""

    id: int
    organisation_id: int
    unit: str
    province: str
    kind: str
    status: str
    people: int
    note: str
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    version: int
    position: int | None


@dataclass(frozen=True)
class ActivityDetail:
    """One activity with its organisers, sign-ups, capacity used and outcome."""

    id: int
    title: str
    category: str
    organiser_id: int | None
    organiser: str
    co_organisers: list[tuple[int, str]]
    starts_at: datetime
    ends_at: datetime
    place: str
    province: str
    online: bool
    online_link: str
    description: str
    capacity: int | None
    series_id: str | None
    status: str
    cancel_reason: str | None
    cancelled_at: datetime | None
    volunteers: int | None
    service_hours: float | None
    outcome_summary: str
    outcome_link: str
    outcome_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    signups: list[SignupRow] = field(default_factory=list)

    @property
    def confirmed_people(self) -> int:
        """People holding a place."""
        return sum(s.people for s in self.signups if s.status == SignupStatus.CONFIRMED.value)

    @property
    def waitlisted_people(self) -> int:
        """People waiting for a place."""
        return sum(s.people for s in self.signups if s.status == SignupStatus.WAITLISTED.value)

    def as_input(self) -> ActivityInput:
        """The activity as the edit form starts from (also for a copy)."""
        return ActivityInput(
            title=self.title,
            category=self.category,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            province=self.province,
            organiser_id=self.organiser_id,
            co_organiser_ids=tuple(u for u, _ in self.co_organisers),
            place=self.place,
            online=self.online,
            online_link=self.online_link,
            description=self.description,
            capacity=self.capacity,
        )


def get_activity(*, session: Session, actor: Actor, activity_id: int) -> ActivityDetail:
    """One activity as every reader sees it (there are no contact data on it); NotFound if absent."""
    _check_reader(actor)
    row = session.execute(
        select(Activity, _organiser_name())
        .outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        .where(Activity.id == activity_id)
    ).one_or_none()
    if row is None:
        raise NotFound()
    a, organiser = row
    co = [
        (int(i), n)
        for i, n in session.execute(
            select(Organisation.id, Organisation.name)
            .join(ActivityCoOrganiser, ActivityCoOrganiser.organisation_id == Organisation.id)
            .where(ActivityCoOrganiser.activity_id == activity_id)
            .order_by(Organisation.sort_key)
        )
    ]
    signups = []
    position = 0
    # Notes on a sign-up may carry a contact person or a phone: partner demos (viewers) do not receive them.
    masked = actor.role == Role.VIEWER
    for s, unit, province in session.execute(
        select(Signup, Organisation.name, Organisation.province)
        .join(Organisation, Organisation.id == Signup.organisation_id)
        .where(Signup.activity_id == activity_id)
        .order_by(Signup.created_at, Signup.id)
    ):
        waiting = s.status == SignupStatus.WAITLISTED.value
        position += int(waiting)
        signups.append(
            SignupRow(
                id=s.id,
                organisation_id=s.organisation_id,
                unit=unit,
                province=province,
                kind=s.kind,
                status=s.status,
                people=s.people,
                note="" if masked else s.note,
                created_at=s.created_at,
                cancelled_at=s.cancelled_at,
                cancel_reason="" if masked else s.cancel_reason,
                version=s.version,
                position=position if waiting else None,
            )
        )
    return ActivityDetail(
        id=a.id,
        title=a.title,
        category=a.category,
        organiser_id=a.organiser_id,
        organiser=organiser,
        co_organisers=co,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        place=a.place,
        province=a.province,
        online=a.online,
        online_link=a.online_link,
        description=a.description,
        capacity=a.capacity,
        series_id=a.series_id,
        status=status_of(
            starts_at=a.starts_at, ends_at=a.ends_at, cancelled=a.cancelled_at is not None, now=utcnow()
        ).value,
        cancel_reason=a.cancel_reason,
        cancelled_at=a.cancelled_at,
        volunteers=a.volunteers,
        service_hours=a.service_hours,
        outcome_summary=a.outcome_summary,
        outcome_link=a.outcome_link,
        outcome_at=a.outcome_at,
        version=a.version,
        created_at=a.created_at,
        updated_at=a.updated_at,
        signups=signups,
    )


def ics_activities(
    *,
    session: Session,
    actor: Actor,
    first: date | None = None,
    last: date | None = None,
    filters: ActivityFilters | None = None,
    activity_id: int | None = None,
) -> tuple[list[IcsActivity], bool]:
    """The activities for an .ics file: one activity, or a range with filters (at most MAX_ICS_EVENTS; the flag
    says more matched)."""
    _check_reader(actor)
    stmt = select(Activity, _organiser_name()).outerjoin(Organisation, Organisation.id == Activity.organiser_id)
    if activity_id is not None:
        stmt = stmt.where(Activity.id == activity_id)
    else:
        assert first is not None and last is not None
        stmt = _filtered(_in_range(stmt, first, last), filters or ActivityFilters(), utcnow())
    rows = session.execute(stmt.order_by(Activity.starts_at, Activity.id).limit(MAX_ICS_EVENTS + 1)).all()
    out = [
        IcsActivity(
            id=a.id,
            title=a.title,
            category=a.category,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            place=a.place,
            online_link=a.online_link,
            description=a.description,
            organiser=organiser,
            cancelled=a.cancelled_at is not None,
            series_id=a.series_id,
            version=a.version,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a, organiser in rows[:MAX_ICS_EVENTS]
    ]
    if activity_id is not None and not out:
        raise NotFound()
    return out, len(rows) > MAX_ICS_EVENTS


def signup_candidates(
    *, session: Session, actor: Actor, activity_id: int, text: str, limit: int = 20
) -> list[tuple[int, str]]:
    """Member units matching a search that hold no live sign-up or invitation on the activity (for the picker)."""
    _check_reader(actor)
    key = like_escape(name_key(text))
    taken = select(Signup.organisation_id).where(
        Signup.activity_id == activity_id, Signup.status != SignupStatus.CANCELLED.value
    )
    stmt = select(Organisation.id, Organisation.name).where(
        Organisation.status == OrgStatus.MEMBER.value, Organisation.id.not_in(taken)
    )
    if key:
        stmt = stmt.where(Organisation.name_key.like(f"%{key}%", escape="\\"))
    return [(int(i), n) for i, n in session.execute(stmt.order_by(Organisation.sort_key).limit(limit))]


@todo_provider
def _outcome_todos(session: Session, actor: Actor) -> list[TodoItem]:
    if actor.role not in {Role.ADMIN, Role.SECRETARIAT}:
        return []
    now = utcnow()
    monday = day_start(today() - timedelta(days=today().weekday()))
    missing, this_week = session.execute(
        select(func.count(Activity.id), func.count(Activity.id).filter(Activity.ends_at >= monday)).where(
            Activity.cancelled_at.is_(None),
            Activity.ends_at <= now,
            Activity.ends_at > now - timedelta(days=OUTCOME_REMINDER_DAYS),
            Activity.outcome_at.is_(None),
        )
    ).one()
    if not missing:
        return []
    first = today() - timedelta(days=OUTCOME_REMINDER_DAYS + 1)
    return [
        TodoItem(
            "todo.activities_missing_outcome",
            int(missing),
            "calendar",
            params={"days": OUTCOME_REMINDER_DAYS, "week": int(this_week or 0)},
            query={"view": "list", "from": first.isoformat(), "to": today().isoformat(), "needs_outcome": "1"},
        )
    ]
