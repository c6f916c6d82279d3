"""The hot queries and the indexes they must use, checked on the plans the databases choose for the statements the
read services really send: `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL. Used by
tests/db/test_query_plans.py (small data, PostgreSQL told to avoid sequential scans where it can) and by
`make bench` (on the benchmark's data, as the planner finds them).

A checked table must be reached through one of the named indexes (its primary key where "pk" is named); a full scan
of it fails, and so does a sort of a whole table where the query asks for `sorted_by_index`."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from domain.roles import Actor

PK = "pk"


@dataclass(frozen=True)
class Check:
    """Statements whose text contains `marker` (all SELECTs when empty) reach each table through its indexes."""

    tables: dict[str, frozenset[str]]
    marker: str = ""
    sorted_by_index: bool = False  # no sort of the rows in a temporary structure (the index gives the order)
    forbidden_tables: frozenset[str] = frozenset()  # tables these statements must not read at all


@dataclass(frozen=True)
class HotQuery:
    name: str
    call: Callable[[Session, Actor, date], Any]
    checks: tuple[Check, ...]
    note: str = ""
    known_miss: str = ""  # why the plan misses today (the test expects the miss until the app is fixed)


def _ix(*names: str) -> frozenset[str]:
    return frozenset(names)


def _calendar(session: Session, actor: Actor, on: date) -> Any:
    from db.services import activities

    first = on.replace(day=1) - timedelta(days=on.replace(day=1).weekday())
    return activities.calendar_range(
        session=session, actor=actor, first=first, last=first + timedelta(days=41), filters=activities.ActivityFilters()
    )


def _applications(session: Session, actor: Actor, on: date) -> Any:
    from db.services import applications

    return applications.list_applications(session=session, actor=actor, filters=applications.ApplicationFilters())


def _members(session: Session, actor: Actor, on: date) -> Any:
    from db.services import organisations

    return organisations.list_organisations(session=session, actor=actor)


def _activities(session: Session, actor: Actor, on: date) -> Any:
    from db.services import activities

    first = on.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    filters = activities.ActivityFilters()
    return (
        activities.list_activities(session=session, actor=actor, first=first, last=last, filters=filters),
        activities.range_totals(session=session, actor=actor, first=first, last=last, filters=filters),
    )


def _rollups(session: Session, actor: Actor, on: date) -> Any:
    from db.services import overview
    from domain.metrics import preset

    reader = Actor(user_id=None, username="", role=actor.role)
    f = overview.OverviewFilters(period=preset("12m", on, None))
    return (
        overview.kpis(session=session, actor=reader, filters=f, today=on),
        overview.new_members_by_month(session=session, actor=reader, filters=f),
        overview.application_funnel(session=session, actor=reader, filters=f),
        overview.review_distribution(session=session, actor=reader, filters=f),
        overview.activities_by_month(session=session, actor=reader, filters=f),
        overview.top_organisers(session=session, actor=reader, filters=f),
    )


def _ledger(session: Session, actor: Actor, on: date) -> Any:
    from db.services import benefits

    year = on.year
    return benefits.ledger(session=session, actor=actor, first=date(year, 1, 1), last=date(year, 12, 31), today=on)


def _home_todos(session: Session, actor: Actor, on: date) -> Any:
    from db.services.todos import collect_todos

    return collect_todos(session=session, actor=actor)


ROLLUPS = ("activity_rollups", "application_rollups", "review_rollups", "member_rollups")
HOT_QUERIES: tuple[HotQuery, ...] = (
    HotQuery(
        "calendar range",
        _calendar,
        (Check({"activities": _ix("ix_activities_period")}),),
        note="the month and week views: the activities overlapping a range",
    ),
    HotQuery(
        "applications list",
        _applications,
        (
            Check(
                {"applications": _ix("ix_applications_submitted_at"), "organisations": _ix(PK)},
                marker="ORDER BY applications.submitted_at DESC",
                sorted_by_index=True,
            ),
            Check(
                {"council_opinions": _ix("ix_council_opinions_application_id", "uq_council_opinions_one_per_unit")},
                marker="FROM council_opinions",
            ),
        ),
        note="a page of applications, newest first, and the opinions' tallies of that page",
    ),
    HotQuery(
        "members list",
        _members,
        (Check({"organisations": _ix("ix_organisations_sort_key")}, marker="LIMIT", sorted_by_index=True),),
        note="a page of the directory in pinyin order",
        known_miss=(
            "list_organisations orders by (is_secretariat DESC, sort_key, id): ix_organisations_sort_key cannot give "
            "that order, so every page scans and sorts the whole directory (SQLite: SCAN organisations + TEMP "
            "B-TREE FOR ORDER BY). Fix: an index on (is_secretariat, sort_key, id) — or order by sort_key, id and "
            "show the secretariat apart."
        ),
    ),
    HotQuery(
        "activities list",
        _activities,
        (
            Check({"activities": _ix("ix_activities_period"), "organisations": _ix(PK)}, marker="LIMIT"),
            Check({"activities": _ix("ix_activities_period")}, marker="count(activities.id)"),
            Check({"signups": _ix("ix_signups_activity_status", "uq_signups_live_unit")}, marker="FROM signups"),
        ),
        note="the calendar's list: count, a page, the page's sign-up sums and the range's totals",
    ),
    HotQuery(
        "overview roll-up reads",
        _rollups,
        (
            Check({table: _ix(PK) for table in ROLLUPS}, marker=".month >="),
            Check({"activities": _ix("ix_activities_period")}, marker="FROM activities"),
            Check({}, forbidden_tables=frozenset({"signups"})),
        ),
        note="the KPIs and charts by month from the roll-ups (never the sign-ups), and the top organisers",
    ),
    HotQuery(
        "benefits ledger",
        _ledger,
        (
            Check(
                {
                    "activities": _ix("ix_activities_period", PK),
                    "signups": _ix("uq_signups_live_unit", "ix_signups_activity_status"),
                    "applications": _ix("ix_applications_submitted_at", "ix_applications_status_submitted"),
                    "achievements": _ix("ix_achievements_status_published", "ix_achievements_unit_status"),
                }
            ),
        ),
        note="each member unit's figures for a year: sign-ups, activities, applications, achievements by index",
    ),
    HotQuery(
        "home to-dos",
        _home_todos,
        (Check({"activities": _ix("ix_activities_missing_outcome")}, marker="FROM activities"),),
        note="the staff's home page counts, on every rerun, the activities finished without an outcome",
    ),
)


# --------------------------------------------------------------------------------------------- capture and explain


@dataclass
class Plan:
    statement: str
    lines: list[str]
    problems: list[str] = field(default_factory=list)


def captured(session: Session, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECT statements (with their parameters) a call sends on the session's connection."""
    seen: list[tuple[str, Any]] = []
    conn = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(conn, "before_cursor_execute", record)
    return seen


