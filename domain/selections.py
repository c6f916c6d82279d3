"""Model selections (先进典型推选), achievements (成果展示) and the rules of the benefits ledger. Pure: no database.

A round moves 征集中 → 评审中 → 已公布. It is 征集中 until its nomination deadline has passed (or the secretariat ends
the call early); nominations are accepted only then. Council units score during 评审中 until the review deadline.
The secretariat confirms the winners within each category's places and publishes; a published round is read-only.

Ranking rule (RANKING_RULE, shown on the screen): within a category, nominations are ordered by
1. the mean of the scores counted (recusals are not scores), higher first;
2. then the number of scores counted, more first;
3. then the lowest score counted, higher first (the broader agreement wins);
4. then the earlier nomination (entered first).
Nominations without any score counted come last, in the order they were entered.
"""

import enum
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

from domain.activities import check_link
from domain.errors import ValidationError
from domain.text import bounded_text, name_key


class RoundStatus(enum.StrEnum):
    OPEN = "open"  # 征集中
    REVIEW = "review"  # 评审中
    PUBLISHED = "published"  # 已公布


class NomineeKind(enum.StrEnum):
    ORGANISATION = "organisation"  # 单位
    INDIVIDUAL = "individual"  # 个人
    PROJECT = "project"  # 项目


class AchievementCategory(enum.StrEnum):
    BRAND_PROJECT = "brand_project"  # 品牌项目
    SERVICE_CASE = "service_case"  # 志愿服务案例
    PUBLICITY_WORK = "publicity_work"  # 宣传作品
    RESEARCH = "research"  # 研究成果
    TRAINING_COURSE = "training_course"  # 培训课程
    OTHER = "other"  # 其他


class AchievementStatus(enum.StrEnum):
    PENDING = "pending"  # 待审核
    PUBLISHED = "published"  # 已发布
    REJECTED = "rejected"  # 未采用


class PublicityChannel(enum.StrEnum):
    WECHAT = "wechat"  # 网络微信公众号
    WEBSITE = "website"  # 网络网站
    BULLETIN = "bulletin"  # 工作简报
    MEDIA = "media"  # 媒体报道
    EXHIBITION = "exhibition"  # 成果展示活动
    OTHER = "other"  # 其他


RANKING_RULE = ("mean", "count", "lowest", "earlier")
MAX_NAME = 100
MAX_CATEGORY_NAME = 30
MAX_CATEGORIES = 6
MAX_PLACES = 100
MAX_PER_UNIT = 10
MAX_REASONS = 3000
MAX_EVIDENCE = 3000
MAX_DESCRIPTION = 2000
MAX_COMMENT = 1000
MAX_TITLE = 200
MAX_SUMMARY = 3000
MAX_NOTE = 1000
MIN_SCORE, MAX_SCORE = 1, 10
MIN_YEAR, MAX_YEAR = 2000, 2100

DEFAULT_CATEGORIES: tuple[tuple[str, NomineeKind, int], ...] = (
    ("优秀组织", NomineeKind.ORGANISATION, 3),
    ("优秀个人", NomineeKind.INDIVIDUAL, 5),
    ("优秀项目", NomineeKind.PROJECT, 3),
)


@dataclass(frozen=True)
class CategoryInput:
    """One category of a round: its name, what kind of nominee it takes and how many may win."""

    name: str
    nominee_kind: str
    places: int
    id: int | None = None  # an existing category (when a round is edited)


@dataclass(frozen=True)
class RoundInput:
    name: str
    year: int
    nomination_deadline: date
    review_deadline: date
    categories: tuple[CategoryInput, ...]
    max_per_unit: int = 1
    description: str = ""


