"""Organisations (单位): the member directory and the records behind it."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import case, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Activity, Organisation
from db.services import audit, rollups
from db.services._sql import like_escape
from db.services._versioned import versioned_update
from db.services.access import requires
from db.services.todos import TodoItem, todo_provider
from domain.errors import NotFound, PermissionDenied, ValidationError
from domain.organisations import PROVINCES, OrganisationInput, OrgStatus, validate_organisation
from domain.roles import Actor, Role
from domain.text import clean_text, name_key, pinyin_key

CONTACT_FIELDS = ("contact_person", "phone", "email", "address")
MAX_REASON = 500


@dataclass(frozen=True)
class OrganisationRow:
    """An organisation as listed; contact fields are None where the reader may not see them."""

    id: int
    name: str
    kind: str
    province: str
    city: str
    status: str
    joined_on: date | None
    batch: str
    is_secretariat: bool
    credit_code: str | None
    status_reason: str
    contact_person: str | None
    phone: str | None
    email: str | None
    address: str | None
    version: int


def may_see_contacts(actor: Actor) -> bool:
    """Contact data is for staff and council users; partner demos (viewers) never receive it."""
    return actor.role in (Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL)


def _values(data: OrganisationInput) -> dict[str, Any]:
    values = asdict(data)
    values["name_key"] = name_key(data.name)
    values["sort_key"] = pinyin_key(data.name)
    values["credit_code"] = data.credit_code or None
    return values


def _check_unique(session: Session, values: dict[str, Any], exclude_id: int | None = None) -> None:
    same_name = select(Organisation.id).where(Organisation.name_key == values["name_key"])
    if exclude_id is not None:
        same_name = same_name.where(Organisation.id != exclude_id)
    if session.scalar(same_name) is not None:
        raise ValidationError("validation.duplicate_name", field="name")
    if values["credit_code"]:
        same_code = select(Organisation.id).where(Organisation.credit_code == values["credit_code"])
        if exclude_id is not None:
            same_code = same_code.where(Organisation.id != exclude_id)
        if session.scalar(same_code) is not None:
            raise ValidationError("validation.duplicate_credit_code", field="credit_code")


@requires(Role.ADMIN, Role.SECRETARIAT)
def create_organisation(*, session: Session, actor: Actor, data: OrganisationInput, today: date) -> int:
    """Enter an organisation directly (the secretariat itself, founding members); returns its id."""
    clean = validate_organisation(data, today=today)
    values = _values(clean)
    _check_unique(session, values)
    try:
        with session.begin_nested():
            org_id = session.execute(insert(Organisation).values(**values).returning(Organisation.id)).scalar_one()
    except IntegrityError as exc:  # a concurrent insert won the race for the same name or code
        raise ValidationError("validation.duplicate_name", field="name") from exc
    audit.record(
        session=session,
        actor=actor,
        action="organisation.create",
        record_type="organisation",
        record_id=org_id,
        after=values,
    )
    rollups.touch(session=session, rollup="members", months=[values.get("joined_on")])
    return int(org_id)


@requires(Role.ADMIN, Role.SECRETARIAT)
def update_organisation(
    *,
    session: Session,
    actor: Actor,
    organisation_id: int,
    expected_version: int,
    data: OrganisationInput,
    today: date,
) -> int:
    """Save an edit made on the version the user saw; a stale edit raises StaleRecord. Returns the new version."""
    before_row = session.execute(select(Organisation).where(Organisation.id == organisation_id)).scalar_one_or_none()
    if before_row is None:
        raise NotFound()
    # The status changes only through set_organisation_status, which asks for a reason.
    data = replace(data, status=before_row.status)
    before = {c: getattr(before_row, c) for c in _values(data)}
    clean = validate_organisation(data, today=today)
    values = _values(clean)
    _check_unique(session, values, exclude_id=organisation_id)
    versioned_update(
        session=session, model=Organisation, record_id=organisation_id, expected_version=expected_version, **values
    )
    changed_before = {k: v for k, v in before.items() if v != values[k]}
    changed_after = {k: values[k] for k in changed_before}
    if {"joined_on", "kind", "province", "is_secretariat"} & set(changed_before):
        rollups.touch(session=session, rollup="members", months=[before["joined_on"], values.get("joined_on")])
    if "kind" in changed_before:  # the activities it organises are counted under its kind
        starts = session.scalars(select(Activity.starts_at).where(Activity.organiser_id == organisation_id))
        rollups.touch(session=session, rollup="activities", months=list(starts))
    audit.record(
        session=session,
        actor=actor,
        action="organisation.update",
        record_type="organisation",
        record_id=organisation_id,
        before=changed_before,
        after=changed_after,
    )
    return expected_version + 1


@requires(Role.ADMIN, Role.SECRETARIAT)
def set_organisation_status(
    *, session: Session, actor: Actor, organisation_id: int, expected_version: int, status: str, reason: str
) -> int:
    """Suspend (暂停), end (退出) or restore (成员) a unit's membership, with a reason; returns the new version."""
    if status not in {s.value for s in OrgStatus}:
        raise ValidationError("validation.choice", field="status")
    text = clean_text(reason)
    if len(text) > MAX_REASON:
        raise ValidationError("validation.too_long", field="reason", max=MAX_REASON)
    if status != OrgStatus.MEMBER.value and not text:
        raise ValidationError("validation.reason_required", field="reason")
    current = session.execute(
        select(Organisation.status, Organisation.status_reason).where(Organisation.id == organisation_id)
    ).first()
    if current is None:
        raise NotFound()
    if current.status == status:
        raise ValidationError("validation.status_unchanged", field="status")
    new_version = versioned_update(
        session=session,
        model=Organisation,
        record_id=organisation_id,
        expected_version=expected_version,
        status=status,
        status_reason=text,
    )
    audit.record(
        session=session,
        actor=actor,
        action="organisation.status",
        record_type="organisation",
        record_id=organisation_id,
        before={"status": current.status, "status_reason": current.status_reason},
        after={"status": status, "status_reason": text},
    )
    return new_version


