"""Activities (活动) and sign-ups (报名): categories, the status an activity is in, date rules, series, and how
capacity and the waitlist are counted (in people)."""

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.clock import SHANGHAI
from domain.errors import ValidationError
from domain.text import bounded_text, name_key


class Category(enum.StrEnum):
    """DOMAIN.md's activity categories, in the order users read them."""

    TRAINING = "training"  # 培训学习
    SEMINAR = "seminar"  # 研讨交流
    SHOWCASE = "showcase"  # 宣传展示
    VOLUNTEERING = "volunteering"  # 志愿服务实践
    FORUM = "forum"  # 论坛
    RESEARCH = "research"  # 调查研究
    BRAND = "brand"  # 品牌项目
    OTHER = "other"  # 其他


class ActivityStatus(enum.StrEnum):
    """Where an activity stands; only 已取消 is stored, the others follow from the clock."""

    PLANNED = "planned"  # 计划中
    ONGOING = "ongoing"  # 进行中
    FINISHED = "finished"  # 已结束
    CANCELLED = "cancelled"  # 已取消


class SignupKind(enum.StrEnum):
    """A unit's own sign-up (报名, counted against capacity) or an invitation the network sent (邀请)."""

    SIGNUP = "signup"
    INVITATION = "invitation"


class SignupStatus(enum.StrEnum):
    """A sign-up holds a place, waits for one, or was withdrawn; an invitation is recorded as invited."""

    CONFIRMED = "confirmed"  # 已确认
    WAITLISTED = "waitlisted"  # 候补
    INVITED = "invited"  # 已邀请
    CANCELLED = "cancelled"  # 已取消


class Repeat(enum.StrEnum):
    """How a new activity repeats: once, every week, or every month on the same day."""

    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


# An activity on the calendar is an event, not a programme: a long project is recorded by its stages. The cap also
# bounds how far back a view must look for activities still running in its range.
MAX_DURATION = timedelta(days=92)
MAX_SERIES = 52
MAX_TITLE = 200
MAX_PLACE = 200
MAX_DESCRIPTION = 5000
MAX_SUMMARY = 2000
MAX_LINK = 500
MAX_CAPACITY = 100_000
MAX_PEOPLE = 10_000
MAX_VOLUNTEERS = 1_000_000
FIRST_YEAR, LAST_YEAR = 2000, 2100
_LINK = re.compile(r"(?i)^https?://[^\s<>\"]+$")


def status_of(*, starts_at: datetime, ends_at: datetime, cancelled: bool, now: datetime) -> ActivityStatus:
    """The status an activity shows at `now` (half-open: it has ended at its end time)."""
    if cancelled:
        return ActivityStatus.CANCELLED
    if now < starts_at:
        return ActivityStatus.PLANNED
    if now < ends_at:
        return ActivityStatus.ONGOING
    return ActivityStatus.FINISHED


