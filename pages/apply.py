"""Public application form (申请加入网络) and the applicant's status lookup (?ref=…). No login: the form is open
only while the secretariat has opened intake, counts submissions per client address and per hour, and never
tells a visitor whether another organisation has applied."""

import streamlit as st

from db.base import utcnow
from db.engine import transaction
from db.services import applications, settings
from domain.applications import ApplicationInput, AppliedFor, application_errors
from domain.clock import today
from domain.roles import ANONYMOUS
from ui.auth import require_role
from ui.config import client_address, intake_limits
from ui.forms import attempt, clear_errors, field_error, has_errors, plain, remember_error, remember_errors
from ui.i18n import enum_label, format_date, t
from ui.org_form import organisation_fields

FORM, LOOKUP = "apply", "apply_lookup"
DONE = "_apply_done"

require_role("apply")
st.title(t("page.apply"))


def lookup_section(reference: str) -> None:
    """The applicant's own status, with the reference number and the contact phone given on the form."""
    st.subheader(t("apply.lookup_title"))
    with st.form(LOOKUP):
        # Keyed by the reference it starts with: after a submission the box shows the new reference.
        ref = st.text_input(t("apply.reference"), value=reference, key=f"lookup_ref_{reference}")
        phone = st.text_input(t("field.phone"), help=t("apply.lookup_phone_help"), key="lookup_phone")
        asked = st.form_submit_button(t("apply.lookup"))
    if not asked:
        return
    with transaction() as session:
        found = applications.lookup_status(session=session, reference=ref, phone=phone)
    if found is None:
        st.warning(t("apply.lookup_not_found"), icon=":material/search_off:")
        return
    st.markdown(f"**{plain(found.name)}** · {plain(found.reference)}")
    st.info(
        t(
            "apply.lookup_status",
            status=enum_label("app_status", found.status),
            submitted=format_date(found.submitted_at),
        ),
        icon=":material/assignment:",
    )
    if found.message:
        st.markdown(t("apply.message_from_secretariat"))
        st.text(found.message)
    if found.decided_at is not None:
        st.caption(t("apply.decided_on", date=format_date(found.decided_at)))
    if found.status == "rejected":
        st.caption(t("apply.rejected_contact"))


reference_param = st.query_params.get("ref")
if reference_param is not None:
    lookup_section(reference_param)
    st.stop()

done = st.session_state.get(DONE)
if done:
    st.success(t("apply.done", reference=done), icon=":material/check_circle:")
    st.markdown(t("apply.next_steps"))
    st.code(done, language=None)
    if st.button(t("apply.another")):
        st.session_state.pop(DONE, None)
        st.rerun()
    lookup_section(done)
    st.stop()

with transaction() as session:
    intake_open = bool(settings.get_setting(session=session, key="intake_open"))
if not intake_open:
    st.info(t("apply.closed"), icon=":material/schedule:")
    typed = {
        label: str(st.session_state.get(key) or "")
        for key, label in (
            ("apply_name", t("field.name")),
            ("apply_code", t("field.credit_code")),
            ("apply_contact", t("field.contact_person")),
            ("apply_phone", t("field.phone")),
            ("apply_email", t("field.email")),
            ("apply_address", t("field.address")),
            ("apply_statement", t("field.statement")),
            ("apply_materials", t("field.materials")),
        )
    }
    if any(typed.values()):
        # Intake closed while this visitor was filling the form: say so, and keep what they typed readable.
        st.warning(t("apply.closed_now"), icon=":material/warning:")
        with st.expander(t("apply.your_input"), expanded=True):
            st.text("\n".join(f"{label}：{value}" for label, value in typed.items() if value))
    lookup_section("")
    st.stop()

st.markdown(t("apply.intro"))
with st.form(FORM, enter_to_submit=False):  # Enter in a box (on a phone: "go") must not send a half form
    applied_for = st.radio(
        t("field.applied_for") + " *",
        [a.value for a in AppliedFor],
        format_func=lambda v: enum_label("applied_for", v),
        horizontal=True,
        key="apply_applied_for",
    )
    organisation = organisation_fields(FORM, prefix="apply")
    statement = st.text_area(t("field.statement"), help=t("apply.statement_help"), key="apply_statement")
    field_error(FORM, "statement")
    materials = st.text_area(t("field.materials"), help=t("apply.materials_help"), key="apply_materials")
    field_error(FORM, "materials")
    with st.container(border=True):
        st.markdown(t("apply.consent_text"))
        consent = st.checkbox(t("apply.consent"), key="apply_consent")
        field_error(FORM, "consent")
    submitted = st.form_submit_button(t("apply.submit"), type="primary")
if has_errors(FORM):
    st.error(t("form.fix_marked"), icon=":material/error:")
field_error(FORM, "_form")

if submitted:
    data = ApplicationInput(
        organisation=organisation,
        applied_for=applied_for,
        statement=statement,
        materials=materials,
        consent=consent,
    )
    errors = application_errors(data, today=today())
    if errors:
        remember_errors(FORM, list(errors))
        st.rerun()
    now = utcnow()
    refusal = attempt(
        lambda session: applications.reserve_intake_attempt(
            session=session,
            actor=ANONYMOUS,
            client=client_address(st.context.ip_address, st.context.headers),
            now=now,
            limits=intake_limits(),
        )
    )
    reference: list[str] = []
    if refusal is None:
        refusal = attempt(
            lambda session: reference.append(
                applications.submit_application(session=session, actor=ANONYMOUS, data=data, now=now)
            )
        )
    if refusal is not None:
        remember_error(FORM, refusal)
        st.rerun()
    clear_errors(FORM)
    st.session_state[DONE] = reference[0]
    st.rerun()

with st.expander(t("apply.lookup_title")):
    lookup_section("")
