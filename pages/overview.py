"""Metrics overview (数据概览): KPI tiles against the previous period, Altair charts whose bars filter the page or
open the matching records, exports of every chart's data, and a printable one-page summary. Every figure is an
SQL aggregate over the roll-ups, read through caches keyed by the filters and the data-version stamp."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from db.services import activities, council, overview
from db.services.activities import ActivityFilters
from domain.activities import Category
from domain.applications import AppStatus
from domain.clock import today
from domain.errors import DomainError
from domain.metrics import REVIEW_BUCKETS, Period, add_months, period, preset
from domain.organisations import PROVINCES, OrgKind
from domain.roles import Actor, Role
from ui.auth import require_role
from ui.cache import cached_read
from ui.charts import (
    CATEGORY_COLOURS,
    CHANNEL_COLOURS,
    PICK,
    monthly_stacked,
    ordered_bars,
    pickable_bars,
    term_rows,
    term_timeline,
)
from ui.forms import error_text
from ui.i18n import current_language, enum_label, format_date, t
from ui.layout import link_to
from ui.printable import overview_html
from ui.tabular import export_buttons

# What the overview reads: a write to any of these raises its stamp and the next read is fresh.
TOPICS = overview.TOPICS
PRESETS = ("year", "12m", "all", "custom")
DRILL = "ov_drill"

user = require_role("overview")
assert user is not None
actor = user.actor()
# The overview's figures are the same for every reader: one cache entry per role, not per user.
reader = Actor(user_id=None, username="", role=actor.role)
on = today()
reads_applications = actor.role in (Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL)


def read(fn: Callable[..., Any], **kwargs: Any) -> Any:
    return cached_read(TOPICS, fn, actor=reader, **kwargs)


# --------------------------------------------------------------------------------------------------- filters


def chosen_period() -> Period:
    left, right = st.columns([3, 4], vertical_alignment="bottom")
    with left:
        choice = st.segmented_control(
            t("overview.period"),
            PRESETS,
            format_func=lambda p: t(f"overview.preset_{p}"),
            default="12m" if "ov_preset" not in st.session_state else None,
            key="ov_preset",
        )
    choice = choice or "12m"
    if choice != "custom":
        earliest = read(overview.earliest_month) if choice == "all" else None
        return preset(choice, on, earliest)
    with right:
        a, b = st.columns(2)
        first = a.date_input(
            t("overview.from_month"), value=add_months(on.replace(day=1), -11), key="ov_from", format="YYYY-MM-DD"
        )
        last = b.date_input(t("overview.to_month"), value=on, key="ov_to", format="YYYY-MM-DD")
    try:
        return period(first, last)
    except DomainError as exc:
        st.error(error_text(exc), icon=":material/error:")
        st.stop()
        raise


def filters_row() -> overview.OverviewFilters:
    chosen = chosen_period()
    a, b, c = st.columns(3)
    province = a.selectbox(
        t("field.province"),
        [None, *PROVINCES],
        format_func=lambda v: t("common.all") if v is None else v,
        key="ov_province",
    )
    kind = b.selectbox(
        t("field.kind"),
        [None, *[k.value for k in OrgKind]],
        format_func=lambda v: t("common.all") if v is None else enum_label("org_kind", v),
        key="ov_kind",
    )
    category = c.selectbox(
        t("field.category"),
        [None, *[k.value for k in Category]],
        format_func=lambda v: t("common.all") if v is None else enum_label("category", v),
        key="ov_category",
    )
    st.caption(
        t(
            "overview.period_note",
            first=format_date(chosen.first),
            last=format_date(chosen.last_day),
            previous=format_date(chosen.previous().first),
            previous_last=format_date(chosen.previous().last_day),
        )
    )
    return overview.OverviewFilters(period=chosen, province=province, kind=kind, category=category)


# --------------------------------------------------------------------------------------------------- tiles


def shown(value: float | None, style: str) -> str:
    if value is None:
        return "—"
    if style == "percent":
        return f"{value:.0%}"
    if style == "hours":
        return f"{value:,.1f}"
    if style == "days":
        return t("overview.days", days=f"{value:g}")
    return f"{value:,.0f}"


def delta_text(tile: overview.Kpi) -> str | None:
    change = tile.change
    if change is None:
        return None
    if tile.style == "percent":
        return t("overview.delta_points", points=f"{change.delta * 100:+.0f}")
    amount = f"{change.delta:+,.1f}" if tile.style in ("hours", "days") else f"{change.delta:+,.0f}"
    if change.ratio is None:
        return t("overview.delta_new", amount=amount) if change.delta else None
    return t("overview.delta", amount=amount, ratio=f"{change.ratio:+.0%}")


def tiles(kpis: list[overview.Kpi]) -> None:
    for row in range(0, len(kpis), 4):
        for column, tile in zip(st.columns(4), kpis[row : row + 4], strict=False):
            column.metric(
                t(f"overview.kpi_{tile.key}"),
                shown(tile.value, tile.style),
                delta=delta_text(tile),
                delta_color="inverse" if tile.key == "median_review_days" else "normal",
                help=t(f"overview.kpi_{tile.key}_help"),
                border=True,
            )


# --------------------------------------------------------------------------------------------------- charts


@st.cache_data(max_entries=256, show_spinner=False)
def chart_spec(name: str, data: Any, lang: str) -> dict[str, Any]:
    """A finished Vega-Lite spec per chart, data and language: reruns do not build Altair charts again."""
    from ui.i18n import language

    with language(lang):
        return BUILDERS[name](data).to_dict()  # type: ignore[no-any-return]


def _kinds(data: list[tuple[str, int]]) -> Any:
    return pickable_bars(
        [(k, enum_label("org_kind", k), n) for k, n in data],
        title=t("overview.chart_kind"),
        label=t("field.kind"),
        value=t("overview.units"),
        by_kind=True,
    )


def _provinces(data: list[tuple[str, int]]) -> Any:
    return pickable_bars(
        [(p, p, n) for p, n in data],
        title=t("overview.chart_province"),
        label=t("field.province"),
        value=t("overview.units"),
        by_kind=False,
    )


def _channel_name(code: str) -> str:
    return t("overview.channel_direct") if code == "direct" else enum_label("channel", code)


def _new_members(data: tuple[list[tuple[str, str, int]], list[str]]) -> Any:
    data, months = data
    names = {c: _channel_name(c) for c in CHANNEL_COLOURS}
    return monthly_stacked(
        [(m, c, names[c], n) for m, c, n in data],
        title=t("overview.chart_new_members"),
        series_label=t("overview.channel"),
        value=t("overview.units"),
        colours=CHANNEL_COLOURS,
        names=names,
        months=months,
    )


def _funnel(data: list[tuple[str, int]]) -> Any:
    return ordered_bars(
        [(s, enum_label("app_status", s), n) for s, n in data],
        title=t("overview.chart_funnel"),
        label=t("field.status"),
        value=t("overview.applications"),
    )


def _reviews(data: list[int]) -> Any:
    labels = [
        t("overview.bucket_open", low=low) if high is None else t("overview.bucket", low=low, high=high)
        for low, high in REVIEW_BUCKETS
    ]
    return ordered_bars(
        [(str(i), labels[i], n) for i, n in enumerate(data)],
        title=t("overview.chart_reviews"),
        label=t("overview.review_days"),
        value=t("overview.applications"),
    )


def _activities(data: tuple[list[tuple[str, str, float]], list[str]]) -> Any:
    data, months = data
    names = {c: enum_label("category", c) for c in CATEGORY_COLOURS}
    return monthly_stacked(
        [(m, c, names[c], v) for m, c, v in data],
        title=t("overview.chart_activities"),
        series_label=t("field.category"),
        value=t("overview.activities"),
        colours=CATEGORY_COLOURS,
        names=names,
        months=months,
    )


def _hours(data: tuple[list[tuple[str, str, float]], list[str]]) -> Any:
    data, months = data
    names = {c: enum_label("category", c) for c in CATEGORY_COLOURS}
    return monthly_stacked(
        [(m, c, names[c], v) for m, c, v in data],
        title=t("overview.chart_hours"),
        series_label=t("field.category"),
        value=t("field.service_hours"),
        colours=CATEGORY_COLOURS,
        names=names,
        months=months,
    )


def _organisers(data: list[tuple[str, str, int]]) -> Any:
    return pickable_bars(
        data,
        title=t("overview.chart_organisers"),
        label=t("field.organiser"),
        value=t("overview.activities"),
        by_kind=False,
    )


def _council_kinds(data: list[tuple[str, int]]) -> Any:
    return pickable_bars(
        [(k, enum_label("org_kind", k), n) for k, n in data],
        title=t("overview.chart_council"),
        label=t("field.kind"),
        value=t("overview.units"),
        by_kind=True,
    )


def _timeline(data: tuple[list[dict[str, Any]], str]) -> Any:
    rows, day = data
    return term_timeline(rows, date.fromisoformat(day))


BUILDERS: dict[str, Callable[[Any], Any]] = {
    "kinds": _kinds,
    "provinces": _provinces,
    "new_members": _new_members,
    "funnel": _funnel,
    "reviews": _reviews,
    "activities": _activities,
    "hours": _hours,
    "organisers": _organisers,
    "council": _council_kinds,
    "timeline": _timeline,
}


def on_pick(name: str) -> None:
    """A click on a bar: kinds and provinces filter the whole page; the others open the matching records."""
    event = st.session_state.get(f"ov_chart_{name}")
    picked = (event or {}).get("selection", {}).get(PICK) or []
    if not picked:
        st.session_state.pop(DRILL, None)
        return
    point = picked[0]
    if name in ("kinds", "council"):
        st.session_state["ov_kind"] = point.get("code")
    elif name == "provinces":
        st.session_state["ov_province"] = point.get("code")
    else:
        st.session_state[DRILL] = (name, point.get("month"), point.get("code"))


def chart(name: str, data: Any, headers: list[str], rows: list[list[Any]]) -> None:
    if not rows:
        st.info(t(f"overview.empty_{name}"), icon=":material/bar_chart:")
        return
    spec = chart_spec(name, data, current_language())
    st.vega_lite_chart(
        spec=spec, on_select=lambda: on_pick(name), selection_mode=PICK, key=f"ov_chart_{name}", width="stretch"
    )
    with st.expander(t("overview.chart_data")):
        st.dataframe(pd.DataFrame(rows, columns=headers), hide_index=True, width="stretch")
        export_buttons(f"ov_export_{name}", t(f"overview.file_{name}"), lambda: (headers, rows))


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def period_months(filters: overview.OverviewFilters) -> list[str]:
    """Every month of the period, so a month without records stays on the axis."""
    return [month_text(m) for m in filters.period.month_list()]


def members_section(filters: overview.OverviewFilters) -> None:
    kinds = list(read(overview.members_by, filters=filters, field="kind").items())
    provinces = list(read(overview.members_by, filters=filters, field="province").items())
    left, right = st.columns(2)
    with left:
        chart(
            "kinds", kinds, [t("field.kind"), t("overview.units")], [[enum_label("org_kind", k), n] for k, n in kinds]
        )
    with right:
        chart("provinces", provinces, [t("field.province"), t("overview.units")], [[p, n] for p, n in provinces])
    joined = [(month_text(m), c, n) for m, c, n in read(overview.new_members_by_month, filters=filters)]
    chart(
        "new_members",
        (joined, period_months(filters)),
        [t("overview.month"), t("overview.channel"), t("overview.units")],
        [[m, _channel_name(c), n] for m, c, n in joined],
    )
    drill_records(filters, ("new_members",))


def applications_section(filters: overview.OverviewFilters) -> None:
    funnel = read(overview.application_funnel, filters=filters)
    ordered = [(s.value, funnel.get(s.value, 0)) for s in AppStatus if funnel.get(s.value)]
    reviews = read(overview.review_distribution, filters=filters)
    left, right = st.columns(2)
    with left:
        chart(
            "funnel",
            ordered,
            [t("field.status"), t("overview.applications")],
            [[enum_label("app_status", s), n] for s, n in ordered],
        )
    with right:
        chart("reviews", reviews, [t("overview.review_days"), t("overview.applications")], bucket_rows(reviews))
    drill_records(filters, ("funnel", "reviews"))


def bucket_rows(counts: list[int]) -> list[list[Any]]:
    if not any(counts):
        return []
    return [
        [f"{low}–{high if high is not None else ''}", n] for (low, high), n in zip(REVIEW_BUCKETS, counts, strict=True)
    ]


def activities_section(filters: overview.OverviewFilters) -> None:
    months = read(overview.activities_by_month, filters=filters)
    counts = [(month_text(r.month), r.category, r.activities) for r in months]
    hours = [(month_text(r.month), r.category, round(r.hours, 1)) for r in months]
    headers = [t("overview.month"), t("field.category"), t("overview.activities"), t("field.service_hours")]
    rows = [[month_text(r.month), enum_label("category", r.category), r.activities, round(r.hours, 1)] for r in months]
    # full width: a year of months side by side needs it
    chart("activities", (counts, period_months(filters)), headers, rows)
    chart("hours", (hours, period_months(filters)), headers, rows)
    top = read(overview.top_organisers, filters=filters)
    data = [(str(o.organisation_id or 0), o.name or t("cal.secretariat"), o.activities) for o in top]
    chart(
        "organisers",
        data,
        [t("field.organiser"), t("overview.activities"), t("field.service_hours")],
        [[o.name or t("cal.secretariat"), o.activities, round(o.hours, 1)] for o in top],
    )
    drill_records(filters, ("activities", "hours", "organisers"))


def council_section() -> None:
    by_kind, by_province = cached_read(("council_term", "organisation"), council.composition, on=on)
    kinds = sorted(by_kind.items(), key=lambda kv: -kv[1])
    left, right = st.columns(2)
    with left:
        chart(
            "council", kinds, [t("field.kind"), t("overview.units")], [[enum_label("org_kind", k), n] for k, n in kinds]
        )
    with right:
        st.markdown(f"**{t('overview.council_provinces')}**")
        if by_province:
            st.dataframe(
                pd.DataFrame(
                    sorted(by_province.items(), key=lambda kv: -kv[1]),
                    columns=[t("field.province"), t("overview.units")],
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption(t("overview.empty_council"))
    history = cached_read(("council_term", "council_session", "organisation"), council.term_history, actor=actor)
    if history:
        # the summary of every term: viewers receive no representatives (the service leaves them out)
        spec = chart_spec("timeline", (term_rows(history), on.isoformat()), current_language())
        st.vega_lite_chart(spec=spec, key="ov_timeline", width="stretch")


def drill_records(filters: overview.OverviewFilters, charts: tuple[str, ...]) -> None:
    """The records behind the bar the user clicked, under the charts of its section."""
    drill = st.session_state.get(DRILL)
    if not drill or drill[0] not in charts:
        return
    name, month, code = drill
    st.subheader(t("overview.drill_title"))
    if st.button(t("overview.drill_clear"), key="ov_drill_clear", icon=":material/close:"):
        st.session_state.pop(DRILL, None)
        st.rerun()
    if name in ("activities", "hours", "organisers"):
        first, last = filters.period.first, filters.period.last_day
        if month:
            first = date.fromisoformat(f"{month}-01")
            last = add_months(first, 1) - timedelta(days=1)
        secretariat = name == "organisers" and code == "0"
        wanted = ActivityFilters(
            categories=(code,) if name != "organisers" and code else ((filters.category,) if filters.category else ()),
            organiser_id=int(code) if name == "organisers" and code and not secretariat else None,
            province=filters.province,
            statuses=("planned", "ongoing", "finished"),
            # what the bar counted: activities starting in the month (or period), of the kind chosen
            organiser_kind="" if secretariat else filters.kind,
            starting_in_range=True,
            organiser_only=True,  # the bar counts activities by their organiser, not co-organised ones
        )
        rows, total = cached_read(
            TOPICS, activities.list_activities, actor=actor, first=first, last=last, filters=wanted, limit=50
        )
        st.caption(t("overview.drill_activities", count=total))
        table = pd.DataFrame(
            {
                t("field.starts_at"): [format_date(r.starts_at) for r in rows],
                t("field.title"): [r.title for r in rows],
                t("field.category"): [enum_label("category", r.category) for r in rows],
                t("field.organiser"): [r.organiser or t("cal.secretariat") for r in rows],
                t("field.province"): [r.province for r in rows],
                t("field.service_hours"): ["—" if r.service_hours is None else f"{r.service_hours:,.1f}" for r in rows],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
    elif name == "funnel" and reads_applications:
        label = t("overview.drill_applications", status=enum_label("app_status", code))
        link_to("applications", label, query_params={"status": code})
    else:
        st.caption(t("overview.drill_none"))


def summary_download(filters: overview.OverviewFilters, kpis: list[overview.Kpi]) -> None:
    described = [
        (t("overview.period"), f"{format_date(filters.period.first)} – {format_date(filters.period.last_day)}"),
        (t("field.province"), filters.province or t("common.all")),
        (t("field.kind"), enum_label("org_kind", filters.kind) if filters.kind else t("common.all")),
        (t("field.category"), enum_label("category", filters.category) if filters.category else t("common.all")),
    ]
    lines = [(t(f"overview.kpi_{k.key}"), shown(k.value, k.style), delta_text(k) or "—") for k in kpis]
    st.download_button(
        t("overview.print"),
        overview_html(described, lines, today=on),
        file_name=f"{t('page.overview')}_{on:%Y%m%d}.html",
        mime="text/html",
        key="ov_print",
        icon=":material/print:",
        on_click="ignore",
    )


# --------------------------------------------------------------------------------------------------- the page

st.title(t("page.overview"))
filters = filters_row()
kpis = read(overview.kpis, filters=filters, today=on)
tiles(kpis)
summary_download(filters, kpis)
if not any(k.value for k in kpis):
    st.info(t("overview.empty"), icon=":material/insights:")
sections = [t("overview.tab_members"), t("overview.tab_activities"), t("overview.tab_council")]
if reads_applications:
    sections.insert(1, t("overview.tab_applications"))
panes = dict(zip(sections, st.tabs(sections), strict=True))
with panes[t("overview.tab_members")]:
    members_section(filters)
if reads_applications:
    with panes[t("overview.tab_applications")]:
        applications_section(filters)
with panes[t("overview.tab_activities")]:
    activities_section(filters)
with panes[t("overview.tab_council")]:
    council_section()
