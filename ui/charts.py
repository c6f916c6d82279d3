"""Altair chart builders shared by the screens: one colour per category across the app, Chinese titles and
tooltips. Pure functions of plain rows (no streamlit, no database), so they are unit-tested."""

from datetime import date
from typing import Any

import altair as alt
import pandas as pd

from domain.activities import Category
from domain.organisations import OrgKind
from ui.i18n import enum_label, t

# One colour per unit kind, everywhere (Tableau 10, colour-blind friendly enough for seven classes).
KIND_COLOURS = {
    OrgKind.GOVERNMENT.value: "#4e79a7",
    OrgKind.ACADEMIC.value: "#f28e2b",
    OrgKind.SOCIAL.value: "#59a14f",
    OrgKind.VOLUNTEER_TEAM.value: "#e15759",
    OrgKind.ENTERPRISE.value: "#76b7b2",
    OrgKind.MASS.value: "#edc948",
    OrgKind.OTHER.value: "#b07aa1",
}


# One colour per activity category: the calendar's cells and legend and the overview's charts use these.
CATEGORY_COLOURS = {
    Category.TRAINING.value: "#4e79a7",
    Category.SEMINAR.value: "#f28e2b",
    Category.SHOWCASE.value: "#e15759",
    Category.VOLUNTEERING.value: "#59a14f",
    Category.FORUM.value: "#b07aa1",
    Category.RESEARCH.value: "#76b7b2",
    Category.BRAND.value: "#edc948",
    Category.OTHER.value: "#9c755f",
}


def category_scale() -> alt.Scale:
    """The colour scale of activity categories, by their on-screen names."""
    return alt.Scale(
        domain=[enum_label("category", c) for c in CATEGORY_COLOURS], range=list(CATEGORY_COLOURS.values())
    )


def kind_scale() -> alt.Scale:
    """The colour scale of unit kinds, by their on-screen names."""
    return alt.Scale(domain=[enum_label("org_kind", k) for k in KIND_COLOURS], range=list(KIND_COLOURS.values()))


def term_rows(history: list[Any]) -> list[dict[str, Any]]:
    """The rows term_timeline draws, from council.term_history's rows (plain values: cacheable)."""
    return [
        {
            "seat": h.seat,
            "unit": h.unit,
            "kind": h.kind,
            "session": t("council.session_title", number=h.session_number),
            "source": enum_label("term_source", h.source),
            "starts_on": h.starts_on.isoformat(),
            "ends_on": h.ends_on.isoformat(),
        }
        for h in history
    ]


def term_timeline(terms: list[dict[str, Any]], today: date) -> alt.LayerChart:
    """Every term as a bar on its seat from start to end, coloured by unit kind, with today marked."""
    frame = pd.DataFrame(terms)
    if frame.empty:
        frame = pd.DataFrame(columns=["seat", "unit", "kind", "session", "source", "starts_on", "ends_on"])
    frame = frame.assign(kind_label=[enum_label("org_kind", k) for k in frame["kind"]])
    bars = (
        alt.Chart(frame)
        .mark_bar(cornerRadius=2, height=18)
        .encode(
            # numeric dates: Vega's month names would be English in the Chinese UI
            x=alt.X("starts_on:T", title=t("council.timeline_time"), axis=alt.Axis(format="%Y-%m")),
            x2="ends_on:T",
            y=alt.Y("seat:O", title=t("council.seat"), sort="ascending"),
            color=alt.Color("kind_label:N", title=t("field.kind"), scale=kind_scale()),
            tooltip=[
                alt.Tooltip("unit:N", title=t("council.unit")),
                alt.Tooltip("session:N", title=t("council.session")),
                alt.Tooltip("source:N", title=t("council.source")),
                alt.Tooltip("starts_on:T", title=t("field.starts_on"), format="%Y-%m-%d"),
                alt.Tooltip("ends_on:T", title=t("field.ends_on"), format="%Y-%m-%d"),
            ],
        )
    )
    now = (
        alt.Chart(pd.DataFrame({"today": [pd.Timestamp(today)]}))
        .mark_rule(color="#333", strokeDash=[4, 3])
        .encode(x="today:T")
    )
    return (bars + now).properties(title=t("council.timeline_title"), height=320)