def list_organisations(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    kind: str | None = None,
    province: str | None = None,
    status: str | None = None,
    order: str = "pinyin",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OrganisationRow], int]:
    """One page of the directory and the total count (two statements); viewers never receive contact data."""
    filters = _filters(search=search, kind=kind, province=province, status=status)
    total = int(session.scalar(select(func.count()).select_from(Organisation).where(*filters)) or 0)
    return _select_rows(session, actor, filters, limit=limit, offset=offset, order=order), total


MAX_EXPORT_ROWS = 100_000


def export_organisations(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    kind: str | None = None,
    province: str | None = None,
    status: str | None = None,
    order: str = "pinyin",
) -> list[OrganisationRow]:
    """Every unit matching the filters (up to MAX_EXPORT_ROWS) for an export; viewers get no contact data."""
    filters = _filters(search=search, kind=kind, province=province, status=status)
    return _select_rows(session, actor, filters, limit=MAX_EXPORT_ROWS, offset=0, order=order)


# Provinces in the official order users know (the order of the filter), not by character code.
_PROVINCE_ORDER = case({name: index for index, name in enumerate(PROVINCES)}, value=Organisation.province, else_=99)
ORDERS = {
    "pinyin": (Organisation.sort_key, Organisation.id),
    "province": (_PROVINCE_ORDER, Organisation.sort_key, Organisation.id),
    "joined": (Organisation.joined_on.desc(), Organisation.sort_key, Organisation.id),
}


def _filters(*, search: str, kind: str | None, province: str | None, status: str | None) -> list[Any]:
    filters: list[Any] = []
    if search.strip():
        key, city = like_escape(name_key(search)), like_escape(search.strip())
        filters.append(
            or_(Organisation.name_key.like(f"%{key}%", escape="\\"), Organisation.city.like(f"%{city}%", escape="\\"))
        )
    if kind:
        filters.append(Organisation.kind == kind)
    if province:
        filters.append(Organisation.province == province)
    if status:
        filters.append(Organisation.status == status)
    return filters


