"""Import files: the columns of the templates, and the parsing of a file's rows into applications or units.
Headers and choice cells are accepted in Chinese or English (the label of either catalog) or as codes."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from db.services.applications import ImportRow
from db.services.organisations import MemberImportRow, organisation_ids_by_names
from domain.applications import ApplicationInput, AppliedFor, Channel
from domain.errors import ValidationError
from domain.organisations import PROVINCES, OrganisationInput, OrgKind, OrgStatus
from domain.text import name_key
from ui.i18n import LANGUAGES, t


@dataclass(frozen=True)
class Column:
    """A template column: the input field it fills, its label key and whether it is required."""

    field: str
    label_key: str
    required: bool = False


ORG_COLUMNS = [
    Column("name", "field.name", True),
    Column("kind", "field.kind", True),
    Column("province", "field.province", True),
    Column("city", "field.city"),
    Column("credit_code", "field.credit_code"),
    Column("contact_person", "field.contact_person"),
    Column("phone", "field.phone"),
    Column("email", "field.email"),
    Column("address", "field.address"),
    Column("website", "field.website"),
    Column("description", "field.description"),
]
# An application needs someone to reach: contact person and phone are required there (not for a unit).
_REQUIRED_FOR_APPLICATIONS = {"contact_person", "phone"}
APPLICATION_COLUMNS = [
    *[Column(c.field, c.label_key, c.required or c.field in _REQUIRED_FOR_APPLICATIONS) for c in ORG_COLUMNS],
    Column("applied_for", "field.applied_for", True),
    Column("channel", "field.channel", True),
    Column("recommender", "field.recommender_id"),
    Column("statement", "field.statement"),
    Column("materials", "field.materials"),
    Column("consent", "field.consent", True),
]
MEMBER_COLUMNS = [
    *ORG_COLUMNS,
    Column("joined_on", "field.joined_on"),
    Column("batch", "field.batch"),
    Column("status", "field.status"),
]
YES = {"是", "yes", "y", "true", "1", "✓", "同意", "已同意"}


def header(column: Column) -> str:
    """The column's header in the session's language (required ones marked with *)."""
    return t(column.label_key) + (" *" if column.required else "")


def _header_map(columns: list[Column]) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in columns:
        names[column.field.casefold()] = column.field
        for lang in LANGUAGES:
            names[t(column.label_key, lang).casefold()] = column.field
    return names


def _choice_map(group: str, values: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for value in values:
        names[value.casefold()] = value
        for lang in LANGUAGES:
            names[t(f"{group}.{value}", lang).casefold()] = value
    return names


def _choice(text: str, names: dict[str, str], field: str) -> str:
    if text.casefold() in names:
        return names[text.casefold()]
    raise ValidationError("validation.choice", field=field)


def _normalised(records: list[dict[str, str]], columns: list[Column]) -> list[dict[str, str]]:
    """Rows keyed by field name; a required column missing from the header refuses the file."""
    names = _header_map(columns)
    result = []
    for record in records:
        row = {"__row__": record.get("__row__", "")}
        for head, value in record.items():
            field = names.get(head.replace("*", "").strip().casefold())
            if field:
                # Our own exports guard cells like "+86 …" with a leading ' (formula neutralising): undo it.
                if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
                    value = value[1:]
                row[field] = value
        result.append(row)
    if result:
        missing = [c for c in columns if c.required and c.field not in result[0]]
        if missing:
            raise ValidationError("import.missing_column", field="file", column=t(missing[0].label_key))
    return result


_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


def _province(text: str) -> str:
    """A province as written in a file: 浙江, 浙江省, 广西壮族自治区 … all mean the same region."""
    name = text.strip()
    if name in PROVINCES:
        return name
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in PROVINCES:
            return name[: -len(suffix)]
    raise ValidationError("import.province_unknown", field="province", name=name)


def _organisation(row: dict[str, str], **extra: Any) -> OrganisationInput:
    return OrganisationInput(
        name=row.get("name", ""),
        kind=_choice(row.get("kind", ""), _choice_map("org_kind", [k.value for k in OrgKind]), "kind"),
        province=_province(row.get("province", "")),
        city=row.get("city", ""),
        credit_code=row.get("credit_code", ""),
        contact_person=row.get("contact_person", ""),
        phone=row.get("phone", ""),
        email=row.get("email", ""),
        address=row.get("address", ""),
        website=row.get("website", ""),
        description=row.get("description", ""),
        **extra,
    )


def _parse_rows(
    rows: list[dict[str, str]], build: Callable[[dict[str, str]], Any]
) -> list[tuple[dict[str, str], Any, ValidationError | None]]:
    parsed = []
    for row in rows:
        try:
            parsed.append((row, build(row), None))
        except ValidationError as exc:
            parsed.append((row, None, exc))
    return parsed


def parse_applications(session: Session, records: list[dict[str, str]]) -> list[ImportRow]:
    """An application import file's rows, with a refusal for each row that cannot even be read."""
    normalised = _normalised(records, APPLICATION_COLUMNS)
    recommenders = organisation_ids_by_names(session=session, names=[r.get("recommender", "") for r in normalised])
    channels = _choice_map("channel", [c.value for c in Channel])
    applied = _choice_map("applied_for", [a.value for a in AppliedFor])

    def build(row: dict[str, str]) -> tuple[ApplicationInput, str, int | None]:
        channel = _choice(row.get("channel", ""), channels, "channel")
        recommender_name = row.get("recommender", "").strip()
        recommender_id = recommenders.get(name_key(recommender_name)) if recommender_name else None
        if recommender_name and recommender_id is None:
            raise ValidationError("import.unknown_recommender", field="recommender_id", name=recommender_name)
        data = ApplicationInput(
            organisation=_organisation(row),
            applied_for=_choice(row.get("applied_for", ""), applied, "applied_for"),
            statement=row.get("statement", ""),
            materials=row.get("materials", ""),
            consent=row.get("consent", "").strip().casefold() in YES,
        )
        return data, channel, recommender_id

    rows = []
    for row, built, error in _parse_rows(normalised, build):
        data, channel, recommender_id = built if built else (None, "", None)
        rows.append(ImportRow(row["__row__"], row.get("name", ""), channel, recommender_id, data, error))
    return rows


