"""The login cookie key: configured, or generated once for a single SQLite install; never a placeholder."""

import stat

import pytest

from ui.config import ConfigError, resolve_cookie_key

PG = "postgresql+psycopg://postgres@127.0.0.1/app"


def test_postgresql_refuses_to_start_without_a_configured_key():
    with pytest.raises(ConfigError, match="required on PostgreSQL"):
        resolve_cookie_key(env={}, secrets_auth={}, database_url=PG)


@pytest.mark.parametrize("weak", ["replace-me", "short", "some_key"])
def test_weak_or_placeholder_keys_are_refused(weak):
    with pytest.raises(ConfigError):
        resolve_cookie_key(env={"AUTH_COOKIE_KEY": weak}, secrets_auth={}, database_url=PG)


def test_a_key_from_the_environment_wins_over_secrets():
    key = "k" * 40
    assert (
        resolve_cookie_key(env={"AUTH_COOKIE_KEY": key}, secrets_auth={"cookie_key": "s" * 40}, database_url=PG) == key
    )
    assert resolve_cookie_key(env={}, secrets_auth={"cookie_key": "s" * 40}, database_url=PG) == "s" * 40


def test_a_single_sqlite_install_generates_its_key_once_outside_git(tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'app.sqlite'}"
    first = resolve_cookie_key(env={}, secrets_auth={}, database_url=url)
    second = resolve_cookie_key(env={}, secrets_auth={}, database_url=url)
    key_file = tmp_path / "data" / ".cookie_key"
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_cookie_signing_key_changes_with_the_cookie_lifetime():
    from ui.config import signing_key

    base = "b" * 40
    assert signing_key(base, 7) == signing_key(base, 7.0)
    assert signing_key(base, 7) != signing_key(base, 1)
    assert signing_key(base, 7) != signing_key("c" * 40, 7)


def test_user_text_is_inert_in_markdown():
    from ui.forms import plain

    shown = plain("[请重新登录](https://evil.example/x) ![](https://evil.example/t.png) **粗体**")
    assert "](" not in shown.replace("\\]\\(", "")
    assert shown.replace("\\", "") == "[请重新登录](https://evil.example/x) ![](https://evil.example/t.png) **粗体**"
