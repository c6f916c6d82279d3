"""The benefits ledger (成员权益台账): what each member unit has used of the five benefits the founding document
promises, in a period, and the record a nomination carries. Every figure is one grouped SQL aggregate per kind of
record, joined to the units; nothing is counted in Python.

Definitions (period: first … last day inclusive, Asia/Shanghai):
- achievements published: its achievements marked 已发布 with a publication date in the period;
- trainings attended: confirmed sign-ups on trainings (培训学习) that start in the period and have begun by
  today, not cancelled (a sign-up for a training still to come is not attendance yet);
- trainings organised: trainings it organises or co-organises that start in the period, not cancelled;
- invitations: live invitations to activities that start in the period, not cancelled;
- units recommended: applications naming it as recommender submitted in the period; admitted: of those, approved;
- nominations made: its nominations, not withdrawn, in rounds whose call for nominations closes in the period;
  won: of those, confirmed winners (a result is confirmed when published);
- council service: the lowest seat of its council terms overlapping the period (none: no service);
- activities organised, volunteers, service hours: activities it organises or co-organises that start in the
  period, not cancelled, with their recorded outcome.
A unit "used none of its benefits" when achievements, trainings attended or organised, invitations, units
recommended and nominations made are all zero (council service is a duty, not one of the five benefits).
"""

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from db.models import (
    Achievement,
    Activity,
    ActivityCoOrganiser,
    Application,
    CouncilTerm,
    Nomination,
    Organisation,
    SelectionRound,
    Signup,
)
from db.services._sql import like_escape
from db.services.access import check_reader
from domain.activities import Category, SignupKind, SignupStatus
from domain.applications import AppStatus, Channel
from domain.clock import day_start
from domain.clock import today as clock_today
from domain.errors import PermissionDenied, ValidationError
from domain.organisations import OrgStatus
from domain.roles import RECORD_READERS, Actor
from domain.selections import AchievementStatus
from domain.text import name_key

READERS = RECORD_READERS
# The record types whose writes change the ledger (for the cache's data-version stamp).
TOPICS = ("achievement", "activity", "signup", "application", "nomination", "selection_round", "council_term",
          "organisation")  # fmt: skip
MAX_PERIOD_DAYS = 366 * 10


