"""The overview's arithmetic: periods in whole months (the roll-ups' grain), the previous period of equal length,
changes against it, and medians from a histogram."""

from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import ValidationError


def first_of_month(day: date) -> date:
    """The first day of the month of `day`."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (before, if negative) the month of `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole months from `first` to `last` inclusive (both first days of their months)."""

    first: date
    last: date

    @property
    def months(self) -> int:
        """How many months it spans."""
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def end(self) -> date:
        """The day after the period (exclusive bound)."""
        return add_months(self.last, 1)

    @property
    def last_day(self) -> date:
        """The last day of the period."""
        return self.end - timedelta(days=1)

    def previous(self) -> "Period":
        """The period of equal length just before."""
        return Period(add_months(self.first, -self.months), add_months(self.first, -1))

    def month_list(self) -> list[date]:
        """Every month of the period, in order."""
        return [add_months(self.first, n) for n in range(self.months)]


def period(first: date, last: date) -> Period:
    """The whole months from the month of `first` to the month of `last`; refused when reversed."""
    start, stop = first_of_month(first), first_of_month(last)
    if stop < start:
        raise ValidationError("validation.dates_reversed", field="period")
    return Period(start, stop)


def preset(name: str, today: date, earliest: date | None) -> Period:
    """This year, the last 12 months (this month included), or all (from the earliest record's month)."""
    this_month = first_of_month(today)
    if name == "year":
        return Period(date(today.year, 1, 1), this_month)
    if name == "12m":
        return Period(add_months(this_month, -11), this_month)
    if name == "all":
        return Period(first_of_month(earliest) if earliest and earliest < this_month else this_month, this_month)
    raise ValidationError("validation.choice", field="period")


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: the difference and, where the previous figure is not zero, the
    relative change (None: nothing to compare with, shown as 新增 or —)."""

    value: float
    previous: float
    delta: float
    ratio: float | None


def change(value: float, previous: float) -> Change:
    """The change from `previous` to `value`."""
    ratio = None if previous == 0 else (value - previous) / previous
    return Change(value=value, previous=previous, delta=value - previous, ratio=ratio)


def median_from_histogram(counts: dict[int, int]) -> float | None:
    """The median of values given as value -> how many times (the mean of the two middle ones for an even count);
    None when empty."""
    total = sum(n for n in counts.values() if n > 0)
    if total == 0:
        return None
    ordered = sorted((v, n) for v, n in counts.items() if n > 0)

    def nth(position: int) -> int:  # 0-based position in the sorted values
        seen = 0
        for value, n in ordered:
            seen += n
            if position < seen:
                return value
        raise AssertionError("position beyond the histogram")

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


REVIEW_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None))


def review_bucket(days: int) -> int:
    """The index in REVIEW_BUCKETS of a review time in days."""
    for index, (low, high) in enumerate(REVIEW_BUCKETS):
        if days >= low and (high is None or days <= high):
            return index
    return 0
