"""Activity rules without a database: the status at its boundaries, the period, series, the waitlist counted in
people and strictly in order, outcomes, and China's holidays and make-up working days on the calendar."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from domain.activities import (
    MAX_DURATION,
    MAX_SERIES,
    ActivityStatus,
    Outcome,
    Repeat,
    check_capacity,
    check_link,
    check_outcome,
    check_people,
    check_period,
    fits,
    place_key,
    promotions,
    series_starts,
    status_of,
)
from domain.clock import SHANGHAI
from domain.errors import ValidationError
from domain.holidays import DayMark, day_marks, known_year


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


START = at(date(2026, 5, 10), 9)
END = at(date(2026, 5, 10), 12)  # three hours


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (START - timedelta(microseconds=1), ActivityStatus.PLANNED),
        (START, ActivityStatus.ONGOING),
        (END - timedelta(microseconds=1), ActivityStatus.ONGOING),
        (END, ActivityStatus.FINISHED),
        (END + timedelta(days=400), ActivityStatus.FINISHED),
    ],
)
def test_an_activity_is_ongoing_from_its_start_and_finished_at_its_end(now, status):
    assert status_of(starts_at=START, ends_at=END, cancelled=False, now=now) is status


def test_the_status_compares_instants_not_wall_clocks():
    # 01:00 UTC is 09:00 in Shanghai: the activity has just begun
    assert status_of(starts_at=START, ends_at=END, cancelled=False, now=datetime(2026, 5, 10, 1, tzinfo=UTC)) is (
        ActivityStatus.ONGOING
    )


@pytest.mark.parametrize("now", [START - timedelta(days=1), START, END, END + timedelta(days=1)])
def test_a_cancelled_activity_is_cancelled_whatever_the_clock_says(now):
    assert status_of(starts_at=START, ends_at=END, cancelled=True, now=now) is ActivityStatus.CANCELLED


# ---------------------------------------------------------------- period


def refused(call, *args, **kwargs) -> ValidationError:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        call(*args, **kwargs)
    return err.value


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "key", "field"),
    [
        (START.replace(tzinfo=None), END, "validation.date_invalid", "starts_at"),
        (START, END.replace(tzinfo=None), "validation.date_invalid", "starts_at"),
        (START.replace(tzinfo=None), END.replace(tzinfo=None), "validation.date_invalid", "starts_at"),
        (START, START, "validation.end_before_start", "ends_at"),
        (START, START - timedelta(minutes=1), "validation.end_before_start", "ends_at"),
        (START, START + MAX_DURATION + timedelta(seconds=1), "validation.activity_too_long", "ends_at"),
        (START, START + timedelta(days=93), "validation.activity_too_long", "ends_at"),
        (at(date(1999, 12, 31), 9), at(date(2000, 1, 1), 9), "validation.year_range", "starts_at"),
        (at(date(2100, 12, 31), 9), at(date(2101, 1, 1), 9), "validation.year_range", "ends_at"),
        (at(date(2101, 1, 1), 9), at(date(2101, 1, 1), 12), "validation.year_range", "starts_at"),
    ],
)
def test_a_bad_period_is_refused_with_the_field_at_fault(starts_at, ends_at, key, field):
    error = refused(check_period, starts_at, ends_at)
    assert (error.key, error.field) == (key, field)


def test_the_years_are_those_of_shanghai_not_utc():
    # 2100-12-31 17:00 UTC is already 2101-01-01 01:00 in Shanghai
    error = refused(check_period, datetime(2100, 12, 31, 10, tzinfo=UTC), datetime(2100, 12, 31, 17, tzinfo=UTC))
    assert (error.key, error.field) == ("validation.year_range", "ends_at")
    # 1999-12-31 16:00 UTC is 2000-01-01 00:00 in Shanghai
    check_period(datetime(1999, 12, 31, 16, tzinfo=UTC), datetime(1999, 12, 31, 18, tzinfo=UTC))


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        (START, START + timedelta(minutes=1)),
        (START, START + MAX_DURATION),
        (at(date(2000, 1, 1), 0), at(date(2000, 1, 1), 1)),
        (at(date(2100, 12, 31), 9), at(date(2100, 12, 31), 23, 59)),
        (datetime(2026, 5, 10, 1, tzinfo=UTC), END),
    ],
)
def test_a_good_period_is_accepted(starts_at, ends_at):
    check_period(starts_at, ends_at)


def test_ninety_two_days_is_the_longest_activity():
    assert MAX_DURATION == timedelta(days=92)


# ---------------------------------------------------------------- series


def test_a_single_activity_is_its_own_series():
    assert series_starts(START, Repeat.NONE, 1) == [START]


def test_a_weekly_series_starts_every_seven_days_at_the_same_time():
    starts = series_starts(at(date(2026, 12, 28), 19, 30), Repeat.WEEKLY, 4)
    assert starts == [
        at(date(2026, 12, 28), 19, 30),
        at(date(2027, 1, 4), 19, 30),
        at(date(2027, 1, 11), 19, 30),
        at(date(2027, 1, 18), 19, 30),
    ]


def test_a_monthly_series_from_the_31st_falls_on_each_months_last_day():
    starts = series_starts(at(date(2026, 1, 31), 14), Repeat.MONTHLY, 5)
    assert [s.date() for s in starts] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert {s.timetz().replace(tzinfo=None) for s in starts} == {time(14)}


def test_a_monthly_series_from_29_february_keeps_the_29th_where_it_exists():
    starts = series_starts(at(date(2028, 2, 29)), Repeat.MONTHLY, 3)
    assert [s.date() for s in starts] == [date(2028, 2, 29), date(2028, 3, 29), date(2028, 4, 29)]


def test_a_monthly_series_crosses_the_new_year():
    starts = series_starts(at(date(2026, 11, 30)), Repeat.MONTHLY, 4)
    assert [s.date() for s in starts] == [date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 30), date(2027, 2, 28)]


@pytest.mark.parametrize("repeat", [Repeat.WEEKLY, Repeat.MONTHLY])
def test_a_series_keeps_the_wall_clock_time_in_shanghai_whatever_zone_it_was_typed_in(repeat):
    first = datetime(2026, 1, 31, 11, 30, tzinfo=UTC)  # 19:30 in Shanghai
    starts = series_starts(first, repeat, 6)
    assert starts[0] == first
    for start in starts:
        local = start.astimezone(SHANGHAI)
        assert (local.hour, local.minute, local.utcoffset()) == (19, 30, timedelta(hours=8))


@pytest.mark.parametrize("repeat", [Repeat.WEEKLY, Repeat.MONTHLY])
@pytest.mark.parametrize("count", [-1, 0, 1, MAX_SERIES + 1, 53, 1000])
def test_a_series_of_fewer_than_two_or_more_than_fifty_two_is_refused(repeat, count):
    error = refused(series_starts, START, repeat, count)
    assert (error.key, error.field, error.params) == ("validation.series_count", "repeat_count", {"max": 52})


@pytest.mark.parametrize("repeat", [Repeat.WEEKLY, Repeat.MONTHLY])
def test_fifty_two_occurrences_are_allowed(repeat):
    starts = series_starts(START, repeat, MAX_SERIES)
    assert len(starts) == 52 and len(set(starts)) == 52 and starts == sorted(starts)


def test_a_series_running_past_2100_is_refused():
    error = refused(series_starts, at(date(2100, 11, 15)), Repeat.MONTHLY, 3)
    assert (error.key, error.field) == ("validation.year_range", "repeat_count")
    assert len(series_starts(at(date(2100, 11, 15)), Repeat.MONTHLY, 2)) == 2


# ---------------------------------------------------------------- capacity, people and the waitlist


def test_without_a_capacity_everyone_waiting_moves_up_in_order():
    assert promotions(capacity=None, confirmed_people=10_000, waitlist=[(7, 500), (3, 1), (9, 9_999)]) == [7, 3, 9]


def test_promotions_stop_at_the_first_group_that_does_not_fit():
    # capacity 10, 6 taken: the 5 at the head does not fit, so the 1 and the 2 behind it wait too
    assert promotions(capacity=10, confirmed_people=6, waitlist=[(1, 5), (2, 1), (3, 2)]) == []


def test_promotions_take_groups_in_order_while_they_fit():
    assert promotions(capacity=10, confirmed_people=2, waitlist=[(1, 3), (2, 4), (3, 2), (4, 1)]) == [1, 2]
    assert promotions(capacity=10, confirmed_people=2, waitlist=[(1, 3), (2, 4), (3, 1), (4, 1)]) == [1, 2, 3]


def test_a_group_that_exactly_fills_the_last_places_moves_up():
    assert promotions(capacity=5, confirmed_people=2, waitlist=[(1, 3), (2, 1)]) == [1]


def test_an_empty_waitlist_promotes_nobody():
    assert promotions(capacity=5, confirmed_people=0, waitlist=[]) == []


@pytest.mark.parametrize(
    ("capacity", "confirmed", "people", "fit"),
    [(None, 10**6, 10_000, True), (5, 0, 5, True), (5, 4, 1, True), (5, 4, 2, False), (5, 5, 1, False)],
)
def test_a_group_fits_while_the_people_stay_within_the_capacity(capacity, confirmed, people, fit):
    assert fits(capacity=capacity, confirmed_people=confirmed, people=people) is fit


def test_a_group_larger_than_the_whole_activity_is_refused():
    error = refused(check_people, 6, 5)
    assert (error.key, error.field, error.params) == ("validation.people_over_capacity", "people", {"capacity": 5})


@pytest.mark.parametrize(("people", "capacity"), [(0, 5), (-1, None), (10_001, None)])
def test_a_number_of_people_outside_one_to_ten_thousand_is_refused(people, capacity):
    error = refused(check_people, people, capacity)
    assert (error.key, error.field) == ("validation.number_range", "people")


@pytest.mark.parametrize(("people", "capacity"), [(1, 1), (5, 5), (10_000, None)])
def test_a_group_up_to_the_capacity_is_accepted(people, capacity):
    assert check_people(people, capacity) == people


@pytest.mark.parametrize(("value", "result"), [(None, None), (1, 1), (100_000, 100_000)])
def test_a_capacity_is_empty_or_one_to_a_hundred_thousand(value, result):
    assert check_capacity(value) == result


@pytest.mark.parametrize("value", [0, -3, 100_001])
def test_a_capacity_outside_the_range_is_refused(value):
    assert refused(check_capacity, value).key == "validation.number_range"


# ---------------------------------------------------------------- outcome


def outcome(volunteers=2, hours="3", **kw) -> Outcome:  # type: ignore[no-untyped-def]
    return Outcome(volunteers=volunteers, service_hours=hours, **kw)


def test_an_outcome_is_cleaned_and_kept():
    clean = check_outcome(
        outcome(2, "5.5", summary="  完成培训  ", link="https://example.org/report"), starts_at=START, ends_at=END
    )
    assert clean == Outcome(
        volunteers=2, service_hours=Decimal("5.5"), summary="完成培训", link="https://example.org/report"
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("2.44", "2.4"), ("2.46", "2.5"), (2.0, "2.0"), (0, "0.0"), ("5.99", "6.0"), (Decimal("1.01"), "1.0")],
)
def test_service_hours_are_kept_to_one_decimal(typed, stored):
    assert check_outcome(outcome(2, typed), starts_at=START, ends_at=END).service_hours == Decimal(stored)


def test_service_hours_may_reach_every_volunteer_present_for_the_whole_activity():
    # two volunteers for three hours give at most six hours; 6.04 rounds to 6.0
    assert check_outcome(outcome(2, "6"), starts_at=START, ends_at=END).service_hours == Decimal("6.0")
    assert check_outcome(outcome(2, "6.04"), starts_at=START, ends_at=END).service_hours == Decimal("6.0")


@pytest.mark.parametrize(
    ("volunteers", "hours", "most"), [(2, "6.1", "6.0"), (2, "6.06", "6.0"), (0, "0.1", "0.0"), (1, "100", "3.0")]
)
def test_more_hours_than_every_volunteer_for_the_whole_activity_is_refused(volunteers, hours, most):
    error = refused(check_outcome, outcome(volunteers, hours), starts_at=START, ends_at=END)
    assert (error.key, error.field, error.params) == (
        "validation.hours_over_span",
        "service_hours",
        {"max": Decimal(most)},
    )


def test_the_hours_limit_counts_fractions_of_an_hour():
    error = refused(check_outcome, outcome(3, "4.6"), starts_at=START, ends_at=START + timedelta(minutes=90))
    assert error.params == {"max": Decimal("4.5")}


@pytest.mark.parametrize("hours", ["-1", "-0.1", -5, "abc", "", "inf", "-inf", "1e400"])
def test_negative_or_unreadable_service_hours_are_refused(hours):
    error = refused(check_outcome, outcome(2, hours), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.number_invalid", "service_hours")


@pytest.mark.parametrize("hours", [float("nan"), "NaN", "sNaN", float("inf"), Decimal("-Infinity")])
def test_service_hours_that_are_not_a_finite_number_are_refused_as_invalid(hours):
    error = refused(check_outcome, outcome(2, hours), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.number_invalid", "service_hours")


def test_slightly_negative_service_hours_are_refused_rather_than_rounded_to_zero():
    error = refused(check_outcome, outcome(2, "-0.04"), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.number_invalid", "service_hours")


@pytest.mark.parametrize("volunteers", [-1, 1_000_001])
def test_a_number_of_volunteers_outside_the_range_is_refused(volunteers):
    error = refused(check_outcome, outcome(volunteers, "0"), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.number_range", "volunteers")


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "data:text/html,<script>alert(1)</script>",
        "https://example.org/<script>",
        "https://exa mple.org",
        "//example.org/report",
        "example.org/report",
    ],
)
def test_an_outcome_link_that_is_not_a_web_address_is_refused(link):
    error = refused(check_outcome, outcome(link=link), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.website_invalid", "outcome_link")


def test_an_outcome_summary_over_two_thousand_characters_is_refused():
    error = refused(check_outcome, outcome(summary="总" * 2001), starts_at=START, ends_at=END)
    assert (error.key, error.field) == ("validation.too_long", "summary")


@pytest.mark.parametrize("link", ["http://example.org", "https://例子.中国/报告?id=1&x=%20"])
def test_a_web_address_is_accepted(link):
    assert check_link(link, field="online_link") == link


def test_places_written_with_full_width_letters_spaces_or_capitals_are_the_same_place():
    assert place_key("北京市 朝阳区　ＡＢＣ会议室") == place_key("北京市朝阳区abc会议室") == "北京市朝阳区abc会议室"


# ---------------------------------------------------------------- holidays and make-up working days


def test_the_national_day_week_of_2026_is_marked_off_and_its_make_up_saturday_as_a_working_day():
    marks = day_marks(date(2026, 10, 1), date(2026, 10, 10))
    off = DayMark(off=True, holiday="national_day")
    assert marks == {
        **{date(2026, 10, d): off for d in range(1, 8)},
        date(2026, 10, 10): DayMark(off=False, holiday="national_day"),
    }
    assert date(2026, 10, 10).weekday() == 5  # a Saturday worked


def test_the_mid_autumn_festival_of_2026_and_the_sunday_worked_before_national_day_are_marked():
    marks = day_marks(date(2026, 9, 19), date(2026, 9, 30))
    assert marks == {
        date(2026, 9, 20): DayMark(off=False, holiday="national_day"),  # a Sunday worked
        **{date(2026, 9, d): DayMark(off=True, holiday="mid_autumn_festival") for d in (25, 26, 27)},
    }
    assert date(2026, 9, 20).weekday() == 6


def test_ordinary_weekends_and_working_days_carry_no_mark():
    assert day_marks(date(2026, 10, 8), date(2026, 10, 9)) == {}
    assert day_marks(date(2026, 10, 11), date(2026, 10, 18)) == {}  # Sunday 11 to Sunday 18


def test_a_range_in_a_year_not_yet_published_has_no_marks_and_no_error():
    assert known_year(2030) is False
    assert day_marks(date(2030, 10, 1), date(2030, 10, 10)) == {}
    assert day_marks(date(2030, 1, 1), date(2030, 12, 31)) == {}


def test_a_range_across_a_known_and_an_unknown_year_marks_only_the_known_days():
    assert known_year(2026) is True
    marks = day_marks(date(2026, 10, 1), date(2030, 10, 7))
    assert marks[date(2026, 10, 1)] == DayMark(off=True, holiday="national_day")
    assert all(known_year(day.year) for day in marks)
    assert not [day for day in marks if day.year == 2030]


def test_an_empty_range_has_no_marks():
    assert day_marks(date(2026, 10, 2), date(2026, 10, 1)) == {}


def test_service_hours_round_half_up_as_users_round():
    start = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    rounded = [
        check_outcome(
            Outcome(volunteers=10, service_hours=Decimal(h)), starts_at=start, ends_at=start + timedelta(hours=3)
        )
        for h in ("2.25", "2.35", "0.05")
    ]
    assert [o.service_hours for o in rounded] == [Decimal("2.3"), Decimal("2.4"), Decimal("0.1")]