@dataclass(frozen=True)
class UnitRecord:
    """One unit's figures for a period (see the module's definitions)."""

    organisation_id: int
    name: str
    achievements_published: int = 0
    trainings_attended: int = 0
    trainings_organised: int = 0
    invitations: int = 0
    units_recommended: int = 0
    units_admitted: int = 0
    nominations_made: int = 0
    nominations_won: int = 0
    council_seat: int | None = None
    activities_organised: int = 0
    volunteers: int = 0
    service_hours: Decimal = Decimal(0)

    @property
    def benefits_used(self) -> int:
        return (
            self.achievements_published
            + self.trainings_attended
            + self.trainings_organised
            + self.invitations
            + self.units_recommended
            + self.nominations_made
        )

    def as_json(self) -> dict[str, Any]:
        """For a nomination's frozen record: plain numbers."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UnitRecord":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "service_hours" in values:
            values["service_hours"] = Decimal(str(values["service_hours"]))
        return cls(**values)


def check_period(first: date, last: date) -> None:
    """A ledger period: first day not after the last, at most ten years."""
    if last < first:
        raise ValidationError("validation.dates_reversed", field="period")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise ValidationError("validation.period_too_long", field="period", years=10)


def _only(column: Any, ids: list[int] | None) -> list[Any]:
    """The condition keeping the given units (none: every unit), pushed into each grouped subquery so a unit's
    page does not total the whole country first."""
    return [] if ids is None else [column.in_(ids)]


def _organised(first: date, last: date, ids: list[int] | None) -> Any:
    """(organisation_id, activity_id) for activities a unit organises or co-organises starting in the period."""
    start, end = day_start(first), day_start(last + timedelta(days=1))
    live = and_(Activity.starts_at >= start, Activity.starts_at < end, Activity.cancelled_at.is_(None))
    by_organiser = select(Activity.organiser_id.label("org"), Activity.id.label("activity")).where(
        live, Activity.organiser_id.is_not(None), *_only(Activity.organiser_id, ids)
    )
    by_co = (
        select(ActivityCoOrganiser.organisation_id.label("org"), Activity.id.label("activity"))
        .join(Activity, Activity.id == ActivityCoOrganiser.activity_id)
        .where(
            live,
            ActivityCoOrganiser.organisation_id != func.coalesce(Activity.organiser_id, 0),
            *_only(ActivityCoOrganiser.organisation_id, ids),
        )
    )
    return union_all(by_organiser, by_co).subquery("organised")


def _aggregates(first: date, last: date, today: date, ids: list[int] | None) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """Per kind of record: a subquery grouped by unit (column `org`) and the figures it gives."""
    start, end = day_start(first), day_start(last + timedelta(days=1))
    held = day_start(today + timedelta(days=1))  # a training counts as attended once it has begun
    in_period = and_(Activity.starts_at >= start, Activity.starts_at < end, Activity.cancelled_at.is_(None))

    achievements = (
        select(Achievement.organisation_id.label("org"), func.count().label("n"))
        .where(
            Achievement.status == AchievementStatus.PUBLISHED.value,
            *_only(Achievement.organisation_id, ids),
            Achievement.published_on >= first,
            Achievement.published_on <= last,
        )
        .group_by(Achievement.organisation_id)
        .subquery("ach")
    )
    signups = (
        select(
            Signup.organisation_id.label("org"),
            func.sum(
                case(
                    (
                        and_(
                            Signup.kind == SignupKind.SIGNUP.value,
                            Signup.status == SignupStatus.CONFIRMED.value,
                            Activity.category == Category.TRAINING.value,
                            Activity.starts_at < held,
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("trained"),
            func.sum(
                case(
                    (
                        and_(Signup.kind == SignupKind.INVITATION.value, Signup.status == SignupStatus.INVITED.value),
                        1,
                    ),
                    else_=0,
                )
            ).label("invited"),
        )
        .join(Activity, Activity.id == Signup.activity_id)
        .where(in_period, Signup.status != SignupStatus.CANCELLED.value, *_only(Signup.organisation_id, ids))
        .group_by(Signup.organisation_id)
        .subquery("sig")
    )
    organised = _organised(first, last, ids)
    activities = (
        select(
            organised.c.org.label("org"),
            func.count().label("n"),
            func.sum(case((Activity.category == Category.TRAINING.value, 1), else_=0)).label("trainings"),
            func.coalesce(func.sum(Activity.volunteers), 0).label("volunteers"),
            func.coalesce(func.sum(Activity.service_hours), 0).label("hours"),
        )
        .join(Activity, Activity.id == organised.c.activity)
        .group_by(organised.c.org)
        .subquery("act")
    )
    recommended = (
        select(
            Application.recommender_id.label("org"),
            func.count().label("n"),
            func.sum(case((Application.status == AppStatus.APPROVED.value, 1), else_=0)).label("admitted"),
        )
        .where(
            Application.channel == Channel.RECOMMENDED.value,
            *_only(Application.recommender_id, ids),
            Application.submitted_at >= start,
            Application.submitted_at < end,
        )
        .group_by(Application.recommender_id)
        .subquery("rec")
    )
    nominations = (
        select(
            Nomination.nominating_org_id.label("org"),
            func.count().label("n"),
            func.sum(case((Nomination.winner, 1), else_=0)).label("won"),
        )
        .join(SelectionRound, SelectionRound.id == Nomination.round_id)
        .where(
            Nomination.withdrawn_at.is_(None),
            *_only(Nomination.nominating_org_id, ids),
            SelectionRound.nomination_deadline >= first,
            SelectionRound.nomination_deadline <= last,
        )
        .group_by(Nomination.nominating_org_id)
        .subquery("nom")
    )
    council = (
        select(CouncilTerm.organisation_id.label("org"), func.min(CouncilTerm.seat).label("seat"))
        .where(
            CouncilTerm.starts_on <= last,
            CouncilTerm.ends_on > first,
            CouncilTerm.ends_on > CouncilTerm.starts_on,
            *_only(CouncilTerm.organisation_id, ids),
        )
        .group_by(CouncilTerm.organisation_id)
        .subquery("cou")
    )
    return [
        (achievements, [("achievements_published", achievements.c.n)]),
        (signups, [("trainings_attended", signups.c.trained), ("invitations", signups.c.invited)]),
        (
            activities,
            [
                ("activities_organised", activities.c.n),
                ("trainings_organised", activities.c.trainings),
                ("volunteers", activities.c.volunteers),
                ("service_hours", activities.c.hours),
            ],
        ),
        (recommended, [("units_recommended", recommended.c.n), ("units_admitted", recommended.c.admitted)]),
        (nominations, [("nominations_made", nominations.c.n), ("nominations_won", nominations.c.won)]),
        (council, [("council_seat", council.c.seat)]),
    ]


USED_FIELDS = (
    "achievements_published",
    "trainings_attended",
    "trainings_organised",
    "invitations",
    "units_recommended",
    "nominations_made",
)


def _ledger_select(
    first: date, last: date, today: date, ids: list[int] | None = None
) -> tuple[Select[Any], dict[str, Any]]:
    columns: dict[str, Any] = {}
    joins = []
    for sub, figures in _aggregates(first, last, today, ids):
        joins.append(sub)
        for name, column in figures:
            columns[name] = column if name == "council_seat" else func.coalesce(column, 0)
    stmt = select(Organisation.id, Organisation.name, *[c.label(n) for n, c in columns.items()])
    source: Any = Organisation.__table__
    for sub in joins:
        source = source.outerjoin(sub, sub.c.org == Organisation.id)
    return stmt.select_from(source), columns


def _record(row: Any) -> UnitRecord:
    values = row._mapping
    figures: dict[str, Any] = {}
    for f in fields(UnitRecord):
        if f.name in {"organisation_id", "name"}:
            continue
        value = values[f.name]
        if f.name == "service_hours":
            figures[f.name] = Decimal(str(value))
        elif f.name == "council_seat":
            figures[f.name] = None if value is None else int(value)
        else:
            figures[f.name] = int(value)
    return UnitRecord(organisation_id=int(values["id"]), name=values["name"], **figures)


def unit_records(
    *, session: Session, organisation_ids: list[int], first: date, last: date, today: date | None = None
) -> dict[int, UnitRecord]:
    """The figures of the given units for a period (any status: a nominee need not be a member), one statement
    that reads only those units' records."""
    if not organisation_ids:
        return {}
    check_period(first, last)
    ids = sorted(set(organisation_ids))
    stmt, _ = _ledger_select(first, last, today or clock_today(), ids)
    rows = session.execute(stmt.where(Organisation.id.in_(ids))).all()
    return {row.id: _record(row) for row in rows}


