"""China's public holidays and make-up working days (调休) as the State Council publishes them, through the
chinese-calendar package. It only knows the years published so far: an unknown year has no marks, never an error."""

import functools
from dataclasses import dataclass
from datetime import date

import chinese_calendar


@dataclass(frozen=True)
class DayMark:
    """A day off for a holiday (休) or a weekend day worked instead (班); `holiday` names the holiday."""

    off: bool
    holiday: str


@functools.cache
def known_year(year: int) -> bool:
    """Whether the package has the State Council's arrangement for this year."""
    try:
        chinese_calendar.is_holiday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _holiday_name(english: str | None) -> str:
    # The package names holidays in English ('National Day'); the screen translates the enum's key.
    for holiday in chinese_calendar.Holiday:
        if holiday.value == english:
            return holiday.name
    return ""


def day_marks(first: date, last: date) -> dict[date, DayMark]:
    """The statutory holidays and make-up working days between two dates (inclusive) in the years known."""
    marks: dict[date, DayMark] = {}
    day = first
    while day <= last:
        if known_year(day.year):
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            if is_holiday and name:
                marks[day] = DayMark(off=True, holiday=_holiday_name(name))
            elif not is_holiday and day.weekday() >= 5:
                marks[day] = DayMark(off=False, holiday=_holiday_name(name))
        day = date.fromordinal(day.toordinal() + 1)
    return marks
