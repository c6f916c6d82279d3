"""Attacks on accounts, in Chromium against a running server: lock-out, replayed and forged cookies,
logout in the same tab, forced password change; and /users, /audit, /account end to end."""

import time

import jwt
import pytest

from scripts.seed_demo import DEMO_PASSWORD
from tests.e2e.conftest import COOKIE_KEY
from tests.e2e.harness import assert_no_exception, box, click_and_wait, login, logout, screenshot, wait_for_app
from ui.auth import COOKIE_NAME
from ui.i18n import t

pytestmark = pytest.mark.e2e
MENU = "[data-testid=stSidebar] [data-testid=stPageLink]"


def signed_in(page) -> bool:
    return page.locator(MENU).count() > 0


def open_fresh(browser, url, cookies=()):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if cookies:
        context.add_cookies([{**c, "url": url} if "domain" not in c else c for c in cookies])
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(url)
    wait_for_app(tab)
    return context, tab


def test_repeated_failures_lock_the_account_until_the_window_passes(page, start_server, demo_database):
    server = start_server(demo_database, LOGIN_MAX_FAILURES="3", LOGIN_LOCK_SECONDS="6")
    page.goto(server.url)
    wait_for_app(page)
    for _ in range(3):
        login(page, "demo_council", "wrong password")
        page.get_by_text(t("login.failed")).wait_for()
    login(page, "demo_council", DEMO_PASSWORD)
    page.get_by_text(t("login.failed")).wait_for()
    assert not signed_in(page), "a locked account does not open with the right password"
    screenshot(page, "11-locked")
    time.sleep(6.5)
    login(page, "demo_council", DEMO_PASSWORD)
    assert signed_in(page), "the lock ends after the configured time"


def test_a_cookie_replayed_after_logout_is_refused(browser, page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(server.url)
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    page.wait_for_timeout(1000)  # the cookie is set by a component in the browser
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE_NAME)

    before_ctx, before_tab = open_fresh(browser, server.url, [cookie])
    assert signed_in(before_tab), "the copied cookie works while the session is live"
    before_ctx.close()

    logout(page)
    after_ctx, after_tab = open_fresh(browser, server.url, [cookie])
    assert not signed_in(after_tab) and box(after_tab, "用户名").is_visible()
    screenshot(after_tab, "12-replayed-cookie-refused")
    after_ctx.close()


def test_a_cookie_signed_with_another_key_is_refused(browser, start_server, demo_database):
    from ui.config import signing_key

    server = start_server(demo_database)

    def cookie(key: str) -> dict:
        token = jwt.encode({"username": "demo_admin", "exp_date": time.time() + 7 * 86400}, key, algorithm="HS256")
        return {"name": COOKIE_NAME, "value": token}

    # Control: a cookie signed the way the server signs is accepted, so the refusals below mean something.
    context, tab = open_fresh(browser, server.url, [cookie(signing_key(COOKIE_KEY, 7))])
    assert signed_in(tab)
    context.close()
    for other in ("x" * 48, COOKIE_KEY, signing_key(COOKIE_KEY, 1)):  # a stranger's key, the raw key, other days
        context, tab = open_fresh(browser, server.url, [cookie(other)])
        assert not signed_in(tab) and box(tab, "用户名").is_visible()
        context.close()


