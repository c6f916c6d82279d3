"""Roll-ups the overview reads (DESIGN.md: no page scans the sign-ups to answer). Each is a recount of whole
months: a write service calls `touch()` with the months it changed, in its own transaction, and those months are
counted again from the base tables. Recounting a slice instead of adding deltas keeps the roll-ups equal to a full
recount whatever the order of writes (tested after random sequences of writes).

A screen adds its roll-up by adding a table (its own migration) and a refresher to REFRESHERS."""

import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session

from db.models import (
    Activity,
    ActivityRollup,
    Application,
    ApplicationRollup,
    MemberRollup,
    Organisation,
    ReviewRollup,
    Signup,
)
from db.services.access import internal_write
from domain.activities import SignupStatus
from domain.applications import AppStatus
from domain.clock import SHANGHAI, day_start
from domain.metrics import add_months, first_of_month

ROLLUP_LOCK_KEY = 720_191_127
DIRECT = "direct"  # a unit entered without an application (founding units, the directory's import)
SECRETARIAT_KIND = ""  # activities the secretariat organises on the network's behalf


def month_of(value: date | datetime) -> date:
    """The first day of the month a date, or an instant in Asia/Shanghai, falls in."""
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    return first_of_month(value)


def _bounds(month: date) -> tuple[datetime, datetime]:
    return day_start(month), day_start(add_months(month, 1))


def _refresh_activities(session: Session, month: date) -> None:
    start, end = _bounds(month)
    kind = func.coalesce(Organisation.kind, SECRETARIAT_KIND)
    live = Activity.cancelled_at.is_(None)
    in_month = (Activity.starts_at >= start, Activity.starts_at < end)
    keys = (Activity.category, Activity.province, kind)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for category, province, unit_kind, held, cancelled, outcomes, volunteers, hours in session.execute(
        select(
            *keys,
            func.count().filter(live),
            func.count().filter(Activity.cancelled_at.is_not(None)),
            func.count(Activity.outcome_at).filter(live),
            func.coalesce(func.sum(Activity.volunteers).filter(live), 0),
            func.coalesce(func.sum(Activity.service_hours).filter(live), 0),
        )
        .outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        .where(*in_month)
        .group_by(*keys)
    ):
        rows[(category, province, unit_kind)] = {
            "activities": int(held),
            "cancelled": int(cancelled),
            "with_outcome": int(outcomes),
            "volunteers": int(volunteers or 0),
            "service_hours": float(hours or 0),
            "signups": 0,
            "people": 0,
        }
    for category, province, unit_kind, signups, people in session.execute(
        select(*keys, func.count(Signup.id), func.coalesce(func.sum(Signup.people), 0))
        .join(Signup, Signup.activity_id == Activity.id)
        .outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        .where(*in_month, live, Signup.status == SignupStatus.CONFIRMED.value)
        .group_by(*keys)
    ):
        rows[(category, province, unit_kind)].update(signups=int(signups), people=int(people))
    session.execute(delete(ActivityRollup).where(ActivityRollup.month == month))
    if rows:
        session.execute(
            insert(ActivityRollup),
            [{"month": month, "category": c, "province": p, "kind": k, **values} for (c, p, k), values in rows.items()],
        )


def _refresh_applications(session: Session, month: date) -> None:
    start, end = _bounds(month)
    keys = (Application.channel, Application.status, Application.applied_for, Application.province, Application.kind)
    counted = session.execute(
        select(*keys, func.count())
        .where(Application.submitted_at >= start, Application.submitted_at < end)
        .group_by(*keys)
    ).all()
    session.execute(delete(ApplicationRollup).where(ApplicationRollup.month == month))
    if counted:
        session.execute(
            insert(ApplicationRollup),
            [
                {
                    "month": month,
                    "channel": c,
                    "status": s,
                    "applied_for": a,
                    "province": p,
                    "kind": k,
                    "applications": int(n),
                }
                for c, s, a, p, k, n in counted
            ],
        )


DECIDED = (AppStatus.APPROVED.value, AppStatus.REJECTED.value)


