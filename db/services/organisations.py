"""Organisations (单位): the member directory and the records behind it."""

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Organisation
from db.services import audit
from db.services._versioned import versioned_update
from db.services.access import requires
from db.services.todos import TodoItem, todo_provider
from domain.errors import NotFound, ValidationError
from domain.organisations import OrganisationInput, validate_organisation
from domain.roles import Actor, Role
from domain.text import name_key

CONTACT_FIELDS = ("contact_person", "phone", "email", "address")


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
    contact_person: str | None
    phone: str | None
    email: str | None
    address: str | None
    version: int


def _like_escape(text: str) -> str:
    """Typed % and _ are letters to search for, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def may_see_contacts(actor: Actor) -> bool:
    """Contact data is for staff and council users; partner demos (viewers) never receive it."""
    return actor.role in (Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL)


def _values(data: OrganisationInput) -> dict[str, Any]:
    values = asdict(data)
    values["name_key"] = name_key(data.name)
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
    before = {c: getattr(before_row, c) for c in _values(data)}
    clean = validate_organisation(data, today=today)
    values = _values(clean)
    _check_unique(session, values, exclude_id=organisation_id)
    versioned_update(
        session=session, model=Organisation, record_id=organisation_id, expected_version=expected_version, **values
    )
    changed_before = {k: v for k, v in before.items() if v != values[k]}
    changed_after = {k: values[k] for k in changed_before}
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


def list_organisations(
    *,
    session: Session,
    actor: Actor,
    search: str = "",
    kind: str | None = None,
    province: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OrganisationRow], int]:
    """One page of the directory and the total count; viewers never receive contact data."""
    filters: list[Any] = []
    if search.strip():
        key, city = _like_escape(name_key(search)), _like_escape(search.strip())
        filters.append(
            or_(Organisation.name_key.like(f"%{key}%", escape="\\"), Organisation.city.like(f"%{city}%", escape="\\"))
        )
    if kind:
        filters.append(Organisation.kind == kind)
    if province:
        filters.append(Organisation.province == province)
    if status:
        filters.append(Organisation.status == status)
    total = int(session.scalar(select(func.count()).select_from(Organisation).where(*filters)) or 0)
    return _select_rows(session, actor, filters, limit=limit, offset=offset), total


def _select_rows(
    session: Session, actor: Actor, filters: list[Any], *, limit: int, offset: int
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
            *contact_cols,
            Organisation.version,
        )
        .where(*filters)
        .order_by(Organisation.is_secretariat.desc(), Organisation.province, Organisation.name_key)
        .limit(limit)
        .offset(offset)
    ).all()
    result = []
    for row in rows:
        values = list(row)
        if not show_contacts:
            values = values[:-1] + hidden + values[-1:]
        result.append(OrganisationRow(*values))
    return result


def get_organisation(*, session: Session, actor: Actor, organisation_id: int) -> OrganisationRow:
    """One organisation as the reader may see it (viewers never receive contact data); NotFound if absent."""
    rows = _select_rows(session, actor, [Organisation.id == organisation_id], limit=1, offset=0)
    if not rows:
        raise NotFound()
    return rows[0]


def count_by_kind(*, session: Session) -> dict[str, int]:
    """Member units per kind (status member), counted in SQL."""
    rows = session.execute(
        select(Organisation.kind, func.count()).where(Organisation.status == "member").group_by(Organisation.kind)
    ).all()
    return {kind: int(n) for kind, n in rows}


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
