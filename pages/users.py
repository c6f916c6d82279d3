"""Accounts (账号管理), administrator only: create, set role and unit, deactivate, unlock, reset password."""

import pandas as pd
import streamlit as st

from db.base import utcnow
from db.engine import transaction
from db.services import users
from db.services.organisations import organisation_choices
from domain.roles import Role
from ui.auth import require_role
from ui.forms import attempt, clear_errors, error_text, field_error, save
from ui.i18n import enum_label, format_datetime, t
from ui.layout import link_to

NEW_FORM, EDIT_FORM = "user_new", "user_edit"

admin = require_role("users")
assert admin is not None
st.title(t("page.users"))
notice = st.session_state.pop("_users_notice", None)
if notice:
    st.success(notice)

with transaction() as session:
    accounts = users.list_users(session=session)
    units = organisation_choices(session=session)
unit_names = dict(units)
now = utcnow()


def _run(done_message: str, fn, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Call a write service in one transaction; on success say so, on refusal show why."""
    refusal = attempt(lambda session: fn(session=session, actor=admin.actor(), **kwargs))
    if refusal is not None:
        st.error(error_text(refusal))
        return
    st.session_state["_users_notice"] = done_message
    for key in [k for k in st.session_state if str(k).startswith("_user_version_")]:
        st.session_state.pop(key, None)
    st.rerun()


def _state(account: users.UserRow) -> str:
    if not account.is_active:
        return t("users.inactive")
    if account.locked_until is not None and account.locked_until > now:
        return t("users.locked")
    return t("users.active")


table = pd.DataFrame(
    {
        t("field.username"): [a.username for a in accounts],
        t("field.display_name"): [a.display_name for a in accounts],
        t("field.role"): [enum_label("role", a.role) for a in accounts],
        t("field.organisation_id"): [a.organisation_name or "—" for a in accounts],
        t("users.state"): [_state(a) for a in accounts],
        t("users.must_change"): ["✓" if a.must_change_password else "" for a in accounts],
        t("users.last_activity"): [format_datetime(a.last_activity_at) for a in accounts],
    }
)
st.dataframe(table, hide_index=True, width="stretch")

tab_edit, tab_new = st.tabs([t("users.edit"), t("users.new")])

with tab_new, st.form(NEW_FORM, clear_on_submit=False):
    username = st.text_input(t("field.username"), help=t("setup.username_help"), key="new_username")
    field_error(NEW_FORM, "username")
    display_name = st.text_input(t("field.display_name"), key="new_display_name")
    field_error(NEW_FORM, "display_name")
    role = st.selectbox(t("field.role"), [r.value for r in Role], index=3, format_func=lambda v: enum_label("role", v))
    unit = st.selectbox(
        t("field.organisation_id"), [None, *unit_names], format_func=lambda v: unit_names.get(v, t("users.no_unit"))
    )
    field_error(NEW_FORM, "organisation_id")
    password = st.text_input(
        t("users.temporary_password"), type="password", help=t("users.temporary_help"), key="new_password"
    )
    field_error(NEW_FORM, "password")
    if st.form_submit_button(t("users.create"), type="primary"):
        created = save(
            NEW_FORM,
            lambda session: users.create_user(
                session=session,
                actor=admin.actor(),
                username=username,
                display_name=display_name,
                password=password,
                role=role,
                organisation_id=unit,
            ),
        )
        if created:
            st.session_state["_users_notice"] = t("users.created", username=username.strip().lower())
            for key in ("new_username", "new_display_name", "new_password"):
                st.session_state.pop(key, None)
        st.rerun()

with tab_edit:
    if not accounts:
        st.info(t("users.empty"))
        st.stop()
    by_id = {a.id: a for a in accounts}
    chosen = st.selectbox(
        t("users.choose"),
        list(by_id),
        key="users_choose",
        # Usernames never change, so the choice survives a rename (a label with the name would reset it).
        format_func=lambda i: by_id[i].username,
        on_change=clear_errors,
        args=(EDIT_FORM,),
    )
    account = by_id[chosen]
    # The version the admin first saw is what an edit is checked against (not the one re-read at submit).
    version_key = f"_user_version_{account.id}"
    seen_version = st.session_state.setdefault(version_key, account.version)
    widget_keys = [f"user_{field}_{account.id}" for field in ("name", "role", "unit")]
    link_to("audit", t("users.history"), query_params={"type": "user", "id": str(account.id)})
    with st.form(EDIT_FORM):
        name = st.text_input(t("field.display_name"), value=account.display_name, key=widget_keys[0])
        field_error(EDIT_FORM, "display_name")
        roles = [r.value for r in Role]
        new_role = st.selectbox(
            t("field.role"),
            roles,
            index=roles.index(account.role),
            format_func=lambda v: enum_label("role", v),
            key=widget_keys[1],
        )
        field_error(EDIT_FORM, "role")
        unit_ids = [None, *unit_names]
        new_unit = st.selectbox(
            t("field.organisation_id"),
            unit_ids,
            index=unit_ids.index(account.organisation_id) if account.organisation_id in unit_ids else 0,
            format_func=lambda v: unit_names.get(v, t("users.no_unit")),
            key=widget_keys[2],
        )
        field_error(EDIT_FORM, "organisation_id")
        if st.form_submit_button(t("common.save"), type="primary"):
            saved = save(
                EDIT_FORM,
                lambda session: users.update_user(
                    session=session,
                    actor=admin.actor(),
                    user_id=account.id,
                    expected_version=seen_version,
                    display_name=name,
                    role=new_role,
                    organisation_id=new_unit,
                ),
            )
            if saved:
                st.session_state.pop(version_key, None)
                st.session_state["_users_notice"] = t("users.saved")
            st.rerun()
    field_error(EDIT_FORM, "_form")
    if seen_version != account.version:
        st.warning(t("users.changed_meanwhile"))
        if st.button(t("common.reload"), key=f"reload{account.id}"):
            for key in [version_key, *widget_keys]:
                st.session_state.pop(key, None)
            clear_errors(EDIT_FORM)
            st.rerun()

    cols = st.columns(3)
    with cols[0]:
        confirm = st.checkbox(
            t("users.confirm_deactivate") if account.is_active else t("users.confirm_activate"), key=f"c{account.id}"
        )
        label = t("users.deactivate") if account.is_active else t("users.activate")
        if st.button(label, disabled=not confirm, key=f"toggle{account.id}"):
            st.session_state.pop(f"c{account.id}", None)
            _run(
                t("users.deactivated") if account.is_active else t("users.activated"),
                users.set_active,
                user_id=account.id,
                expected_version=seen_version,
                active=not account.is_active,
            )
    with cols[1]:
        locked = account.locked_until is not None and account.locked_until > now
        if st.button(t("users.unlock"), disabled=not locked, key=f"unlock{account.id}"):
            _run(t("users.unlocked"), users.unlock_user, user_id=account.id)
    with cols[2]:
        temporary = st.text_input(t("users.temporary_password"), type="password", key=f"tmp{account.id}")
        confirm_reset = st.checkbox(t("users.confirm_reset"), key=f"cr{account.id}")
        if st.button(t("users.reset_password"), disabled=not confirm_reset, key=f"reset{account.id}"):
            st.session_state.pop(f"tmp{account.id}", None)
            st.session_state.pop(f"cr{account.id}", None)
            _run(
                t("users.password_reset"),
                users.reset_password,
                user_id=account.id,
                expected_version=seen_version,
                new_password=temporary,
            )
