"""Password and username rules (bcrypt reads at most 72 bytes, so longer passphrases are refused)."""

import re

from domain.errors import ValidationError

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,39}$")


def check_password(password: str, repeat: str | None = None) -> str:
    """Return the password if it may be used, else raise ValidationError with a message key."""
    if repeat is not None and password != repeat:
        raise ValidationError("validation.password_mismatch", field="password_repeat")
    if password != password.strip():
        # The login form strips what is typed; a password with outer spaces could never be entered.
        raise ValidationError("validation.password_outer_space", field="password")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError("validation.password_too_short", field="password", min=MIN_PASSWORD_CHARS)
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationError("validation.password_too_long", field="password", max=MAX_PASSWORD_BYTES)
    if "\x00" in password:
        raise ValidationError("validation.control_characters", field="password")
    return password


def check_username(username: str) -> str:
    """Return the username lower-cased if it is well formed (the login library lower-cases what is typed)."""
    value = username.strip().lower()
    if not USERNAME_PATTERN.match(value):
        raise ValidationError("validation.username_invalid", field="username")
    return value
