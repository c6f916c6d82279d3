"""Model-selection and achievement rules without a database: the ranking and every tie-break of RANKING_RULE, the
round's status around its deadlines, scores and recusals, rounds, winners within places, achievements and their
publicity decisions."""

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest

from domain.errors import ValidationError
from domain.selections import (
    MAX_CATEGORIES,
    RANKING_RULE,
    AchievementInput,
    AchievementStatus,
    CategoryInput,
    NominationInput,
    RoundInput,
    RoundStatus,
    ScoreSummary,
    check_achievement_decision,
    check_score,
    check_winners,
    effective_status,
    rank,
    record_period,
    review_open,
    validate_achievement,
    validate_nomination,
    validate_round,
)

TODAY = date(2026, 11, 28)
DEADLINE = date(2026, 12, 10)
REVIEW_END = date(2026, 12, 20)


def summary(nomination_id: int, scores: list[int], category_id: int = 1) -> ScoreSummary:
    """The scores counted for a nomination, summed the way the service's SQL does."""
    return ScoreSummary(nomination_id, category_id, len(scores), sum(scores), min(scores) if scores else None)


def order(scored: dict[int, list[int]]) -> list[int]:
    """The nomination ids of one category in ranking order."""
    ranked = rank([summary(i, s) for i, s in scored.items()])
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    return [r.nomination_id for r in ranked]


# ---------------------------------------------------------------- ranking


def test_the_ranking_rule_names_its_steps_in_order():
    assert RANKING_RULE == ("mean", "count", "lowest", "earlier")


@pytest.mark.parametrize(
    ("scored", "expected"),
    [
        # 1. the higher mean first, whatever the ids, counts and lowest scores say
        ({1: [7, 7, 7], 2: [9]}, [2, 1]),
        ({1: [8, 8], 2: [10, 5], 3: [9, 9, 9]}, [3, 1, 2]),
        ({1: [1], 2: [10, 10, 10, 10]}, [2, 1]),
        # exact means: 23/3 is above 7.6 and below 7.7, no rounding makes them equal
        ({1: [8, 8, 7], 2: [10, 10, 3, 8, 7]}, [1, 2]),
        # 2. equal means: more scores counted first
        ({1: [8, 8], 2: [8, 8, 8]}, [2, 1]),
        ({1: [6, 10], 2: [8, 8, 8, 8]}, [2, 1]),
        # 3. equal means and counts: the higher lowest score first (the broader agreement)
        ({1: [6, 10], 2: [7, 9]}, [2, 1]),
        ({1: [5, 10, 9], 2: [8, 8, 8]}, [2, 1]),
        # 4. all equal: the earlier nomination (smaller id) first
        ({2: [7, 9], 1: [9, 7]}, [1, 2]),
        ({3: [8], 1: [8], 2: [8]}, [1, 2, 3]),
        # unscored last, in the order entered, even behind a mean of 1
        ({1: [], 2: [1], 3: []}, [2, 1, 3]),
        ({5: [], 4: [], 6: [10]}, [6, 4, 5]),
        ({1: [], 2: []}, [1, 2]),
    ],
)
def test_the_ranking_applies_each_step_of_the_rule_in_turn(scored, expected):
    assert order(scored) == expected


def test_each_category_is_ranked_on_its_own_from_one():
    ranked = rank([summary(1, [9], 20), summary(2, [5], 10), summary(3, [10], 10), summary(4, [], 20)])
    assert [(r.category_id, r.rank, r.nomination_id) for r in ranked] == [
        (10, 1, 3),
        (10, 2, 2),
        (20, 1, 1),
        (20, 2, 4),
    ]


def test_the_ranking_reports_the_exact_mean_count_and_lowest():
    (first, second) = rank([summary(1, [10, 10, 3]), summary(2, [])])
    assert (first.mean, first.count, first.lowest) == (Fraction(23, 3), 3, 3)
    assert (second.mean, second.count, second.lowest) == (None, 0, None)


def test_an_empty_round_ranks_nothing():
    assert rank([]) == []


# ---------------------------------------------------------------- status around the deadlines


