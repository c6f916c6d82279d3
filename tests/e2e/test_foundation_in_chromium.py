"""The foundation as a user meets it, in Chromium against `streamlit run app.py`."""

import re

import pytest

from domain.roles import Role
from scripts.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.e2e.harness import assert_no_exception, box, click_and_wait, login, logout, screenshot, wait_for_app
from ui.i18n import t
from ui.navigation import menu_for

pytestmark = pytest.mark.e2e


def menu_labels(page) -> list[str]:
    links = page.locator("[data-testid=stSidebar] [data-testid=stPageLink]").all_inner_texts()
    return [s.strip().splitlines()[-1].strip() for s in links]  # the icon renders as a word before the label


def expected_menu(role: Role, lang: str = "zh-CN") -> list[str]:
    return [t(spec.title_key, lang=lang) for spec in menu_for(role)]


def test_first_run_creates_the_admin_with_the_logged_token_then_logout_and_login_work(page, start_server):
    server = start_server()
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_text(t("setup.title")).wait_for()
    screenshot(page, "01-first-run")
    token = server.setup_token()

    box(page, "一次性设置令牌").fill("wrong-token")
    box(page, "用户名").fill("root")
    box(page, "姓名").fill("系统管理员")
    box(page, "密码").fill("Correct horse 2026")
    box(page, "再次输入密码").fill("Correct horse 2026")
    click_and_wait(page, page.get_by_role("button", name="创建管理员"))
    page.get_by_text(t("validation.setup_token_wrong")).wait_for()
    assert box(page, "用户名").input_value() == "root", "the input stays on screen after a refusal"

    box(page, "一次性设置令牌").fill(token)
    click_and_wait(page, page.get_by_role("button", name="创建管理员"))
    page.get_by_text(t("setup.done")).wait_for()

    login(page, "root", "wrong password")
    page.get_by_text(t("login.failed")).wait_for()
    login(page, "root", "Correct horse 2026")
    assert menu_labels(page) == expected_menu(Role.ADMIN)
    assert_no_exception(page)
    screenshot(page, "02-admin-home")

    logout(page)  # one click
    assert menu_labels(page) == []
    page.reload()
    wait_for_app(page)
    assert box(page, "用户名").is_visible(), "the same tab does not log itself back in after logout"
    assert menu_labels(page) == []


def test_a_deep_link_on_a_freshly_started_server_asks_for_login_then_opens_the_page(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(f"{server.url}/users")  # the very first request this server sees
    wait_for_app(page)
    assert box(page, "用户名").is_visible()
    assert page.get_by_role("heading", name=t("page.users")).count() == 0
    screenshot(page, "03-deep-link-login")
    login(page, "demo_admin", DEMO_PASSWORD)
    page.get_by_role("heading", name=t("page.users")).wait_for()
    assert page.url.rstrip("/").endswith("/users")
    assert_no_exception(page)


def test_a_viewer_is_refused_the_accounts_page_by_url(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(f"{server.url}/users")
    wait_for_app(page)
    login(page, "demo_viewer", DEMO_PASSWORD)
    page.get_by_text(t("error.forbidden")).wait_for()
    assert page.get_by_role("heading", name=t("page.users")).count() == 0
    assert t("page.users") not in menu_labels(page)
    screenshot(page, "04-viewer-refused")


@pytest.mark.parametrize("username", list(DEMO_ACCOUNTS))
def test_each_demo_account_logs_in_sees_its_menu_and_every_page_renders(page, start_server, demo_database, username):
    role = DEMO_ACCOUNTS[username][0]
    server = start_server(demo_database)
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_text(t("layout.demo_banner")).wait_for()
    login(page, username, DEMO_PASSWORD)
    assert menu_labels(page) == expected_menu(role)
    screenshot(page, f"05-{username}-home")
    for spec in menu_for(role):
        link = page.locator("[data-testid=stSidebar] [data-testid=stPageLink]").get_by_text(
            t(spec.title_key), exact=True
        )
        click_and_wait(page, link)
        expected_path = "/" + spec.url_path
        assert re.search(re.escape(expected_path) + r"/?$", page.url.replace(server.url, "") or "/"), page.url
        assert_no_exception(page)
        assert page.get_by_text(t("error.unexpected")).count() == 0
        if spec.key == "members":
            page.locator("[data-testid=stDataFrame]").wait_for()
            # The grid draws on a canvas; its accessible cells carry the text.
            grid = page.locator("[data-testid=stDataFrame]")
            grid.locator("[role=gridcell]", has_text="生态环境部宣传教育中心").first.wait_for(state="attached")
            headers = grid.locator("[role=columnheader]").all_text_contents()
            assert (t("field.phone") in headers) == (role is not Role.VIEWER), headers
            screenshot(page, f"06-{username}-members")


def test_the_language_switch_turns_the_menu_into_english(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(server.url)
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    click_and_wait(page, page.get_by_role("option", name="English"))
    assert menu_labels(page) == expected_menu(Role.SECRETARIAT, lang="en")
    screenshot(page, "07-english")


def test_a_forced_server_error_shows_no_traceback_or_sql(page, start_server, tmp_path):
    # A PostgreSQL database that does not exist: the app fails while starting, as a misconfigured replica would.
    server = start_server("postgresql+psycopg://postgres@127.0.0.1:5432/evsn_missing_database_for_e2e")
    page.goto(server.url)
    wait_for_app(page)
    page.wait_for_timeout(500)
    body = page.inner_text("body")
    screenshot(page, "08-forced-error")
    assert t("error.unexpected") in body
    for leak in (
        "Traceback",
        "psycopg",
        "evsn_missing_database_for_e2e",
        "OperationalError",
        "SELECT",
        'File "',
    ):
        assert leak not in body, f"{leak!r} reached the browser"
    assert "evsn_missing_database_for_e2e" in server.log(), "the details belong in the server log"


def test_on_postgresql_the_app_refuses_to_run_without_a_configured_cookie_key(page, start_server):
    from tests.conftest import create_pg_database, drop_pg_database

    url = create_pg_database()
    try:
        server = start_server(url, AUTH_COOKIE_KEY="")
        page.goto(server.url)
        wait_for_app(page)
        page.get_by_text(t("error.config")).wait_for()
        assert box(page, "用户名").count() == 0 and box(page, "一次性设置令牌").count() == 0
        assert "AUTH_COOKIE_KEY" in server.log()
    finally:
        drop_pg_database(url)
