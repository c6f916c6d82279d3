"""Pure rules: identifiers, names and passwords, table-driven."""

from datetime import date

import pytest

from domain.errors import ValidationError
from domain.organisations import (
    PROVINCES,
    OrganisationInput,
    validate_credit_code,
    validate_organisation,
    validate_phone,
)
from domain.passwords import check_password, check_username
from domain.text import name_key, normalise_identifier


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("91110000802100433B", "91110000802100433B"),
        ("91110000802100433b", "91110000802100433B"),
        (" 9111 0000 8021 0043 3B ", "91110000802100433B"),
        ("９１１１００００８０２１００４３３Ｂ", "91110000802100433B"),
    ],
)
def test_credit_codes_are_accepted_in_any_width_and_case_and_stored_normalised(typed, stored):
    assert validate_credit_code(typed, required=True) == stored


@pytest.mark.parametrize("bad", ["91110000802100433A", "9111000080210043", "ABCDEFGHIJKLMNOPQR", "<script>", "١٢٣"])
def test_bad_credit_codes_are_refused(bad):
    with pytest.raises(ValidationError) as err:
        validate_credit_code(bad, required=False)
    assert err.value.field == "credit_code"


def test_an_empty_credit_code_is_refused_only_where_required():
    assert validate_credit_code("  ", required=False) == ""
    with pytest.raises(ValidationError, match="credit_code_required"):
        validate_credit_code("", required=True)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("010-65645678", "+861065645678"),
        ("０１０６５６４５６７８", "+861065645678"),
        ("", ""),
    ],
)
def test_mainland_mobiles_and_landlines_are_stored_in_e164(typed, stored):
    assert validate_phone(typed) == stored


@pytest.mark.parametrize("bad", ["12345", "1380013800", "+1 202 555 0100", "phone", "13800138000<b>"])
def test_other_phone_numbers_are_refused(bad):
    with pytest.raises(ValidationError, match="phone_invalid"):
        validate_phone(bad)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("绿色 联盟", "绿色联盟"),
        ("ＡＢＣ", "abc"),
        ("绿色\u200b联盟", "绿色联盟"),
        (" 绿色联盟　", "绿色联盟"),
    ],
)
def test_names_that_look_the_same_have_the_same_key(a, b):
    assert name_key(a) == name_key(b)


def test_different_names_have_different_keys():
    assert name_key("绿色联盟") != name_key("绿色同盟")


def test_identifiers_drop_spaces_and_dashes():
    assert normalise_identifier(" 138-0013 8000 ") == "13800138000"


def test_the_province_list_has_31_regions_and_national():
    assert len(PROVINCES) == 32 and PROVINCES[0] == "全国" and "台湾" not in PROVINCES


def test_a_join_date_in_the_future_is_refused():
    data = OrganisationInput(name="某志愿队", kind="volunteer_team", province="北京", joined_on=date(2030, 1, 1))
    with pytest.raises(ValidationError, match="date_in_future"):
        validate_organisation(data, today=date(2026, 11, 28))


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("short", "validation.password_too_short"),
        ("a" * 73, "validation.password_too_long"),
        ("绿" * 25, "validation.password_too_long"),
        (" leading space", "validation.password_outer_space"),
    ],
)
def test_passwords_breaking_a_rule_are_refused(password, key):
    with pytest.raises(ValidationError) as err:
        check_password(password)
    assert err.value.key == key


@pytest.mark.parametrize("password", ["a" * 72, "绿" * 24, "eight ch", "correct horse battery staple 2026"])
def test_passwords_up_to_72_bytes_are_accepted(password):
    assert check_password(password) == password


@pytest.mark.parametrize(("typed", "stored"), [("Root", "root"), (" demo_admin ", "demo_admin"), ("a.b-c", "a.b-c")])
def test_usernames_are_lower_cased(typed, stored):
    assert check_username(typed) == stored


@pytest.mark.parametrize("bad", ["ab", "张三", "a b", "-abc", "x" * 41, "<script>", "robert'); --"])
def test_malformed_usernames_are_refused(bad):
    with pytest.raises(ValidationError, match="username_invalid"):
        check_username(bad)


def test_a_name_whose_normalised_form_outgrows_the_column_is_refused():
    data = OrganisationInput(name="㈱" * 40, kind="enterprise", province="北京", credit_code="91110000802100433B")
    with pytest.raises(ValidationError) as err:
        validate_organisation(data, today=date(2026, 11, 28))
    assert (err.value.field, err.value.key) == ("name", "validation.too_long")