@pytest.mark.parametrize(
    ("stored", "today", "expected"),
    [
        ("open", DEADLINE - timedelta(days=30), RoundStatus.OPEN),
        ("open", DEADLINE - timedelta(days=1), RoundStatus.OPEN),
        ("open", DEADLINE, RoundStatus.OPEN),  # the deadline day itself is still part of the call
        ("open", DEADLINE + timedelta(days=1), RoundStatus.REVIEW),
        ("open", REVIEW_END + timedelta(days=100), RoundStatus.REVIEW),
        ("review", DEADLINE - timedelta(days=5), RoundStatus.REVIEW),  # ended early by hand
        ("review", DEADLINE, RoundStatus.REVIEW),
        ("published", DEADLINE - timedelta(days=5), RoundStatus.PUBLISHED),
        ("published", REVIEW_END + timedelta(days=1), RoundStatus.PUBLISHED),
    ],
)
def test_the_round_is_open_through_its_deadline_day_then_under_review(stored, today, expected):
    assert effective_status(stored, DEADLINE, today) is expected


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        (RoundStatus.REVIEW, DEADLINE + timedelta(days=1), True),
        (RoundStatus.REVIEW, REVIEW_END, True),  # the review deadline day itself
        (RoundStatus.REVIEW, REVIEW_END + timedelta(days=1), False),
        (RoundStatus.OPEN, DEADLINE, False),
        (RoundStatus.OPEN, REVIEW_END, False),
        (RoundStatus.PUBLISHED, REVIEW_END, False),
        (RoundStatus.PUBLISHED, DEADLINE + timedelta(days=1), False),
    ],
)
def test_scoring_is_open_only_under_review_up_to_the_review_deadline(status, today, expected):
    assert review_open(status, REVIEW_END, today) is expected


@pytest.mark.parametrize(
    ("year", "deadline", "period"),
    [
        (2026, date(2026, 12, 8), (date(2026, 1, 1), date(2026, 12, 8))),
        (2026, date(2026, 1, 1), (date(2026, 1, 1), date(2026, 1, 1))),
        (2026, date(2027, 1, 15), (date(2026, 1, 1), date(2027, 1, 15))),  # a call closing early next year
        (2027, date(2026, 12, 10), (date(2026, 12, 10), date(2026, 12, 10))),  # a call closing before its year
    ],
)
def test_the_records_attached_to_nominations_run_from_the_rounds_year_to_the_calls_end(year, deadline, period):
    assert record_period(year, deadline) == period


# ---------------------------------------------------------------- scores


@pytest.mark.parametrize("score", [1, 2, 5, 9, 10])
def test_whole_scores_from_one_to_ten_are_accepted(score):
    assert check_score(score, False, "  理由充分 ") == (score, "理由充分")


def test_a_recusal_carries_no_score_and_keeps_its_comment():
    assert check_score(None, True, "本单位为推荐单位") == (None, "本单位为推荐单位")


@pytest.mark.parametrize(
    ("score", "key"),
    [
        (0, "validation.number_range"),
        (11, "validation.number_range"),
        (-1, "validation.number_range"),
        (100, "validation.number_range"),
        (float("nan"), "validation.number_range"),
        (float("inf"), "validation.number_range"),
        (7.5, "validation.number_range"),
        (0.5, "validation.number_range"),
        (True, "validation.number_range"),
        (False, "validation.number_range"),
        ("7", "validation.number_range"),
        (None, "validation.required"),
    ],
    ids=repr,
)
def test_a_score_outside_one_to_ten_or_not_a_whole_number_is_refused(score, key):
    with pytest.raises(ValidationError) as err:
        check_score(score, False, "")
    assert (err.value.key, err.value.field) == (key, "score")


@pytest.mark.parametrize("score", [0, 1, 8, 10])
def test_a_recusal_with_a_score_is_refused(score):
    with pytest.raises(ValidationError) as err:
        check_score(score, True, "")
    assert err.value.key == "validation.recused_no_score"


@pytest.mark.parametrize("comment", ["意" * 1001, "bad\x00text"])
def test_a_score_comment_too_long_or_with_control_characters_is_refused(comment):
    with pytest.raises(ValidationError) as err:
        check_score(8, False, comment)
    assert err.value.field == "comment"