def explain(session: Session, statement: str, parameters: Any) -> list[str]:
    """The plan's lines: SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN text."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return [str(row[3]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    return [str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]


_SQLITE_ACCESS = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?(?: USING (.*))?$")
_PG_ACCESS = re.compile(
    r"(Seq Scan|Index Only Scan(?: Backward)?|Index Scan(?: Backward)?|Bitmap Heap Scan)"
    r"(?: using (\S+))? on (\w+)"
)
_PG_BITMAP = re.compile(r"Bitmap Index Scan on (\S+)")


def _aliases(statement: str) -> dict[str, str]:
    """alias -> table for `FROM/JOIN table AS alias` and `table alias` (SQLAlchemy's organisations_1)."""
    found = {}
    for table, alias in re.findall(r"(?:FROM|JOIN) (\w+)(?: AS)? (\w+)", statement):
        if alias.upper() not in {"ON", "WHERE", "LEFT", "JOIN", "GROUP", "ORDER", "LIMIT", "INNER", "OUTER", "AS"}:
            found[alias] = table
    return found


def _reads(statement: str, table: str) -> bool:
    return re.search(rf"(?:FROM|JOIN) {table}\b", statement) is not None


def _problems_sqlite(check: Check, statement: str, lines: list[str]) -> list[str]:
    aliases = _aliases(statement)
    problems = []
    for line in lines:
        found = _SQLITE_ACCESS.match(line.strip())
        if not found:
            continue
        name, using = found.group(2), found.group(3) or ""
        table = aliases.get(name, name)
        allowed = check.tables.get(table)
        if allowed is None:
            continue
        if PK in allowed and "INTEGER PRIMARY KEY" in using:
            continue
        index = re.search(r"INDEX (\S+)", using)
        pk_index = index is not None and index.group(1).startswith(f"sqlite_autoindex_{table}_")
        if index is None or not (index.group(1) in allowed or (PK in allowed and pk_index)):
            problems.append(f"{table} read by `{line.strip()}`, not through {sorted(allowed)}")
        elif found.group(1) == "SCAN" and not check.sorted_by_index:
            # SCAN … USING INDEX reads the whole index: fine for an ORDER BY … LIMIT, not for a filter
            problems.append(f"{table} read by a full scan of {index.group(1)} (`{line.strip()}`)")
    if check.sorted_by_index and any("TEMP B-TREE FOR ORDER BY" in line for line in lines):
        problems.append("the rows are sorted in a temporary b-tree, not read in the index's order")
    return problems


def _bounds_leading_column(lines: list[str], node: int, leading: str | None) -> bool:
    """Whether the plan node on line `node` has an Index Cond on the index's first column (its details run up to
    the next node, "->"): a condition on a later column alone still reads the whole index."""
    for line in lines[node + 1 :]:
        if "->" in line:
            return False
        if "Index Cond:" in line:
            return (
                leading is None or re.search(rf"\b{re.escape(leading)}\b", line.split("Index Cond:", 1)[1]) is not None
            )
    return False


def _leading_columns(session: Session) -> dict[str, str]:
    """index name -> its first column (PostgreSQL's catalogue)."""
    rows = session.connection().exec_driver_sql(
        "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    )
    return {str(name): str(column) for name, column in rows}


def _problems_postgres(check: Check, statement: str, lines: list[str], leading: dict[str, str]) -> list[str]:
    problems = []
    bitmaps = {m.group(1) for line in lines for m in [_PG_BITMAP.search(line)] if m}
    for number, line in enumerate(lines):
        found = _PG_ACCESS.search(line)
        if not found:
            continue
        kind, index, table = found.group(1), found.group(2), found.group(3)
        allowed = check.tables.get(table)
        if allowed is None:
            continue
        names = set(allowed) | ({f"{table}_pkey", f"pk_{table}"} if PK in allowed else set())
        if kind == "Seq Scan":
            problems.append(f"{table} read by a sequential scan (`{line.strip()}`)")
        elif kind == "Bitmap Heap Scan":
            if not bitmaps & names:
                problems.append(f"{table} read by a bitmap scan of {sorted(bitmaps)}, not {sorted(names)}")
        elif index not in names:
            problems.append(f"{table} read through {index}, not through {sorted(names)}")
        elif not check.sorted_by_index and not _bounds_leading_column(lines, number, leading.get(index or "")):
            # an index scan without an Index Cond reads the whole index: fine for an ORDER BY … LIMIT only
            problems.append(f"{table} read by a full scan of {index} (`{line.strip()}`)")
    # a Sort node (not its "Sort Key:" detail, nor an Incremental Sort of rows already read in the index's order)
    if check.sorted_by_index and any(re.match(r"^(?:->\s*)?Sort\s+\(cost=", line.strip()) for line in lines):
        problems.append("the rows are sorted, not read in the index's order")
    return problems


def plans(session: Session, query: HotQuery, actor: Actor, on: date) -> list[Plan]:
    """Every checked statement of a hot query with its plan and what is wrong with it (nothing, ideally)."""
    statements = captured(session, lambda: query.call(session, actor, on))
    dialect = session.connection().dialect.name
    leading = _leading_columns(session) if dialect == "postgresql" else {}
    result = []
    for statement, parameters in statements:
        wanted = [c for c in query.checks if not c.marker or c.marker in statement]
        if not wanted:
            continue
        plan = Plan(statement, explain(session, statement, parameters))
        for check in wanted:
            for table in check.forbidden_tables:
                if _reads(statement, table):
                    plan.problems.append(f"reads {table}")
            if dialect == "sqlite":
                plan.problems += _problems_sqlite(check, statement, plan.lines)
            else:
                plan.problems += _problems_postgres(check, statement, plan.lines, leading)
        result.append(plan)
    return result


def problems(session: Session, query: HotQuery, actor: Actor, on: date) -> list[str]:
    """What is wrong with the plans of a hot query, as readable lines (empty: every statement uses its indexes)."""
    found = []
    checked = plans(session, query, actor, on)
    if not checked:
        found.append("no statement was checked (did the service change its SQL?)")
    for plan in checked:
        flat = " ".join(plan.statement.split())
        found += [f"{problem} — in: {flat[:160]}" for problem in plan.problems]
    return found
