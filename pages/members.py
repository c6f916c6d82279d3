"""Member directory (成员单位): search and filter the network's units; viewers never see contact data."""

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services.organisations import get_organisation, list_organisations, may_see_contacts
from domain.errors import NotFound
from domain.organisations import PROVINCES, OrgKind, OrgStatus
from ui.auth import require_role
from ui.i18n import enum_label, format_date, t
from ui.layout import link_to
from ui.navigation import page

PAGE_SIZE = 50

user = require_role("members")
assert user is not None


def back_button() -> None:
    """Leave the record for the directory (clearing ?id=)."""
    if st.button(t("members.back"), icon=":material/arrow_back:"):
        st.query_params.pop("id", None)
        st.rerun()


def show_record(organisation_id: int) -> None:
    """One unit's record (?id=…), with its change history for the staff."""
    try:
        with transaction() as session:
            org = get_organisation(session=session, actor=user.actor(), organisation_id=organisation_id)
    except NotFound:
        st.title(t("page.members"))
        st.warning(t("error.not_found"))
        back_button()
        return
    st.title(org.name)
    rows = [
        (t("field.kind"), enum_label("org_kind", org.kind)),
        (t("field.province"), org.province),
        (t("field.city"), org.city or "—"),
        (t("field.status"), enum_label("org_status", org.status)),
        (t("field.batch"), org.batch or "—"),
        (t("field.joined_on"), format_date(org.joined_on)),
        (t("field.credit_code"), org.credit_code or "—"),
    ]
    if may_see_contacts(user.actor()):
        rows += [
            (t("field.contact_person"), org.contact_person or "—"),
            (t("field.phone"), org.phone or "—"),
            (t("field.email"), org.email or "—"),
            (t("field.address"), org.address or "—"),
        ]
    st.dataframe(pd.DataFrame(rows, columns=[t("members.field"), t("members.value")]), hide_index=True, width="stretch")
    if user.effective_role in page("audit").roles:
        link_to("audit", t("members.history"), query_params={"type": "organisation", "id": str(org.id)})
    back_button()


record_id = st.query_params.get("id")
if record_id is not None:
    if record_id.isdigit():
        show_record(int(record_id))
    else:
        st.warning(t("error.not_found"))
        back_button()
    st.stop()

st.title(t("page.members"))

cols = st.columns([3, 2, 2, 2])
search = cols[0].text_input(t("members.search"), max_chars=50, placeholder=t("members.search_hint"))
kind = cols[1].selectbox(
    t("field.kind"),
    [None, *[k.value for k in OrgKind]],
    format_func=lambda v: t("common.all") if v is None else enum_label("org_kind", v),
)
province = cols[2].selectbox(
    t("field.province"), [None, *PROVINCES], format_func=lambda v: t("common.all") if v is None else v
)
status = cols[3].selectbox(
    t("field.status"),
    [None, *[s.value for s in OrgStatus]],
    format_func=lambda v: t("common.all") if v is None else enum_label("org_status", v),
)

filters = (search, kind, province, status)
if st.session_state.get("_members_filters") != filters:
    # A new filter starts again from the first page, so the table is never empty past the last page.
    st.session_state["_members_filters"] = filters
    st.session_state["members_page"] = 1
page_number = int(st.session_state.get("members_page", 1))
with transaction() as session:
    rows, total = list_organisations(
        session=session,
        actor=user.actor(),
        search=search,
        kind=kind,
        province=province,
        status=status,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
if total == 0:
    st.info(t("members.empty"), icon=":material/info:")
    st.stop()
pages_total = max(1, -(-total // PAGE_SIZE))
st.caption(t("members.count", total=total))
show_contacts = may_see_contacts(user.actor())
table = pd.DataFrame(
    {
        t("field.name"): [r.name + (" ★" if r.is_secretariat else "") for r in rows],
        t("field.kind"): [enum_label("org_kind", r.kind) for r in rows],
        t("field.province"): [r.province for r in rows],
        t("field.city"): [r.city for r in rows],
        t("field.status"): [enum_label("org_status", r.status) for r in rows],
        t("field.batch"): [r.batch for r in rows],
        t("field.joined_on"): [format_date(r.joined_on) for r in rows],
        **(
            {
                t("field.contact_person"): [r.contact_person for r in rows],
                t("field.phone"): [r.phone for r in rows],
                t("field.email"): [r.email for r in rows],
            }
            if show_contacts
            else {}
        ),
    }
)
event = st.dataframe(
    table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="members_table"
)
st.caption(t("members.open_hint"))
if event is not None and event.selection.rows:
    st.query_params["id"] = str(rows[event.selection.rows[0]].id)
    st.rerun()
if pages_total > 1:
    st.number_input(t("common.page"), min_value=1, max_value=pages_total, step=1, key="members_page")
if not show_contacts:
    st.caption(t("members.contacts_hidden"))
