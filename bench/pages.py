"""What `make bench` measures of each page: the script and the state it opens with, the read services it calls
(its SQL, called again uncached for the floor) and a write through a real service that invalidates its data.

One round of one page runs in a fresh process (`python -m bench.pages <case> <round>`, DATABASE_URL set):
- cold: the first run (nothing cached, the page's modules imported on first use, as on a fresh server);
- first rerun (kept apart: one-off set-ups), then warm: the median of five reruns (cache hits);
- render: a rerun with the data cached but every other cache (the chart specs) emptied — the uncached rendering;
- the write (a real write service, as the actor), then after write: the rerun that follows (cache miss);
- SQL alone: the page's read services called uncached in this process, as the page calls them, after a second
  write (so in the same conditions as the cache miss); SQL hot: the same again at once;
- the statements of the cold run, of the run after the write and of the SQL alone; the peak memory (VmHWM).
It prints one JSON object."""

import gc
import json
import os
import resource
import statistics
import sys
import time as clock
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
BENCH_USER = "bench_admin"  # made by bench/generate.py


@dataclass
class Context:
    """What the reads and writes of a round need: the user, the day, ids picked from the data."""

    user: Any  # UserInfo
    on: date
    minute: datetime
    round: int

    @property
    def actor(self) -> Any:
        return self.user.actor()

    @property
    def reader(self) -> Any:
        """The overview reads as a role, not as a user (one cache entry per role)."""
        from domain.roles import Actor

        return Actor(user_id=None, username="", role=self.actor.role)


Step = Callable[[Any, Context], Any]  # (session, context) -> anything


@dataclass(frozen=True)
class Case:
    """A page as measured: its script, session state and query parameters, its reads, its write."""

    key: str
    file: str
    reads: Step
    write: Step
    write_label: str
    state: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    minute_keyed: bool = False  # its cached reads key on the clock minute (the calendar)
    warm_runs: int = 5


# ------------------------------------------------------------------------------------------------ helpers


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _credit_code() -> str:
    """A valid unified social credit code no other unit has (random digits, its check digit)."""
    from stdnum.cn import uscc

    body = "91" + f"{uuid.uuid4().int % 10**15:015d}"
    return body + uscc.calc_check_digit(body)


def _month_bounds(on: date) -> tuple[date, date]:
    from domain.metrics import add_months

    first = on.replace(day=1)
    return first, add_months(first, 1) - timedelta(days=1)


def _month_grid(on: date) -> tuple[date, date]:
    first_of_month, last_of_month = _month_bounds(on)
    return (
        first_of_month - timedelta(days=first_of_month.weekday()),
        last_of_month + timedelta(days=6 - last_of_month.weekday()),
    )


def upcoming_activity(session: Any, ctx: Context) -> int:
    """An activity of this month not begun yet (else any to come), different from round to round."""
    from sqlalchemy import select

    from db.base import utcnow
    from db.models import Activity
    from domain.clock import day_start
    from domain.metrics import add_months

    now = utcnow() + timedelta(hours=1)
    end = day_start(add_months(ctx.on.replace(day=1), 1))
    for upper in (end, None):
        stmt = select(Activity.id).where(Activity.starts_at >= now, Activity.cancelled_at.is_(None))
        if upper is not None:
            stmt = stmt.where(Activity.starts_at < upper)
        ids = list(session.scalars(stmt.order_by(Activity.starts_at, Activity.id).limit(64)))
        if ids:
            return int(ids[(ctx.round * 7 + os.getpid()) % len(ids)])
    raise RuntimeError("the benchmark data hold no activity to come")


def free_member(session: Any, activity_id: int | None, ctx: Context) -> int:
    """A member unit with no live sign-up on the activity."""
    from sqlalchemy import select

    from db.models import Organisation, Signup

    stmt = select(Organisation.id).where(Organisation.status == "member", Organisation.is_secretariat.is_(False))
    if activity_id is not None:
        taken = select(Signup.organisation_id).where(Signup.activity_id == activity_id, Signup.status != "cancelled")
        stmt = stmt.where(Organisation.id.not_in(taken))
    return int(session.scalar(stmt.order_by(Organisation.id).offset(ctx.round * 13 + os.getpid() % 97).limit(1)))


# ------------------------------------------------------------------------------------------------ writes


def write_signup(session: Any, ctx: Context) -> Any:
    from db.services import activities

    activity_id = upcoming_activity(session, ctx)
    unit = free_member(session, activity_id, ctx)
    return activities.add_signup(
        session=session, actor=ctx.actor, activity_id=activity_id, organisation_id=unit, people=3
    )


