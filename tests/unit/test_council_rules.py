"""Council term arithmetic: three-year sessions, 29 February, half-open ranges."""

from datetime import date

import pytest

from domain.council import Interval, add_years, check_term, session_end
from domain.errors import ValidationError


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2029, 1, 1)),
        (date(2028, 2, 29), date(2031, 2, 28)),
        (date(2025, 6, 30), date(2028, 6, 30)),
    ],
)
def test_a_session_lasts_three_years(start, end):
    assert session_end(start) == end


def test_29_february_plus_four_years_stays_29_february():
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_ranges_are_half_open():
    first, second = Interval(date(2026, 1, 1), date(2027, 1, 1)), Interval(date(2027, 1, 1), date(2028, 1, 1))
    assert not first.overlaps(second) and not first.contains(date(2027, 1, 1)) and second.contains(date(2027, 1, 1))


SESSION = Interval(date(2026, 1, 1), date(2029, 1, 1))


@pytest.mark.parametrize(
    ("seat", "term", "source", "key"),
    [
        (0, Interval(date(2026, 1, 1), date(2029, 1, 1)), "invited", "validation.seat_range"),
        (11, Interval(date(2026, 1, 1), date(2029, 1, 1)), "invited", "validation.seat_range"),
        (1, Interval(date(2027, 1, 1), date(2026, 1, 1)), "invited", "validation.dates_reversed"),
        (1, Interval(date(2025, 12, 31), date(2029, 1, 1)), "invited", "validation.term_outside_session"),
        (1, Interval(date(2026, 1, 1), date(2029, 1, 2)), "invited", "validation.term_outside_session"),
        (1, Interval(date(2026, 1, 1), date(2029, 1, 1)), "appointed", "validation.choice"),
    ],
)
def test_a_term_breaking_a_rule_is_refused(seat, term, source, key):
    with pytest.raises(ValidationError) as err:
        check_term(seat=seat, term=term, session=SESSION, source=source, representative="张三")
    assert err.value.key == key


def test_a_by_election_for_the_rest_of_the_session_is_accepted():
    check_term(
        seat=3,
        term=Interval(date(2027, 5, 1), date(2029, 1, 1)),
        session=SESSION,
        source="by_election",
        representative="李四",
    )