# ---------------------------------------------------------------- rounds


def round_input(*categories: CategoryInput, **overrides: object) -> RoundInput:
    values: dict[str, object] = {
        "name": "2026年度生态环境志愿服务先进典型推选",
        "year": 2026,
        "nomination_deadline": DEADLINE,
        "review_deadline": REVIEW_END,
        "categories": categories or (CategoryInput("优秀组织", "organisation", 3),),
    }
    values.update(overrides)
    return RoundInput(**values)  # type: ignore[arg-type]


def refused_round(*categories: CategoryInput, **overrides: object) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        validate_round(round_input(*categories, **overrides))
    return err.value


def test_a_valid_round_is_returned_cleaned():
    clean = validate_round(
        round_input(
            CategoryInput("  优秀组织 ", "organisation", 3), CategoryInput("优秀个人", "individual", 5), name="  推选 "
        )
    )
    assert clean.name == "推选"
    assert [(c.name, c.nominee_kind, c.places) for c in clean.categories] == [
        ("优秀组织", "organisation", 3),
        ("优秀个人", "individual", 5),
    ]
    assert clean.max_per_unit == 1


def test_the_review_needs_at_least_a_day_after_the_call():
    # on the same day there would be no day left to score: the call is open through its deadline day
    err = refused_round(review_deadline=DEADLINE)
    assert (err.key, err.field) == ("validation.review_before_nomination", "review_deadline")
    assert validate_round(round_input(review_deadline=DEADLINE + timedelta(days=1))).review_deadline > DEADLINE


@pytest.mark.parametrize("review", [DEADLINE - timedelta(days=1), DEADLINE - timedelta(days=60)])
def test_a_review_deadline_before_the_nomination_deadline_is_refused(review):
    err = refused_round(review_deadline=review)
    assert (err.key, err.field) == ("validation.review_before_nomination", "review_deadline")


@pytest.mark.parametrize(("nomination", "review"), [(None, REVIEW_END), (DEADLINE, None), ("2026-12-10", REVIEW_END)])
def test_a_missing_deadline_is_refused(nomination, review):
    assert refused_round(nomination_deadline=nomination, review_deadline=review).key == "validation.required"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("优秀组织", "优秀组织"),
        ("优秀组织", " 优秀组织 "),
        ("优秀组织", "优秀 组织"),
        ("优秀组织", "优秀\u3000组织"),  # a full-width space
        ("A类典型", "Ａ类典型"),  # full-width letter
        ("A类典型", "a类典型"),
        ("优秀组织", "优秀\u200b组织"),  # an invisible character
    ],
)
def test_category_names_repeated_after_normalisation_are_refused(first, second):
    err = refused_round(CategoryInput(first, "organisation", 1), CategoryInput(second, "individual", 1))
    assert (err.key, err.field) == ("validation.category_repeated", "category_1")


def test_a_round_without_a_category_is_refused():
    with pytest.raises(ValidationError) as err:
        validate_round(replace(round_input(), categories=()))
    assert (err.value.key, err.value.field) == ("validation.no_category", "category_0")


def test_six_categories_are_accepted_and_seven_refused():
    six = tuple(CategoryInput(f"类别{i}", "project", 1) for i in range(MAX_CATEGORIES))
    assert len(validate_round(round_input(*six)).categories) == 6
    err = refused_round(*six, CategoryInput("类别6", "project", 1))
    assert (err.key, err.params["max"]) == ("validation.too_many_categories", 6)


@pytest.mark.parametrize(
    ("places", "ok"),
    [
        (1, True),
        (100, True),
        (0, False),
        (101, False),
        (-1, False),
        (2.5, False),
        (True, False),
        (float("nan"), False),
        ("3", False),
    ],
)
def test_places_are_a_whole_number_from_one_to_a_hundred(places, ok):
    data = round_input(CategoryInput("优秀组织", "organisation", places))
    if ok:
        assert validate_round(data).categories[0].places == places
    else:
        with pytest.raises(ValidationError) as err:
            validate_round(data)
        assert (err.value.key, err.value.field) == ("validation.number_range", "category_0")


