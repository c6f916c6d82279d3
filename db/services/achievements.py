"""Achievements (成果展示): a member unit's result submitted for publicity through the network's channels, recorded
by the secretariat and marked 待审核 → 已发布 (with the channel and date) or 未采用 (with a reason)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models import Achievement, Organisation
from db.services import audit
from db.services._sql import like_escape
from db.services._versioned import versioned_update
from db.services.access import check_reader, requires
from db.services.todos import TodoItem, todo_provider
from domain.errors import NotFound, ValidationError
from domain.organisations import OrgStatus
from domain.roles import RECORD_READERS, Actor, Role
from domain.selections import (
    AchievementCategory,
    AchievementInput,
    AchievementStatus,
    check_achievement_decision,
    validate_achievement,
)
from domain.text import name_key

READERS = RECORD_READERS
STAFF = (Role.ADMIN, Role.SECRETARIAT)
TOPICS = ("achievement",)


@dataclass(frozen=True)
class AchievementRow:
    id: int
    organisation_id: int
    organisation: str
    title: str
    summary: str
    achieved_on: date
    category: str
    link: str
    status: str
    channel: str | None
    published_on: date | None
    decision_note: str
    version: int
    created_at: Any


def _query() -> Any:
    return select(
        Achievement.id,
        Achievement.organisation_id,
        Organisation.name,
        Achievement.title,
        Achievement.summary,
        Achievement.achieved_on,
        Achievement.category,
        Achievement.link,
        Achievement.status,
        Achievement.channel,
        Achievement.published_on,
        Achievement.decision_note,
        Achievement.version,
        Achievement.created_at,
    ).join(Organisation, Organisation.id == Achievement.organisation_id)


@dataclass(frozen=True)
class AchievementFilters:
    status: str | None = None
    category: str | None = None
    organisation_id: int | None = None
    year: int | None = None  # of the achievement's date
    search: str = ""


def _where(filters: AchievementFilters) -> list[Any]:
    where: list[Any] = []
    if filters.status:
        where.append(Achievement.status == filters.status)
    if filters.category:
        where.append(Achievement.category == filters.category)
    if filters.organisation_id is not None:
        where.append(Achievement.organisation_id == filters.organisation_id)
    if filters.year is not None:
        where.append(Achievement.achieved_on >= date(filters.year, 1, 1))
        where.append(Achievement.achieved_on <= date(filters.year, 12, 31))
    key = name_key(filters.search)
    if key:
        where.append(Achievement.title_key.like(f"%{like_escape(key)}%", escape="\\"))
    return where


def list_achievements(
    *, session: Session, actor: Actor, filters: AchievementFilters, limit: int | None = 50, offset: int = 0
) -> tuple[list[AchievementRow], int]:
    """One page of achievements (newest first) and how many match; filtered and paged in SQL."""
    check_reader(actor, READERS)
    where = _where(filters)
    total = session.scalar(select(func.count()).select_from(Achievement).where(*where))
    stmt = _query().where(*where).order_by(Achievement.achieved_on.desc(), Achievement.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [AchievementRow(*row) for row in session.execute(stmt).all()], int(total or 0)


def status_counts(*, session: Session, actor: Actor, filters: AchievementFilters) -> dict[str, int]:
    """How many achievements per status match the other filters (the tabs' badges)."""
    check_reader(actor, READERS)
    where = _where(AchievementFilters(None, filters.category, filters.organisation_id, filters.year, filters.search))
    rows = session.execute(select(Achievement.status, func.count()).where(*where).group_by(Achievement.status)).all()
    return {s: int(n) for s, n in rows}


def get_achievement(*, session: Session, actor: Actor, achievement_id: int) -> AchievementRow:
    check_reader(actor, READERS)
    row = session.execute(_query().where(Achievement.id == achievement_id)).first()
    if row is None:
        raise NotFound()
    return AchievementRow(*row)


def _check_unit(session: Session, organisation_id: int) -> None:
    unit = session.execute(
        select(Organisation.status, Organisation.is_secretariat).where(Organisation.id == organisation_id)
    ).first()
    if unit is None or unit.is_secretariat:
        raise ValidationError("validation.choice", field="organisation")
    if unit.status != OrgStatus.MEMBER.value:
        raise ValidationError("validation.not_member", field="organisation")


def _audit_values(data: AchievementInput) -> dict[str, Any]:
    return {
        "organisation_id": data.organisation_id,
        "title": data.title,
        "summary": data.summary,
        "achieved_on": data.achieved_on,
        "category": data.category,
        "link": data.link,
    }


@requires(*STAFF)
def create_achievement(*, session: Session, actor: Actor, data: AchievementInput, today: date) -> int:
    """Record a member unit's achievement submitted for publicity (待审核)."""
    data = validate_achievement(data, today=today)
    _check_unit(session, data.organisation_id)
    achievement_id = session.execute(
        insert(Achievement)
        .values(
            organisation_id=data.organisation_id,
            title=data.title,
            title_key=name_key(data.title)[:200],
            summary=data.summary,
            achieved_on=data.achieved_on,
            category=data.category,
            link=data.link,
            status=AchievementStatus.PENDING.value,
            created_by=actor.user_id,
        )
        .returning(Achievement.id)
    ).scalar_one()
    audit.record(
        session=session,
        actor=actor,
        action="achievement.create",
        record_type="achievement",
        record_id=achievement_id,
        after=_audit_values(data),
    )
    return int(achievement_id)


def _current(session: Session, achievement_id: int) -> Achievement:
    a = session.execute(
        select(Achievement)
        .where(Achievement.id == achievement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if a is None:
        raise NotFound()
    return a


@requires(*STAFF)
def update_achievement(
    *, session: Session, actor: Actor, achievement_id: int, data: AchievementInput, expected_version: int, today: date
) -> int:
    """Correct an achievement while it waits for review (a decided one is final)."""
    data = validate_achievement(data, today=today)
    current = _current(session, achievement_id)
    if current.status != AchievementStatus.PENDING:
        raise ValidationError("validation.achievement_decided")
    if data.organisation_id != current.organisation_id:
        _check_unit(session, data.organisation_id)
    before = _audit_values(
        AchievementInput(
            current.organisation_id, current.title, current.summary, current.achieved_on, current.category, current.link
        )
    )
    new_version = versioned_update(
        session=session,
        model=Achievement,
        record_id=achievement_id,
        expected_version=expected_version,
        title_key=name_key(data.title)[:200],
        **_audit_values(data),
    )
    audit.record(
        session=session,
        actor=actor,
        action="achievement.update",
        record_type="achievement",
        record_id=achievement_id,
        before=before,
        after=_audit_values(data),
    )
    return new_version


@requires(*STAFF)
def decide_achievement(
    *,
    session: Session,
    actor: Actor,
    achievement_id: int,
    status: str,
    channel: str | None,
    published_on: date | None,
    note: str,
    expected_version: int,
    today: date,
) -> int:
    """待审核 → 已发布 (channel and publication date required) or 未采用 (reason required)."""
    current = _current(session, achievement_id)
    text = check_achievement_decision(current.status, status, channel, published_on, note, today=today)
    if status == AchievementStatus.PUBLISHED and published_on is not None and published_on < current.achieved_on:
        raise ValidationError("validation.published_before_achieved", field="published_on")
    published = status == AchievementStatus.PUBLISHED
    new_version = versioned_update(
        session=session,
        model=Achievement,
        record_id=achievement_id,
        expected_version=expected_version,
        status=status,
        channel=channel if published else None,
        published_on=published_on if published else None,
        decision_note=text,
        decided_at=utcnow(),
        decided_by=actor.user_id,
    )
    audit.record(
        session=session,
        actor=actor,
        action="achievement.decide",
        record_type="achievement",
        record_id=achievement_id,
        before={"status": current.status},
        after={
            "status": status,
            "channel": channel if published else None,
            "published_on": published_on if published else None,
            "note": text,
        },
    )
    return new_version


def achievement_years(*, session: Session, actor: Actor) -> list[int]:
    """The years that have achievements, newest first (the year filter's choices)."""
    check_reader(actor, READERS)
    first, last = session.execute(select(func.min(Achievement.achieved_on), func.max(Achievement.achieved_on))).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


@todo_provider
def _achievement_todos(session: Session, actor: Actor) -> list[TodoItem]:
    if not actor.is_staff:
        return []
    pending = session.scalar(
        select(func.count()).select_from(Achievement).where(Achievement.status == AchievementStatus.PENDING.value)
    )
    if not pending:
        return []
    return [TodoItem("todo.achievements_pending", int(pending), "achievements", query={"status": "pending"})]


CATEGORIES = [c.value for c in AchievementCategory]
