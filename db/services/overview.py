"""The metrics overview: every figure is an SQL aggregate, mostly over the roll-ups (db/services/rollups.py),
for a period of whole months and the filters (province, unit kind, activity category). Each source of figures
registers its KPIs with @kpi here; the page shows whatever is registered, in order."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from db.models import (
    Activity,
    ActivityRollup,
    ApplicationRollup,
    CouncilTerm,
    Meeting,
    MeetingAttendance,
    MemberRollup,
    Organisation,
    ReviewRollup,
)
from db.services.rollups import SECRETARIAT_KIND
from domain.activities import Category
from domain.applications import PENDING
from domain.clock import SHANGHAI, day_start
from domain.council import Attendance
from domain.errors import PermissionDenied
from domain.metrics import REVIEW_BUCKETS, Change, Period, change, median_from_histogram, review_bucket
from domain.organisations import OrgStatus
from domain.roles import Actor, Role

READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER})
APPLICATION_READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL})
# The record types (data-version topics) the overview's figures come from: a write to any of them refreshes it.
TOPICS = ("activity", "signup", "organisation", "application", "council_term", "meeting")
ENDING_SOON_DAYS = 180


def _check(actor: Actor) -> None:
    if actor.role not in READERS:
        raise PermissionDenied()


@dataclass(frozen=True)
class OverviewFilters:
    """The page's filters: a period of whole months and, optionally, a province, a unit kind, a category."""

    period: Period
    province: str | None = None
    kind: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Kpi:
    """A tile: its key (label `overview.kpi_<key>`), the figure and its change against the previous period
    (None for a figure of today, such as seats filled), and how to show it ('int', 'days', 'hours', 'percent')."""

    key: str
    change: Change | None
    value: float | None
    style: str = "int"


KpiSource = Callable[[Session, OverviewFilters, date, Actor], list[Kpi]]
KPI_SOURCES: list[KpiSource] = []


def kpi(fn: KpiSource) -> KpiSource:
    """Register a function that returns KPIs for the filters (the page shows them in registration order)."""
    KPI_SOURCES.append(fn)
    return fn


def _where(table: Any, filters: OverviewFilters, period: Period, *, category: bool = False) -> list[Any]:
    conditions = [table.month >= period.first, table.month <= period.last]
    if filters.province:
        conditions.append(table.province == filters.province)
    if filters.kind:
        conditions.append(table.kind == filters.kind)
    if category and filters.category:
        conditions.append(table.category == filters.category)
    return conditions


def _members_on(session: Session, filters: OverviewFilters, day: date) -> int:
    """Member units whose membership had begun by `day` (units without a join date count as founding)."""
    stmt = select(func.count(Organisation.id)).where(
        Organisation.status == OrgStatus.MEMBER.value,
        Organisation.is_secretariat.is_(False),
        or_(Organisation.joined_on.is_(None), Organisation.joined_on <= day),
    )
    if filters.province:
        stmt = stmt.where(Organisation.province == filters.province)
    if filters.kind:
        stmt = stmt.where(Organisation.kind == filters.kind)
    return int(session.scalar(stmt) or 0)


@kpi
def _member_kpis(session: Session, filters: OverviewFilters, today: date, actor: Actor) -> list[Kpi]:
    now, before = filters.period, filters.period.previous()
    members = change(
        _members_on(session, filters, min(now.last_day, today)), _members_on(session, filters, before.last_day)
    )

    def joined(period: Period) -> int:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(MemberRollup.joined), 0)).where(*_where(MemberRollup, filters, period))
            )
            or 0
        )

    return [
        Kpi("members", members, members.value),
        Kpi("new_members", change(joined(now), joined(before)), joined(now)),
    ]


@kpi
def _application_kpis(session: Session, filters: OverviewFilters, today: date, actor: Actor) -> list[Kpi]:
    if actor.role not in APPLICATION_READERS:  # partner demos may not read applications, their figures included
        return []
    pending_stmt = select(func.coalesce(func.sum(ApplicationRollup.applications), 0)).where(
        ApplicationRollup.status.in_([s.value for s in PENDING])
    )
    if filters.province:
        pending_stmt = pending_stmt.where(ApplicationRollup.province == filters.province)
    if filters.kind:
        pending_stmt = pending_stmt.where(ApplicationRollup.kind == filters.kind)
    pending = int(session.scalar(pending_stmt) or 0)

    def median(period: Period) -> float | None:
        rows = session.execute(
            select(ReviewRollup.days, func.sum(ReviewRollup.decided))
            .where(*_where(ReviewRollup, filters, period))
            .group_by(ReviewRollup.days)
        ).all()
        return median_from_histogram({int(d): int(n) for d, n in rows})

    now, before = median(filters.period), median(filters.period.previous())
    review = change(now, before) if now is not None and before is not None else None
    return [Kpi("pending", None, pending), Kpi("median_review_days", review, now, "days")]


