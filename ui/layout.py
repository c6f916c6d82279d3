"""The frame around every page: language switch, demo banner, our own role-based menu."""

import streamlit as st

from db.services.users import UserInfo
from ui.auth import request_logout
from ui.forms import plain
from ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, enum_label, t
from ui.navigation import menu_for

LANG_WIDGET = "_lang_choice"


def _on_language_change() -> None:
    st.session_state["lang"] = st.session_state[LANG_WIDGET]


def language_switch() -> None:
    """A sidebar switch between 中文 and English, kept for the session."""
    st.session_state.setdefault("lang", DEFAULT_LANGUAGE)
    st.session_state[LANG_WIDGET] = st.session_state["lang"]
    st.sidebar.selectbox(
        t("layout.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=LANG_WIDGET,
        on_change=_on_language_change,
    )


def demo_banner() -> None:
    """The 演示数据 banner shown on every page of a demo database."""
    st.info(t("layout.demo_banner"), icon=":material/science:")


def sidebar_menu(user: UserInfo, pages: dict[str, st.Page]) -> None:
    """The menu of the pages this user's role may open, the user's name and role, and logout."""
    with st.sidebar:
        st.markdown(f"### {t('app.short_title')}")
        for spec in menu_for(user.effective_role):
            st.page_link(pages[spec.key], label=t(spec.title_key), icon=spec.icon)
        st.divider()
        role = enum_label("role", user.role)
        if user.effective_role is not user.role:
            role = t("layout.council_without_term")
        st.caption(t("layout.signed_in_as", name=plain(user.display_name), role=role))
        if user.organisation_name:
            st.caption(plain(user.organisation_name))
        st.button(t("layout.logout"), key="logout_button", on_click=request_logout, icon=":material/logout:")


def link_to(page_key: str, label: str, query_params: dict[str, str] | None = None) -> None:
    """A link to a registered page; outside the router (AppTest runs a page alone) it is plain text."""
    from streamlit.errors import StreamlitPageNotFoundError

    from ui.navigation import page

    target = page(page_key)
    try:
        st.page_link(target.file, label=label, icon=target.icon, query_params=query_params)
    except StreamlitPageNotFoundError:
        st.markdown(f"- {label}")
