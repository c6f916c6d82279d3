"""The first-run page: on an empty database, create the first administrator with the setup token."""

import streamlit as st

from db.services import users
from domain.roles import ANONYMOUS
from ui.forms import field_error, save
from ui.i18n import t

FORM = "first_run"


def render_first_run() -> None:
    """Ask for the setup token from the server log and the first admin's account."""
    st.title(t("setup.title"))
    st.write(t("setup.intro"))
    with st.form(FORM):
        token = st.text_input(t("field.token"), type="password", help=t("setup.token_help"))
        field_error(FORM, "token")
        username = st.text_input(t("field.username"), max_chars=40, help=t("setup.username_help"))
        field_error(FORM, "username")
        display_name = st.text_input(t("field.display_name"), max_chars=50)
        field_error(FORM, "display_name")
        password = st.text_input(t("field.password"), type="password", help=t("setup.password_help"))
        field_error(FORM, "password")
        repeat = st.text_input(t("field.password_repeat"), type="password")
        field_error(FORM, "password_repeat")
        submitted = st.form_submit_button(t("setup.submit"), type="primary")
    if submitted:
        done = save(
            FORM,
            lambda session: users.create_first_admin(
                session=session,
                actor=ANONYMOUS,
                token=token,
                username=username,
                display_name=display_name,
                password=password,
                password_repeat=repeat,
            ),
        )
        if done:
            st.session_state["_setup_done"] = True
        st.rerun()