@kpi
def _council_kpis(session: Session, filters: OverviewFilters, today: date, actor: Actor) -> list[Kpi]:
    seated = session.execute(
        select(CouncilTerm.ends_on).where(CouncilTerm.starts_on <= today, CouncilTerm.ends_on > today)
    ).all()
    ending = sum(1 for (ends_on,) in seated if ends_on <= today + timedelta(days=ENDING_SOON_DAYS))
    return [Kpi("seats_filled", None, len(seated)), Kpi("terms_ending", None, ending)]


def _activity_sums(session: Session, filters: OverviewFilters, period: Period) -> dict[str, float]:
    row = session.execute(
        select(
            func.coalesce(func.sum(ActivityRollup.activities), 0),
            func.coalesce(func.sum(ActivityRollup.volunteers), 0),
            func.coalesce(func.sum(ActivityRollup.service_hours), 0),
            func.coalesce(func.sum(ActivityRollup.people), 0),
            func.coalesce(
                func.sum(ActivityRollup.activities).filter(ActivityRollup.category == Category.TRAINING.value), 0
            ),
        ).where(*_where(ActivityRollup, filters, period, category=True))
    ).one()
    return {
        "activities": float(row[0]),
        "volunteers": float(row[1]),
        "hours": float(row[2]),
        "people": float(row[3]),
        "trainings": float(row[4]),
    }


@kpi
def _activity_kpis(session: Session, filters: OverviewFilters, today: date, actor: Actor) -> list[Kpi]:
    now = _activity_sums(session, filters, filters.period)
    before = _activity_sums(session, filters, filters.period.previous())
    styles = {"hours": "hours"}
    return [
        Kpi(key, change(now[key], before[key]), now[key], styles.get(key, "int"))
        for key in ("activities", "volunteers", "hours", "trainings", "people")
    ]


def _meeting_figures(session: Session, period: Period, today: date) -> tuple[int, float | None]:
    start, end = day_start(period.first), day_start(min(period.end, today + timedelta(days=1)))
    held = int(
        session.scalar(select(func.count(Meeting.id)).where(Meeting.starts_at >= start, Meeting.starts_at < end)) or 0
    )
    present, recorded = session.execute(
        select(
            func.count().filter(MeetingAttendance.status == Attendance.PRESENT.value),
            func.count(MeetingAttendance.id),
        )
        .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
        .where(Meeting.starts_at >= start, Meeting.starts_at < end)
    ).one()
    return held, (int(present) / int(recorded) if recorded else None)


@kpi
def _meeting_kpis(session: Session, filters: OverviewFilters, today: date, actor: Actor) -> list[Kpi]:
    held, rate = _meeting_figures(session, filters.period, today)
    held_before, rate_before = _meeting_figures(session, filters.period.previous(), today)
    rate_change = change(rate, rate_before) if rate is not None and rate_before is not None else None
    return [Kpi("meetings", change(held, held_before), held), Kpi("attendance", rate_change, rate, "percent")]


def kpis(*, session: Session, actor: Actor, filters: OverviewFilters, today: date) -> list[Kpi]:
    """Every registered KPI for the filters, in registration order."""
    _check(actor)
    tiles: list[Kpi] = []
    for source in KPI_SOURCES:
        tiles.extend(source(session, filters, today, actor))
    return tiles


# --------------------------------------------------------------------------------------------------- charts


def members_by(*, session: Session, actor: Actor, filters: OverviewFilters, field: str) -> dict[str, int]:
    """Current member units by unit kind or by province (the other filters applied), largest first."""
    _check(actor)
    column = {"kind": Organisation.kind, "province": Organisation.province}[field]
    stmt = select(column, func.count(Organisation.id)).where(
        Organisation.status == OrgStatus.MEMBER.value, Organisation.is_secretariat.is_(False)
    )
    if filters.province:
        stmt = stmt.where(Organisation.province == filters.province)
    if filters.kind:
        stmt = stmt.where(Organisation.kind == filters.kind)
    rows = session.execute(stmt.group_by(column).order_by(func.count(Organisation.id).desc(), column)).all()
    return {str(k): int(n) for k, n in rows}


def new_members_by_month(*, session: Session, actor: Actor, filters: OverviewFilters) -> list[tuple[date, str, int]]:
    """Units that joined, per month and admitting channel ('direct': entered without an application)."""
    _check(actor)
    rows = session.execute(
        select(MemberRollup.month, MemberRollup.channel, func.sum(MemberRollup.joined))
        .where(*_where(MemberRollup, filters, filters.period))
        .group_by(MemberRollup.month, MemberRollup.channel)
        .order_by(MemberRollup.month, MemberRollup.channel)
    ).all()
    return [(m, c, int(n)) for m, c, n in rows]


