"""Login throttling, revocation and idle timeout as pure rules over times (the users table keeps the state)."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures within which window lock an account, for how long; when an idle session ends."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(hours=8)


@dataclass(frozen=True)
class FailureState:
    """The throttle columns of one user."""

    failed_attempts: int
    window_start: datetime | None
    locked_until: datetime | None


def is_locked(state: FailureState, now: datetime) -> bool:
    """Whether the account is locked at `now`."""
    return state.locked_until is not None and now < state.locked_until


def after_failure(state: FailureState, now: datetime, policy: LoginPolicy) -> FailureState:
    """The state after one more failed password: counted within the window, locked at the limit."""
    if is_locked(state, now):
        return state  # guessing during a lock neither extends nor shortens it
    in_window = state.window_start is not None and now - state.window_start < policy.window
    attempts = state.failed_attempts + 1 if in_window else 1
    start = state.window_start if in_window else now
    if attempts >= policy.max_failures:
        return FailureState(failed_attempts=0, window_start=None, locked_until=now + policy.lock)
    return FailureState(failed_attempts=attempts, window_start=start, locked_until=None)


def session_is_valid(
    *,
    logged_in_at: datetime,
    sessions_not_before: datetime | None,
    last_activity_at: datetime | None,
    now: datetime,
    policy: LoginPolicy,
) -> bool:
    """A session (or cookie) stands if it began after the last revocation and the user was not idle too long."""
    if sessions_not_before is not None and logged_in_at < sessions_not_before:
        return False
    last_seen = max(t for t in (last_activity_at, logged_in_at) if t is not None)
    return now - last_seen <= policy.idle_timeout
