"""Audit log (操作日志): who changed what, when, with the values before and after. ?type=…&id=… opens a
record's history."""

import json
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services import audit
from ui.auth import require_role
from ui.i18n import SHANGHAI, format_datetime, t

PAGE_SIZE = 100

require_role("audit")
st.title(t("page.audit"))
params = st.query_params
with transaction() as session:
    usernames, record_types = audit.filter_choices(session=session)

cols = st.columns(4)
username = cols[0].selectbox(t("audit.user"), [None, *usernames], format_func=lambda v: v or t("common.all"))
preset_type = params.get("type")
type_options = [None, *sorted(set(record_types) | ({preset_type} if preset_type else set()))]
record_type = cols[1].selectbox(
    t("audit.record_type"),
    type_options,
    index=type_options.index(preset_type) if preset_type in type_options else 0,
    format_func=lambda v: t(f"record.{v}") if v in record_types else (v or t("common.all")),
)
record_id = cols[2].text_input(t("audit.record_id"), value=params.get("id", ""), max_chars=40).strip()
dates = cols[3].date_input(t("audit.dates"), value=(), format="YYYY-MM-DD")
since = until = None
if isinstance(dates, tuple) and dates:
    # One picked date means that day; two mean the range, both days included.
    since = datetime.combine(dates[0], time.min, tzinfo=SHANGHAI)
    until = datetime.combine(dates[-1] + timedelta(days=1), time.min, tzinfo=SHANGHAI)

with transaction() as session:
    rows, total = audit.list_entries(
        session=session,
        username=username,
        record_type=record_type,
        record_id=record_id or None,
        since=since,
        until=until,
        limit=PAGE_SIZE,
    )
if not rows:
    st.info(t("audit.empty"))
    st.stop()
st.caption(t("audit.count", total=total, shown=len(rows)))


def _show(values: dict[str, object] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


table = pd.DataFrame(
    {
        t("audit.at"): [format_datetime(r.at) for r in rows],
        t("audit.user"): [r.username or "—" for r in rows],
        t("audit.action"): [t(f"action.{r.action}") for r in rows],
        t("audit.record_type"): [t(f"record.{r.record_type}") for r in rows],
        t("audit.record_id"): [r.record_id or "" for r in rows],
        t("audit.before"): [_show(r.before) for r in rows],
        t("audit.after"): [_show(r.after) for r in rows],
    }
)
st.dataframe(table, hide_index=True, width="stretch")
