"""Member directory (成员单位): search, filter and sort (by pinyin) the network's units; a unit's record (?id=)
with its applications and council terms; the secretariat edits, suspends or ends a membership, imports and
exports. Viewers never receive contact data."""

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services import applications, benefits, council, settings
from db.services.organisations import (
    OrganisationRow,
    check_member_rows,
    export_organisations,
    get_organisation,
    import_organisations,
    list_organisations,
    may_see_contacts,
    organisation_input,
    set_organisation_status,
    update_organisation,
)
from domain.clock import today
from domain.errors import NotFound, ValidationError
from domain.organisations import PROVINCES, OrgKind, OrgStatus
from ui.auth import require_role
from ui.benefits import period_caption, unit_figures
from ui.cache import cached_read
from ui.forms import clear_errors, field_error, fresh_key, plain, remember_error, renew, save
from ui.i18n import enum_label, format_date, format_phone, t
from ui.imports import MEMBER_COLUMNS, header, member_example, member_notes, parse_members
from ui.layout import link_to
from ui.navigation import page
from ui.org_form import organisation_fields
from ui.tabular import export_buttons, import_section, pager, record_table

PAGE_SIZE = 50
EDIT_FORM, STATUS_FORM = "member_edit", "member_status"
NOTICE = "_members_notice"
ORDERS = ("pinyin", "province", "joined")

user = require_role("members")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
show_contacts = may_see_contacts(actor)


def back_button() -> None:
    """Leave the record for the directory (clearing ?id=)."""
    if st.button(t("members.back"), icon=":material/arrow_back:"):
        st.query_params.pop("id", None)
        st.rerun()


def edit_form(org: OrganisationRow, seen_version: int) -> None:
    """The secretariat's edit of a unit, saved only on the version the user saw."""
    with transaction() as session:
        full = organisation_input(session=session, actor=actor, organisation_id=org.id)
    with st.form(EDIT_FORM):
        data = organisation_fields(EDIT_FORM, prefix=f"edit_{org.id}_{seen_version}", initial=full)
        left, right = st.columns(2)
        joined_on = left.date_input(
            t("field.joined_on"), value=org.joined_on, key=f"edit_{org.id}_{seen_version}_joined", format="YYYY-MM-DD"
        )
        with left:
            field_error(EDIT_FORM, "joined_on")
        batch = right.text_input(t("field.batch"), value=org.batch, key=f"edit_{org.id}_{seen_version}_batch")
        with right:
            field_error(EDIT_FORM, "batch")
        submitted = st.form_submit_button(t("common.save"), type="primary")
    field_error(EDIT_FORM, "_form")
    if not submitted:
        return
    wanted = replace(data, joined_on=joined_on or None, batch=batch)
    if save(
        EDIT_FORM,
        lambda session: update_organisation(
            session=session,
            actor=actor,
            organisation_id=org.id,
            expected_version=seen_version,
            data=wanted,
            today=today(),
        ),
    ):
        st.session_state.pop(f"_member_version_{org.id}", None)
        st.session_state[NOTICE] = t("members.saved")
    st.rerun()


def status_form(org: OrganisationRow, seen_version: int, seats: list[int]) -> None:
    """Suspend (暂停), end (退出) or restore a membership, with a reason and a confirmation."""
    if seats and org.status == OrgStatus.MEMBER.value:
        st.warning(t("members.seat_warning", seat=seats[0]), icon=":material/account_balance:")
    choices = [s.value for s in OrgStatus if s.value != org.status]
    with st.form(STATUS_FORM):
        target = st.selectbox(
            t("members.new_status"),
            choices,
            format_func=lambda v: enum_label("org_status", v),
            index=None,
            placeholder=t("applications.choose_status"),
            key=fresh_key(f"status_target_{org.id}"),
        )
        reason = st.text_area(
            t("field.reason"), help=t("members.reason_help"), key=fresh_key(f"status_reason_{org.id}")
        )
        field_error(STATUS_FORM, "reason")
        confirm = st.checkbox(t("members.confirm_status"), key=fresh_key(f"status_confirm_{org.id}"))
        field_error(STATUS_FORM, "confirm")
        submitted = st.form_submit_button(t("members.change_status"))
    field_error(STATUS_FORM, "status")
    field_error(STATUS_FORM, "_form")
    if not submitted:
        return
    if target is None:
        remember_error(STATUS_FORM, ValidationError("validation.choose_status", field="status"))
        st.rerun()
    if not confirm:
        remember_error(STATUS_FORM, ValidationError("validation.confirm_required", field="confirm"))
        st.rerun()
    if save(
        STATUS_FORM,
        lambda session: set_organisation_status(
            session=session,
            actor=actor,
            organisation_id=org.id,
            expected_version=seen_version,
            status=target,
            reason=reason,
        ),
    ):
        st.session_state.pop(f"_member_version_{org.id}", None)
        for widget in (f"status_reason_{org.id}", f"status_confirm_{org.id}", f"status_target_{org.id}"):
            renew(widget)  # the form starts empty, with the choices of the new status
        st.session_state[NOTICE] = t("members.status_changed", status=enum_label("org_status", target))
    st.rerun()


