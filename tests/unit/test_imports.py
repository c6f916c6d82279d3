"""Reading import rows: headers and choices in Chinese or English, provinces as people write them."""

import pytest

from ui.i18n import t
from ui.imports import MEMBER_COLUMNS, header, parse_members


def _row(**cells: str) -> dict[str, str]:
    base = {header(c): "" for c in MEMBER_COLUMNS}
    base.update({t("field.name") + " *": "某志愿服务队", t("field.kind") + " *": "志愿服务队伍"})
    base.update(cells)
    base["__row__"] = "2"
    return base


@pytest.mark.parametrize(
    ("written", "province"),
    [("浙江", "浙江"), ("浙江省", "浙江"), ("北京市", "北京"), ("广西壮族自治区", "广西"), ("新疆维吾尔自治区", "新疆"),
     ("内蒙古自治区", "内蒙古"), ("全国", "全国")],
)  # fmt: skip
def test_a_province_reads_with_or_without_its_suffix(written, province):
    [row] = parse_members([_row(**{t("field.province") + " *": written})], default_batch="首批")
    assert row.error is None and row.data is not None and row.data.province == province


@pytest.mark.parametrize("written", ["浙江县", "Zhejiang", "", "台北市"])
def test_an_unknown_province_is_named_in_the_message(written):
    [row] = parse_members([_row(**{t("field.province") + " *": written})], default_batch="首批")
    assert row.error is not None and row.error.key == "import.province_unknown" and row.error.params["name"] == written


def test_english_headers_and_choice_names_read_too():
    record = {
        t("field.name", "en"): "Green Team",
        t("field.kind", "en"): t("org_kind.volunteer_team", "en"),
        t("field.province", "en"): "浙江",
        t("field.status", "en"): t("org_status.suspended", "en"),
        "__row__": "2",
    }
    [row] = parse_members([record], default_batch="首批")
    assert row.error is None and row.data is not None
    assert (row.data.kind, row.data.status, row.data.batch) == ("volunteer_team", "suspended", "首批")
