"""The hot queries use their indexes (bench/plans.py names them): the calendar's range, the applications, members
and activities lists, the overview's roll-up reads and the benefits ledger. The statements checked are the ones the
read services send; their plans come from EXPLAIN QUERY PLAN on SQLite and EXPLAIN on PostgreSQL (told to avoid
sequential scans and whole-table joins wherever an index can serve, since a handful of rows would make them the
cheapest plan). A table reached by a full scan, or by reading a whole index where no ORDER BY … LIMIT asks for it,
fails the test."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bench.plans import HOT_QUERIES, Check, HotQuery, plans, problems
from db.models import Activity
from db.services import achievements, activities, applications, organisations
from domain.activities import local_datetime
from domain.applications import ApplicationInput
from domain.clock import today
from domain.selections import AchievementInput
from tests.conftest import org_input


def _avoid_sequential_scans(session) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL, plan as for large tables: no sequential scan, and joins by index lookups rather than hashing
    or merging whole tables, wherever an index can serve (a handful of rows would make the scans cheapest)."""
    if session.connection().dialect.name == "postgresql":
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            session.connection().exec_driver_sql(f"SET LOCAL {setting} = off")


@pytest.fixture
def seeded(session, admin):  # type: ignore[no-untyped-def]
    """Units, an activity running today and one tomorrow with sign-ups, an application and an achievement,
    written through the services (which keep the roll-ups), so that every statement of the hot queries runs."""
    on = today()
    units = [
        organisations.create_organisation(
            session=session,
            actor=admin,
            today=on,
            data=org_input(f"索引测试单位{n}", kind="volunteer_team", credit_code="", joined_on=on),
        )
        for n in range(3)
    ]
    for day, hours, organiser in ((on, 23, units[0]), (on + timedelta(days=1), 3, None)):
        starts = local_datetime(day, time(0, 30))
        activities.create_activity(
            session=session,
            actor=admin,
            data=activities.ActivityInput(
                title=f"索引测试活动{day:%d}",
                category="training",
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                province="浙江",
                organiser_id=organiser,
                place="杭州",
            ),
        )
    upcoming = session.scalar(select(Activity.id).where(Activity.title == f"索引测试活动{on + timedelta(days=1):%d}"))
    for unit in units[1:]:
        activities.add_signup(session=session, actor=admin, activity_id=upcoming, organisation_id=unit, people=2)
    applications.create_application(
        session=session,
        actor=admin,
        data=ApplicationInput(organisation=org_input("索引测试申请单位"), consent=True),
        channel="self_applied",
        recommender_id=None,
        now=datetime.now(UTC),
    )
    achievements.create_achievement(
        session=session,
        actor=admin,
        data=AchievementInput(units[0], "索引测试成果", "摘要", on, "brand_project"),
        today=on,
    )
    return admin


def _case(query: HotQuery):  # type: ignore[no-untyped-def]
    marks = [pytest.mark.xfail(strict=True, reason=query.known_miss)] if query.known_miss else []
    return pytest.param(query, id=query.name.replace(" ", "_"), marks=marks)


@pytest.mark.parametrize("query", [_case(q) for q in HOT_QUERIES])
def test_the_hot_query_uses_its_indexes(session, seeded, query):
    _avoid_sequential_scans(session)
    checked = plans(session, query, seeded, today())
    assert checked, "no statement of the hot query was checked"
    assert problems(session, query, seeded, today()) == [], "\n".join(
        f"{' '.join(p.statement.split())[:200]}\n  " + "\n  ".join(p.lines) for p in checked
    )


def test_the_check_fails_on_a_full_scan_and_on_a_statement_reading_a_forbidden_table(session, seeded):
    """The guard can fail: a filter on an unindexed column scans the table, and the sign-ups are read."""
    _avoid_sequential_scans(session)

    def by_place(session, actor, on):  # type: ignore[no-untyped-def]
        from db.models import Signup

        session.execute(select(Activity.id).where(Activity.place == "杭州")).all()
        session.execute(select(Signup.id).where(Signup.people > 1)).all()

    checks = (
        Check({"activities": frozenset({"ix_activities_period"})}, marker="FROM activities"),
        Check({}, marker="FROM signups", forbidden_tables=frozenset({"signups"})),
    )
    found = problems(session, HotQuery("a scan", by_place, checks), seeded, today())
    assert any(p.startswith("activities read by") for p in found), found
    assert any(p.startswith("reads signups") for p in found), found
