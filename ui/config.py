"""Runtime configuration that is not in the database: the login cookie key and timings."""

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from db.engine import is_sqlite
from domain.applications import IntakeLimits
from domain.auth_policy import LoginPolicy

MIN_KEY_CHARS = 32
PLACEHOLDERS = {"replace-me", "some_key", "changeme", "change-me", "secret"}


class ConfigError(RuntimeError):
    """The app must not start with this configuration."""


def _sqlite_key_file(database_url: str) -> Path:
    database = make_url(database_url).database or "data/app.sqlite"
    return Path(database).resolve().parent / ".cookie_key"


def resolve_cookie_key(*, env: Mapping[str, str], secrets_auth: Mapping[str, str], database_url: str) -> str:
    """The key that signs login cookies: from env or secrets; generated once only for a single SQLite install."""
    configured = env.get("AUTH_COOKIE_KEY") or secrets_auth.get("cookie_key") or ""
    if configured:
        if len(configured) < MIN_KEY_CHARS or configured.strip().lower() in PLACEHOLDERS:
            raise ConfigError("AUTH_COOKIE_KEY must be at least 32 random characters (not a placeholder)")
        return configured
    if not is_sqlite(database_url):
        raise ConfigError("AUTH_COOKIE_KEY (or [auth] cookie_key in secrets.toml) is required on PostgreSQL")
    key_file = _sqlite_key_file(database_url)
    if key_file.exists():
        key = key_file.read_text(encoding="ascii").strip()
        if len(key) >= MIN_KEY_CHARS:
            return key
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def signing_key(cookie_key: str, expiry_days: float) -> str:
    """The key that actually signs cookies: bound to the cookie lifetime, so changing AUTH_COOKIE_DAYS retires
    every earlier cookie instead of shifting the issue time derived from their expiry."""
    message = f"evsn-login-cookie:v1:{expiry_days:g}".encode()
    return hmac.new(cookie_key.encode(), message, hashlib.sha256).hexdigest()


def cookie_expiry_days() -> float:
    """How long a login cookie lives (days); logout and idle timeout end it sooner."""
    return float(os.environ.get("AUTH_COOKIE_DAYS", "7"))


def login_policy(env: Mapping[str, str] | None = None) -> LoginPolicy:
    """Throttle and idle settings from the environment (defaults: 5 failures in 15 min lock 15 min; 8 h idle)."""
    env = os.environ if env is None else env
    return LoginPolicy(
        max_failures=int(env.get("LOGIN_MAX_FAILURES", "5")),
        window=timedelta(seconds=int(env.get("LOGIN_WINDOW_SECONDS", "900"))),
        lock=timedelta(seconds=int(env.get("LOGIN_LOCK_SECONDS", "900"))),
        idle_timeout=timedelta(seconds=int(env.get("IDLE_TIMEOUT_SECONDS", str(8 * 3600)))),
    )


def intake_limits(env: Mapping[str, str] | None = None) -> IntakeLimits:
    """Hourly limits of the public form (defaults: 10 per client address, 300 in total)."""
    env = os.environ if env is None else env
    return IntakeLimits(
        per_client=int(env.get("INTAKE_LIMIT_PER_CLIENT", "10")),
        total=int(env.get("INTAKE_LIMIT_PER_HOUR", "300")),
    )


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for part in text.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return networks


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None


def client_address(ip_address: str | None, headers: Any, env: Mapping[str, str] | None = None) -> str:
    """The visitor's address for the public form's limits.

    The connecting address, unless it is one of TRUSTED_PROXIES (comma-separated addresses or networks, e.g.
    ``127.0.0.1,10.0.0.0/8``): then the X-Forwarded-For chain (all header lines) is read from the right, and
    the first address that is not a trusted proxy is the visitor's. A visitor connecting directly cannot choose
    their address by sending the header. IPv6 visitors are counted per /64 network (one subscriber's range)."""
    env = os.environ if env is None else env
    proxies = _networks(env.get("TRUSTED_PROXIES", ""))
    peer = _parse(ip_address or "127.0.0.1")  # Streamlit reports local connections as None
    visitor = peer
    if peer is not None and any(peer in net for net in proxies):
        lines = headers.get_all("X-Forwarded-For") if hasattr(headers, "get_all") else [headers.get("X-Forwarded-For")]
        chain = [_parse(hop) for line in lines if line for hop in line.split(",")]
        for hop in reversed(chain):
            if hop is None:
                break  # a malformed entry: trust nothing further left
            visitor = hop
            if not any(hop in net for net in proxies):
                break
    if visitor is None:
        return "unknown"
    if visitor.version == 6:
        return str(ipaddress.ip_network(f"{visitor}/64", strict=False))
    return str(visitor)