def local_datetime(day: date, at: time) -> datetime:
    """A date and a wall-clock time in Asia/Shanghai as an aware datetime."""
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def check_period(starts_at: datetime, ends_at: datetime) -> None:
    """Start and end: aware, within the years the network plans for, end after start, at most MAX_DURATION."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationError("validation.date_invalid", field="starts_at")
    for value, field in ((starts_at, "starts_at"), (ends_at, "ends_at")):
        if not FIRST_YEAR <= value.astimezone(SHANGHAI).year <= LAST_YEAR:
            raise ValidationError("validation.year_range", field=field, first=FIRST_YEAR, last=LAST_YEAR)
    if ends_at <= starts_at:
        raise ValidationError("validation.end_before_start", field="ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise ValidationError("validation.activity_too_long", field="ends_at", days=MAX_DURATION.days)


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    # the 31st of a month without one falls on its last day (users expect "every month-end", not a skipped month)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def series_starts(first: datetime, repeat: Repeat, count: int) -> list[datetime]:
    """The start of each occurrence of a series, keeping the wall-clock time in Asia/Shanghai."""
    if repeat is Repeat.NONE:
        return [first]
    if not 2 <= count <= MAX_SERIES:
        raise ValidationError("validation.series_count", field="repeat_count", max=MAX_SERIES)
    local = first.astimezone(SHANGHAI)
    starts = []
    for n in range(count):
        if repeat is Repeat.WEEKLY:
            day = local.date() + timedelta(weeks=n)
        else:
            day = _add_months(local.date(), n)
        starts.append(local_datetime(day, local.timetz().replace(tzinfo=None)))
    if starts[-1].year > LAST_YEAR:
        raise ValidationError("validation.year_range", field="repeat_count", first=FIRST_YEAR, last=LAST_YEAR)
    return starts


def place_key(place: str) -> str:
    """A place as compared for double bookings (full-width, spaces and case do not make another place)."""
    return name_key(place)[:MAX_PLACE]


def check_link(value: str, *, field: str) -> str:
    """An optional web address: http(s) only, so a javascript: or file: link is never stored."""
    link = bounded_text(value, field=field, limit=MAX_LINK)
    if link and not _LINK.match(link):
        raise ValidationError("validation.website_invalid", field=field)
    return link


def check_capacity(value: int | None) -> int | None:
    """Capacity in people: empty for no limit, otherwise 1 … MAX_CAPACITY."""
    if value is None:
        return None
    if not 1 <= int(value) <= MAX_CAPACITY:
        raise ValidationError("validation.number_range", field="capacity", min=1, max=MAX_CAPACITY)
    return int(value)


def check_people(value: int, capacity: int | None) -> int:
    """People a unit signs up: at least one, and never more than the whole activity holds."""
    if not 1 <= int(value) <= MAX_PEOPLE:
        raise ValidationError("validation.number_range", field="people", min=1, max=MAX_PEOPLE)
    if capacity is not None and value > capacity:
        raise ValidationError("validation.people_over_capacity", field="people", capacity=capacity)
    return int(value)


def fits(*, capacity: int | None, confirmed_people: int, people: int) -> bool:
    """Whether a group of `people` gets a place now (no capacity: always)."""
    return capacity is None or confirmed_people + people <= capacity


def promotions(*, capacity: int | None, confirmed_people: int, waitlist: list[tuple[int, int]]) -> list[int]:
    """Waitlisted sign-ups (id, people), oldest first, that move up now. Strictly in order: when the first one
    waiting does not fit, nobody behind it jumps the queue."""
    promoted = []
    taken = confirmed_people
    for signup_id, people in waitlist:
        if not fits(capacity=capacity, confirmed_people=taken, people=people):
            break
        promoted.append(signup_id)
        taken += people
    return promoted


@dataclass(frozen=True)
class Outcome:
    """What an activity achieved: volunteers taking part, service hours, a summary and a link."""

    volunteers: int
    service_hours: Decimal
    summary: str = ""
    link: str = ""


def check_outcome(data: Outcome, *, starts_at: datetime, ends_at: datetime) -> Outcome:
    """Volunteers 0 … MAX_VOLUNTEERS; hours with one decimal, not negative, and no more than every volunteer
    present for the whole activity could give."""
    if not 0 <= int(data.volunteers) <= MAX_VOLUNTEERS:
        raise ValidationError("validation.number_range", field="volunteers", min=0, max=MAX_VOLUNTEERS)
    try:
        hours = Decimal(str(data.service_hours))
        # NaN and infinity compare and round badly: refused before any arithmetic
        if not hours.is_finite() or hours < 0:
            raise ValidationError("validation.number_invalid", field="service_hours")
        hours = hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)  # 四舍五入, as users round
    except (InvalidOperation, ValueError):
        raise ValidationError("validation.number_invalid", field="service_hours") from None
    span_hours = Decimal((ends_at - starts_at).total_seconds()) / Decimal(3600)
    most = (span_hours * int(data.volunteers)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if hours > most:
        raise ValidationError("validation.hours_over_span", field="service_hours", max=most)
    return Outcome(
        volunteers=int(data.volunteers),
        service_hours=hours,
        summary=bounded_text(data.summary, field="summary", limit=MAX_SUMMARY),
        link=check_link(data.link, field="outcome_link"),
    )
