"""Activities as an RFC 5545 iCalendar file, made with the icalendar library: one VEVENT per activity (a series is
expanded, each occurrence with its own UID), times in Asia/Shanghai with its VTIMEZONE, cancelled ones marked."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import icalendar

from domain.clock import SHANGHAI

UID_DOMAIN = "eco-volunteer-network"
PRODID = "-//National Ecological Environment Volunteer Service Network//Activity calendar//ZH"


@dataclass(frozen=True)
class IcsActivity:
    """What an event is made of (db.services.activities.ics_activities returns these)."""

    id: int
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    place: str
    online_link: str
    description: str
    organiser: str
    cancelled: bool
    series_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def activity_uid(activity_id: int) -> str:
    """The UID of an activity's event: the same in every export, so calendars update it instead of adding one."""
    return f"activity-{activity_id}@{UID_DOMAIN}"


def to_ics(
    activities: Iterable[IcsActivity],
    *,
    name: str,
    category_label: Callable[[str], str],
    organiser_label: str,
    now: datetime | None = None,
) -> bytes:
    """The calendar as bytes (UTF-8, CRLF line ends, folded lines: the library writes RFC 5545)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    for activity in activities:
        event = icalendar.Event()
        event.add("uid", activity_uid(activity.id))
        event.add("dtstamp", stamp)
        event.add("dtstart", activity.starts_at.astimezone(SHANGHAI))
        event.add("dtend", activity.ends_at.astimezone(SHANGHAI))
        event.add("summary", activity.title)
        event.add("categories", [category_label(activity.category)])
        # a calendar replaces an event it has when the sequence grows: every saved edit raises the version
        event.add("sequence", max(activity.version - 1, 0))
        event.add("created", activity.created_at.astimezone(UTC))
        event.add("last-modified", activity.updated_at.astimezone(UTC))
        event.add("status", "CANCELLED" if activity.cancelled else "CONFIRMED")
        location = activity.place or activity.online_link
        if location:
            event.add("location", location)
        if activity.online_link:
            event.add("url", activity.online_link)
        lines = [f"{organiser_label}：{activity.organiser}"] if activity.organiser else []
        if activity.description:
            lines.append(activity.description)
        if lines:
            event.add("description", "\n".join(lines))
        if activity.series_id:
            event.add("related-to", f"series-{activity.series_id}@{UID_DOMAIN}", parameters={"RELTYPE": "SIBLING"})
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
