"""A unit's record and benefits figures (db/services/benefits.UnitRecord) as tables: shared by the ledger, a
member's page and a nomination's attached record."""

from datetime import date

import pandas as pd
import streamlit as st

from db.services.benefits import UnitRecord
from ui.i18n import format_date, t

# The ledger's columns in reading order (figure name → label key benefits.col_<name>).
LEDGER_COLUMNS = (
    "achievements_published",
    "trainings_attended",
    "trainings_organised",
    "invitations",
    "units_recommended",
    "units_admitted",
    "nominations_made",
    "nominations_won",
    "council_seat",
)
RECORD_COLUMNS = (
    "activities_organised",
    "volunteers",
    "service_hours",
    "trainings_attended",
    "trainings_organised",
    "invitations",
    "achievements_published",
    "units_recommended",
    "nominations_won",
    "council_seat",
)


def figure(record: UnitRecord, name: str) -> int | float | str:
    """A figure as shown: the council seat as 第 N 席 (— when none), hours as a number with one decimal, counts as
    whole numbers (numbers stay numbers, so a table sorts 10 after 9 and an export keeps them numeric)."""
    value = getattr(record, name)
    if name == "council_seat":
        return t("benefits.seat", seat=value) if value is not None else "—"
    if name == "service_hours":
        return round(float(value), 1)
    return int(value)


def column_label(name: str) -> str:
    return t(f"benefits.col_{name}")


def period_caption(first: date, last: date) -> str:
    return t("benefits.period_caption", first=format_date(first), last=format_date(last))


def records_table(records: list[UnitRecord], columns: tuple[str, ...] = RECORD_COLUMNS) -> None:
    """One row per unit with its figures (names are data, shown as text by the grid)."""
    table = pd.DataFrame(
        [[r.name, *[figure(r, c) for c in columns]] for r in records],
        columns=[t("benefits.col_unit"), *[column_label(c) for c in columns]],
    )
    st.dataframe(table, hide_index=True, width="stretch")


def unit_figures(record: UnitRecord) -> None:
    """One unit's figures as a two-column table (its page)."""
    rows = [(column_label(c), str(figure(record, c))) for c in (*LEDGER_COLUMNS, "activities_organised",
                                                               "volunteers", "service_hours")]  # fmt: skip
    st.dataframe(
        pd.DataFrame(rows, columns=[t("benefits.figure"), t("benefits.value")]),
        hide_index=True,
        width="stretch",
        height=35 * (len(rows) + 1) + 3,
    )
