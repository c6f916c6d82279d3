"""My account (我的账号): who I am, and changing my own password."""

import streamlit as st

from ui.account_form import password_change_form
from ui.auth import require_role
from ui.forms import plain
from ui.i18n import enum_label, t

user = require_role("account")
assert user is not None
st.title(t("page.account"))
st.write(
    t(
        "account.summary",
        username=plain(user.username),
        name=plain(user.display_name),
        role=enum_label("role", user.role),
    )
)
if user.organisation_name:
    st.caption(t("account.unit", unit=plain(user.organisation_name)))
if st.session_state.pop("_password_changed", False):
    st.success(t("account.password_changed"))
st.subheader(t("account.change_password"))
if password_change_form(user):
    st.rerun()