def write_activity(session: Any, ctx: Context) -> Any:
    from db.services import activities
    from domain.activities import local_datetime

    day = min(ctx.on + timedelta(days=1), _month_bounds(ctx.on)[1])
    starts = local_datetime(day, time(14))
    data = activities.ActivityInput(
        title=_unique("基准测试写入活动"),
        category="training",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        province="北京",
        place="基准测试地点",
    )
    return activities.create_activity(session=session, actor=ctx.actor, data=data)


def write_application(session: Any, ctx: Context) -> Any:
    from db.base import utcnow
    from db.services import applications
    from domain.applications import ApplicationInput
    from domain.organisations import OrganisationInput

    unit = OrganisationInput(
        name=_unique("基准测试写入申请单位"),
        kind="social",
        province="浙江",
        city="杭州",
        credit_code=_credit_code(),
        contact_person="王芳",
        phone="13800138000",
    )
    return applications.create_application(
        session=session,
        actor=ctx.actor,
        data=ApplicationInput(organisation=unit, consent=True),
        channel="self_applied",
        recommender_id=None,
        now=utcnow(),
    )


def write_organisation(session: Any, ctx: Context) -> Any:
    from db.services import organisations
    from domain.organisations import OrganisationInput

    data = OrganisationInput(name=_unique("基准测试写入单位"), kind="volunteer_team", province="四川", joined_on=ctx.on)
    return organisations.create_organisation(session=session, actor=ctx.actor, data=data, today=ctx.on)


def write_representative(session: Any, ctx: Context) -> Any:
    from db.services import council

    current = council.current_session(session=session, on=ctx.on)
    assert current is not None, "the benchmark data seat a council"
    board = [
        b
        for b in council.seat_board(session=session, actor=ctx.actor, session_id=current.id, on=ctx.on)
        if b.term_id is not None
    ]
    seat = board[ctx.round % len(board)]
    assert seat.term_id is not None
    return council.change_representative(
        session=session,
        actor=ctx.actor,
        term_id=seat.term_id,
        expected_version=seat.version,
        representative=_unique("代表"),
    )


def write_round(session: Any, ctx: Context) -> Any:
    from db.services import selections
    from domain.selections import CategoryInput, RoundInput

    data = RoundInput(
        name=_unique("基准测试推选"),
        year=ctx.on.year,
        nomination_deadline=ctx.on + timedelta(days=10),
        review_deadline=ctx.on + timedelta(days=20),
        categories=(CategoryInput("优秀组织", "organisation", 2), CategoryInput("优秀个人", "individual", 1)),
    )
    return selections.create_round(session=session, actor=ctx.actor, data=data, today=ctx.on)


def write_achievement(session: Any, ctx: Context) -> Any:
    from db.services import achievements
    from domain.selections import AchievementInput

    data = AchievementInput(
        organisation_id=free_member(session, None, ctx),
        title=_unique("基准测试成果"),
        summary="基准测试写入",
        achieved_on=ctx.on,
        category="brand_project",
    )
    return achievements.create_achievement(session=session, actor=ctx.actor, data=data, today=ctx.on)


# ------------------------------------------------------------------------------------------------ reads


def reads_home(session: Any, ctx: Context) -> Any:
    from db.services.todos import collect_todos

    return collect_todos(session=session, actor=ctx.actor)


def overview_filters(ctx: Context) -> Any:
    """The overview's opening filters: the last 12 months, everything."""
    from db.services import overview
    from domain.metrics import preset

    return overview.OverviewFilters(period=preset("12m", ctx.on, None))


def reads_overview(session: Any, ctx: Context) -> Any:
    from db.services import council, overview

    f, r = overview_filters(ctx), ctx.reader
    return [
        overview.kpis(session=session, actor=r, filters=f, today=ctx.on),
        overview.members_by(session=session, actor=r, filters=f, field="kind"),
        overview.members_by(session=session, actor=r, filters=f, field="province"),
        overview.new_members_by_month(session=session, actor=r, filters=f),
        overview.application_funnel(session=session, actor=r, filters=f),
        overview.review_distribution(session=session, actor=r, filters=f),
        overview.activities_by_month(session=session, actor=r, filters=f),
        overview.top_organisers(session=session, actor=r, filters=f),
        council.composition(session=session, on=ctx.on),
        council.term_history(session=session, actor=ctx.actor),
    ]