def _date(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip().replace("/", "-")[:10])
    except ValueError as exc:
        raise ValidationError("validation.date_invalid", field="joined_on") from exc


def parse_members(records: list[dict[str, str]], *, default_batch: str) -> list[MemberImportRow]:
    """A member import file's rows, with a refusal for each row that cannot even be read."""
    statuses = _choice_map("org_status", [s.value for s in OrgStatus])

    def build(row: dict[str, str]) -> OrganisationInput:
        status = row.get("status", "").strip()
        return _organisation(
            row,
            joined_on=_date(row.get("joined_on", "")),
            batch=row.get("batch", "").strip() or default_batch,
            status=_choice(status, statuses, "status") if status else OrgStatus.MEMBER.value,
        )

    return [
        MemberImportRow(row["__row__"], row.get("name", ""), built, error)
        for row, built, error in _parse_rows(_normalised(records, MEMBER_COLUMNS), build)
    ]


def application_example() -> list[object]:
    """An example row for the application template."""
    return [
        "某市环保志愿者协会",
        t("org_kind.social"),
        "浙江",
        "杭州",
        "91330100MA2XXXXXXX",
        "王芳",
        "13800138000",
        "contact@example.org",
        "杭州市某路1号",
        "https://example.org",
        "（单位简介）",
        t("applied_for.member"),
        t("channel.self_applied"),
        "",
        "（申请说明）",
        "（材料清单或链接）",
        "是",
    ]


def member_example() -> list[object]:
    """An example row for the member template."""
    return [
        "某大学绿色行动志愿服务队",
        t("org_kind.volunteer_team"),
        "四川",
        "成都",
        "",
        "李娜",
        "028-12345678",
        "team@example.org",
        "",
        "",
        "",
        "2026-03-01",
        "首批",
        t("org_status.member"),
    ]


def _labels(group: str, values: list[str]) -> str:
    return "、".join(t(f"{group}.{v}") for v in values)


def _common_notes() -> list[str]:
    return [
        t("import.note_required"),
        t("import.note_kinds", kinds=_labels("org_kind", [k.value for k in OrgKind])),
        t("import.note_provinces", provinces="、".join(PROVINCES)),
        t("import.note_encoding"),
    ]


def application_notes() -> list[str]:
    """The application template's notes: required columns and every allowed value."""
    return [
        *_common_notes(),
        t("import.note_applied_for", values=_labels("applied_for", [a.value for a in AppliedFor])),
        t("import.note_channel", values=_labels("channel", [c.value for c in Channel])),
        t("import.note_consent"),
    ]


def member_notes() -> list[str]:
    """The member template's notes: required columns and every allowed value."""
    return [
        *_common_notes(),
        t("import.note_status", values=_labels("org_status", [s.value for s in OrgStatus])),
        t("import.note_batch"),
    ]
