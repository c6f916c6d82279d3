"""Settings (系统设置), secretariat and administrator: open or close the public application intake, the
current recruitment batch. Each setting is saved with the version the user saw."""

import streamlit as st

from db.engine import transaction
from db.services import settings
from ui.auth import require_role
from ui.forms import clear_errors, field_error, save
from ui.i18n import t

FORM = "settings"
KEYS = ("intake_open", "current_batch", "quorum_share", "pass_share")

user = require_role("settings")
assert user is not None
st.title(t("page.settings"))
if st.session_state.pop("_settings_saved", False):
    st.success(t("settings.saved"))

with transaction() as session:
    current = {key: settings.get_setting(session=session, key=key) for key in KEYS}
    versions = {key: settings.get_setting_version(session=session, key=key) for key in KEYS}
# What the user first saw (values and versions) is what a save is compared and checked against; the widgets
# keep their own keys so that another user's change never swaps them for new ones and drops what was typed.
seen = st.session_state.setdefault("_settings_versions", versions)
shown = st.session_state.setdefault("_settings_values", current)
generation = st.session_state.setdefault("_settings_generation", 0)

with st.form(FORM):
    intake_open = st.toggle(
        t("settings.intake_open"),
        value=bool(shown["intake_open"]),
        help=t("settings.intake_help"),
        key=f"set_intake_{generation}",
    )
    batch = st.text_input(t("settings.current_batch"), value=str(shown["current_batch"]), key=f"set_batch_{generation}")
    field_error(FORM, "current_batch")
    left, right = st.columns(2)
    quorum = left.number_input(
        t("settings.quorum_share"),
        min_value=0.0,
        max_value=0.95,
        step=0.05,
        format="%.2f",
        value=float(shown["quorum_share"]),
        help=t("settings.quorum_help"),
        key=f"set_quorum_{generation}",
    )
    with left:
        field_error(FORM, "quorum_share")
    passing = right.number_input(
        t("settings.pass_share"),
        min_value=0.0,
        max_value=0.95,
        step=0.05,
        format="%.2f",
        value=float(shown["pass_share"]),
        help=t("settings.pass_help"),
        key=f"set_pass_{generation}",
    )
    with right:
        field_error(FORM, "pass_share")
    submitted = st.form_submit_button(t("common.save"), type="primary")
field_error(FORM, "_form")

if submitted:
    wanted = {
        "intake_open": intake_open,
        "current_batch": batch.strip(),
        "quorum_share": round(float(quorum), 2),
        "pass_share": round(float(passing), 2),
    }

    def write(session):  # type: ignore[no-untyped-def]
        for key in KEYS:
            if wanted[key] != shown[key]:
                settings.set_setting(
                    session=session, actor=user.actor(), key=key, value=wanted[key], expected_version=seen[key]
                )

    if save(FORM, write):
        st.session_state.pop("_settings_versions", None)
        st.session_state.pop("_settings_values", None)
        st.session_state["_settings_saved"] = True
    st.rerun()
if seen != versions:
    st.warning(t("settings.changed_meanwhile"))
    if st.button(t("common.reload")):
        for key in ("_settings_versions", "_settings_values"):
            st.session_state.pop(key, None)
        st.session_state["_settings_generation"] = generation + 1  # fresh widgets show the saved values
        clear_errors(FORM)
        st.rerun()
