"""The committed Streamlit configuration keeps the safe settings (the browser test checks them in action)."""

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_server_hides_error_details_and_keeps_xsrf_and_cors_protection():
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["showSidebarNavigation"] is False
    assert config["server"]["enableXsrfProtection"] is True and config["server"]["enableCORS"] is True
    assert config["server"]["maxUploadSize"] <= 50
    assert config["browser"]["gatherUsageStats"] is False


def test_no_secret_file_or_database_is_tracked_by_git():
    import subprocess

    root = CONFIG.parent.parent
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    names = tracked.splitlines()
    assert ".streamlit/secrets.toml" not in names
    assert not [n for n in names if n.endswith((".sqlite", ".db", ".cookie_key"))]
