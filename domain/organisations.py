"""Organisations (单位): kinds, provinces, statuses and validation of their fields."""

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

import phonenumbers
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from domain.errors import ValidationError
from domain.text import clean_text, has_control_characters, name_key, normalise_identifier


class OrgKind(StrEnum):
    GOVERNMENT = "government"  # 政府部门或事业单位
    ACADEMIC = "academic"  # 科研院校
    SOCIAL = "social"  # 社会组织
    VOLUNTEER_TEAM = "volunteer_team"  # 志愿服务队伍
    ENTERPRISE = "enterprise"  # 企业
    MASS = "mass"  # 群团组织
    OTHER = "other"  # 其他


class OrgStatus(StrEnum):
    MEMBER = "member"  # 成员
    SUSPENDED = "suspended"  # 暂停
    EXITED = "exited"  # 退出


NATIONAL = "全国"
# The 31 provincial-level regions of the mainland, in the official order, plus 全国 for national bodies.
PROVINCES: tuple[str, ...] = (
    NATIONAL,
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
)

# Kinds that often have no credit code of their own (a university's volunteer team shares its university's).
CREDIT_CODE_OPTIONAL_KINDS = frozenset({OrgKind.VOLUNTEER_TEAM, OrgKind.OTHER})

MAX_LEN = {
    "name": 100,
    "city": 50,
    "contact_person": 50,
    "phone": 30,
    "email": 254,
    "address": 200,
    "website": 200,
    "description": 2000,
    "batch": 30,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEBSITE = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


@dataclass(frozen=True)
class OrganisationInput:
    """What a user types for an organisation; `validate_organisation` returns it cleaned."""

    name: str
    kind: str
    province: str
    city: str = ""
    credit_code: str = ""
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    website: str = ""
    description: str = ""
    status: str = OrgStatus.MEMBER.value
    joined_on: date | None = None
    batch: str = ""
    is_secretariat: bool = False


def validate_credit_code(value: str, *, required: bool) -> str:
    """Return the unified social credit code normalised (GB 32100-2015), or raise with a field message."""
    code = normalise_identifier(value)
    if not code:
        if required:
            raise ValidationError("validation.credit_code_required", field="credit_code")
        return ""
    try:
        return str(uscc.validate(code))
    except StdnumError as exc:
        raise ValidationError("validation.credit_code_invalid", field="credit_code") from exc


def validate_phone(value: str) -> str:
    """Return a mainland mobile or landline number in E.164 form, or raise with a field message."""
    text = normalise_identifier(value)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("validation.phone_invalid", field="phone") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError("validation.phone_invalid", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_organisation(data: OrganisationInput, *, today: date) -> OrganisationInput:
    """Check every field of an organisation and return it cleaned; raise ValidationError on the first fault."""
    cleaned = {
        field: clean_text(getattr(data, field))
        for field in ("name", "city", "contact_person", "email", "address", "website", "description", "batch")
    }
    for field, text in cleaned.items():
        if len(text) > MAX_LEN[field]:
            raise ValidationError("validation.too_long", field=field, max=MAX_LEN[field])
        if has_control_characters(text.replace("\r", "")):
            raise ValidationError("validation.control_characters", field=field)
    if not cleaned["name"]:
        raise ValidationError("validation.required", field="name")
    if len(name_key(cleaned["name"])) > MAX_LEN["name"]:
        # NFKC can lengthen a name (㈱ becomes (株)); the stored comparison key must fit its column too.
        raise ValidationError("validation.too_long", field="name", max=MAX_LEN["name"])
    if data.kind not in {k.value for k in OrgKind}:
        raise ValidationError("validation.choice", field="kind")
    if data.province not in PROVINCES:
        raise ValidationError("validation.choice", field="province")
    if data.status not in {s.value for s in OrgStatus}:
        raise ValidationError("validation.choice", field="status")
    credit_code = validate_credit_code(data.credit_code, required=OrgKind(data.kind) not in CREDIT_CODE_OPTIONAL_KINDS)
    phone = validate_phone(data.phone)
    if cleaned["email"] and not _EMAIL.match(cleaned["email"]):
        raise ValidationError("validation.email_invalid", field="email")
    if cleaned["website"] and not _WEBSITE.match(cleaned["website"]):
        raise ValidationError("validation.website_invalid", field="website")
    if data.joined_on is not None and data.joined_on > today:
        raise ValidationError("validation.date_in_future", field="joined_on")
    return replace(
        data,
        credit_code=credit_code,
        phone=phone,
        name=cleaned["name"],
        city=cleaned["city"],
        contact_person=cleaned["contact_person"],
        email=cleaned["email"],
        address=cleaned["address"],
        website=cleaned["website"],
        description=cleaned["description"],
        batch=cleaned["batch"],
    )