@dataclass(frozen=True)
class LedgerPage:
    rows: list[UnitRecord]
    total: int
    unused: int  # members in the ledger that used none of their benefits


def ledger(
    *,
    session: Session,
    actor: Actor,
    first: date,
    last: date,
    search: str = "",
    only_unused: bool = False,
    limit: int | None = 50,
    offset: int = 0,
    today: date | None = None,
) -> LedgerPage:
    """The member units (status 成员, the secretariat left out, joined by the period's end) with their figures,
    in pinyin order, paged in SQL; `only_unused` keeps the units that used none of their benefits. The totals
    come with the page (window functions): the figures are added up once."""
    check_reader(actor, READERS)
    check_period(first, last)
    stmt, columns = _ledger_select(first, last, today or clock_today())
    where = [
        Organisation.status == OrgStatus.MEMBER.value,
        Organisation.is_secretariat == false(),
        or_(Organisation.joined_on.is_(None), Organisation.joined_on <= last),
    ]
    key = name_key(search)
    if key:
        where.append(Organisation.name_key.like(f"%{like_escape(key)}%", escape="\\"))
    used = sum((columns[name] for name in USED_FIELDS), literal(0))
    filtered = stmt.where(*where)
    if only_unused:
        filtered = filtered.where(used == 0)
    page = (
        filtered.add_columns(
            func.count().over().label("ledger_total"),
            func.sum(case((used == 0, 1), else_=0)).over().label("ledger_unused"),
        )
        .order_by(Organisation.sort_key, Organisation.id)
        .offset(offset)
    )
    if limit is not None:
        page = page.limit(limit)
    found = session.execute(page).all()
    if found:
        total, unused = found[0].ledger_total, found[0].ledger_unused
    else:  # past the last page (or nothing at all): count without a page
        counted = filtered.add_columns(used.label("used")).subquery()
        total, unused = session.execute(
            select(func.count(), func.coalesce(func.sum(case((counted.c.used == 0, 1), else_=0)), 0))
        ).one()
    return LedgerPage(rows=[_record(row) for row in found], total=int(total), unused=int(unused or 0))


def unit_ledger(
    *, session: Session, actor: Actor, organisation_id: int, first: date, last: date, today: date | None = None
) -> UnitRecord:
    """One unit's figures for a period (its page)."""
    check_reader(actor, READERS)
    records = unit_records(session=session, organisation_ids=[organisation_id], first=first, last=last, today=today)
    return records.get(organisation_id) or UnitRecord(organisation_id=organisation_id, name="")


@dataclass(frozen=True)
class Contact:
    contact_person: str
    phone: str
    email: str


def contacts(*, session: Session, actor: Actor, organisation_ids: list[int]) -> dict[int, Contact]:
    """The contact data of units, for the secretariat reaching out to those that used no benefit (staff only)."""
    if not actor.is_staff:
        raise PermissionDenied()
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.contact_person, Organisation.phone, Organisation.email).where(
            Organisation.id.in_(sorted(set(organisation_ids)))
        )
    ).all()
    return {int(i): Contact(p or "", ph or "", e or "") for i, p, ph, e in rows}
