"""DESIGN.md's two baselines for the overview, drawn with the same chart code (ui.charts) as pages/overview.py:

- "pandas": every rerun `pandas.read_sql` of the tables the overview needs, every figure aggregated in pandas;
- "pandas cached": the same loads under `st.cache_data`, keyed by the data-version stamp of the overview's
  record types (so a write invalidates them, as it invalidates our cache); aggregation and charts every rerun.

The page script is bench/pandas_overview.py; `python -m bench.baselines <pandas|pandas_cached> <round>` measures one
round in a fresh process, like bench/pages.py: cold first run, warm reruns, a write, the rerun after it."""

import json
import statistics
import sys
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

MODES = ("pandas", "pandas_cached")
MODE_KEY = "bench_mode"
SHANGHAI = "Asia/Shanghai"
QUERIES = {
    "organisations": "SELECT id, name, kind, province, status, joined_on, admitted_channel, is_secretariat "
    "FROM organisations",
    "applications": "SELECT status, channel, province, kind, submitted_at, decided_at FROM applications",
    "activities": "SELECT id, category, province, organiser_id, starts_at, cancelled_at, volunteers, service_hours "
    "FROM activities",
    "signups": "SELECT activity_id, status, people FROM signups",
    "terms": "SELECT t.seat, t.organisation_id, t.starts_on, t.ends_on, t.source, s.number AS session_number "
    "FROM council_terms t JOIN council_sessions s ON s.id = t.session_id",
    "meetings": "SELECT id, starts_at FROM meetings",
    "attendance": "SELECT meeting_id, status FROM meeting_attendance",
}
WARM_RUNS = 3


def _local(values: pd.Series) -> pd.Series:
    """Instants (UTC, stored naive by SQLite) as wall-clock times in Asia/Shanghai."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(SHANGHAI).dt.tz_localize(None)


def load_tables() -> dict[str, pd.DataFrame]:
    """Every table the overview needs, read whole with pandas.read_sql, dates parsed."""
    from db.engine import get_engine

    with get_engine().connect() as conn:
        frames = {name: pd.read_sql(sql, conn) for name, sql in QUERIES.items()}
    orgs = frames["organisations"]
    orgs["joined_on"] = pd.to_datetime(orgs["joined_on"])
    orgs["is_secretariat"] = orgs["is_secretariat"].astype(bool)
    apps = frames["applications"]
    apps["submitted_at"] = _local(apps["submitted_at"])
    apps["decided_at"] = _local(apps["decided_at"])
    acts = frames["activities"]
    acts["starts_at"] = _local(acts["starts_at"])
    for column in ("starts_on", "ends_on"):
        frames["terms"][column] = pd.to_datetime(frames["terms"][column])
    frames["meetings"]["starts_at"] = _local(frames["meetings"]["starts_at"])
    return frames


@st.cache_data(max_entries=4, show_spinner=False)
def cached_tables(database: str, version: int) -> dict[str, pd.DataFrame]:
    """load_tables under st.cache_data, keyed by the database and the overview's data-version stamp."""
    return load_tables()


def tables(mode: str) -> dict[str, pd.DataFrame]:
    if mode == "pandas":
        return load_tables()
    from db.engine import database_url, transaction
    from db.services import overview
    from db.services.data_version import stamp

    with transaction() as session:
        version = stamp(session=session, topics=overview.TOPICS)
    return cached_tables(database_url(), version)


# --------------------------------------------------------------------------------------------- aggregation


def _between(values: pd.Series, first: date, end: date) -> pd.Series:
    return (values >= pd.Timestamp(first)) & (values < pd.Timestamp(end))


