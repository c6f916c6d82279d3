"""Dates as the network lives them: Asia/Shanghai."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_start(day: date) -> datetime:
    """Midnight at the start of a day in Asia/Shanghai, as an aware datetime (a day's lower bound in SQL)."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return datetime.now(UTC).astimezone(SHANGHAI).date()
