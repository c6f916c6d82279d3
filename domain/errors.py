"""Errors that carry a message key users can read (translated by the UI)."""

from typing import Any


class DomainError(Exception):
    """A refusal a user can understand: `key` is an i18n message key, `field` the form field at fault."""

    def __init__(self, key: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.params = params


class ValidationError(DomainError):
    """Bad input; nothing was written."""


class PermissionDenied(DomainError):
    """The caller's role may not do this."""

    def __init__(self, key: str = "error.forbidden", **params: Any) -> None:
        super().__init__(key, **params)


class StaleRecord(DomainError):
    """Someone else saved the record after this user loaded it."""

    def __init__(self, key: str = "error.stale", **params: Any) -> None:
        super().__init__(key, **params)


class NotFound(DomainError):
    """The record does not exist (or is not visible to the caller)."""

    def __init__(self, key: str = "error.not_found", **params: Any) -> None:
        super().__init__(key, **params)