@pytest.mark.parametrize(("per_unit", "ok"), [(1, True), (2, True), (10, True), (0, False), (11, False), (1.5, False)])
def test_the_limit_per_unit_is_one_to_ten(per_unit, ok):
    if ok:
        assert validate_round(round_input(max_per_unit=per_unit)).max_per_unit == per_unit
    else:
        assert refused_round(max_per_unit=per_unit).field == "max_per_unit"


@pytest.mark.parametrize(("year", "ok"), [(2000, True), (2100, True), (1999, False), (2101, False), (True, False)])
def test_the_year_is_plausible(year, ok):
    if ok:
        deadlines = {"nomination_deadline": date(year, 6, 1), "review_deadline": date(year, 7, 1)}
        assert validate_round(round_input(year=year, **deadlines)).year == year
    else:
        assert refused_round(year=year).field == "year"


@pytest.mark.parametrize(("deadline_year", "ok"), [(2025, False), (2026, True), (2027, True), (2028, False)])
def test_the_nomination_deadline_falls_in_the_rounds_year_or_the_next(deadline_year, ok):
    deadlines = {"nomination_deadline": date(deadline_year, 1, 10), "review_deadline": date(deadline_year, 2, 1)}
    if ok:
        assert validate_round(round_input(year=2026, **deadlines)).nomination_deadline.year == deadline_year
    else:
        assert refused_round(year=2026, **deadlines).field == "nomination_deadline"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "推" * 101}, "name"),
        ({"name": "推选\x07"}, "name"),
        ({"description": "说" * 2001}, "description"),
    ],
)
def test_a_round_name_or_description_out_of_bounds_is_refused(overrides, field):
    assert refused_round(**overrides).field == field


@pytest.mark.parametrize(
    "category",
    [
        CategoryInput("", "organisation", 1),
        CategoryInput("  ", "organisation", 1),
        CategoryInput("类" * 31, "organisation", 1),
        CategoryInput("优秀组织", "team", 1),
        CategoryInput("优秀组织", "", 1),
    ],
)
def test_a_category_without_a_name_too_long_or_of_an_unknown_kind_is_refused(category):
    assert refused_round(CategoryInput("优秀个人", "individual", 1), category).field == "category_1"


# ---------------------------------------------------------------- winners


PLACES = {10: 2, 20: 1}


@pytest.mark.parametrize(
    "chosen",
    [{}, {10: []}, {10: [1]}, {10: [1, 2]}, {10: [1, 2], 20: [3]}, {10: [1, 1, 2]}, {30: []}],
    ids=repr,
)
def test_winners_within_each_categorys_places_are_accepted(chosen):
    check_winners(chosen, PLACES)


@pytest.mark.parametrize("chosen", [{10: [1, 2, 3]}, {20: [3, 4]}, {10: [1], 20: [3, 4]}, {30: [5]}], ids=repr)
def test_more_winners_than_places_are_refused(chosen):
    with pytest.raises(ValidationError) as err:
        check_winners(chosen, PLACES)
    assert (err.value.key, err.value.field) == ("validation.too_many_winners", "winners")


# ---------------------------------------------------------------- nominations


def nomination(**overrides: object) -> NominationInput:
    values: dict[str, object] = {
        "category_id": 1,
        "nominating_org_id": 2,
        "nominee_name": "  河小青志愿队 ",
        "reasons": "多年坚持河道巡护",
    }
    values.update(overrides)
    return NominationInput(**values)  # type: ignore[arg-type]


def test_a_nomination_is_returned_cleaned():
    clean = validate_nomination(nomination(link=" https://example.org/a "))
    assert (clean.nominee_name, clean.link) == ("河小青志愿队", "https://example.org/a")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nominee_name": ""}, "nominee_name"),
        ({"nominee_name": "名" * 101}, "nominee_name"),
        ({"reasons": " "}, "reasons"),
        ({"reasons": "理" * 3001}, "reasons"),
        ({"evidence": "证" * 3001}, "evidence"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "ftp://example.org"}, "link"),
    ],
)
def test_a_nomination_without_name_or_reasons_or_with_a_bad_link_is_refused(overrides, field):
    with pytest.raises(ValidationError) as err:
        validate_nomination(nomination(**overrides))
    assert err.value.field == field


# ---------------------------------------------------------------- achievements