def _check_applications(actor: Actor) -> None:
    if actor.role not in APPLICATION_READERS:
        raise PermissionDenied()


def application_funnel(*, session: Session, actor: Actor, filters: OverviewFilters) -> dict[str, int]:
    """Applications submitted in the period, by their status now (not for viewers)."""
    _check_applications(actor)
    rows = session.execute(
        select(ApplicationRollup.status, func.sum(ApplicationRollup.applications))
        .where(*_where(ApplicationRollup, filters, filters.period))
        .group_by(ApplicationRollup.status)
    ).all()
    return {s: int(n) for s, n in rows}


def review_distribution(*, session: Session, actor: Actor, filters: OverviewFilters) -> list[int]:
    """Applications decided in the period per review-time bucket (domain.metrics.REVIEW_BUCKETS; not for viewers)."""
    _check_applications(actor)
    counts = [0] * len(REVIEW_BUCKETS)
    for days, n in session.execute(
        select(ReviewRollup.days, func.sum(ReviewRollup.decided))
        .where(*_where(ReviewRollup, filters, filters.period))
        .group_by(ReviewRollup.days)
    ):
        counts[review_bucket(int(days))] += int(n)
    return counts


@dataclass(frozen=True)
class MonthCategory:
    """Activities (not cancelled) and service hours of one category in one month."""

    month: date
    category: str
    activities: int
    hours: float
    people: int


def activities_by_month(*, session: Session, actor: Actor, filters: OverviewFilters) -> list[MonthCategory]:
    """Activities and service hours per month and category."""
    _check(actor)
    rows = session.execute(
        select(
            ActivityRollup.month,
            ActivityRollup.category,
            func.sum(ActivityRollup.activities),
            func.sum(ActivityRollup.service_hours),
            func.sum(ActivityRollup.people),
        )
        .where(*_where(ActivityRollup, filters, filters.period, category=True))
        .group_by(ActivityRollup.month, ActivityRollup.category)
        .order_by(ActivityRollup.month, ActivityRollup.category)
    ).all()
    # a month whose only activities of a category were cancelled has a roll-up row of zeros: not a bar
    return [MonthCategory(m, c, int(a or 0), float(h or 0), int(p or 0)) for m, c, a, h, p in rows if a or h or p]


@dataclass(frozen=True)
class OrganiserFigures:
    """An organiser's activities (not cancelled) and service hours in the period."""

    organisation_id: int | None
    name: str
    activities: int
    hours: float


def top_organisers(
    *, session: Session, actor: Actor, filters: OverviewFilters, limit: int = 10
) -> list[OrganiserFigures]:
    """The organisers with the most activities in the period (then hours), the secretariat included as one."""
    _check(actor)
    start, end = day_start(filters.period.first), day_start(filters.period.end)
    stmt = (
        select(
            Activity.organiser_id,
            func.count(Activity.id),
            func.coalesce(func.sum(Activity.service_hours), 0),
        )
        .outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        .where(Activity.starts_at >= start, Activity.starts_at < end, Activity.cancelled_at.is_(None))
        .group_by(Activity.organiser_id)
        .order_by(func.count(Activity.id).desc(), func.coalesce(func.sum(Activity.service_hours), 0).desc())
        .limit(limit)
    )
    if filters.province:
        stmt = stmt.where(Activity.province == filters.province)
    if filters.kind:
        stmt = stmt.where(func.coalesce(Organisation.kind, SECRETARIAT_KIND) == filters.kind)
    if filters.category:
        stmt = stmt.where(Activity.category == filters.category)
    rows = session.execute(stmt).all()
    ids = [int(i) for i, _, _ in rows if i is not None]
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
    return [
        OrganiserFigures(
            None if i is None else int(i), names.get(i, "") if i is not None else "", int(n), float(h or 0)
        )
        for i, n, h in rows
    ]


def earliest_month(*, session: Session, actor: Actor) -> date | None:
    """The first month holding anything the overview counts (for the preset "all")."""
    _check(actor)
    firsts: list[date | None] = [
        session.scalar(select(func.min(table.month))) for table in (ActivityRollup, MemberRollup, ApplicationRollup)
    ]
    first_meeting = session.scalar(select(func.min(Meeting.starts_at)))
    if first_meeting is not None:
        firsts.append(first_meeting.astimezone(SHANGHAI).date().replace(day=1))
    found = [f for f in firsts if f is not None]
    return min(found) if found else None
