"""Home (首页): a greeting and the to-dos that every screen's provider contributes for this user."""

import streamlit as st

from db.engine import transaction
from db.services import overview
from db.services.todos import collect_todos
from domain.clock import today
from domain.metrics import preset
from domain.roles import Actor, Role
from ui.auth import require_role
from ui.cache import cached_read
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
if user.effective_role is Role.VIEWER:
    # partner demos have nothing to do here: they see the network's headline figures for the last 12 months
    reader = Actor(user_id=None, username="", role=Role.VIEWER)
    filters = overview.OverviewFilters(period=preset("12m", today(), None))
    headline = {
        k.key: k for k in cached_read(overview.TOPICS, overview.kpis, actor=reader, filters=filters, today=today())
    }
    st.subheader(t("home.headline"))
    for column, key in zip(st.columns(4), ("members", "new_members", "activities", "hours"), strict=True):
        tile = headline[key]
        column.metric(t(f"overview.kpi_{key}"), f"{tile.value:,.1f}" if key == "hours" else f"{tile.value:,.0f}",
                      border=True)  # fmt: skip
    link_to("overview", t("home.more_figures"))
with transaction() as session:
    items = collect_todos(session=session, actor=user.actor())
st.subheader(t("home.todos"))
if not items:
    st.success(t("home.no_todos"), icon=":material/task_alt:")
for item in items:
    link_to(item.page, t(item.key, count=item.count, **item.params), query_params=item.query or None)