def _refresh_reviews(session: Session, month: date) -> None:
    start, end = _bounds(month)
    # Whole days between submission and decision, counted in Python: the two databases subtract dates
    # differently, and a month holds a few hundred decisions at most.
    histogram: dict[tuple[str, str, str, int], int] = {}
    for channel, province, kind, submitted, decided in session.execute(
        select(
            Application.channel,
            Application.province,
            Application.kind,
            Application.submitted_at,
            Application.decided_at,
        ).where(Application.status.in_(DECIDED), Application.decided_at >= start, Application.decided_at < end)
    ):
        if decided is None:  # excluded by the WHERE clause; for the type checker
            continue
        days = max((decided - submitted).days, 0)
        key = (channel, province, kind, days)
        histogram[key] = histogram.get(key, 0) + 1
    session.execute(delete(ReviewRollup).where(ReviewRollup.month == month))
    if histogram:
        session.execute(
            insert(ReviewRollup),
            [
                {"month": month, "channel": c, "province": p, "kind": k, "days": d, "decided": n}
                for (c, p, k, d), n in histogram.items()
            ],
        )


def _refresh_members(session: Session, month: date) -> None:
    following = add_months(month, 1)
    channel = func.coalesce(Organisation.admitted_channel, literal(DIRECT))
    counted: dict[tuple[str, str, str], int] = {}
    for unit_channel, province, kind in session.execute(
        select(channel, Organisation.province, Organisation.kind).where(
            Organisation.joined_on >= month, Organisation.joined_on < following, Organisation.is_secretariat.is_(False)
        )
    ):
        key = (unit_channel, province, kind)
        counted[key] = counted.get(key, 0) + 1
    session.execute(delete(MemberRollup).where(MemberRollup.month == month))
    if counted:
        session.execute(
            insert(MemberRollup),
            [{"month": month, "channel": c, "province": p, "kind": k, "joined": n} for (c, p, k), n in counted.items()],
        )


REFRESHERS: dict[str, Callable[[Session, date], None]] = {
    "activities": _refresh_activities,
    "applications": _refresh_applications,
    "reviews": _refresh_reviews,
    "members": _refresh_members,
}


@internal_write("called by the write services whose changes the overview's roll-ups count")
def touch(*, session: Session, rollup: str, months: Iterable[date | datetime | None]) -> None:
    """Count again the months a write changed (None: a date the record did not have)."""
    refresh = REFRESHERS[rollup]
    if session.get_bind().dialect.name == "postgresql":
        # A month is counted again by deleting and inserting its rows: two writers recounting at once would
        # both insert the same keys. One at a time (until commit); SQLite's writers are one at a time anyway.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK_KEY})
    for month in sorted({month_of(m) for m in months if m is not None}):
        refresh(session, month)


def _months(session: Session, rollup: str) -> list[date]:
    """Every month holding a record the roll-up counts."""
    column: Any = {
        "activities": Activity.starts_at,
        "applications": Application.submitted_at,
        "reviews": Application.decided_at,
        "members": Organisation.joined_on,
    }[rollup]
    first, last = session.execute(select(func.min(column), func.max(column))).one()
    if first is None:
        return []
    month, end = month_of(first), month_of(last)
    months = []
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


@internal_write("rebuilds the roll-ups from the base tables (backfill command, upgrade to migration 0006)")
def rebuild(*, session: Session) -> dict[str, int]:
    """Empty every roll-up and count every month again; returns the months counted per roll-up."""
    counted = {}
    for name, table in (
        ("activities", ActivityRollup),
        ("applications", ApplicationRollup),
        ("reviews", ReviewRollup),
        ("members", MemberRollup),
    ):
        session.execute(delete(table))
        months = _months(session, name)
        for month in months:
            REFRESHERS[name](session, month)
        counted[name] = len(months)
    return counted


def needs_rebuild(*, session: Session) -> bool:
    """Records exist but no roll-up row does (a database upgraded to the roll-ups' migration)."""
    has_rows = any(
        session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
        for table in (ActivityRollup, MemberRollup, ApplicationRollup)
    )
    has_records = any(
        session.execute(select(literal(1)).select_from(table).where(condition).limit(1)).first() is not None
        for table, condition in (
            (Activity, Activity.id.is_not(None)),
            (Application, Application.id.is_not(None)),
            (Organisation, Organisation.joined_on.is_not(None)),
        )
    )
    return has_records and not has_rows


def main(engine: Engine | None = None) -> int:
    """`python -m db.services.rollups`: rebuild every roll-up from the base tables (one transaction)."""
    from db.engine import transaction

    with transaction(write=True, engine=engine) as session:
        counted = rebuild(session=session)
    print("roll-ups rebuilt:", ", ".join(f"{k} {v} months" for k, v in counted.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