def counts_bar(counts: dict[str, int], *, title: str, label: str, by_kind: bool) -> alt.Chart:
    """A horizontal bar per category (unit kinds in their colours; provinces in one colour)."""
    names = [enum_label("org_kind", k) if by_kind else k for k in counts]
    frame = pd.DataFrame({"name": names, "count": list(counts.values())})
    colour = alt.Color("name:N", scale=kind_scale(), legend=None) if by_kind else alt.value(KIND_COLOURS["government"])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=label, sort="-x"),
            x=alt.X("count:Q", title=t("council.count"), axis=alt.Axis(tickMinStep=1)),
            color=colour,
            tooltip=[alt.Tooltip("name:N", title=label), alt.Tooltip("count:Q", title=t("council.count"))],
        )
        .properties(title=title, height=alt.Step(26))
    )


# ------------------------------------------------------------------------------------------ the overview's charts
# Each returns a chart with a point selection named PICK on the fields a click should filter by: the overview reads
# the selection (st.vega_lite_chart(on_select="rerun")) to drill down.

PICK = "pick"
CHANNEL_COLOURS = {"self_applied": "#4e79a7", "invited": "#f28e2b", "recommended": "#59a14f", "direct": "#bab0ac"}


def _picked(fields: list[str]) -> alt.SelectionParameter:
    return alt.selection_point(name=PICK, fields=fields, on="click", clear="dblclick")


def _opacity(selection: alt.SelectionParameter) -> alt.OpacityValue:
    return alt.condition(selection, alt.value(1.0), alt.value(0.45))  # type: ignore[no-any-return]


def pickable_bars(
    counts: list[tuple[str, str, int]], *, title: str, label: str, value: str, by_kind: bool
) -> alt.Chart:
    """Horizontal bars (code, on-screen name, count), largest first; a click picks the code."""
    frame = pd.DataFrame(counts, columns=["code", "name", "count"])
    selection = _picked(["code"])
    colour = (
        alt.Color("name:N", title=label, scale=kind_scale(), legend=None)
        if by_kind
        else alt.value(KIND_COLOURS[OrgKind.GOVERNMENT.value])
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=label, sort="-x"),
            x=alt.X("count:Q", title=value, axis=alt.Axis(tickMinStep=1)),
            color=colour,
            opacity=_opacity(selection),
            tooltip=[alt.Tooltip("name:N", title=label), alt.Tooltip("count:Q", title=value)],
        )
        .add_params(selection)
        .properties(title=title, height=alt.Step(22))
    )


def monthly_stacked(
    rows: list[tuple[str, str, str, float]],
    *,
    title: str,
    series_label: str,
    value: str,
    colours: dict[str, str],
    names: dict[str, str],
    months: list[str] | None = None,
) -> alt.Chart:
    """Bars per month (YYYY-MM) stacked by series (code, on-screen name); a click picks the month and series.
    `months` makes the axis continuous (a month without records stays on it, empty)."""
    frame = pd.DataFrame(rows, columns=["month", "code", "name", "value"])
    selection = _picked(["month", "code"])
    scale = alt.Scale(domain=[names[c] for c in colours], range=list(colours.values()))
    month_scale = alt.Scale(domain=months) if months else alt.Undefined
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=t("overview.month"), axis=alt.Axis(labelAngle=-45), scale=month_scale),
            y=alt.Y("value:Q", title=value, stack=True),
            color=alt.Color("name:N", title=series_label, scale=scale),
            opacity=_opacity(selection),
            tooltip=[
                alt.Tooltip("month:O", title=t("overview.month")),
                alt.Tooltip("name:N", title=series_label),
                alt.Tooltip("value:Q", title=value, format=",.1f" if frame["value"].dtype == float else ","),
            ],
        )
        .add_params(selection)
        .properties(title=title, height=280)
    )


def ordered_bars(rows: list[tuple[str, str, int]], *, title: str, label: str, value: str) -> alt.Chart:
    """Vertical bars in the given order (code, on-screen name, count): the funnel and the review times."""
    frame = pd.DataFrame(rows, columns=["code", "name", "count"])
    frame["order"] = range(len(frame))
    selection = _picked(["code"])
    return (
        alt.Chart(frame)
        .mark_bar(color=KIND_COLOURS[OrgKind.GOVERNMENT.value])
        .encode(
            x=alt.X("name:N", title=label, sort=alt.EncodingSortField("order"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count:Q", title=value, axis=alt.Axis(tickMinStep=1)),
            opacity=_opacity(selection),
            tooltip=[alt.Tooltip("name:N", title=label), alt.Tooltip("count:Q", title=value)],
        )
        .add_params(selection)
        .properties(title=title, height=240)
    )
