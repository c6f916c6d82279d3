"""The calendar's month, week and list views send as many SQL statements for ten times the activities (one range
read per grid, the list paged and summed in SQL), and a busy day shows three activities and how many more."""

import os
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import get_engine
from db.models import Activity, Organisation, Signup
from db.services import data_version
from db.services.access import write_scope
from domain.clock import SHANGHAI, today
from tests.app.databases import app_database
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.cache import _cached
from ui.i18n import t

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = "pages/calendar.py"
VIEWS = ("month", "week", "list")
N = 60
CATEGORIES = ("training", "seminar", "showcase", "volunteering", "forum", "research", "brand", "other")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a (UTC) timestamp in SQLite


def _this_month() -> tuple[date, int]:
    first = today().replace(day=1)
    days = ((first + timedelta(days=32)).replace(day=1) - first).days
    return first, days


def _grow(engine, start: int, count: int, unit: int) -> None:  # type: ignore[no-untyped-def]
    """`count` activities in this month, a third of them today, every eleventh running into the next day; a sign-up
    on every other one. Inserted in bulk, then the data-version stamp raised as every service write does."""
    first, days = _this_month()
    rows = []
    for i in range(start, start + count):
        day = today() if i % 3 == 0 else first + timedelta(days=i % days)
        starts = datetime.combine(day, time(7 + i % 12, 15 * (i % 4)), tzinfo=SHANGHAI)
        rows.append(
            {
                "title": f"批量活动{i:05d}",
                "title_key": f"批量活动{i:05d}",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "starts_at": starts,
                "ends_at": starts + (timedelta(hours=26) if i % 11 == 0 else timedelta(hours=2)),
                "place": f"测试地点{i}",
                "place_key": f"测试地点{i}",
                "province": "浙江",
                "capacity": 30 if i % 2 else None,
            }
        )
    with write_scope("test: bulk activities"), engine.begin() as conn:
        conn.execute(insert(Activity), rows)
        ids = conn.scalars(select(Activity.id).where(Activity.title.in_([r["title"] for r in rows]))).all()
        conn.execute(
            insert(Signup),
            [
                {"activity_id": i, "organisation_id": unit, "kind": "signup", "status": "confirmed", "people": 3}
                for i in ids[::2]
            ],
        )
        with Session(bind=conn) as session:
            for topic in ("activity", "signup"):
                data_version.bump(session=session, topic=topic)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    with app_database(tmp_path_factory.mktemp("calendar_statements")) as admin:
        with write_scope("test: a unit"), get_engine().begin() as conn:
            conn.execute(
                insert(Organisation),
                [{"name": "批量测试单位", "name_key": "批量测试单位", "kind": "social", "province": "浙江"}],
            )
            unit = conn.scalar(select(Organisation.id).where(Organisation.name == "批量测试单位"))
        yield admin, unit


def _app(user, view: str) -> AppTest:  # type: ignore[no-untyped-def]
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=60)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    if view != "month":
        at.query_params["view"] = view
    return at


def _minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _statements(user, view: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """SQL statements of a cold first run (nothing cached) and of a warm rerun, within one clock minute (the
    cached views key on the minute, so that statuses follow the clock)."""
    engine = get_engine()
    for _ in range(3):
        _cached.clear()
        at = _app(user, view)
        began = _minute()
        counts = []
        for _run in range(2):
            seen: list[str] = []

            def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
                seen.append(statement)  # noqa: B023 (each run has its own list)

            event.listen(engine, "before_cursor_execute", count)
            try:
                at.run()
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert not at.exception, [e.message for e in at.exception]
            assert at.button_group(key="cal_view").value == view
            counts.append(len(seen))
        if _minute() == began:
            return counts[0], counts[1]
    raise AssertionError("the clock minute changed during every attempt")


def _running_on(day: date) -> int:
    """Activities running on a day (Asia/Shanghai), counted by hand in SQL."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
    end = start + timedelta(days=1)
    with get_engine().connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM activities WHERE starts_at < :end AND ends_at > :start"),
                {"start": start.strftime(SQLITE_TIME), "end": end.strftime(SQLITE_TIME)},
            ).scalar_one()
        )


def _shown_per_day(at: AppTest) -> dict[date, int]:
    shown: dict[date, int] = {}
    for button in at.button:
        found = re.fullmatch(r"(?:ev|wk)_[a-z]+_\d+_(\d{8})", button.key or "")
        if found:
            day = datetime.strptime(found.group(1), "%Y%m%d").date()
            shown[day] = shown.get(day, 0) + 1
    return shown


def _more_per_day(at: AppTest) -> dict[date, str]:
    return {
        datetime.strptime(b.key[5:], "%Y%m%d").date(): b.label for b in at.button if (b.key or "").startswith("more_")
    }


def _check_cells(at: AppTest, first: date, last: date, per_day: int) -> None:
    shown, more = _shown_per_day(at), _more_per_day(at)
    day = first
    while day <= last:
        total = _running_on(day)
        assert shown.get(day, 0) == min(total, per_day), (day, total, shown.get(day))
        if total > per_day:
            assert more.get(day) == t("cal.more", count=total - per_day), (day, total, more.get(day))
        else:
            assert day not in more, (day, total)
        day += timedelta(days=1)


def test_the_views_send_as_many_statements_for_ten_times_the_activities(database):
    admin, unit = database
    engine = get_engine()
    _grow(engine, 0, N, unit)
    small = {view: _statements(admin, view) for view in VIEWS}
    _grow(engine, N, 9 * N, unit)
    large = {view: _statements(admin, view) for view in VIEWS}
    assert large == small
    assert all(cold <= 25 and warm < cold for cold, warm in large.values()), large


def test_a_busy_day_shows_three_activities_and_how_many_more(database):
    admin, unit = database
    with get_engine().connect() as conn:
        if not conn.scalar(text("SELECT count(*) FROM activities")):
            _grow(get_engine(), 0, 10 * N, unit)
    on = today()
    busy = _running_on(on)
    assert busy > 12, "the data make today a busy day"

    month = _app(admin, "month").run()
    assert not month.exception, [e.message for e in month.exception]
    assert f"#### {t('cal.month_title', year=on.year, month=on.month)}" in [m.value for m in month.markdown]
    first_of_month = on.replace(day=1)
    grid_first = first_of_month - timedelta(days=first_of_month.weekday())
    end_of_month = (first_of_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    grid_last = end_of_month + timedelta(days=6 - end_of_month.weekday())
    _check_cells(month, grid_first, grid_last, 3)
    assert month.button(key=f"more_{on:%Y%m%d}").label == t("cal.more", count=busy - 3)

    week = _app(admin, "week").run()
    assert not week.exception, [e.message for e in week.exception]
    monday = on - timedelta(days=on.weekday())
    _check_cells(week, monday, monday + timedelta(days=6), 12)

    month.button(key=f"more_{on:%Y%m%d}").click().run()
    assert not month.exception, [e.message for e in month.exception]
    assert month.button_group(key="cal_view").value == "list"
    assert month.date_input(key="cal_list_from").value == on and month.date_input(key="cal_list_to").value == on
    assert t("cal.count", count=busy) in [c.value for c in month.caption]