def _select_rows(
    session: Session, actor: Actor, filters: list[Any], *, limit: int, offset: int, order: str = "pinyin"
) -> list[OrganisationRow]:
    show_contacts = may_see_contacts(actor)
    hidden = [None] * len(CONTACT_FIELDS)
    contact_cols = [getattr(Organisation, c) for c in CONTACT_FIELDS] if show_contacts else []
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.province,
            Organisation.city,
            Organisation.status,
            Organisation.joined_on,
            Organisation.batch,
            Organisation.is_secretariat,
            Organisation.credit_code,
            Organisation.status_reason,
            *contact_cols,
            Organisation.version,
        )
        .where(*filters)
        .order_by(Organisation.is_secretariat.desc(), *ORDERS.get(order, ORDERS["pinyin"]))
        .limit(limit)
        .offset(offset)
    ).all()
    result = []
    for row in rows:
        values = list(row)
        if not show_contacts:
            # staff's free-text reason for a status is not for partner demos either
            values = [*values[:-2], "", *hidden, *values[-1:]]
        result.append(OrganisationRow(*values))
    return result


def get_organisation(*, session: Session, actor: Actor, organisation_id: int) -> OrganisationRow:
    """One organisation as the reader may see it (viewers never receive contact data); NotFound if absent."""
    rows = _select_rows(session, actor, [Organisation.id == organisation_id], limit=1, offset=0)
    if not rows:
        raise NotFound()
    return rows[0]


def organisation_input(*, session: Session, actor: Actor, organisation_id: int) -> OrganisationInput:
    """Every editable field of a unit, as the edit form's starting values (staff only)."""
    if not actor.is_staff:
        raise PermissionDenied()
    unit = session.execute(select(Organisation).where(Organisation.id == organisation_id)).scalar_one_or_none()
    if unit is None:
        raise NotFound()
    values = {f: getattr(unit, f) for f in OrganisationInput.__dataclass_fields__}
    return OrganisationInput(**{**values, "credit_code": unit.credit_code or ""})


def count_by_kind(*, session: Session) -> dict[str, int]:
    """Member units per kind (status member), counted in SQL."""
    rows = session.execute(
        select(Organisation.kind, func.count()).where(Organisation.status == "member").group_by(Organisation.kind)
    ).all()
    return {kind: int(n) for kind, n in rows}


def search_members(
    *, session: Session, text: str, limit: int = 20, include_secretariat: bool = True
) -> list[tuple[int, str]]:
    """(id, name) of current members whose name contains the text, for pickers over a large directory (without
    the secretariat's own unit where only member units may act, e.g. nominating)."""
    key = like_escape(name_key(text))
    stmt = select(Organisation.id, Organisation.name).where(Organisation.status == OrgStatus.MEMBER.value)
    if not include_secretariat:
        stmt = stmt.where(Organisation.is_secretariat.is_(False))
    if key:
        stmt = stmt.where(Organisation.name_key.like(f"%{key}%", escape="\\"))
    return [(int(i), n) for i, n in session.execute(stmt.order_by(Organisation.sort_key).limit(limit))]


def organisation_names(*, session: Session, ids: list[int]) -> dict[int, str]:
    """Names of the given units (id -> name), for pickers that must keep showing what was chosen."""
    if not ids:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(set(ids)))))
    return {int(i): n for i, n in rows}


def organisation_choices(*, session: Session) -> list[tuple[int, str]]:
    """(id, name) of every organisation, for select boxes."""
    return [
        (int(i), n)
        for i, n in session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name_key)).all()
    ]


@todo_provider
def _secretariat_unit_missing(session: Session, actor: Actor) -> list[TodoItem]:
    if not actor.is_staff:
        return []
    exists = session.scalar(select(Organisation.id).where(Organisation.is_secretariat.is_(True)).limit(1))
    return [] if exists else [TodoItem(key="todo.secretariat_unit_missing", count=1, page="members")]


def organisation_ids_by_names(*, session: Session, names: list[str]) -> dict[str, int]:
    """Units by normalised name (name_key -> id), for import files that name a unit."""
    keys = sorted({name_key(n) for n in names if n.strip()})
    if not keys:
        return {}
    rows = session.execute(select(Organisation.name_key, Organisation.id).where(Organisation.name_key.in_(keys)))
    return {k: int(i) for k, i in rows}


@dataclass(frozen=True)
class MemberImportRow:
    """One row of a member import file, parsed: the unit (or None) and the refusal, if any."""

    row_number: str
    name: str
    data: OrganisationInput | None
    error: ValidationError | None


