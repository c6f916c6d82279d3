"""The router: page config, language, login gate, first-run setup, st.navigation(all pages), our own menu."""

import logging
import sys

import streamlit as st

from db.engine import transaction
from db.migrate import upgrade_to_head
from db.services import settings, users
from domain.errors import DomainError
from ui.account_form import password_change_form
from ui.auth import ROUTED_FLAG, cookie_key, login_gate
from ui.config import ConfigError
from ui.forms import error_text
from ui.i18n import t
from ui.layout import demo_banner, language_switch, sidebar_menu
from ui.navigation import PAGES_BY_KEY
from ui.router import st_pages
from ui.setup import render_first_run

log = logging.getLogger("evsn")


@st.cache_resource(show_spinner=False)
def _start() -> bool:
    """Once per server process: migrate to head, and on an empty database print a one-time setup token."""
    upgrade_to_head()
    with transaction(write=True) as session:
        token = users.issue_setup_token(session=session)
    if token:
        line = "=" * 72
        print(f"{line}\n一次性设置令牌 / one-time setup token: {token}\n{line}", file=sys.stderr, flush=True)
    return True


def main() -> None:
    """One run: route, gate, frame, then the page itself."""
    try:
        cookie_key()  # on PostgreSQL there is no default: refuse to serve anything without a configured key
    except ConfigError as exc:
        log.error("refusing to start: %s", exc)
        st.error(t("error.config"))
        st.stop()
    _start()
    language_switch()
    pages = st_pages()
    current = st.navigation(list(pages.values()), position="hidden")
    spec = next(
        (PAGES_BY_KEY[key] for key, p in pages.items() if p.url_path == current.url_path),
        PAGES_BY_KEY["home"],
    )
    with transaction() as session:
        user_count = users.count_users(session=session)
        demo = settings.is_demo_database(session=session)
    if demo:
        demo_banner()

    if not spec.public:
        if user_count == 0:
            render_first_run()
            st.stop()
        if st.session_state.get("_setup_done"):
            st.success(t("setup.done"))
        user = login_gate()
        if user is None:
            st.stop()
        st.session_state.pop("_setup_done", None)
        sidebar_menu(user, pages)
        if user.must_change_password:
            # After an administrator's reset nothing else opens until the user picks their own password.
            st.title(t("account.forced_title"))
            st.info(t("account.forced_intro"))
            if password_change_form(user):
                st.rerun()
            st.stop()

    st.session_state[ROUTED_FLAG] = True
    try:
        current.run()
    except DomainError as exc:
        st.error(error_text(exc))
    finally:
        st.session_state.pop(ROUTED_FLAG, None)


st.set_page_config(page_title=t("app.title"), page_icon=":material/eco:", layout="wide")
try:
    main()
except Exception:
    # Details (SQL, connection strings, tracebacks) go to the server log only; the browser gets a sentence.
    log.exception("request failed")
    st.error(t("error.unexpected"))
