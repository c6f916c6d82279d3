"""Normalisation of names and identifiers (DESIGN.md: NFKC, no spaces, upper case for codes)."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Zero-width characters that survive NFKC and make two equal-looking names differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def clean_text(value: str | None) -> str:
    """Strip outer white space and invisible characters, keep the text as typed otherwise."""
    if value is None:
        return ""
    return value.translate(_INVISIBLE).strip()


def name_key(name: str) -> str:
    """The form of a name used to detect duplicates: NFKC, no white space, case-folded."""
    folded = unicodedata.normalize("NFKC", clean_text(name))
    return _SPACES.sub("", folded).casefold()


def normalise_identifier(value: str | None) -> str:
    """Identifiers (credit codes, phone numbers) as stored: NFKC, no spaces or dashes, upper case."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    return _SPACES.sub("", text).replace("-", "").upper()


def has_control_characters(value: str) -> bool:
    """True when the text holds control characters (NUL and friends) other than newline and tab."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value)


def pinyin_key(name: str) -> str:
    """The sort key users expect for Chinese names: their pinyin (重庆 before 北京 would surprise them)."""
    from pypinyin import Style, lazy_pinyin  # imported here: its dictionaries take a moment to load

    syllables = lazy_pinyin(unicodedata.normalize("NFKC", clean_text(name)), style=Style.TONE3, errors="default")
    return " ".join(s.strip().casefold() for s in syllables if s.strip())[:400]


def bounded_text(value: str | None, *, field: str, limit: int, required: bool = False) -> str:
    """Free text as stored: cleaned, required if asked, at most `limit` characters, no control characters;
    otherwise a ValidationError naming the field."""
    from domain.errors import ValidationError

    text = clean_text(value)
    if required and not text:
        raise ValidationError("validation.required", field=field)
    if len(text) > limit:
        raise ValidationError("validation.too_long", field=field, max=limit)
    if has_control_characters(text.replace("\r", "")):
        raise ValidationError("validation.control_characters", field=field)
    return text
