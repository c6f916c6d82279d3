"""Throttle and session rules, over plain times."""

from datetime import UTC, datetime, timedelta

from domain.auth_policy import FailureState, LoginPolicy, after_failure, is_locked, session_is_valid

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
POLICY = LoginPolicy()
CLEAN = FailureState(0, None, None)


def fail(times: int, start: datetime = T0, step: timedelta = timedelta(seconds=10)) -> FailureState:
    state = CLEAN
    for i in range(times):
        state = after_failure(state, start + i * step, POLICY)
    return state


def test_four_failures_do_not_lock_and_the_fifth_locks_for_15_minutes():
    assert not is_locked(fail(4), T0 + timedelta(minutes=1))
    locked = fail(5)
    assert is_locked(locked, T0 + timedelta(minutes=1))
    assert locked.locked_until == T0 + timedelta(seconds=40) + timedelta(minutes=15)
    assert not is_locked(locked, locked.locked_until)


def test_failures_spread_wider_than_the_window_never_lock():
    assert not is_locked(fail(10, step=timedelta(minutes=4)), T0 + timedelta(minutes=40))


def test_guessing_during_a_lock_does_not_extend_it():
    locked = fail(5)
    assert after_failure(locked, T0 + timedelta(minutes=5), POLICY) == locked


def test_a_session_from_before_logout_is_refused():
    logout = T0 + timedelta(hours=1)
    assert not session_is_valid(
        logged_in_at=T0,
        sessions_not_before=logout,
        last_activity_at=logout,
        now=logout + timedelta(seconds=1),
        policy=POLICY,
    )
    assert session_is_valid(
        logged_in_at=logout + timedelta(seconds=5),
        sessions_not_before=logout,
        last_activity_at=None,
        now=logout + timedelta(minutes=1),
        policy=POLICY,
    )


def test_eight_idle_hours_end_a_session():
    assert session_is_valid(
        logged_in_at=T0,
        sessions_not_before=None,
        last_activity_at=T0 + timedelta(hours=7),
        now=T0 + timedelta(hours=15),
        policy=POLICY,
    )
    assert not session_is_valid(
        logged_in_at=T0,
        sessions_not_before=None,
        last_activity_at=T0 + timedelta(hours=1),
        now=T0 + timedelta(hours=9, seconds=1),
        policy=POLICY,
    )
