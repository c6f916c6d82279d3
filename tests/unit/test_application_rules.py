"""Pure rules of applications (入网申请): identifiers, the status machine of DOMAIN.md, every fault at once,
reference numbers. Table-driven, no database."""

import re
from datetime import date
from itertools import product

import pytest

from domain.applications import (
    REFERENCE_ALPHABET,
    TRANSITIONS,
    ApplicationInput,
    AppStatus,
    IntakeLimits,
    Opinion,
    allowed_targets,
    application_errors,
    check_opinion,
    check_transition,
    new_reference,
    normalise_reference,
    validate_application,
)
from domain.errors import ValidationError
from domain.organisations import validate_credit_code, validate_phone
from tests.conftest import org_input

TODAY = date(2026, 11, 28)
VALID_CODE = "91110000802100433B"

# ---------------------------------------------------------------- credit codes (GB 32100-2015)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param(VALID_CODE, VALID_CODE, id="valid"),
        pytest.param("91110000802100433b", VALID_CODE, id="lower-case-check-character-upper-cased"),
        pytest.param("９１１１００００８０２１００４３３Ｂ", VALID_CODE, id="full-width"),
        pytest.param("９１１１００００８０２１００４３３ｂ", VALID_CODE, id="full-width-lower-case"),
        pytest.param(" 9111 0000 8021 0043 3B ", VALID_CODE, id="spaces"),
        pytest.param("9111\u30000000\t8021 0043 3B", VALID_CODE, id="ideographic-space-and-tab"),
    ],
)
def test_a_valid_credit_code_is_accepted_however_typed_and_stored_normalised(typed, stored):
    assert validate_credit_code(typed, required=True) == stored


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("91110000802100433A", id="wrong-check-character"),
        pytest.param("９１１１００００８０２１００４３３Ａ", id="wrong-check-character-full-width"),
        pytest.param("9111000080210043", id="too-short"),
        pytest.param("91110000802100433", id="seventeen-characters"),
        pytest.param("91110000802100433BX", id="nineteen-characters"),
        pytest.param("ABCDEFGHIJKLMNOPQR", id="letters-only"),
        pytest.param("9111000080210043😀", id="emoji"),
        pytest.param("'; DROP TABLE x;--", id="sql-fragment"),
    ],
)
def test_a_bad_credit_code_is_refused_on_its_field(bad):
    with pytest.raises(ValidationError) as err:
        validate_credit_code(bad, required=False)
    assert err.value.key == "validation.credit_code_invalid" and err.value.field == "credit_code"


def test_a_missing_credit_code_is_refused_only_where_it_is_required():
    assert validate_credit_code(" \u3000 ", required=False) == ""
    with pytest.raises(ValidationError) as err:
        validate_credit_code(" ", required=True)
    assert err.value.key == "validation.credit_code_required"


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("13800138000", "+8613800138000", id="mobile"),
        pytest.param("138 0013 8000", "+8613800138000", id="mobile-with-spaces"),
        pytest.param("+86 138-0013-8000", "+8613800138000", id="mobile-with-country-code"),
        pytest.param("１３８００１３８０００", "+8613800138000", id="mobile-full-width"),
        pytest.param("010-65529988", "+861065529988", id="beijing-landline"),
        pytest.param("0571-87654321", "+8657187654321", id="hangzhou-landline"),
        pytest.param("(0571) 8765 4321", "+8657187654321", id="landline-area-code-in-brackets"),
    ],
)
def test_a_mainland_mobile_or_landline_is_stored_in_e164(typed, stored):
    assert validate_phone(typed) == stored


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("+1 650 253 0000", id="united-states"),
        pytest.param("001 650 253 0000", id="united-states-dialled-from-china"),
        pytest.param("+44 20 7031 3000", id="united-kingdom"),
        pytest.param("+852 2123 4567", id="hong-kong"),
        pytest.param("abc", id="letters"),
        pytest.param("12345", id="too-short"),
        pytest.param("138001380001380013800", id="too-long"),
        pytest.param("<b>13800138000</b>", id="html"),
        pytest.param("😀", id="emoji"),
    ],
)
def test_a_foreign_or_garbled_phone_number_is_refused(bad):
    with pytest.raises(ValidationError) as err:
        validate_phone(bad)
    assert err.value.key == "validation.phone_invalid" and err.value.field == "phone"


# ---------------------------------------------------------------- the status machine

