"""Council voting and term arithmetic: quorum and passing at their boundaries, consecutive sessions, 29 February,
half-open ranges."""

from datetime import date

import pytest

from domain.council import Interval, VotingRule, add_years, consecutive_sessions, decision_passes, quorum_met

DEFAULT = VotingRule()
TWO_THIRDS = VotingRule(quorum_share=2 / 3, pass_share=2 / 3)


@pytest.mark.parametrize(
    ("seated", "present", "rule", "met"),
    [
        (10, 5, DEFAULT, False),  # exactly half is not more than half
        (10, 6, DEFAULT, True),
        (10, 10, DEFAULT, True),
        (9, 4, DEFAULT, False),
        (9, 5, DEFAULT, True),
        (1, 1, DEFAULT, True),
        (1, 0, DEFAULT, False),
        (9, 6, TWO_THIRDS, False),  # exactly two thirds is not more than two thirds
        (9, 7, TWO_THIRDS, True),
        (10, 6, VotingRule(quorum_share=0.6), False),
        (10, 7, VotingRule(quorum_share=0.6), True),
        (10, 1, VotingRule(quorum_share=0.0), True),
        (10, 0, VotingRule(quorum_share=0.0), False),
        (0, 0, DEFAULT, False),  # nobody seated: no meeting can have a quorum
        (0, 0, VotingRule(quorum_share=0.0), False),
    ],
)
def test_a_quorum_needs_more_than_the_share_of_seated_units_present(seated, present, rule, met):
    assert quorum_met(seated=seated, present=present, rule=rule) is met


@pytest.mark.parametrize(
    ("present", "agree", "quorum", "rule", "passes"),
    [
        (6, 3, True, DEFAULT, False),  # half of those present is not enough
        (6, 4, True, DEFAULT, True),
        (6, 6, True, DEFAULT, True),
        (7, 3, True, DEFAULT, False),
        (7, 4, True, DEFAULT, True),
        (6, 6, False, DEFAULT, False),  # no quorum, no decision, even when all agree
        (0, 0, True, DEFAULT, False),
        (6, 4, True, TWO_THIRDS, False),  # exactly two thirds is not more than two thirds
        (6, 5, True, TWO_THIRDS, True),
        (10, 7, True, VotingRule(pass_share=0.7), False),
        (10, 8, True, VotingRule(pass_share=0.7), True),
        (6, 3, True, VotingRule(pass_share=0.4), True),
        (6, 1, True, VotingRule(pass_share=0.0), True),
        (6, 0, True, VotingRule(pass_share=0.0), False),
    ],
)
def test_a_decision_passes_with_more_than_the_share_of_present_units_agreeing(present, agree, quorum, rule, passes):
    assert decision_passes(present=present, agree=agree, quorum=quorum, rule=rule) is passes


def test_the_default_rule_is_more_than_half_for_both():
    assert (DEFAULT.quorum_share, DEFAULT.pass_share) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("held", "current", "count"),
    [
        ({1, 2, 3}, 3, 3),
        ({1, 3}, 3, 1),
        (set(), 3, 0),
        ({1, 2}, 3, 0),  # not seated in the current session: no run ends there
        ({2, 3, 4}, 3, 2),  # a later session does not count
        ({1}, 1, 1),
        ({1, 2, 4, 5}, 5, 2),
    ],
)
def test_consecutive_sessions_count_back_from_the_current_one(held, current, count):
    assert consecutive_sessions(held, current) == count


@pytest.mark.parametrize(
    ("day", "years", "result"),
    [
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 3, date(2027, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
        (date(2024, 2, 28), 1, date(2025, 2, 28)),
        (date(2025, 3, 1), 3, date(2028, 3, 1)),
        (date(2026, 12, 31), 3, date(2029, 12, 31)),
    ],
)
def test_adding_whole_years_puts_29_february_on_28_february_in_common_years(day, years, result):
    assert add_years(day, years) == result


TERM = Interval(date(2026, 1, 1), date(2027, 1, 1))


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2025, 12, 31), False),
        (date(2026, 1, 1), True),  # the first day belongs to the range
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),  # the end does not
    ],
)
def test_a_range_contains_its_start_but_not_its_end(day, inside):
    assert TERM.contains(day) is inside


@pytest.mark.parametrize(
    ("other", "overlaps"),
    [
        (Interval(date(2027, 1, 1), date(2028, 1, 1)), False),  # starts on the end: a successor, no overlap
        (Interval(date(2025, 1, 1), date(2026, 1, 1)), False),  # ends on the start: a predecessor
        (Interval(date(2026, 12, 31), date(2028, 1, 1)), True),
        (Interval(date(2025, 1, 1), date(2026, 1, 2)), True),
        (Interval(date(2026, 3, 1), date(2026, 4, 1)), True),  # inside
        (Interval(date(2025, 1, 1), date(2028, 1, 1)), True),  # around
    ],
)
def test_ranges_overlap_only_when_they_share_a_day(other, overlaps):
    assert TERM.overlaps(other) is overlaps
    assert other.overlaps(TERM) is overlaps


@pytest.mark.parametrize(
    ("inner", "within"),
    [
        (Interval(date(2026, 1, 1), date(2027, 1, 1)), True),  # the same range
        (Interval(date(2026, 6, 1), date(2027, 1, 1)), True),
        (Interval(date(2025, 12, 31), date(2027, 1, 1)), False),
        (Interval(date(2026, 1, 1), date(2027, 1, 2)), False),
    ],
)
def test_a_range_lies_within_another_only_between_its_start_and_end(inner, within):
    assert inner.within(TERM) is within