def reads_applications(session: Any, ctx: Context) -> Any:
    from db.services import applications

    return applications.list_applications(
        session=session, actor=ctx.actor, filters=applications.ApplicationFilters(), limit=50, offset=0
    )


def reads_members(session: Any, ctx: Context) -> Any:
    from db.services import organisations

    return organisations.list_organisations(
        session=session,
        actor=ctx.actor,
        search="",
        kind=None,
        province=None,
        status=None,
        order="pinyin",
        limit=50,
        offset=0,
    )


def reads_council(session: Any, ctx: Context) -> Any:
    from db.services import applications, council
    from db.services.organisations import search_members

    current = council.current_session(session=session, on=ctx.on)
    sessions = council.sessions(session=session)
    assert current is not None
    return [
        sessions,
        council.seat_board(session=session, actor=ctx.actor, session_id=current.id, on=ctx.on),
        applications.council_queue(session=session, actor=ctx.actor),
        search_members(session=session, text=""),
    ]


def reads_calendar_month(session: Any, ctx: Context) -> Any:
    from db.services import activities
    from db.services.organisations import search_members

    first, last = _month_grid(ctx.on)
    return [
        search_members(session=session, text=""),
        activities.calendar_cells(
            session=session,
            actor=ctx.actor,
            first=first,
            last=last,
            filters=activities.ActivityFilters(),
            per_day=3,
            now=ctx.minute,
        ),
    ]


def reads_calendar_list(session: Any, ctx: Context) -> Any:
    from db.services import activities
    from db.services.organisations import search_members

    first, last = _month_bounds(ctx.on)
    filters = activities.ActivityFilters()
    return [
        search_members(session=session, text=""),
        activities.list_activities(
            session=session,
            actor=ctx.actor,
            first=first,
            last=last,
            filters=filters,
            offset=0,
            limit=50,
            now=ctx.minute,
        ),
        activities.range_totals(
            session=session, actor=ctx.actor, first=first, last=last, filters=filters, now=ctx.minute
        ),
    ]


def reads_nominations(session: Any, ctx: Context) -> Any:
    from db.services import selections

    return selections.list_rounds(session=session, actor=ctx.actor, today=ctx.on)


def reads_achievements(session: Any, ctx: Context) -> Any:
    from db.services import achievements

    filters = achievements.AchievementFilters()
    return [
        achievements.achievement_years(session=session, actor=ctx.actor),
        achievements.status_counts(session=session, actor=ctx.actor, filters=filters),
        achievements.list_achievements(session=session, actor=ctx.actor, filters=filters, limit=50, offset=0),
    ]


def reads_benefits(session: Any, ctx: Context) -> Any:
    from db.services import benefits

    year = ctx.on.year
    return benefits.ledger(
        session=session,
        actor=ctx.actor,
        first=date(year, 1, 1),
        last=date(year, 12, 31),
        search="",
        only_unused=False,
        limit=50,
        offset=0,
        today=ctx.on,
    )


CASES: dict[str, Case] = {
    c.key: c
    for c in (
        Case("home", "pages/home.py", reads_home, write_application, "applications.create_application"),
        Case("overview", "pages/overview.py", reads_overview, write_signup, "activities.add_signup"),
        Case(
            "applications",
            "pages/applications.py",
            reads_applications,
            write_application,
            "applications.create_application",
        ),
        Case("members", "pages/members.py", reads_members, write_organisation, "organisations.create_organisation"),
        Case("council", "pages/council.py", reads_council, write_representative, "council.change_representative"),
        Case(
            "calendar_month",
            "pages/calendar.py",
            reads_calendar_month,
            write_activity,
            "activities.create_activity",
            minute_keyed=True,
        ),
        Case(
            "calendar_list",
            "pages/calendar.py",
            reads_calendar_list,
            write_signup,
            "activities.add_signup",
            params={"view": "list"},
            minute_keyed=True,
        ),
        Case("nominations", "pages/nominations.py", reads_nominations, write_round, "selections.create_round"),
        Case(
            "achievements",
            "pages/achievements.py",
            reads_achievements,
            write_achievement,
            "achievements.create_achievement",
        ),
        Case("benefits", "pages/benefits.py", reads_benefits, write_signup, "activities.add_signup"),
    )
}