def _number(value: object, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or not low <= value <= high:
        raise ValidationError("validation.number_range", field=field, min=low, max=high)
    if int(value) != value:
        raise ValidationError("validation.number_range", field=field, min=low, max=high)
    return int(value)


def validate_round(data: RoundInput) -> RoundInput:
    """A round as stored: a name, a plausible year, deadlines in order, 1–6 categories with distinct names."""
    name = bounded_text(data.name, field="name", limit=MAX_NAME, required=True)
    year = _number(data.year, field="year", low=MIN_YEAR, high=MAX_YEAR)
    if not isinstance(data.nomination_deadline, date) or not isinstance(data.review_deadline, date):
        raise ValidationError("validation.required", field="nomination_deadline")
    if not year <= data.nomination_deadline.year <= year + 1:
        raise ValidationError("validation.deadline_year", field="nomination_deadline", year=year)
    if data.review_deadline <= data.nomination_deadline:  # the review needs at least a day
        raise ValidationError("validation.review_before_nomination", field="review_deadline")
    per_unit = _number(data.max_per_unit, field="max_per_unit", low=1, high=MAX_PER_UNIT)
    description = bounded_text(data.description, field="description", limit=MAX_DESCRIPTION)
    categories: list[CategoryInput] = []
    seen: set[str] = set()
    for position, category in enumerate(data.categories):
        field = f"category_{position}"
        label = bounded_text(category.name, field=field, limit=MAX_CATEGORY_NAME, required=True)
        if category.nominee_kind not in {k.value for k in NomineeKind}:
            raise ValidationError("validation.choice", field=field)
        places = _number(category.places, field=field, low=1, high=MAX_PLACES)
        if name_key(label) in seen:
            raise ValidationError("validation.category_repeated", field=field, name=label)
        seen.add(name_key(label))
        categories.append(replace(category, name=label, places=places))
    if not categories:
        raise ValidationError("validation.no_category", field="category_0")
    if len(categories) > MAX_CATEGORIES:
        raise ValidationError("validation.too_many_categories", field="category_0", max=MAX_CATEGORIES)
    return RoundInput(
        name=name,
        year=year,
        nomination_deadline=data.nomination_deadline,
        review_deadline=data.review_deadline,
        categories=tuple(categories),
        max_per_unit=per_unit,
        description=description,
    )


def effective_status(stored: str, nomination_deadline: date, today: date) -> RoundStatus:
    """What a round is today: published once published; under review once the call is over (by its deadline,
    the deadline day included in the call, or ended early by the secretariat); otherwise open."""
    if stored == RoundStatus.PUBLISHED:
        return RoundStatus.PUBLISHED
    if stored == RoundStatus.REVIEW or today > nomination_deadline:
        return RoundStatus.REVIEW
    return RoundStatus.OPEN


def record_period(year: int, nomination_deadline: date) -> tuple[date, date]:
    """The period of the units' records attached to a round's nominations: from the start of the round's year to
    the end of its call for nominations (which may fall early in the next year)."""
    first = date(year, 1, 1)
    return min(first, nomination_deadline), nomination_deadline


def review_open(status: RoundStatus, review_deadline: date, today: date) -> bool:
    """Whether council units may still score: under review, up to and including the review deadline."""
    return status == RoundStatus.REVIEW and today <= review_deadline


@dataclass(frozen=True)
class NominationInput:
    category_id: int
    nominating_org_id: int
    nominee_name: str
    reasons: str
    evidence: str = ""
    nominee_org_id: int | None = None  # an organisation nominee that is in the directory
    link: str = ""


def validate_nomination(data: NominationInput) -> NominationInput:
    """A nomination as stored: a nominee's name, the reasons (required), evidence and an optional http(s) link."""
    return replace(
        data,
        nominee_name=bounded_text(data.nominee_name, field="nominee_name", limit=MAX_NAME, required=True),
        reasons=bounded_text(data.reasons, field="reasons", limit=MAX_REASONS, required=True),
        evidence=bounded_text(data.evidence, field="evidence", limit=MAX_EVIDENCE),
        link=check_link(data.link, field="link"),
    )


def check_score(score: int | None, recused: bool, comment: str) -> tuple[int | None, str]:
    """A council unit's score: 1–10 whole points, or a recusal (回避) which carries no score."""
    text = bounded_text(comment, field="comment", limit=MAX_COMMENT)
    if recused:
        if score is not None:
            raise ValidationError("validation.recused_no_score", field="score")
        return None, text
    if score is None:
        raise ValidationError("validation.required", field="score")
    return _number(score, field="score", low=MIN_SCORE, high=MAX_SCORE), text


@dataclass(frozen=True)
class ScoreSummary:
    """The scores counted for one nomination (recusals left out): their count, sum and lowest."""

    nomination_id: int
    category_id: int
    count: int
    total: int
    lowest: int | None

    @property
    def mean(self) -> Fraction | None:
        return Fraction(self.total, self.count) if self.count else None


@dataclass(frozen=True)
class Ranked:
    nomination_id: int
    category_id: int
    rank: int
    mean: Fraction | None
    count: int
    lowest: int | None


def _order(summary: ScoreSummary) -> tuple[object, ...]:
    if not summary.count:
        return (1, 0, 0, 0, summary.nomination_id)
    assert summary.mean is not None and summary.lowest is not None
    return (0, -summary.mean, -summary.count, -summary.lowest, summary.nomination_id)


def rank(summaries: list[ScoreSummary]) -> list[Ranked]:
    """Each category's nominations in ranking order (RANKING_RULE), numbered 1, 2, … within the category."""
    ranked: list[Ranked] = []
    by_category: dict[int, list[ScoreSummary]] = {}
    for summary in summaries:
        by_category.setdefault(summary.category_id, []).append(summary)
    for category_id in sorted(by_category):
        for position, s in enumerate(sorted(by_category[category_id], key=_order), start=1):
            ranked.append(Ranked(s.nomination_id, category_id, position, s.mean, s.count, s.lowest))
    return ranked


def check_winners(chosen: dict[int, list[int]], places: dict[int, int]) -> None:
    """Winners per category (category id → nomination ids) within the category's places."""
    for category_id, ids in chosen.items():
        if len(set(ids)) > places.get(category_id, 0):
            raise ValidationError("validation.too_many_winners", field="winners", places=places.get(category_id, 0))


@dataclass(frozen=True)
class AchievementInput:
    organisation_id: int
    title: str
    summary: str
    achieved_on: date
    category: str
    link: str = ""


def validate_achievement(data: AchievementInput, *, today: date) -> AchievementInput:
    """An achievement as stored: title and summary required, a date not in the future, a listed category."""
    title = bounded_text(data.title, field="title", limit=MAX_TITLE, required=True)
    summary = bounded_text(data.summary, field="summary", limit=MAX_SUMMARY, required=True)
    if data.category not in {c.value for c in AchievementCategory}:
        raise ValidationError("validation.choice", field="category")
    if not isinstance(data.achieved_on, date):
        raise ValidationError("validation.required", field="achieved_on")
    if data.achieved_on > today:
        raise ValidationError("validation.date_in_future", field="achieved_on")
    if data.achieved_on.year < MIN_YEAR:
        raise ValidationError("validation.date_too_early", field="achieved_on", year=MIN_YEAR)
    return replace(data, title=title, summary=summary, link=check_link(data.link, field="link"))


def check_achievement_decision(
    current: str, target: str, channel: str | None, published_on: date | None, note: str, *, today: date
) -> str:
    """待审核 → 已发布 (with the channel and date it was published) or 未采用 (with a reason). Decisions are final."""
    if current != AchievementStatus.PENDING:
        raise ValidationError("validation.achievement_decided", field="status")
    text = bounded_text(note, field="note", limit=MAX_NOTE)
    if target == AchievementStatus.PUBLISHED:
        if channel not in {c.value for c in PublicityChannel}:
            raise ValidationError("validation.required", field="channel")
        if published_on is None:
            raise ValidationError("validation.required", field="published_on")
        if published_on > today:
            raise ValidationError("validation.date_in_future", field="published_on")
        return text
    if target == AchievementStatus.REJECTED:
        if not text:
            raise ValidationError("validation.reason_required", field="note")
        return text
    raise ValidationError("validation.choice", field="status")
