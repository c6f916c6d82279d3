"""Running a real `streamlit run app.py` server and driving it with Debian's Chromium through Playwright."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
TOKEN_LINE = re.compile(r"one-time setup token: (\S+)")


def chromium_path() -> str:
    """Debian's Chromium; skipped on a laptop without it, a failure under CI=true."""
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is required under CI=true (apt-get install chromium fonts-noto-cjk)")
    pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A streamlit process on a free port with its own database and log."""

    database_url: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"streamlit-{self.port}.log"

    def start(self) -> "Server":
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
        env.update({"DATABASE_URL": self.database_url, "BCRYPT_ROUNDS": "4", "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit did not answer /_stcore/health:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def setup_token(self, timeout: float = 20) -> str:
        """The latest one-time setup token the server printed (the first page load makes it print one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tokens = TOKEN_LINE.findall(self.log())
            if tokens:
                return tokens[-1]
            time.sleep(0.2)
        raise AssertionError(f"no setup token in the server log:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_for_app(page, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the script run is over and nothing is still loading (Streamlit's own e2e rule)."""
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    page.wait_for_function("!document.querySelector('[data-testid=stSkeleton]')", timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def click_and_wait(page, locator, started_within: float = 2_000) -> None:  # type: ignore[no-untyped-def]
    """Click, then wait for the rerun it causes to start and to finish. Waiting only for 'not running'
    can return before a slow (loaded machine) rerun has even begun."""
    locator.click()
    try:
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", timeout=started_within)
    except Exception:
        pass
    wait_for_app(page)


def assert_no_exception(page) -> None:  # type: ignore[no-untyped-def]
    """An exception box or a traceback on screen fails the test."""
    assert page.locator("[data-testid=stException]").count() == 0, "an exception is shown on the page"
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body, "a traceback is shown on the page"
    # app.py turns an uncaught exception into this message (no stException box, no traceback): still a failure
    from ui.i18n import catalog

    for lang in ("zh-CN", "en"):
        assert catalog(lang)["error.unexpected"] not in body, "the app's unexpected-error message is shown"


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def box(page, label: str):  # type: ignore[no-untyped-def]
    """The text box with exactly this label."""
    return page.get_by_role("textbox", name=label, exact=True)


def login(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the real form (the library's st.form)."""
    box(page, "用户名").fill(username)
    box(page, "密码").fill(password)
    click_and_wait(page, page.locator("[data-testid=stForm]").get_by_role("button", name="登录"))


def logout(page) -> None:  # type: ignore[no-untyped-def]
    click_and_wait(page, page.get_by_role("button", name="退出登录"))
    box(page, "用户名").wait_for(timeout=15_000)


def has_chromium() -> bool:
    return any(os.path.exists(c) for c in CHROMIUM_CANDIDATES) or shutil.which("chromium") is not None
