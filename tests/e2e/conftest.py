"""Browser fixtures: Debian's Chromium through Playwright, and real streamlit servers on free ports."""

import os
from collections.abc import Iterator

import pytest

from db.engine import make_engine
from db.migrate import upgrade_to_head
from tests.e2e.harness import CHROMIUM_ARGS, Server, chromium_path

COOKIE_KEY = "e2e-" + "k" * 44


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is required under CI=true")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture
def start_server(tmp_path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Start servers for a test (each a fresh process); all are stopped at its end."""
    servers: list[Server] = []

    def start(database_url: str | None = None, **env: str) -> Server:
        url = database_url or f"sqlite:///{tmp_path / 'app.sqlite'}"
        server = Server(database_url=url, workdir=tmp_path, extra_env={"AUTH_COOKIE_KEY": COOKIE_KEY, **env})
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    """A SQLite database filled by the demo seeder (the same one `make demo` writes)."""
    from scripts.seed_demo import seed

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed(engine=engine)
    engine.dispose()
    return url