# ------------------------------------------------------------------------------------------------ measuring


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """The SQL statements sent meanwhile on the app's engine (transaction control left out)."""
    from sqlalchemy import event

    from db.engine import get_engine

    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(CONTROL):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds fn takes, started with the garbage collector's debts paid (untimed, as timeit does by disabling it):
    a full collection of this large heap costs ~0.1 s and would otherwise land on whichever run crosses the
    threshold, the same run at every round."""
    gc.collect()
    started = clock.perf_counter()
    fn()
    return clock.perf_counter() - started


def clear_render_caches() -> None:
    """Empty every st.cache_data cache but the data reads' (ui.cache._cached): the chart specs, for instance."""
    from streamlit.runtime.caching import cache_data_api

    from ui.cache import _cached

    keep = getattr(_cached, "_function_key", None)
    registry = getattr(cache_data_api._data_caches, "_function_caches", {})
    for caches in list(registry.values()):
        for key, cache in list(caches.items()):
            if key != keep:
                cache.clear()


def same_minute(case: Case) -> None:
    """Before timing cache hits of a view keyed on the clock minute: do not start in a minute's last seconds."""
    if case.minute_keyed and datetime.now().second >= 50:
        clock.sleep(61 - datetime.now().second)


def peak_mb() -> float:
    """The process's peak resident memory. Linux: VmHWM of /proc/self/status — ru_maxrss survives exec, so a child
    of a large parent reports the parent's peak at least; elsewhere ru_maxrss (KiB on Linux, bytes on macOS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def load_user() -> Any:
    from db.engine import transaction
    from db.services import users

    with transaction() as session:
        user = users.get_active_user(session=session, username=BENCH_USER)
    assert user is not None, f"no user {BENCH_USER} in the benchmark data"
    return user


def app_for(file: str, user: Any, state: dict[str, Any], params: dict[str, str]) -> Any:
    from streamlit.testing.v1 import AppTest

    from ui.auth import ROUTED_FLAG, USER_KEY

    at = AppTest.from_file(str(ROOT / file), default_timeout=600)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in params.items():
        at.query_params[key] = value
    return at


def run_checked(at: Any) -> None:
    at.run()
    if at.exception:
        raise RuntimeError("the page raised: " + "; ".join(e.message for e in at.exception))


def measure_round(case: Case, round_number: int) -> dict[str, Any]:
    """One round of one page in this (fresh) process; seconds, MB and statement counts."""
    from db.base import utcnow
    from db.engine import transaction
    from domain.clock import today

    user = load_user()
    at = app_for(case.file, user, case.state, case.params)
    with counted_statements() as cold_sql:
        cold = timed(lambda: run_checked(at))
    same_minute(case)
    # the first rerun of a process still meets one-off costs (lazy imports and set-ups): kept apart from the warm
    first_rerun = timed(lambda: run_checked(at))
    warm_runs = [timed(lambda: run_checked(at)) for _ in range(case.warm_runs)]
    # the rendering without its caches: the data come from the cache, chart specs and the like are built again
    same_minute(case)
    clear_render_caches()
    render = timed(lambda: run_checked(at))
    run_checked(at)  # the render caches filled again
    ctx = Context(user=user, on=today(), minute=utcnow().replace(second=0, microsecond=0), round=round_number)
    with transaction(write=True) as session:
        case.write(session, ctx)
    with counted_statements() as miss_sql:
        after_write = timed(lambda: run_checked(at))
    # the page's SQL alone, its read services called uncached: after a write as well (as the page met it), then
    # again at once (what the same SQL costs with every cache of the database warm)
    with transaction(write=True) as session:
        case.write(session, ctx)
    ctx.minute = utcnow().replace(second=0, microsecond=0)
    sql_runs = []
    for _ in range(2):
        with counted_statements() as alone_sql, transaction() as session:
            sql_runs.append(timed(lambda: case.reads(session, ctx)))
    return {
        "case": case.key,
        "round": round_number,
        "cold": cold,
        "first_rerun": first_rerun,
        "warm": statistics.median(warm_runs),
        "render_uncached": render,
        "after_write": after_write,
        "sql": sql_runs[0],
        "sql_hot": sql_runs[1],
        "peak_mb": peak_mb(),
        "statements_cold": len(cold_sql),
        "statements_after_write": len(miss_sql),
        "statements_sql": len(alone_sql),
        "write": case.write_label,
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.pages <case> <round>` (DATABASE_URL: the working database): one JSON line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in CASES:
        print(f"usage: python -m bench.pages {{{','.join(CASES)}}} <round>", file=sys.stderr)
        return 2
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    print(json.dumps(measure_round(CASES[args[0]], int(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
