"""Applications (入网申请): the review list with filters, a record's detail (?id=) with its history and the
council's opinions; the secretariat enters, imports, exports and decides; council units give their opinion."""

from datetime import date

import pandas as pd
import streamlit as st

from db.base import utcnow
from db.engine import transaction
from db.services import applications as svc
from domain.applications import (
    FINAL,
    PENDING,
    ApplicationInput,
    AppliedFor,
    AppStatus,
    Channel,
    allowed_targets,
    application_errors,
)
from domain.clock import today
from domain.errors import NotFound, ValidationError
from domain.organisations import PROVINCES, OrgKind
from domain.roles import Role
from ui.auth import require_role
from ui.cache import cached_read
from ui.forms import (
    clear_errors,
    field_error,
    fresh_key,
    has_errors,
    plain,
    remember_error,
    remember_errors,
    renew,
    save,
)
from ui.i18n import enum_label, format_date, format_datetime, format_phone, t
from ui.imports import APPLICATION_COLUMNS, application_example, application_notes, header, parse_applications
from ui.layout import link_to
from ui.org_form import organisation_fields
from ui.pickers import member_picker
from ui.tabular import export_buttons, import_section, pager, record_table

PAGE_SIZE = 50
NEW_FORM, ACTION_FORM, OPINION_FORM = "app_new", "app_action", "app_opinion"
NOTICE = "_applications_notice"

user = require_role("applications")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
is_council = actor.role is Role.COUNCIL


def _all(_value: object) -> str:
    return t("common.all")


def back_button() -> None:
    """Leave the record for the list (clearing ?id=)."""
    if st.button(t("applications.back"), icon=":material/arrow_back:"):
        st.query_params.pop("id", None)
        st.rerun()


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")


# ---------------------------------------------------------------- one application


def action_form(app: svc.ApplicationDetail, seen_version: int) -> None:
    """The secretariat moves the application along the transition table."""
    targets = allowed_targets(app.status)
    st.subheader(t("applications.process"))
    with st.form(ACTION_FORM):
        target = st.selectbox(
            t("applications.move_to"),
            [s.value for s in targets],
            format_func=lambda v: enum_label("app_status", v),
            index=None,  # nothing chosen: a stray click on 执行 moves nothing
            placeholder=t("applications.choose_status"),
            key=fresh_key(f"action_target_{app.id}"),
        )
        note = st.text_area(
            t("applications.note"), help=t("applications.note_help"), key=fresh_key(f"action_note_{app.id}")
        )
        field_error(ACTION_FORM, "note")
        confirm = st.checkbox(t("applications.confirm_final"), key=fresh_key(f"action_confirm_{app.id}"))
        field_error(ACTION_FORM, "confirm")
        submitted = st.form_submit_button(t("applications.apply_action"), type="primary")
    field_error(ACTION_FORM, "status")
    field_error(ACTION_FORM, "name")
    field_error(ACTION_FORM, "_form")
    if not submitted:
        return
    if target is None:
        remember_error(ACTION_FORM, ValidationError("validation.choose_status", field="status"))
        st.rerun()
    if AppStatus(target) in FINAL and not confirm:
        remember_error(ACTION_FORM, ValidationError("validation.confirm_required", field="confirm"))
        st.rerun()
    saved = save(
        ACTION_FORM,
        lambda session: svc.change_status(
            session=session,
            actor=actor,
            application_id=app.id,
            expected_version=seen_version,
            to_status=target,
            note=note,
            now=utcnow(),
        ),
    )
    if saved:
        st.session_state.pop(f"_app_version_{app.id}", None)
        for widget in (f"action_note_{app.id}", f"action_confirm_{app.id}", f"action_target_{app.id}"):
            renew(widget)  # the next step starts from an empty form, never from this one's note
        st.session_state[NOTICE] = t("applications.moved", status=enum_label("app_status", target))
    st.rerun()


