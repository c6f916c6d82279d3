"""Benefits ledger (成员权益台账): for a chosen period, what each member unit has used of the benefits the founding
document promises — achievements published, trainings attended or organised, event invitations, units recommended
(and admitted), nominations made and won — and its council service; the units that used none are listed so the
secretariat can reach out. Every figure is counted in SQL (db/services/benefits.py gives the definitions)."""

from datetime import date

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from db.engine import transaction
from db.services import benefits as svc
from domain.clock import today
from domain.errors import DomainError
from ui.auth import require_role
from ui.benefits import LEDGER_COLUMNS, column_label, figure, period_caption
from ui.cache import cached_read
from ui.forms import error_text
from ui.i18n import format_phone, t
from ui.layout import link_to
from ui.tabular import export_buttons, pager, record_table

PAGE_SIZE = 50

user = require_role("benefits")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
on = today()

chosen_unit = st.query_params.get("id")
if chosen_unit is not None and chosen_unit.isdigit():
    # A row opens that unit's record on the member page, where its own ledger is shown too.
    st.query_params.pop("id", None)
    try:
        st.switch_page("pages/members.py", query_params={"id": chosen_unit})
    except StreamlitAPIException:  # a page run alone (AppTest) has no other pages to switch to
        link_to("members", t("benefits.open_unit"), query_params={"id": chosen_unit})

st.title(t("page.benefits"))
st.caption(t("benefits.intro"))

cols = st.columns([2, 2, 2, 3])
years = list(range(on.year, on.year - 6, -1))
choice = cols[0].selectbox(
    t("benefits.period"),
    ["year", "custom"],
    format_func=lambda v: t(f"benefits.period_{v}"),
    key="ben_period",
)
if choice == "year":
    year = cols[1].selectbox(t("field.year"), years, key="ben_year")
    first, last = date(year, 1, 1), date(year, 12, 31)
else:
    first = cols[1].date_input(t("benefits.first"), value=date(on.year, 1, 1), format="YYYY-MM-DD", key="ben_first")
    last = cols[2].date_input(t("benefits.last"), value=on, format="YYYY-MM-DD", key="ben_last")
search = cols[3].text_input(t("benefits.search"), key="ben_search")
only_unused = st.toggle(t("benefits.only_unused"), key="ben_unused", help=t("benefits.unused_help"))

try:
    svc.check_period(first, last)  # type: ignore[arg-type]
except DomainError as exc:
    st.error(error_text(exc), icon=":material/error:")
    st.stop()

wanted = (first, last, search, only_unused)
if st.session_state.get("_ben_filters") != wanted:  # other filters: back to the first page
    st.session_state["_ben_filters"] = wanted
    st.session_state.pop("ben_page", None)
page_number = int(st.session_state.get("ben_page", 1) or 1)
ledger = cached_read(
    svc.TOPICS,
    svc.ledger,
    actor=actor,
    first=first,
    last=last,
    search=search,
    only_unused=only_unused,
    limit=PAGE_SIZE,
    offset=(page_number - 1) * PAGE_SIZE,
    today=on,
)
st.caption(period_caption(first, last))  # type: ignore[arg-type]
if ledger.unused:
    st.warning(t("benefits.unused_count", count=ledger.unused), icon=":material/campaign:")
elif ledger.total and not search.strip():
    st.success(t("benefits.all_used"), icon=":material/check_circle:")

if not ledger.total:
    st.info(t("benefits.empty_unused") if only_unused else t("benefits.empty"))
    st.stop()

table = pd.DataFrame(
    [[r.name, *[figure(r, c) for c in LEDGER_COLUMNS]] for r in ledger.rows],
    columns=[t("benefits.col_unit"), *[column_label(c) for c in LEDGER_COLUMNS]],
)
st.caption(t("benefits.total", count=ledger.total))
record_table(table, [r.organisation_id for r in ledger.rows], key="ben_table", hint=t("benefits.open_hint"))
pager(ledger.total, PAGE_SIZE, key="ben_page")
st.caption(t("benefits.rules"))


def build() -> tuple[list[str], list[list[object]]]:
    with transaction() as session:
        every = svc.ledger(
            session=session,
            actor=actor,
            first=first,
            last=last,
            search=search,
            only_unused=only_unused,
            limit=None,
            today=on,
        ).rows
        reach = (
            svc.contacts(session=session, actor=actor, organisation_ids=[r.organisation_id for r in every])
            if is_staff
            else {}
        )
    headers = [t("benefits.col_unit"), *[column_label(c) for c in LEDGER_COLUMNS]]
    if is_staff:
        headers += [t("field.contact_person"), t("field.phone"), t("field.email")]
    rows: list[list[object]] = []
    for r in every:
        row: list[object] = [r.name, *[figure(r, c) for c in LEDGER_COLUMNS]]
        if is_staff:
            contact = reach.get(r.organisation_id)
            row += [contact.contact_person, format_phone(contact.phone), contact.email] if contact else ["", "", ""]
        rows.append(row)
    return headers, rows


export_buttons(
    "ben_export",
    t("benefits.export_name", first=first.isoformat(), last=last.isoformat()),  # type: ignore[union-attr]
    build,
    hint=t("benefits.export_hint_staff") if is_staff else None,
)