def test_the_same_tab_stays_logged_out_after_logout(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(f"{server.url}/members")
    wait_for_app(page)
    login(page, "demo_viewer", DEMO_PASSWORD)
    logout(page)
    # More runs in the same tab (its cookie snapshot still holds the old cookie) stay logged out.
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    click_and_wait(page, page.get_by_role("option", name="English"))
    assert not signed_in(page) and box(page, "Username").is_visible()
    page.goto(f"{server.url}/members")
    wait_for_app(page)
    assert not signed_in(page)


def test_an_admin_reset_forces_a_new_password_and_the_screens_work_end_to_end(
    browser, page, start_server, demo_database
):
    server = start_server(demo_database)
    viewer_ctx, viewer = open_fresh(browser, server.url)
    login(viewer, "demo_viewer", DEMO_PASSWORD)
    assert signed_in(viewer)

    page.goto(f"{server.url}/users")
    wait_for_app(page)
    login(page, "demo_admin", DEMO_PASSWORD)
    page.get_by_role("heading", name=t("page.users")).wait_for()
    screenshot(page, "13-users")
    page.get_by_role("tab", name=t("users.edit")).click()
    page.locator("[data-testid=stSelectbox]").filter(has_text=t("users.choose")).click()
    click_and_wait(page, page.get_by_role("option", name="demo_viewer", exact=True))
    box(page, t("users.temporary_password")).fill("Temporary pass 2026")
    box(page, t("users.temporary_password")).press("Enter")
    wait_for_app(page)
    click_and_wait(page, page.get_by_text(t("users.confirm_reset")))
    click_and_wait(page, page.get_by_role("button", name=t("users.reset_password")))
    page.get_by_text(t("users.password_reset")).wait_for()
    assert_no_exception(page)

    # The viewer's open tab is signed out at its next click.
    click_and_wait(viewer, viewer.locator(MENU).get_by_text(t("page.members"), exact=True))
    assert not signed_in(viewer)
    viewer.get_by_text(t("login.session_ended")).wait_for()
    login(viewer, "demo_viewer", "Temporary pass 2026")
    viewer.get_by_role("heading", name=t("account.forced_title")).wait_for()
    assert viewer.locator("h1").all_inner_texts() == [t("account.forced_title")], "one title, not a stale copy"
    screenshot(viewer, "14-forced-change")
    box(viewer, t("field.current_password")).fill("Temporary pass 2026")
    box(viewer, t("field.password")).fill("我自己的新密码 2026")
    box(viewer, t("field.password_repeat")).fill("我自己的新密码 2026")
    click_and_wait(viewer, viewer.get_by_role("button", name=t("account.change_password")))
    viewer.get_by_role("heading", name=t("page.members")).wait_for()  # where the click was headed
    assert_no_exception(viewer)
    viewer_ctx.close()

    page.goto(f"{server.url}/audit?type=user")
    wait_for_app(page)
    page.get_by_role("heading", name=t("page.audit")).wait_for()
    grid = page.locator("[data-testid=stDataFrame]")
    grid.locator("[role=gridcell]", has_text=t("action.user.reset_password")).first.wait_for(state="attached")
    grid.locator("[role=gridcell]", has_text=t("action.user.change_password")).first.wait_for(state="attached")
    screenshot(page, "15-audit")

    page.goto(f"{server.url}/account")
    wait_for_app(page)
    page.get_by_role("heading", name=t("page.account")).wait_for()
    assert_no_exception(page)
    screenshot(page, "16-account")


def test_the_secretariat_opens_intake_and_a_visitor_sees_the_form_open(browser, page, start_server, demo_database):
    server = start_server(demo_database)
    public_ctx, public = open_fresh(browser, f"{server.url}/apply")
    public.get_by_text(t("apply.closed")).wait_for()
    assert not signed_in(public), "the public page needs no login and shows no menu"

    page.goto(f"{server.url}/settings")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    page.get_by_role("heading", name=t("page.settings")).wait_for()
    page.get_by_text(t("settings.intake_open")).click()
    click_and_wait(page, page.get_by_role("button", name=t("common.save")))
    page.get_by_text(t("settings.saved")).wait_for()
    screenshot(page, "17-settings")

    public.reload()
    wait_for_app(public)
    assert public.get_by_text(t("apply.closed")).count() == 0
    public_ctx.close()

    page.goto(f"{server.url}/audit?type=setting")
    wait_for_app(page)
    grid = page.locator("[data-testid=stDataFrame]")
    grid.locator("[role=gridcell]", has_text="intake_open").first.wait_for(state="attached")
