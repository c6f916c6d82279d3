"""The change-password form, on /account and as the forced step after an administrator's reset."""

import streamlit as st

from db.base import utcnow
from db.engine import transaction
from db.services import users
from db.services.users import UserInfo
from ui.auth import LOGGED_IN_AT
from ui.config import login_policy
from ui.forms import field_error, save
from ui.i18n import t

FORM = "change_password"


def password_change_form(user: UserInfo) -> bool:
    """Draw the form; True once the password was changed in this run."""
    with st.form(FORM, clear_on_submit=False):
        current = st.text_input(t("field.current_password"), type="password")
        field_error(FORM, "current_password")
        new = st.text_input(t("field.password"), type="password", help=t("setup.password_help"))
        field_error(FORM, "password")
        repeat = st.text_input(t("field.password_repeat"), type="password")
        field_error(FORM, "password_repeat")
        submitted = st.form_submit_button(t("account.change_password"), type="primary")
    if not submitted:
        return False
    changed = save(
        FORM,
        lambda session: users.change_own_password(
            session=session, actor=user.actor(), current=current, new=new, repeat=repeat, now=utcnow()
        ),
    )
    if not changed:
        errors = st.session_state.get(f"_errors_{FORM}", {})
        if "current_password" in errors:
            # Guessing the current password through this form counts like failed logins.
            with transaction(write=True) as session:
                users.count_wrong_current_password(
                    session=session, actor=user.actor(), policy=login_policy(), now=utcnow()
                )
        st.rerun()
    # This tab's session goes on; every other session and cookie of the user ended with the change.
    st.session_state[LOGGED_IN_AT] = utcnow()
    st.session_state["_password_changed"] = True
    return True