def opinion_form(app: svc.ApplicationDetail, mine: svc.OpinionRow | None) -> None:
    """A council unit's opinion, changeable until the decision."""
    st.subheader(t("applications.my_opinion"))
    seen = st.session_state.setdefault(f"_opinion_version_{app.id}", mine.version if mine else 0)
    if mine is not None:
        st.caption(
            t(
                "applications.my_opinion_now",
                opinion=enum_label("opinion", mine.opinion),
                at=format_datetime(mine.updated_at),
            )
        )
    options = [o.value for o in svc.Opinion]
    with st.form(OPINION_FORM):
        opinion = st.radio(
            t("field.opinion"),
            options,
            index=options.index(mine.opinion) if mine else 0,
            format_func=lambda v: enum_label("opinion", v),
            horizontal=True,
            key=f"opinion_{app.id}",
        )
        field_error(OPINION_FORM, "opinion")
        comment = st.text_area(t("field.comment"), value=mine.comment if mine else "", key=f"opinion_comment_{app.id}")
        field_error(OPINION_FORM, "comment")
        submitted = st.form_submit_button(t("applications.save_opinion"), type="primary")
    field_error(OPINION_FORM, "_form")
    if (mine.version if mine else 0) != seen:
        st.warning(t("applications.opinion_changed_meanwhile"))
        if st.button(t("common.reload"), key="reload_opinion"):
            for key in (f"_opinion_version_{app.id}", f"opinion_{app.id}", f"opinion_comment_{app.id}"):
                st.session_state.pop(key, None)
            clear_errors(OPINION_FORM)
            st.rerun()
    if not submitted:
        return
    saved = save(
        OPINION_FORM,
        lambda session: svc.give_opinion(
            session=session,
            actor=actor,
            application_id=app.id,
            opinion=opinion,
            comment=comment,
            expected_version=seen,
            today=today(),
        ),
    )
    if saved:
        st.session_state.pop(f"_opinion_version_{app.id}", None)
        st.session_state[NOTICE] = t("applications.opinion_saved")
    st.rerun()