S = AppStatus
# DOMAIN.md's table, written out by hand: (from, to) -> what the note must be.
ALLOWED = {
    (S.SUBMITTED, S.IN_REVIEW): "optional",
    (S.SUBMITTED, S.NEEDS_MORE): "message",
    (S.IN_REVIEW, S.NEEDS_MORE): "message",
    (S.NEEDS_MORE, S.IN_REVIEW): "optional",
    (S.IN_REVIEW, S.APPROVED): "optional",
    (S.IN_REVIEW, S.REJECTED): "reason",
    (S.SUBMITTED, S.WITHDRAWN): "optional",
    (S.IN_REVIEW, S.WITHDRAWN): "optional",
    (S.NEEDS_MORE, S.WITHDRAWN): "optional",
}
EVERY_PAIR = list(product(AppStatus, AppStatus))


def pair_id(pair):
    return f"{pair[0].value}->{pair[1].value}"


def test_the_transition_table_is_exactly_the_one_in_domain_md():
    assert {pair: rule.value for pair, rule in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize("pair", [p for p in EVERY_PAIR if p in ALLOWED], ids=pair_id)
def test_an_allowed_move_with_a_note_passes_and_returns_the_note_cleaned(pair):
    assert check_transition(pair[0].value, pair[1].value, "  材料已收到  ") == "材料已收到"


@pytest.mark.parametrize("pair", [p for p in EVERY_PAIR if p not in ALLOWED], ids=pair_id)
def test_a_move_outside_the_table_is_refused_whatever_the_note(pair):
    with pytest.raises(ValidationError) as err:
        check_transition(pair[0].value, pair[1].value, "理由")
    assert err.value.key == "validation.transition_refused" and err.value.field == "status"


@pytest.mark.parametrize("pair", [p for p, rule in ALLOWED.items() if rule == "optional"], ids=pair_id)
def test_a_move_without_a_required_note_passes_with_an_empty_note(pair):
    assert check_transition(pair[0].value, pair[1].value, "") == ""


@pytest.mark.parametrize("note", ["", "   ", "\u3000", "\u200b"])
@pytest.mark.parametrize("source", [S.SUBMITTED, S.IN_REVIEW])
def test_asking_for_more_material_needs_a_message_to_the_applicant(source, note):
    with pytest.raises(ValidationError) as err:
        check_transition(source.value, S.NEEDS_MORE.value, note)
    assert err.value.key == "validation.message_required" and err.value.field == "note"


@pytest.mark.parametrize("note", ["", "   ", "\u3000", "\u200b"])
def test_a_rejection_needs_a_reason(note):
    with pytest.raises(ValidationError) as err:
        check_transition(S.IN_REVIEW.value, S.REJECTED.value, note)
    assert err.value.key == "validation.reason_required" and err.value.field == "note"


def test_an_unknown_target_status_is_refused_not_crashed():
    with pytest.raises(ValidationError, match="transition_refused"):
        check_transition(S.SUBMITTED.value, "deleted", "x")


def test_a_note_too_long_or_with_control_characters_is_refused():
    with pytest.raises(ValidationError, match="too_long"):
        check_transition(S.IN_REVIEW.value, S.REJECTED.value, "长" * 1001)
    with pytest.raises(ValidationError, match="control_characters"):
        check_transition(S.IN_REVIEW.value, S.REJECTED.value, "理由\x00")


@pytest.mark.parametrize("current", list(AppStatus), ids=lambda s: s.value)
def test_the_targets_offered_from_each_status_are_those_of_the_table(current):
    expected = {to for (frm, to) in ALLOWED if frm == current}
    assert set(allowed_targets(current.value)) == expected


@pytest.mark.parametrize("final", [S.APPROVED, S.REJECTED, S.WITHDRAWN], ids=lambda s: s.value)
def test_decided_and_withdrawn_applications_are_final(final):
    assert allowed_targets(final.value) == []


# ---------------------------------------------------------------- the application as a whole


def application(**overrides):
    org_fields = {k: overrides.pop(k) for k in list(overrides) if k not in ApplicationInput.__dataclass_fields__}
    values = {"organisation": org_input(**org_fields), "consent": True, **overrides}
    return ApplicationInput(**values)


def test_a_good_application_passes_with_no_errors():
    assert application_errors(application(), today=TODAY) == []
    clean = validate_application(application(phone="138 0013 8000", credit_code=VALID_CODE.lower()), today=TODAY)
    assert clean.organisation.phone == "+8613800138000" and clean.organisation.credit_code == VALID_CODE


def test_the_applicant_cannot_set_status_join_date_batch_or_the_secretariat_flag():
    typed = application(status="exited", joined_on=date(2020, 1, 1), batch="第九批", is_secretariat=True)
    clean = validate_application(typed, today=TODAY).organisation
    assert (clean.status, clean.joined_on, clean.batch, clean.is_secretariat) == ("member", None, "", False)


@pytest.mark.parametrize(
    ("overrides", "field", "key"),
    [
        ({"consent": False}, "consent", "validation.consent_required"),
        ({"contact_person": " "}, "contact_person", "validation.required"),
        ({"phone": ""}, "phone", "validation.required"),
        ({"applied_for": "president"}, "applied_for", "validation.choice"),
        ({"statement": "长" * 2001}, "statement", "validation.too_long"),
        ({"materials": "x\x07"}, "materials", "validation.control_characters"),
    ],
)
def test_each_application_fault_names_its_field(overrides, field, key):
    with pytest.raises(ValidationError) as err:
        validate_application(application(**overrides), today=TODAY)
    assert (err.value.field, err.value.key) == (field, key)


def test_every_bad_field_is_listed_at_once():
    bad = application(
        name="名" * 101,
        kind="bank",
        province="火星",
        city="c" * 51,
        credit_code="123",
        contact_person="p" * 51,
        phone="abc",
        email="not-an-address",
        address="a" * 201,
        website="ftp://example.org",
        description="d" * 2001,
        applied_for="king",
        statement="s" * 2001,
        materials="m" * 2001,
        consent=False,
    )
    errors = application_errors(bad, today=TODAY)
    assert sorted(e.field for e in errors) == sorted(
        [
            "consent",
            "name",
            "kind",
            "province",
            "city",
            "credit_code",
            "contact_person",
            "phone",
            "email",
            "address",
            "website",
            "description",
            "applied_for",
            "statement",
            "materials",
        ]
    )
    assert len({e.field for e in errors}) == len(errors)  # each field once


def test_missing_required_fields_are_listed_together():
    errors = application_errors(application(name="", contact_person="", phone="", consent=False), today=TODAY)
    assert [(e.field, e.key) for e in errors] == [
        ("consent", "validation.consent_required"),
        ("name", "validation.required"),
        ("contact_person", "validation.required"),
        ("phone", "validation.required"),
    ]


# ---------------------------------------------------------------- council opinions


@pytest.mark.parametrize("opinion", list(Opinion), ids=lambda o: o.value)
def test_each_of_agree_oppose_abstain_is_an_opinion(opinion):
    assert check_opinion(opinion.value, "  同意吸纳。 ") == "同意吸纳。"


@pytest.mark.parametrize("bad", ["", "yes", "AGREE", "同意"])
def test_anything_else_is_not_an_opinion(bad):
    with pytest.raises(ValidationError) as err:
        check_opinion(bad, "")
    assert (err.value.field, err.value.key) == ("opinion", "validation.choice")


def test_an_opinion_comment_too_long_is_refused():
    with pytest.raises(ValidationError, match="too_long"):
        check_opinion(Opinion.AGREE.value, "长" * 1001)


# ---------------------------------------------------------------- reference numbers

REFERENCE = re.compile(r"^SQ2026-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$")


def test_a_reference_has_the_year_and_eight_characters_that_cannot_be_misread():
    references = {new_reference(2026) for _ in range(200)}
    assert all(REFERENCE.match(r) for r in references), references
    assert len(references) == 200  # random, not a counter
    assert not set("".join(r[7:] for r in references)) & set("01OIL")
    assert set(REFERENCE_ALPHABET) == set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("SQ2026-7KQ4MZ2P", id="as-issued"),
        pytest.param("sq2026-7kq4mz2p", id="lower-case"),
        pytest.param("  SQ2026-7KQ4MZ2P\u3000", id="space-padded"),
        pytest.param("ＳＱ２０２６－７ＫＱ４ＭＺ２Ｐ", id="full-width"),
        pytest.param("ｓｑ２０２６－７ｋｑ４ｍｚ２ｐ", id="full-width-lower-case"),
        pytest.param("SQ2026 7KQ4 MZ2P", id="spaces-instead-of-dash"),
        pytest.param("SQ20267KQ4MZ2P", id="no-dash"),
        pytest.param("SQ2026—7KQ4MZ2P", id="em-dash"),
    ],
)
def test_a_reference_is_read_back_however_it_was_typed(typed):
    assert normalise_reference(typed) == "SQ2026-7KQ4MZ2P"


def test_something_that_is_not_a_reference_stays_something_else():
    assert normalise_reference("") == ""
    assert normalise_reference("hello") == "HELLO"
    assert len(normalise_reference("x" * 500)) <= 30


def test_the_public_form_has_hourly_limits_per_client_and_in_total():
    limits = IntakeLimits()
    assert 0 < limits.per_client < limits.total and limits.window_seconds == 3600
