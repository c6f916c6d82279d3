"""Home (首页): a greeting and the to-dos that every screen's provider contributes for this user."""

import streamlit as st

from db.engine import transaction
from db.services.todos import collect_todos
from domain.clock import today
from ui.auth import require_role
from ui.forms import plain
from ui.i18n import enum_label, format_date, t
from ui.layout import link_to

user = require_role("home")
assert user is not None
st.title(t("home.title"))
st.caption(
    t(
        "home.greeting",
        name=plain(user.display_name),
        role=enum_label("role", user.role),
        today=format_date(today()),
    )
)
with transaction() as session:
    items = collect_todos(session=session, actor=user.actor())
st.subheader(t("home.todos"))
if not items:
    st.success(t("home.no_todos"), icon=":material/task_alt:")
for item in items:
    link_to(item.page, t(item.key, count=item.count, **item.params), query_params=item.query or None)
