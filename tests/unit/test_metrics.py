"""The overview's arithmetic (domain/metrics.py): periods of whole months across year boundaries, the previous
period of equal length, the presets, changes against the previous period, medians from a histogram and the
review-time buckets."""

from datetime import date
from itertools import pairwise

import pytest

from domain.errors import ValidationError
from domain.metrics import (
    REVIEW_BUCKETS,
    Period,
    add_months,
    change,
    first_of_month,
    median_from_histogram,
    period,
    preset,
    review_bucket,
)

# ---------------------------------------------------------------- months and periods


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2025, 11, 1), 14, date(2027, 1, 1)),
        (date(2026, 3, 1), -27, date(2023, 12, 1)),
        (date(2026, 5, 31), 0, date(2026, 5, 1)),
    ],
)
def test_adding_months_crosses_years_in_both_directions(month, count, expected):
    assert add_months(month, count) == expected


def test_the_first_of_a_month_keeps_year_and_month():
    assert first_of_month(date(2024, 2, 29)) == date(2024, 2, 1)


def test_november_to_february_spans_four_months_and_the_previous_period_is_july_to_october():
    spanned = period(date(2025, 11, 17), date(2026, 2, 3))
    assert spanned == Period(date(2025, 11, 1), date(2026, 2, 1))
    assert spanned.months == 4
    assert spanned.end == date(2026, 3, 1)
    assert spanned.last_day == date(2026, 2, 28)
    assert spanned.month_list() == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    before = spanned.previous()
    assert before == Period(date(2025, 7, 1), date(2025, 10, 1))
    assert before.months == 4
    assert before.end == spanned.first
    assert before.last_day == date(2025, 10, 31)


def test_the_previous_period_of_a_whole_calendar_year_is_the_year_before():
    year = Period(date(2026, 1, 1), date(2026, 12, 1))
    assert year.months == 12
    assert year.end == date(2027, 1, 1)
    assert year.last_day == date(2026, 12, 31)
    assert year.previous() == Period(date(2025, 1, 1), date(2025, 12, 1))


def test_a_period_of_one_month_is_compared_with_the_month_before():
    january = period(date(2026, 1, 31), date(2026, 1, 1))
    assert january.months == 1 and january.month_list() == [date(2026, 1, 1)]
    assert january.previous() == Period(date(2025, 12, 1), date(2025, 12, 1))
    assert january.previous().last_day == date(2025, 12, 31)


def test_the_last_day_of_a_february_knows_leap_years():
    assert Period(date(2028, 2, 1), date(2028, 2, 1)).last_day == date(2028, 2, 29)
    assert Period(date(2027, 2, 1), date(2027, 2, 1)).last_day == date(2027, 2, 28)


def test_a_long_period_lists_every_month_once_in_order():
    long = period(date(2023, 12, 5), date(2026, 1, 5))
    months = long.month_list()
    assert len(months) == long.months == 26
    assert months[0] == date(2023, 12, 1) and months[-1] == date(2026, 1, 1)
    assert months == sorted(set(months))
    assert long.previous() == Period(date(2021, 10, 1), date(2023, 11, 1))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 2, 1), date(2026, 1, 31)),
        (date(2026, 1, 1), date(2025, 12, 31)),
        (date(2027, 1, 1), date(2026, 6, 1)),
    ],
)
def test_a_period_whose_months_are_reversed_is_refused(first, last):
    with pytest.raises(ValidationError) as err:
        period(first, last)
    assert err.value.key == "validation.dates_reversed" and err.value.field == "period"


# ---------------------------------------------------------------- presets

TODAY = date(2026, 11, 28)


def test_this_year_runs_from_january_to_this_month():
    assert preset("year", TODAY, None) == Period(date(2026, 1, 1), date(2026, 11, 1))
    assert preset("year", date(2026, 1, 1), None) == Period(date(2026, 1, 1), date(2026, 1, 1))


def test_the_last_twelve_months_include_this_month_and_cross_the_year():
    last_12 = preset("12m", TODAY, None)
    assert last_12 == Period(date(2025, 12, 1), date(2026, 11, 1))
    assert last_12.months == 12
    assert preset("12m", date(2026, 1, 15), None) == Period(date(2025, 2, 1), date(2026, 1, 1))