IMPORT_CHUNK = 500


def _taken(session: Session, keys: list[str], codes: list[str]) -> tuple[set[str], set[str]]:
    """Which of these name keys and credit codes units already have (a few statements for a whole file)."""
    names: set[str] = set()
    found_codes: set[str] = set()
    for start in range(0, max(len(keys), len(codes)), IMPORT_CHUNK):
        chunk_keys, chunk_codes = keys[start : start + IMPORT_CHUNK], codes[start : start + IMPORT_CHUNK]
        for key, code in session.execute(
            select(Organisation.name_key, Organisation.credit_code).where(
                or_(Organisation.name_key.in_(chunk_keys), Organisation.credit_code.in_(chunk_codes))
            )
        ):
            names.add(key)
            if code:
                found_codes.add(code)
    return names, found_codes


def check_member_rows(*, session: Session, rows: list[MemberImportRow], today: date) -> list[MemberImportRow]:
    """Validate every row against the rules, the directory and the other rows of the file (for the preview)."""
    cleaned: list[tuple[MemberImportRow, OrganisationInput | ValidationError]] = []
    for row in rows:
        if row.error is not None or row.data is None:
            cleaned.append((row, row.error or ValidationError("import.unreadable", field="file")))
            continue
        try:
            cleaned.append((row, validate_organisation(row.data, today=today)))
        except ValidationError as exc:
            cleaned.append((row, exc))
    valid = [c for _, c in cleaned if isinstance(c, OrganisationInput)]
    taken_names, taken_codes = _taken(
        session, sorted({name_key(c.name) for c in valid}), sorted({c.credit_code for c in valid if c.credit_code})
    )
    checked: list[MemberImportRow] = []
    seen: set[str] = set()
    for row, clean in cleaned:
        if isinstance(clean, ValidationError):
            checked.append(row if row.error is not None else replace(row, error=clean))
            continue
        key = name_key(clean.name)
        marks = {key} | ({clean.credit_code} if clean.credit_code else set())
        if key in taken_names:
            checked.append(replace(row, error=ValidationError("validation.duplicate_name", field="name")))
        elif clean.credit_code and clean.credit_code in taken_codes:
            checked.append(replace(row, error=ValidationError("validation.duplicate_credit_code", field="credit_code")))
        elif marks & seen:
            checked.append(replace(row, error=ValidationError("import.duplicate_in_file", field="name")))
        else:
            seen |= marks
            checked.append(replace(row, data=clean))
    return checked


@requires(Role.ADMIN, Role.SECRETARIAT)
def import_organisations(
    *,
    session: Session,
    actor: Actor,
    rows: list[MemberImportRow],
    today: date,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Enter every unit of a checked file in one transaction (in bulk, so the write lock is short); any bad
    row refuses the whole file."""
    checked = check_member_rows(session=session, rows=rows, today=today)
    bad = [r for r in checked if r.error is not None]
    if bad:
        raise ValidationError("import.has_errors", field="file", count=len(bad))
    values = [_values(row.data) for row in checked if row.data is not None]
    done = 0
    for start in range(0, len(values), IMPORT_CHUNK):
        chunk = values[start : start + IMPORT_CHUNK]
        try:
            with session.begin_nested():
                # executemany without RETURNING: one statement per chunk on SQLite (RETURNING would go row by row)
                session.execute(insert(Organisation), chunk)
            by_key = {
                key: int(found_id)
                for key, found_id in session.execute(
                    select(Organisation.name_key, Organisation.id).where(
                        Organisation.name_key.in_([v["name_key"] for v in chunk])
                    )
                )
            }
            ids = [by_key[v["name_key"]] for v in chunk]
        except IntegrityError as exc:  # a concurrent writer entered one of these units meanwhile
            raise ValidationError("validation.duplicate_name", field="name") from exc
        audit.record_many(
            session=session,
            actor=actor,
            action="organisation.create",
            record_type="organisation",
            entries=list(zip(ids, chunk, strict=True)),
        )
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, len(values))
    rollups.touch(session=session, rollup="members", months=[v.get("joined_on") for v in values])
    return len(values)
