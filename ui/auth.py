"""The login gate and the page guard. The only module that imports streamlit-authenticator.

The library draws the login form and sets the cookie; who may log in and with which role comes from our
users table on every run (a deactivated user is logged out at the next click).
"""

import os
from datetime import datetime
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from db.engine import database_url, transaction
from db.services import users
from db.services.users import UserInfo
from ui.config import ConfigError, cookie_expiry_days, resolve_cookie_key
from ui.i18n import t
from ui.navigation import page

COOKIE_NAME = "evsn_auth"
USER_KEY = "current_user"
ROUTED_FLAG = "_routed_by_app"
LOGOUT_REQUEST = "_logout_requested"


def cookie_key() -> str:
    """The cookie-signing key (refuses to run on PostgreSQL without a configured key)."""
    try:
        secrets_auth: Any = dict(st.secrets.get("auth", {}))
    except Exception:  # no secrets.toml at all
        secrets_auth = {}
    return resolve_cookie_key(env=os.environ, secrets_auth=secrets_auth, database_url=database_url())


def _library_entry(info: UserInfo) -> dict[str, Any]:
    return {"name": info.display_name, "password": "", "roles": [info.role.value], "email": None}


def _cookie_user(key: str) -> str | None:
    """The username of a valid, unexpired login cookie in this tab's cookie snapshot, else None."""
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        payload = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    username = payload.get("username")
    expires = payload.get("exp_date")
    if not isinstance(username, str) or not isinstance(expires, int | float):
        return None
    if expires <= datetime.now().timestamp():
        return None
    return username


def current_user() -> UserInfo | None:
    """The signed-in user of this session (set by the gate on every run), or None."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, UserInfo) else None


def request_logout() -> None:
    """Button callback: log out at the start of the next run (one click)."""
    st.session_state[LOGOUT_REQUEST] = True


def _forget_user() -> None:
    st.session_state.pop(USER_KEY, None)
    for name in ("name", "username", "authentication_status", "email", "roles"):
        st.session_state[name] = None


def login_gate() -> UserInfo | None:
    """Return the signed-in user, drawing the login form (and stopping nothing) when there is none."""
    try:
        key = cookie_key()
    except ConfigError as exc:
        st.error(t("error.config"))
        print(f"configuration error: {exc}", flush=True)
        st.stop()
    credentials: dict[str, Any] = {"usernames": {}}
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=key,
        cookie_expiry_days=cookie_expiry_days(),
        auto_hash=False,
        login_sleep_time=0,
    )
    model = authenticator.authentication_controller.authentication_model

    def check_credentials(username: str, password: str) -> bool:
        with transaction() as session:
            info = users.authenticate(session=session, username=username, password=password)
        if info is None:
            return False
        credentials["usernames"][info.username] = _library_entry(info)
        return True

    # Our users table decides; the library's dict only ever holds the one user being signed in.
    model.check_credentials = check_credentials

    if st.session_state.pop(LOGOUT_REQUEST, False) and st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")
        _forget_user()

    if not st.session_state.get("authentication_status") and not st.session_state.get("logout"):
        cookie_username = _cookie_user(key)
        info = None
        if cookie_username:
            with transaction() as session:
                info = users.get_active_user(session=session, username=cookie_username)
        if info is not None:
            credentials["usernames"][info.username] = _library_entry(info)
        elif st.context.cookies.get(COOKIE_NAME):
            # A forged, expired or revoked cookie: make the library ignore it and show the form.
            st.session_state["logout"] = True

    fields = {
        "Form name": t("login.title"),
        "Username": t("login.username"),
        "Password": t("login.password"),
        "Login": t("login.submit"),
    }
    header = st.empty()
    if not st.session_state.get("authentication_status"):
        header.title(t("app.title"))
    authenticator.login(location="main", fields=fields, key="login_form")
    status = st.session_state.get("authentication_status")
    if status:
        header.empty()
    if status is False:
        st.error(t("login.failed"))
    if not status:
        _forget_user()
        return None
    username = st.session_state.get("username") or ""
    with transaction() as session:
        info = users.get_active_user(session=session, username=username)
    if info is None:  # deactivated or removed since the cookie was issued
        authenticator.logout(location="unrendered")
        _forget_user()
        st.warning(t("login.account_disabled"))
        return None
    st.session_state[USER_KEY] = info
    return info


def require_role(page_key: str) -> UserInfo | None:
    """Top of every page: refuse anonymous visitors and roles the PAGES table does not list; nothing below runs."""
    spec = page(page_key)
    if not st.session_state.get(ROUTED_FLAG):
        # Streamlit's old pages/ routing ran this file without app.py (fresh server, deep link):
        # register the real navigation and come back through app.py and its login gate.
        from ui.router import st_pages

        st.navigation(list(st_pages().values()), position="hidden")
        st.rerun()
    user = current_user()
    if spec.public:
        return user
    if user is None:
        st.warning(t("auth.login_required"))
        st.stop()
    if user.role not in spec.roles:
        st.error(t("error.forbidden"))
        st.stop()
    return user
