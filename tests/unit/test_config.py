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
    assert (
        shown.replace("\\", "").replace("\u200b", "")
        == "[请重新登录](https://evil.example/x) ![](https://evil.example/t.png) **粗体**"
    )


class _Headers:
    """Streamlit's headers: several lines of one header are returned by get_all."""

    def __init__(self, **lines: list[str]) -> None:
        self.lines = {k.replace("_", "-"): v for k, v in lines.items()}

    def get_all(self, key: str) -> list[str]:
        return self.lines.get(key, [])


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.5", [], "", "203.0.113.5"),
        ("203.0.113.5", ["6.6.6.6"], "", "203.0.113.5"),  # a visitor cannot pick an address by sending the header
        ("203.0.113.5", ["6.6.6.6"], "127.0.0.1", "203.0.113.5"),  # the header only counts from a trusted proxy
        (None, ["198.51.100.7"], "127.0.0.1", "198.51.100.7"),  # a proxy on the same host (Streamlit says None)
        (None, ["6.6.6.6, 198.51.100.7"], "127.0.0.1", "198.51.100.7"),  # the visitor's own entry is ignored
        (None, ["6.6.6.6", "198.51.100.7, 10.0.0.2"], "127.0.0.1,10.0.0.0/8", "198.51.100.7"),  # two header lines
        (None, ["garbage, 198.51.100.7"], "127.0.0.1", "198.51.100.7"),
        (None, ["198.51.100.7, garbage"], "127.0.0.1", "127.0.0.1"),  # malformed right end: trust nothing further
        ("2001:db8:1:2:3:4:5:6", [], "", "2001:db8:1:2::/64"),  # IPv6 counted per /64
        (None, [], "", "127.0.0.1"),
    ],
)
def test_the_public_forms_client_address_trusts_forwarded_headers_only_from_configured_proxies(
    peer, forwarded, proxies, expected
):
    from ui.config import client_address

    assert client_address(peer, _Headers(X_Forwarded_For=forwarded), {"TRUSTED_PROXIES": proxies}) == expected