def show_record(application_id: int) -> None:
    """One application: data, history, opinions and the actions the reader may take."""
    try:
        with transaction() as session:
            app = svc.get_application(session=session, actor=actor, application_id=application_id)
            duplicates = (
                svc.find_duplicates(
                    session=session,
                    name=app.organisation.name,
                    credit_code=app.organisation.credit_code,
                    exclude_application_id=app.id,
                )
                if is_staff and AppStatus(app.status) in PENDING
                else []
            )
            mine = svc.own_opinion(session=session, actor=actor, application_id=app.id) if is_council else None
    except NotFound:
        st.title(t("page.applications"))
        st.warning(t("error.not_found"))
        back_button()
        return
    st.title(plain(app.organisation.name))
    show_notice()
    st.caption(
        " · ".join(
            [
                app.reference,
                enum_label("app_status", app.status),
                enum_label("applied_for", app.applied_for),
                enum_label("channel", app.channel),
            ]
        )
    )
    seen_version = st.session_state.setdefault(f"_app_version_{app.id}", app.version)
    if seen_version != app.version:
        st.warning(t("applications.changed_meanwhile"))
        if st.button(t("common.reload"), key="reload_application"):
            st.session_state.pop(f"_app_version_{app.id}", None)
            st.session_state.pop(f"_opinion_version_{app.id}", None)
            clear_errors(ACTION_FORM)
            clear_errors(OPINION_FORM)
            st.rerun()
    for dup in duplicates:
        what = (
            t("applications.duplicate_member", name=plain(dup.name), status=enum_label("org_status", dup.status))
            if dup.kind == "organisation"
            else t(
                "applications.duplicate_application",
                name=plain(dup.name),
                reference=dup.reference,
                status=enum_label("app_status", dup.status),
            )
        )
        st.warning(what, icon=":material/content_copy:")
    org = app.organisation
    rows = [
        (t("field.kind"), enum_label("org_kind", org.kind)),
        (t("field.province"), org.province),
        (t("field.city"), org.city or "—"),
        (t("field.credit_code"), org.credit_code or "—"),
        (t("field.contact_person"), org.contact_person or "—"),
        (t("field.phone"), format_phone(org.phone) or "—"),
        (t("field.email"), org.email or "—"),
        (t("field.address"), org.address or "—"),
        (t("field.website"), org.website or "—"),
        (t("field.recommender_id"), app.recommender or "—"),
        (t("applications.submitted_at"), format_datetime(app.submitted_at)),
        (t("applications.consent_at"), format_datetime(app.consent_at)),
        (t("applications.entered_by"), app.entered_by or t("applications.public_form")),
    ]
    # tall enough for every row: a record's fields should not hide behind a scroll bar
    st.dataframe(pd.DataFrame(rows, columns=[t("members.field"), t("members.value")]), hide_index=True,
                 width="stretch", height=35 * (len(rows) + 1) + 3)  # fmt: skip
    for label, text in (
        (t("field.description"), org.description),
        (t("field.statement"), app.statement),
        (t("field.materials"), app.materials),
        (t("applications.message_to_applicant"), app.message_to_applicant),
        (t("applications.decision_reason"), app.decision_reason),
    ):
        if text:
            st.markdown(f"**{label}**")
            st.text(text)
    if app.organisation_id is not None:
        link_to("members", t("applications.open_member"), query_params={"id": str(app.organisation_id)})
    if app.status == AppStatus.APPROVED.value and app.applied_for == AppliedFor.COUNCIL.value:
        st.info(t("applications.council_queue_hint"), icon=":material/account_balance:")

    st.subheader(t("applications.opinions"))
    tally = app.tally()
    cols = st.columns(3)
    for col, opinion in zip(cols, svc.Opinion, strict=True):
        col.metric(enum_label("opinion", opinion.value), tally[opinion.value])
    if app.opinions:
        st.dataframe(
            pd.DataFrame(
                {
                    t("applications.council_unit"): [o.organisation_name for o in app.opinions],
                    t("field.opinion"): [enum_label("opinion", o.opinion) for o in app.opinions],
                    t("field.comment"): [o.comment for o in app.opinions],
                    t("applications.updated_at"): [format_datetime(o.updated_at) for o in app.opinions],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(t("applications.no_opinions"))

    pending = AppStatus(app.status) in PENDING
    if is_council and pending:
        opinion_form(app, mine)
    elif is_council:
        st.info(t("applications.decided_no_opinion"))
    if is_staff and pending:
        action_form(app, seen_version)

    st.subheader(t("applications.history"))
    st.dataframe(
        pd.DataFrame(
            {
                t("applications.when"): [format_datetime(e.at) for e in app.history],
                t("applications.who"): [
                    e.display_name or e.username or t("applications.applicant") for e in app.history
                ],
                t("applications.from"): [enum_label("app_status", e.from_status) for e in app.history],
                t("applications.to"): [enum_label("app_status", e.to_status) for e in app.history],
                t("applications.note"): [e.note for e in app.history],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if is_staff:
        link_to("audit", t("applications.audit_history"), query_params={"type": "application", "id": str(app.id)})
    back_button()


record_id = st.query_params.get("id")
if record_id is not None:
    if record_id.isdigit():
        show_record(int(record_id))
    else:
        st.title(t("page.applications"))
        st.warning(t("error.not_found"))
        back_button()
    st.stop()

# ---------------------------------------------------------------- the list

st.title(t("page.applications"))
show_notice()


def list_tab() -> None:
    """Filters, a page of applications, export."""
    # Links from the home page's to-dos open the list filtered (?status=… or, for a council unit, ?awaiting=mine).
    preset = st.query_params.get("status")
    if preset in {s.value for s in AppStatus} and "app_status" not in st.session_state:
        st.session_state["app_status"] = preset
    awaiting = False
    if is_council:
        if st.query_params.get("awaiting") == "mine" and "app_awaiting" not in st.session_state:
            st.session_state["app_awaiting"] = True
        awaiting = st.toggle(t("applications.awaiting_mine"), key="app_awaiting")
    top = st.columns([3, 2, 2, 2])
    search = top[0].text_input(t("applications.search"), placeholder=t("applications.search_hint"), key="app_search")
    status = top[1].selectbox(
        t("field.status"),
        [None, *[s.value for s in AppStatus]],
        format_func=lambda v: _all(v) if v is None else enum_label("app_status", v),
        key="app_status",
    )
    applied_for = top[2].selectbox(
        t("field.applied_for"),
        [None, *[a.value for a in AppliedFor]],
        format_func=lambda v: _all(v) if v is None else enum_label("applied_for", v),
        key="app_applied_for",
    )
    channel = top[3].selectbox(
        t("field.channel"),
        [None, *[c.value for c in Channel]],
        format_func=lambda v: _all(v) if v is None else enum_label("channel", v),
        key="app_channel",
    )
    second = st.columns([2, 2, 3])
    kind = second[0].selectbox(
        t("field.kind"),
        [None, *[k.value for k in OrgKind]],
        format_func=lambda v: _all(v) if v is None else enum_label("org_kind", v),
        key="app_kind",
    )
    province = second[1].selectbox(
        t("field.province"), [None, *PROVINCES], format_func=lambda v: _all(v) if v is None else v, key="app_province"
    )
    dates = second[2].date_input(t("applications.submitted_between"), value=(), key="app_dates", format="YYYY-MM-DD")
    picked = [d for d in (dates if isinstance(dates, tuple | list) else [dates]) if isinstance(d, date)]
    filters = svc.ApplicationFilters(
        status=status,
        channel=channel,
        kind=kind,
        province=province,
        applied_for=applied_for,
        since=picked[0] if picked else None,
        until=picked[-1] if picked else None,
        search=search,
        awaiting_unit=actor.organisation_id if awaiting else None,
    )
    if st.session_state.get("_app_filters") != filters:
        st.session_state["_app_filters"] = filters
        st.session_state["app_page"] = 1
    page_number = int(st.session_state.get("app_page", 1))
    rows, total = cached_read(
        ("application", "organisation"),
        svc.list_applications,
        actor=actor,
        filters=filters,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    if total == 0:
        st.info(t("applications.empty_staff" if is_staff else "applications.empty"), icon=":material/info:")
        return
    st.caption(t("applications.count", total=total))
    table = pd.DataFrame(
        {
            t("applications.reference"): [r.reference for r in rows],
            t("field.name"): [r.name for r in rows],
            t("field.kind"): [enum_label("org_kind", r.kind) for r in rows],
            t("field.province"): [r.province for r in rows],
            t("field.applied_for"): [enum_label("applied_for", r.applied_for) for r in rows],
            t("field.channel"): [enum_label("channel", r.channel) for r in rows],
            t("field.status"): [enum_label("app_status", r.status) for r in rows],
            t("applications.submitted_at"): [format_date(r.submitted_at) for r in rows],
            t("applications.tally"): [f"{r.agree} / {r.oppose} / {r.abstain}" for r in rows],
        }
    )
    record_table(table, [r.id for r in rows], key="app_table", hint=t("applications.open_hint"))
    pager(total, PAGE_SIZE, key="app_page")

    def build() -> tuple[list[str], list[list[object]]]:
        with transaction() as session:
            everything = svc.export_applications(session=session, actor=actor, filters=filters)
        headers = [
            t("applications.reference"),
            t("field.name"),
            t("field.kind"),
            t("field.province"),
            t("field.credit_code"),
            t("field.contact_person"),
            t("field.phone"),
            t("field.email"),
            t("field.applied_for"),
            t("field.channel"),
            t("field.recommender_id"),
            t("field.status"),
            t("applications.submitted_at"),
            t("applications.decided_at"),
            enum_label("opinion", "agree"),
            enum_label("opinion", "oppose"),
            enum_label("opinion", "abstain"),
        ]
        data = [
            [
                r.reference,
                r.name,
                enum_label("org_kind", r.kind),
                r.province,
                r.credit_code or "",
                r.contact_person or "",
                format_phone(r.phone),
                r.email or "",
                enum_label("applied_for", r.applied_for),
                enum_label("channel", r.channel),
                r.recommender or "",
                enum_label("app_status", r.status),
                r.submitted_at,  # a date-time cell, in Asia/Shanghai time
                r.decided_at,
                r.agree,
                r.oppose,
                r.abstain,
            ]
            for r in everything
        ]
        return headers, data

    export_buttons("applications", t("applications.export_name"), build)


def recommender_picker() -> int | None:
    """Search the directory for the recommending member (the directory may hold thousands of units)."""
    return member_picker(
        search_key="new_recommender_search",
        pick_key="new_recommender",
        label=t("field.recommender_id") + " *",
        none_label=t("applications.no_recommender"),
        search_label=t("applications.recommender_search"),
    )


def new_tab() -> None:
    """The secretariat enters an application received on paper or by e-mail, an invitation or a recommendation."""
    channel = st.selectbox(
        t("field.channel") + " *",
        [c.value for c in Channel],
        format_func=lambda v: t(f"applications.channel_entry.{v}"),
        key=fresh_key("new_channel"),
    )
    recommender = recommender_picker() if channel == Channel.RECOMMENDED.value else None
    field_error(NEW_FORM, "recommender_id")
    with st.form(NEW_FORM, enter_to_submit=False):
        applied_for = st.radio(
            t("field.applied_for") + " *",
            [a.value for a in AppliedFor],
            format_func=lambda v: enum_label("applied_for", v),
            horizontal=True,
            key=fresh_key("new_applied_for"),
        )
        organisation = organisation_fields(NEW_FORM, prefix=fresh_key("new"))
        statement = st.text_area(t("field.statement"), key=fresh_key("new_statement"))
        field_error(NEW_FORM, "statement")
        materials = st.text_area(t("field.materials"), help=t("apply.materials_help"), key=fresh_key("new_materials"))
        field_error(NEW_FORM, "materials")
        consent = st.checkbox(t("applications.consent_on_file"), key=fresh_key("new_consent"))
        field_error(NEW_FORM, "consent")
        submitted = st.form_submit_button(t("applications.create"), type="primary")
    if has_errors(NEW_FORM):
        st.error(t("form.fix_marked"), icon=":material/error:")
    field_error(NEW_FORM, "_form")
    if not submitted:
        return
    data = ApplicationInput(
        organisation=organisation, applied_for=applied_for, statement=statement, materials=materials, consent=consent
    )
    errors = application_errors(data, today=today())
    if errors:
        remember_errors(NEW_FORM, list(errors))
        st.rerun()
    created: list[tuple[int, str]] = []
    saved = save(
        NEW_FORM,
        lambda session: created.append(
            svc.create_application(
                session=session,
                actor=actor,
                data=data,
                channel=channel,
                recommender_id=recommender,
                now=utcnow(),
            )
        ),
    )
    if saved:
        for base in (
            "new",
            "new_recommender_search",
            "new_recommender",
            "new_channel",
            "new_applied_for",
            "new_statement",
            "new_materials",
            "new_consent",
        ):
            renew(base)  # an empty form for the next paper application
        st.session_state[NOTICE] = t("applications.created", reference=created[0][1])
    st.rerun()


def import_tab() -> None:
    """Applications from an .xlsx/.csv file: preview, then all rows in one transaction."""
    import_section(
        "applications",
        template=(
            [header(c) for c in APPLICATION_COLUMNS],
            application_example(),
            application_notes(),
        ),
        template_name=t("applications.template_name"),
        check=lambda session, records: svc.check_import_rows(
            session=session, rows=parse_applications(session, records), now=utcnow()
        ),
        commit=lambda session, rows, progress: svc.import_applications(
            session=session, actor=actor, rows=rows, now=utcnow(), on_progress=progress
        ),
    )


VIEWS = {"list": list_tab, "new": new_tab, "import": import_tab}
# Only the chosen view is built (tabs would build all three on every rerun).
view = (
    st.segmented_control(
        t("applications.view"),
        list(VIEWS),
        default="list",
        format_func=lambda v: t(f"applications.tab_{v}"),
        key="app_view",
        label_visibility="collapsed",
    )
    if is_staff
    else "list"
)
VIEWS[view or "list"]()
