"""The login gate and the page guard. The only module that imports streamlit-authenticator.

The library draws the login form and sets the cookie; who may log in and with which role comes from our
users table on every run (a deactivated user is logged out at the next click).
"""

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from db.base import utcnow
from db.engine import database_url, transaction
from db.services import users
from db.services.users import UserInfo
from domain.roles import ANONYMOUS
from ui.config import ConfigError, cookie_expiry_days, login_policy, resolve_cookie_key, signing_key
from ui.i18n import t
from ui.navigation import page

COOKIE_NAME = "evsn_auth"
CLOCK_SKEW = timedelta(minutes=2)
USER_KEY = "current_user"
ROUTED_FLAG = "_routed_by_app"
LOGOUT_REQUEST = "_logout_requested"
LOGGED_IN_AT = "_logged_in_at"
LAST_SEEN = "_last_seen"
NOTICE = "_login_notice"


def cookie_key() -> str:
    """The cookie-signing key (refuses to run on PostgreSQL without a configured key)."""
    try:
        secrets_auth: Any = dict(st.secrets.get("auth", {}))
    except Exception:  # no secrets.toml at all
        secrets_auth = {}
    return resolve_cookie_key(env=os.environ, secrets_auth=secrets_auth, database_url=database_url())


def _library_entry(info: UserInfo) -> dict[str, Any]:
    return {"name": info.display_name, "password": "", "roles": [info.role.value], "email": None}


def _cookie_claims(key: str) -> tuple[str, datetime] | None:
    """The username and issue time of a valid, unexpired login cookie in this tab's cookie snapshot."""
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
    if expires <= time.time():
        return None
    # The library's cookie holds only the expiry; it was issued exactly cookie_expiry_days before it. The
    # signing key is bound to that number of days (config.signing_key), so a cookie made under another
    # setting does not verify, and an issue time in the future is refused.
    issued = datetime.fromtimestamp(expires - cookie_expiry_days() * 86400, tz=UTC)
    if issued > datetime.now(UTC) + CLOCK_SKEW:
        return None
    return username, issued


def current_user() -> UserInfo | None:
    """The signed-in user of this session (set by the gate on every run), or None."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, UserInfo) else None


def request_logout() -> None:
    """Button callback: log out at the start of the next run (one click)."""
    st.session_state[LOGOUT_REQUEST] = True


def _forget_user() -> None:
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(LOGGED_IN_AT, None)
    st.session_state.pop(LAST_SEEN, None)
    for name in ("name", "username", "authentication_status", "email", "roles"):
        st.session_state[name] = None


def login_gate() -> UserInfo | None:
    """Return the signed-in user, or draw the login form and return None.

    Every run re-reads the user from our table: a deactivated, reset or logged-out account, or one idle too
    long, is signed out here whatever the browser still holds.
    """
    try:
        key = signing_key(cookie_key(), cookie_expiry_days())
    except ConfigError as exc:
        st.error(t("error.config"))
        print(f"configuration error: {exc}", flush=True)
        st.stop()
    policy = login_policy()
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(t(notice))
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
        # Reserve the attempt, check bcrypt with no transaction open, then record the outcome.
        with transaction(write=True) as session:
            ticket = users.begin_login(session=session, actor=ANONYMOUS, username=username, policy=policy, now=utcnow())
        matched = users.password_matches(ticket, password)
        with transaction(write=True) as session:
            info = users.finish_login(session=session, actor=ANONYMOUS, ticket=ticket, matched=matched, now=utcnow())
        if info is None:
            return False
        credentials["usernames"][info.username] = _library_entry(info)
        st.session_state[LOGGED_IN_AT] = utcnow()
        st.session_state[LAST_SEEN] = utcnow()
        return True

    # Our users table decides; the library's dict only ever holds the one user being signed in.
    model.check_credentials = check_credentials

    if st.session_state.pop(LOGOUT_REQUEST, False) and st.session_state.get("authentication_status"):
        user = current_user()
        if user is not None:
            with transaction(write=True) as session:
                users.logout(session=session, actor=user.actor(), now=utcnow())
        authenticator.logout(location="unrendered")
        _forget_user()

    if not st.session_state.get("authentication_status") and not st.session_state.get("logout"):
        claims = _cookie_claims(key)
        info = None
        if claims is not None:
            with transaction() as session:
                info = users.get_active_user(session=session, username=claims[0])
        if (
            info is not None
            and claims is not None
            and users.session_still_valid(user=info, logged_in_at=claims[1], now=utcnow(), policy=policy)
        ):
            credentials["usernames"][info.username] = _library_entry(info)
            st.session_state[LOGGED_IN_AT] = claims[1]
            st.session_state[LAST_SEEN] = utcnow()
        elif st.context.cookies.get(COOKIE_NAME):
            # A forged, expired or revoked cookie: make the library ignore it and show the form.
            st.session_state["logout"] = True

    fields = {
        "Form name": t("app.title"),
        "Username": t("login.username"),
        "Password": t("login.password"),
        "Login": t("login.submit"),
    }
    authenticator.login(location="main", fields=fields, key="login_form")
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error(t("login.failed"))
    if not status:
        _forget_user()
        return None
    now = utcnow()
    username = st.session_state.get("username") or ""
    with transaction() as session:
        info = users.get_active_user(session=session, username=username)
    logged_in_at = st.session_state.get(LOGGED_IN_AT)
    last_seen = st.session_state.get(LAST_SEEN)
    if (
        info is None
        or not isinstance(logged_in_at, datetime)
        or not users.session_still_valid(user=info, logged_in_at=logged_in_at, now=now, policy=policy)
        # Idle time counts per browser session too: a forgotten tab ends even while the user works elsewhere.
        or (isinstance(last_seen, datetime) and now - last_seen > policy.idle_timeout)
    ):
        authenticator.logout(location="unrendered")
        _forget_user()
        st.session_state[NOTICE] = "login.session_ended"
        st.rerun()
    if info.last_activity_at is None or now - info.last_activity_at >= users.ACTIVITY_GRANULARITY:
        with transaction(write=True) as session:
            users.touch_activity(session=session, actor=info.actor(), now=now)
    st.session_state[USER_KEY] = info
    st.session_state[LAST_SEEN] = now
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
    if user.effective_role not in spec.roles:
        st.error(t("error.forbidden"))
        st.stop()
    return user