def achievement(**overrides: object) -> AchievementInput:
    values: dict[str, object] = {
        "organisation_id": 3,
        "title": " 长江大保护志愿行动 ",
        "summary": "三年累计服务时长两万小时",
        "achieved_on": date(2026, 6, 1),
        "category": "brand_project",
    }
    values.update(overrides)
    return AchievementInput(**values)  # type: ignore[arg-type]


def test_a_valid_achievement_is_returned_cleaned():
    clean = validate_achievement(achievement(link="http://example.org"), today=TODAY)
    assert (clean.title, clean.link) == ("长江大保护志愿行动", "http://example.org")


@pytest.mark.parametrize("day", [TODAY, date(2000, 1, 1)])
def test_an_achievement_may_be_dated_today_or_as_early_as_2000(day):
    assert validate_achievement(achievement(achieved_on=day), today=TODAY).achieved_on == day


@pytest.mark.parametrize(
    ("overrides", "key", "field"),
    [
        ({"title": ""}, "validation.required", "title"),
        ({"title": "标" * 201}, "validation.too_long", "title"),
        ({"summary": "  "}, "validation.required", "summary"),
        ({"summary": "摘" * 3001}, "validation.too_long", "summary"),
        ({"category": "poem"}, "validation.choice", "category"),
        ({"achieved_on": None}, "validation.required", "achieved_on"),
        ({"achieved_on": TODAY + timedelta(days=1)}, "validation.date_in_future", "achieved_on"),
        ({"achieved_on": date(1999, 12, 31)}, "validation.date_too_early", "achieved_on"),
        ({"link": "javascript:alert(1)"}, "validation.website_invalid", "link"),
    ],
)
def test_a_bad_achievement_is_refused_naming_its_field(overrides, key, field):
    with pytest.raises(ValidationError) as err:
        validate_achievement(achievement(**overrides), today=TODAY)
    assert (err.value.key, err.value.field) == (key, field)


@pytest.mark.parametrize("channel", ["wechat", "website", "bulletin", "media", "exhibition", "other"])
def test_a_pending_achievement_is_published_with_a_channel_and_a_date(channel):
    assert check_achievement_decision("pending", "published", channel, TODAY, " 已推送 ", today=TODAY) == "已推送"


def test_a_pending_achievement_is_rejected_with_a_reason():
    assert check_achievement_decision("pending", "rejected", None, None, " 材料不全 ", today=TODAY) == "材料不全"


@pytest.mark.parametrize(
    ("target", "channel", "published_on", "note", "key", "field"),
    [
        ("published", None, TODAY, "", "validation.required", "channel"),
        ("published", "", TODAY, "", "validation.required", "channel"),
        ("published", "tiktok", TODAY, "", "validation.required", "channel"),
        ("published", "wechat", None, "", "validation.required", "published_on"),
        ("published", "wechat", TODAY + timedelta(days=1), "", "validation.date_in_future", "published_on"),
        ("published", "wechat", TODAY, "注" * 1001, "validation.too_long", "note"),
        ("rejected", None, None, "", "validation.reason_required", "note"),
        ("rejected", None, None, "   ", "validation.reason_required", "note"),
        ("pending", None, None, "重新审核", "validation.choice", "status"),
        ("archived", None, None, "x", "validation.choice", "status"),
    ],
)
def test_a_decision_without_what_it_needs_is_refused(target, channel, published_on, note, key, field):
    with pytest.raises(ValidationError) as err:
        check_achievement_decision("pending", target, channel, published_on, note, today=TODAY)
    assert (err.value.key, err.value.field) == (key, field)


@pytest.mark.parametrize("current", [AchievementStatus.PUBLISHED.value, AchievementStatus.REJECTED.value])
@pytest.mark.parametrize(
    ("target", "channel", "published_on", "note"),
    [("published", "wechat", TODAY, ""), ("rejected", None, None, "改判"), ("pending", None, None, "")],
)
def test_a_decision_is_final(current, target, channel, published_on, note):
    with pytest.raises(ValidationError) as err:
        check_achievement_decision(current, target, channel, published_on, note, today=TODAY)
    assert err.value.key == "validation.achievement_decided"