def _month(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m")


def figures(frames: dict[str, pd.DataFrame], today: date) -> dict[str, Any]:
    """The overview's tiles and chart data for the last 12 months, aggregated in pandas."""
    from domain.applications import PENDING
    from domain.council import Attendance
    from domain.metrics import REVIEW_BUCKETS, change, preset, review_bucket

    now = preset("12m", today, None)
    before = now.previous()
    orgs, apps, acts = frames["organisations"], frames["applications"], frames["activities"]
    signups, terms = frames["signups"], frames["terms"]
    members = orgs[(orgs["status"] == "member") & ~orgs["is_secretariat"]]

    def members_on(day: date) -> int:
        return int((members["joined_on"].isna() | (members["joined_on"] <= pd.Timestamp(day))).sum())

    joined_all = orgs[~orgs["is_secretariat"] & orgs["joined_on"].notna()]

    def joined(period: Any) -> pd.DataFrame:
        return joined_all[_between(joined_all["joined_on"], period.first, period.end)]

    decided_all = apps[apps["status"].isin(["approved", "rejected"]) & apps["decided_at"].notna()]

    def review_days(period: Any) -> pd.Series:
        rows = decided_all[_between(decided_all["decided_at"], period.first, period.end)]
        return ((rows["decided_at"] - rows["submitted_at"]).dt.days).clip(lower=0)

    live_all = acts[acts["cancelled_at"].isna()]
    confirmed = signups[signups["status"] == "confirmed"]

    def live(period: Any) -> pd.DataFrame:
        return live_all[_between(live_all["starts_at"], period.first, period.end)]

    def activity_sums(period: Any) -> dict[str, float]:
        rows = live(period)
        return {
            "activities": float(len(rows)),
            "volunteers": float(rows["volunteers"].fillna(0).sum()),
            "hours": float(rows["service_hours"].fillna(0).sum()),
            "trainings": float((rows["category"] == "training").sum()),
            "people": float(confirmed.loc[confirmed["activity_id"].isin(rows["id"]), "people"].sum()),
        }

    meetings, attendance = frames["meetings"], frames["attendance"]

    def meeting_figures(period: Any) -> tuple[int, float | None]:
        held = meetings[_between(meetings["starts_at"], period.first, min(period.end, today + timedelta(days=1)))]
        recorded = attendance[attendance["meeting_id"].isin(held["id"])]
        rate = float((recorded["status"] == Attendance.PRESENT.value).mean()) if len(recorded) else None
        return len(held), rate

    seated = terms[(terms["starts_on"] <= pd.Timestamp(today)) & (terms["ends_on"] > pd.Timestamp(today))]
    ending = int((seated["ends_on"] <= pd.Timestamp(today + timedelta(days=180))).sum())
    days_now, days_before = review_days(now), review_days(before)
    median_now = float(days_now.median()) if len(days_now) else None
    median_before = float(days_before.median()) if len(days_before) else None
    sums_now, sums_before = activity_sums(now), activity_sums(before)
    held_now, rate_now = meeting_figures(now)
    held_before, rate_before = meeting_figures(before)
    members_now = change(members_on(min(now.last_day, today)), members_on(before.last_day))
    kpis: list[tuple[str, Any, float | None, str]] = [
        ("members", members_now, members_now.value, "int"),
        ("new_members", change(len(joined(now)), len(joined(before))), float(len(joined(now))), "int"),
        ("pending", None, float(apps["status"].isin([s.value for s in PENDING]).sum()), "int"),
        (
            "median_review_days",
            change(median_now, median_before) if median_now is not None and median_before is not None else None,
            median_now,
            "days",
        ),
        ("seats_filled", None, float(len(seated)), "int"),
        ("terms_ending", None, float(ending), "int"),
        *[
            (key, change(sums_now[key], sums_before[key]), sums_now[key], "hours" if key == "hours" else "int")
            for key in ("activities", "volunteers", "hours", "trainings", "people")
        ],
        ("meetings", change(held_now, held_before), float(held_now), "int"),
        (
            "attendance",
            change(rate_now, rate_before) if rate_now is not None and rate_before is not None else None,
            rate_now,
            "percent",
        ),
    ]
    new = joined(now).assign(
        month=lambda f: _month(f["joined_on"]), channel=lambda f: f["admitted_channel"].fillna("direct")
    )
    new_by_month = new.groupby(["month", "channel"]).size().reset_index(name="n").sort_values(["month", "channel"])
    submitted = apps[_between(apps["submitted_at"], now.first, now.end)]
    funnel = submitted["status"].value_counts()
    buckets = [0] * len(REVIEW_BUCKETS)
    for days, n in days_now.value_counts().items():
        buckets[review_bucket(int(days))] += int(n)
    held = live(now).assign(month=lambda f: _month(f["starts_at"]))
    people = confirmed.groupby("activity_id")["people"].sum()
    held = held.assign(people=held["id"].map(people).fillna(0))
    by_month = (
        held.groupby(["month", "category"])
        .agg(activities=("id", "size"), hours=("service_hours", "sum"), people=("people", "sum"))
        .reset_index()
        .sort_values(["month", "category"])
    )
    top = (
        held.assign(organiser=held["organiser_id"].fillna(0).astype(int))
        .groupby("organiser")
        .agg(activities=("id", "size"), hours=("service_hours", "sum"))
        .reset_index()
        .sort_values(["activities", "hours"], ascending=False)
        .head(10)
    )
    names = orgs.set_index("id")["name"]
    top = top.assign(name=top["organiser"].map(names).fillna(""))
    council = seated.merge(orgs[["id", "kind", "province", "name"]], left_on="organisation_id", right_on="id")
    history = terms.merge(orgs[["id", "kind", "name"]], left_on="organisation_id", right_on="id").sort_values(
        ["session_number", "seat", "starts_on"]
    )
    return {
        "kpis": kpis,
        "months": [f"{m:%Y-%m}" for m in now.month_list()],
        "kinds": list(members["kind"].value_counts().items()),
        "provinces": list(members["province"].value_counts().items()),
        "new_members": [(m, c, int(n)) for m, c, n in new_by_month.itertuples(index=False)],
        "funnel": [(s, int(funnel.get(s, 0))) for s in _statuses() if funnel.get(s, 0)],
        "reviews": buckets,
        "activities": [(m, c, int(a)) for m, c, a, _, _ in by_month.itertuples(index=False)],
        "hours": [(m, c, round(float(h or 0), 1)) for m, c, _, h, _ in by_month.itertuples(index=False)],
        "organisers": [(str(o), n, int(a), float(h or 0)) for o, a, h, n in top.itertuples(index=False)],
        "council_kinds": list(council["kind"].value_counts().items()),
        "council_provinces": list(council["province"].value_counts().items()),
        "history": history,
    }


def _statuses() -> list[str]:
    from domain.applications import AppStatus

    return [s.value for s in AppStatus]


# --------------------------------------------------------------------------------------------- the page


def _shown(value: float | None, style: str) -> str:
    if value is None:
        return "—"
    if style == "percent":
        return f"{value:.0%}"
    if style == "hours":
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _chart(name: str, chart: Any, headers: list[str], rows: list[list[Any]]) -> None:
    """As the overview draws a chart: the Vega-Lite spec, then its data in an expander (built every rerun)."""
    st.vega_lite_chart(spec=chart.to_dict(), key=f"pd_chart_{name}", width="stretch")
    with st.expander("数据"):
        st.dataframe(pd.DataFrame(rows, columns=headers), hide_index=True, width="stretch")


def page() -> None:
    """The overview drawn from pandas frames (bench/pandas_overview.py runs this)."""
    from domain.clock import today
    from ui.charts import (
        CATEGORY_COLOURS,
        CHANNEL_COLOURS,
        monthly_stacked,
        ordered_bars,
        pickable_bars,
        term_rows,
        term_timeline,
    )
    from ui.i18n import enum_label, t

    mode = st.session_state.get(MODE_KEY, "pandas")
    on = today()
    data = figures(tables(mode), on)
    st.title(t("page.overview"))
    kpis = data["kpis"]
    for row in range(0, len(kpis), 4):
        for column, (key, _change, value, style) in zip(st.columns(4), kpis[row : row + 4], strict=False):
            column.metric(t(f"overview.kpi_{key}"), _shown(value, style), border=True)
    tabs = st.tabs(
        [
            t("overview.tab_members"),
            t("overview.tab_applications"),
            t("overview.tab_activities"),
            t("overview.tab_council"),
        ]
    )
    months = data["months"]
    channels = {c: t("overview.channel_direct") if c == "direct" else enum_label("channel", c) for c in CHANNEL_COLOURS}
    categories = {c: enum_label("category", c) for c in CATEGORY_COLOURS}
    with tabs[0]:
        kinds = [(k, enum_label("org_kind", k), int(n)) for k, n in data["kinds"]]
        chart = pickable_bars(
            kinds, title=t("overview.chart_kind"), label=t("field.kind"), value=t("overview.units"), by_kind=True
        )
        _chart("kinds", chart, [t("field.kind"), t("overview.units")], [[name, n] for _, name, n in kinds])
        provinces = [(p, p, int(n)) for p, n in data["provinces"]]
        chart = pickable_bars(
            provinces,
            title=t("overview.chart_province"),
            label=t("field.province"),
            value=t("overview.units"),
            by_kind=False,
        )
        _chart("provinces", chart, [t("field.province"), t("overview.units")], [[p, n] for p, _, n in provinces])
        joined = [(m, c, channels[c], n) for m, c, n in data["new_members"]]
        chart = monthly_stacked(
            joined,
            title=t("overview.chart_new_members"),
            series_label=t("overview.channel"),
            value=t("overview.units"),
            colours=CHANNEL_COLOURS,
            names=channels,
            months=months,
        )
        _chart("new_members", chart, ["month", "channel", "n"], [[m, name, n] for m, _, name, n in joined])
    with tabs[1]:
        funnel = [(s, enum_label("app_status", s), n) for s, n in data["funnel"]]
        chart = ordered_bars(
            funnel, title=t("overview.chart_funnel"), label=t("field.status"), value=t("overview.applications")
        )
        _chart("funnel", chart, ["status", "n"], [[name, n] for _, name, n in funnel])
        reviews = [(str(i), str(i), n) for i, n in enumerate(data["reviews"])]
        chart = ordered_bars(
            reviews,
            title=t("overview.chart_reviews"),
            label=t("overview.review_days"),
            value=t("overview.applications"),
        )
        _chart("reviews", chart, ["bucket", "n"], [[name, n] for _, name, n in reviews])
    with tabs[2]:
        for name, key, value in (
            ("activities", "activities", "overview.activities"),
            ("hours", "hours", "field.service_hours"),
        ):
            rows = [(m, c, categories[c], v) for m, c, v in data[key]]
            chart = monthly_stacked(
                rows,
                title=t(f"overview.chart_{name}"),
                series_label=t("field.category"),
                value=t(value),
                colours=CATEGORY_COLOURS,
                names=categories,
                months=months,
            )
            _chart(name, chart, ["month", "category", "value"], [[m, label, v] for m, _, label, v in rows])
        organisers = [(code, name or t("cal.secretariat"), n) for code, name, n, _ in data["organisers"]]
        chart = pickable_bars(
            organisers,
            title=t("overview.chart_organisers"),
            label=t("field.organiser"),
            value=t("overview.activities"),
            by_kind=False,
        )
        _chart("organisers", chart, ["organiser", "n"], [[name, n] for _, name, n in organisers])
    with tabs[3]:
        council = [(k, enum_label("org_kind", k), int(n)) for k, n in data["council_kinds"]]
        chart = pickable_bars(
            council, title=t("overview.chart_council"), label=t("field.kind"), value=t("overview.units"), by_kind=True
        )
        _chart("council", chart, ["kind", "n"], [[name, n] for _, name, n in council])
        st.dataframe(pd.DataFrame(data["council_provinces"], columns=["province", "n"]), hide_index=True)
        history = [
            _HistoryRow(r.session_number, r.seat, r.name, r.kind, r.source, r.starts_on.date(), r.ends_on.date())
            for r in data["history"].itertuples(index=False)
        ]
        if history:
            st.vega_lite_chart(spec=term_timeline(term_rows(history), on).to_dict(), key="pd_timeline", width="stretch")


class _HistoryRow:
    """What ui.charts.term_rows reads of a term."""

    def __init__(
        self, session_number: int, seat: int, unit: str, kind: str, source: str, starts_on: date, ends_on: date
    ) -> None:
        self.session_number, self.seat, self.unit, self.kind = session_number, seat, unit, kind
        self.source, self.starts_on, self.ends_on = source, starts_on, ends_on


# --------------------------------------------------------------------------------------------- measuring


def measure_round(mode: str, round_number: int) -> dict[str, Any]:
    """One round of a baseline in this (fresh) process."""
    from bench.pages import ROOT, Context, app_for, load_user, peak_mb, run_checked, timed, write_signup
    from db.base import utcnow
    from db.engine import transaction
    from domain.clock import today

    user = load_user()
    at = app_for(str((ROOT / "bench" / "pandas_overview.py").relative_to(ROOT)), user, {MODE_KEY: mode}, {})
    cold = timed(lambda: run_checked(at))
    warm_runs = [timed(lambda: run_checked(at)) for _ in range(WARM_RUNS)]
    ctx = Context(user=user, on=today(), minute=utcnow().replace(second=0, microsecond=0), round=round_number)
    with transaction(write=True) as session:
        write_signup(session, ctx)
    after_write = timed(lambda: run_checked(at))
    return {
        "case": mode,
        "round": round_number,
        "cold": cold,
        "warm": statistics.median(warm_runs),
        "after_write": after_write,
        "peak_mb": peak_mb(),
        "write": "activities.add_signup",
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.baselines <pandas|pandas_cached> <round>` (DATABASE_URL: the working database)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in MODES:
        print(f"usage: python -m bench.baselines {{{','.join(MODES)}}} <round>", file=sys.stderr)
        return 2
    print(json.dumps(measure_round(args[0], int(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
