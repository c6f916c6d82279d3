"""Translations: every text a user reads goes through t(key); zh-CN is the default, en for partner demos."""

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = {"zh-CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh-CN"
LOCALES = Path(__file__).parent / "locales"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The message catalog of a language."""
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


_FORCED: ContextVar[str | None] = ContextVar("evsn_forced_language", default=None)


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Speak `lang` inside (for work done outside a script run, such as a deferred download)."""
    token = _FORCED.set(lang)
    try:
        yield
    finally:
        _FORCED.reset(token)


def current_language() -> str:
    """The language chosen in this browser session (zh-CN until switched)."""
    forced = _FORCED.get()
    if forced is not None:
        return forced
    try:
        import streamlit as st

        lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    except Exception:  # outside a Streamlit run (unit tests, scripts)
        lang = DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, **params: Any) -> str:
    """The text for `key` in the session's language, falling back to Chinese, then to the key itself."""
    lang = lang or current_language()
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**params) if params else text


def format_date(value: date | datetime | None, lang: str | None = None) -> str:
    """A date as users read it: 2026年11月28日 in Chinese, 2026-11-28 in English."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    if (lang or current_language()) == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def format_datetime(value: datetime | None, lang: str | None = None) -> str:
    """A moment in Asia/Shanghai time, e.g. 2026年11月28日 15:04."""
    if value is None:
        return "—"
    local = value.astimezone(SHANGHAI)
    return f"{format_date(local.date(), lang)} {local:%H:%M}"


def enum_label(group: str, value: str | None, lang: str | None = None) -> str:
    """The on-screen name of an enum value, e.g. enum_label('org_kind', 'social') -> 社会组织."""
    if value is None:
        return "—"
    return t(f"{group}.{value}", lang)


def format_phone(value: str | None) -> str:
    """A stored phone (E.164, +8613800138000) as people in China write it: 138 0013 8000, 0851 8555 1234."""
    if not value:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return value
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