def test_all_starts_at_the_month_of_the_earliest_record():
    assert preset("all", TODAY, date(2019, 6, 18)) == Period(date(2019, 6, 1), date(2026, 11, 1))


def test_all_without_any_record_is_this_month_only():
    assert preset("all", TODAY, None) == Period(date(2026, 11, 1), date(2026, 11, 1))


def test_all_with_an_earliest_record_in_this_month_or_later_is_this_month_only():
    assert preset("all", TODAY, date(2026, 11, 2)) == Period(date(2026, 11, 1), date(2026, 11, 1))
    assert preset("all", TODAY, date(2030, 5, 1)) == Period(date(2026, 11, 1), date(2026, 11, 1))


def test_an_unknown_preset_is_refused():
    with pytest.raises(ValidationError) as err:
        preset("week", TODAY, None)
    assert err.value.key == "validation.choice"


# ---------------------------------------------------------------- changes


def test_a_rise_and_a_fall_give_the_difference_and_the_relative_change():
    rise = change(15, 10)
    assert (rise.value, rise.previous, rise.delta) == (15, 10, 5)
    assert rise.ratio == pytest.approx(0.5)
    fall = change(3, 12)
    assert fall.delta == -9 and fall.ratio == pytest.approx(-0.75)


def test_against_an_empty_previous_period_there_is_no_ratio():
    new = change(7, 0)
    assert (new.value, new.previous, new.delta, new.ratio) == (7, 0, 7, None)


def test_zero_against_zero_is_no_change_and_no_ratio():
    nothing = change(0, 0)
    assert (nothing.value, nothing.previous, nothing.delta, nothing.ratio) == (0, 0, 0, None)


def test_falling_to_zero_is_minus_one_hundred_percent():
    gone = change(0, 4)
    assert gone.delta == -4 and gone.ratio == pytest.approx(-1.0)


def test_fractions_keep_their_precision():
    hours = change(12.5, 10.0)
    assert hours.delta == pytest.approx(2.5) and hours.ratio == pytest.approx(0.25)


# ---------------------------------------------------------------- medians


def test_the_median_of_an_odd_count_is_the_middle_value():
    # 2, 2, 5, 9, 9 -> 5
    assert median_from_histogram({9: 2, 2: 2, 5: 1}) == 5.0


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_values():
    # 1, 4, 4, 10 -> (4 + 4) / 2 ; 3, 8 -> 5.5
    assert median_from_histogram({10: 1, 1: 1, 4: 2}) == 4.0
    assert median_from_histogram({3: 1, 8: 1}) == 5.5


def test_the_median_of_a_single_value_is_that_value():
    assert median_from_histogram({0: 1}) == 0.0
    assert median_from_histogram({42: 7}) == 42.0


def test_the_median_of_nothing_is_none():
    assert median_from_histogram({}) is None
    assert median_from_histogram({3: 0, 8: 0}) is None


def test_values_counted_zero_times_are_ignored():
    # only 1, 2, 100 count -> 2 (a zero count of 50 would otherwise pull it)
    assert median_from_histogram({1: 1, 2: 1, 50: 0, 100: 1}) == 2.0
    assert median_from_histogram({1: 1, 7: 0, 9: 1}) == 5.0


def test_the_median_of_a_skewed_histogram_falls_in_the_heavy_value():
    # 1 x 1, 3 x 6, 90 x 2 -> nine values, the fifth is 3
    assert median_from_histogram({90: 2, 1: 1, 3: 6}) == 3.0


# ---------------------------------------------------------------- review buckets


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, 0), (7, 0), (8, 1), (14, 1), (15, 2), (30, 2), (31, 3), (60, 3), (61, 4), (90, 4), (91, 5), (400, 5)],
)
def test_a_review_time_falls_in_its_bucket(days, bucket):
    assert review_bucket(days) == bucket


def test_the_buckets_cover_every_day_without_gaps_or_overlaps():
    assert REVIEW_BUCKETS[0][0] == 0 and REVIEW_BUCKETS[-1][1] is None
    for (_, high), (low, _) in pairwise(REVIEW_BUCKETS):
        assert high is not None and low == high + 1
    for days in range(0, 200):
        low, high = REVIEW_BUCKETS[review_bucket(days)]
        assert low <= days and (high is None or days <= high)