def show_record(organisation_id: int) -> None:
    """One unit's record (?id=…): its data, applications, council terms, and the staff's edit forms."""
    try:
        with transaction() as session:
            org = get_organisation(session=session, actor=actor, organisation_id=organisation_id)
            terms = council.terms_of_organisation(session=session, actor=actor, organisation_id=organisation_id)
            apps = (
                applications.applications_of_organisation(session=session, actor=actor, organisation_id=org.id)
                if actor.role in applications.READERS
                else []
            )
    except NotFound:
        st.title(t("page.members"))
        st.warning(t("error.not_found"))
        back_button()
        return
    st.title(plain(org.name))
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    rows = [
        (t("field.kind"), enum_label("org_kind", org.kind)),
        (t("field.province"), org.province),
        (t("field.city"), org.city or "—"),
        (t("field.status"), enum_label("org_status", org.status)),
        (t("field.batch"), org.batch or "—"),
        (t("field.joined_on"), format_date(org.joined_on)),
        (t("field.credit_code"), org.credit_code or "—"),
    ]
    if org.status_reason:
        rows.append((t("members.status_reason"), org.status_reason))
    if show_contacts:
        rows += [
            (t("field.contact_person"), org.contact_person or "—"),
            (t("field.phone"), format_phone(org.phone) or "—"),
            (t("field.email"), org.email or "—"),
            (t("field.address"), org.address or "—"),
        ]
    # tall enough for every row: a record's fields should not hide behind a scroll bar
    st.dataframe(pd.DataFrame(rows, columns=[t("members.field"), t("members.value")]), hide_index=True,
                 width="stretch", height=35 * (len(rows) + 1) + 3)  # fmt: skip

    st.subheader(t("members.council_terms"))
    if terms:
        st.dataframe(
            pd.DataFrame(
                {
                    t("members.seat"): [term.seat for term in terms],
                    t("members.term"): [
                        f"{format_date(term.starts_on)} – {format_date(term.ends_on)}" for term in terms
                    ],
                    t("members.source"): [enum_label("term_source", term.source) for term in terms],
                    t("field.status"): [enum_label("term_status", term.status) for term in terms],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(t("members.no_terms"))
    if actor.role in applications.READERS:
        st.subheader(t("members.applications"))
        if apps:
            for app in apps:
                link_to(
                    "applications",
                    f"{app.reference} · {enum_label('applied_for', app.applied_for)} · "
                    f"{enum_label('app_status', app.status)} · {format_date(app.submitted_at)}",
                    query_params={"id": str(app.id)},
                )
        else:
            st.caption(t("members.no_applications"))
    if actor.role in benefits.READERS:
        st.subheader(t("members.benefits"))
        on = today()
        year = st.selectbox(t("field.year"), list(range(on.year, on.year - 6, -1)), key=f"member_ledger_{org.id}")
        first, last = date(year, 1, 1), date(year, 12, 31)
        figures = cached_read(
            benefits.TOPICS,
            benefits.unit_ledger,
            actor=actor,
            organisation_id=org.id,
            first=first,
            last=last,
            today=on,
        )
        st.caption(period_caption(first, last))
        unit_figures(figures)
        link_to("achievements", t("members.achievements_of"), query_params={"unit": str(org.id)})

    if is_staff:
        seen_version = st.session_state.setdefault(f"_member_version_{org.id}", org.version)
        if seen_version != org.version:
            st.warning(t("members.changed_meanwhile"))
            if st.button(t("common.reload"), key="reload_member"):
                st.session_state.pop(f"_member_version_{org.id}", None)
                clear_errors(EDIT_FORM)
                clear_errors(STATUS_FORM)
                st.rerun()
        with st.expander(t("members.edit"), icon=":material/edit:"):
            edit_form(org, seen_version)
        with st.expander(t("members.status_section"), icon=":material/toggle_on:"):
            on = today()
            seats = [term.seat for term in terms if term.starts_on <= on < term.ends_on]
            status_form(org, seen_version, seats)
    if user.effective_role in page("audit").roles:
        link_to("audit", t("members.history"), query_params={"type": "organisation", "id": str(org.id)})
    back_button()


record_id = st.query_params.get("id")
if record_id is not None:
    if record_id.isdigit():
        show_record(int(record_id))
    else:
        st.title(t("page.members"))
        st.warning(t("error.not_found"))
        back_button()
    st.stop()

st.title(t("page.members"))


def directory() -> None:
    """Filters, one page of units, export."""
    cols = st.columns([3, 2, 2, 2, 2])
    search = cols[0].text_input(t("members.search"), placeholder=t("members.search_hint"), key="members_search")
    kind = cols[1].selectbox(
        t("field.kind"),
        [None, *[k.value for k in OrgKind]],
        format_func=lambda v: t("common.all") if v is None else enum_label("org_kind", v),
        key="members_kind",
    )
    province = cols[2].selectbox(
        t("field.province"),
        [None, *PROVINCES],
        format_func=lambda v: t("common.all") if v is None else v,
        key="members_province",
    )
    status = cols[3].selectbox(
        t("field.status"),
        [None, *[s.value for s in OrgStatus]],
        format_func=lambda v: t("common.all") if v is None else enum_label("org_status", v),
        key="members_status",
    )
    order = cols[4].selectbox(
        t("members.order"), ORDERS, format_func=lambda v: t(f"members.order_{v}"), key="members_order"
    )
    filters = (search, kind, province, status, order)
    if st.session_state.get("_members_filters") != filters:
        # A new filter starts again from the first page, so the table is never empty past the last page.
        st.session_state["_members_filters"] = filters
        st.session_state["members_page"] = 1
    page_number = int(st.session_state.get("members_page", 1))
    rows, total = cached_read(
        ("organisation",),
        list_organisations,
        actor=actor,
        search=search,
        kind=kind,
        province=province,
        status=status,
        order=order,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    if total == 0:
        st.info(t("members.empty_staff" if is_staff else "members.empty"), icon=":material/info:")
        return
    st.caption(t("members.count", total=total))
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
                    t("field.phone"): [format_phone(r.phone) for r in rows],
                    t("field.email"): [r.email for r in rows],
                }
                if show_contacts
                else {}
            ),
        }
    )
    record_table(table, [r.id for r in rows], key="members_table", hint=t("members.open_hint"))
    pager(total, PAGE_SIZE, key="members_page")
    if not show_contacts:
        st.caption(t("members.contacts_hidden"))

    def build() -> tuple[list[str], list[list[object]]]:
        with transaction() as session:
            everything = export_organisations(
                session=session, actor=actor, search=search, kind=kind, province=province, status=status, order=order
            )
        headers = [
            t("field.name"),
            t("field.kind"),
            t("field.province"),
            t("field.city"),
            t("field.credit_code"),
            t("field.status"),
            t("field.batch"),
            t("field.joined_on"),
        ]
        if show_contacts:
            headers += [t("field.contact_person"), t("field.phone"), t("field.email"), t("field.address")]
        data: list[list[object]] = []
        for r in everything:
            line: list[object] = [
                r.name,
                enum_label("org_kind", r.kind),
                r.province,
                r.city,
                r.credit_code or "",
                enum_label("org_status", r.status),
                r.batch,
                r.joined_on or "",
            ]
            if show_contacts:
                line += [r.contact_person or "", format_phone(r.phone), r.email or "", r.address or ""]
            data.append(line)
        return headers, data

    export_buttons("members", t("members.export_name"), build)


def import_tab() -> None:
    """Units from an .xlsx/.csv file (founding members, lists kept elsewhere): preview, then one transaction."""
    with transaction() as session:
        batch = str(settings.get_setting(session=session, key="current_batch"))
    import_section(
        "members",
        template=(
            [header(c) for c in MEMBER_COLUMNS],
            member_example(),
            member_notes(),
        ),
        template_name=t("members.template_name"),
        check=lambda session, records: check_member_rows(
            session=session, rows=parse_members(records, default_batch=batch), today=today()
        ),
        commit=lambda session, rows, progress: import_organisations(
            session=session, actor=actor, rows=rows, today=today(), on_progress=progress
        ),
    )


view = (
    st.segmented_control(
        t("members.view"),
        ["list", "import"],
        default="list",
        format_func=lambda v: t(f"members.tab_{v}"),
        key="members_view",
        label_visibility="collapsed",
    )
    if is_staff
    else "list"
)
import_tab() if view == "import" else directory()
