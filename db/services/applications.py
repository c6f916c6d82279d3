"""Applications to join the network (入网申请): intake by the public form, by the secretariat on an applicant's
behalf, by invitation or a member's recommendation; review, council opinions and decisions."""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import zip_longest
from typing import Any

from sqlalchemy import case, delete, func, insert, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from db.models import Application, ApplicationEvent, CouncilOpinion, IntakeAttempt, Organisation, User
from db.services import audit, rollups, settings
from db.services._sql import like_escape
from db.services._versioned import versioned_update, versioned_upsert
from db.services.access import requires
from db.services.council import has_active_term
from db.services.organisations import _check_unique, _values, may_see_contacts
from db.services.todos import TodoItem, todo_provider
from domain.applications import (
    PENDING,
    ApplicationInput,
    AppliedFor,
    AppStatus,
    Channel,
    IntakeLimits,
    Opinion,
    check_opinion,
    check_transition,
    new_reference,
    normalise_reference,
    validate_application,
)
from domain.clock import SHANGHAI, day_start, today
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.organisations import OrganisationInput, OrgStatus, validate_phone
from domain.roles import Actor, Role
from domain.text import name_key, normalise_identifier

READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL})
PENDING_VALUES = sorted(s.value for s in PENDING)
ORG_FIELDS = (
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
)
CONTACT_FIELDS = ("contact_person", "phone", "email", "address")


def _check_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise PermissionDenied()


def _pending() -> Any:
    return Application.status.in_(PENDING_VALUES)


# ---------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class Duplicate:
    """An existing member or pending application with the same credit code or normalised name."""

    kind: str  # "organisation" or "application"
    id: int
    name: str
    status: str
    reference: str
    same_code: bool


def find_duplicates(
    *, session: Session, name: str, credit_code: str = "", exclude_application_id: int | None = None
) -> list[Duplicate]:
    """Members and pending applications that look like the same organisation (staff see them named)."""
    key, code = name_key(name), normalise_identifier(credit_code)
    if not key and not code:
        return []
    org_match = [Organisation.name_key == key] + ([Organisation.credit_code == code] if code else [])
    found = [
        Duplicate("organisation", int(r.id), r.name, r.status, "", bool(code) and r.credit_code == code)
        for r in session.execute(
            select(Organisation.id, Organisation.name, Organisation.status, Organisation.credit_code)
            .where(or_(*org_match))
            .limit(10)
        )
    ]
    app_match = [Application.name_key == key] + ([Application.credit_code == code] if code else [])
    apps = select(
        Application.id, Application.name, Application.status, Application.reference, Application.credit_code
    ).where(or_(*app_match), _pending())
    if exclude_application_id is not None:
        apps = apps.where(Application.id != exclude_application_id)
    found += [
        Duplicate("application", int(r.id), r.name, r.status, r.reference, bool(code) and r.credit_code == code)
        for r in session.execute(apps.limit(10))
    ]
    return found


def _refuse_duplicates(session: Session, data: ApplicationInput, *, public: bool) -> None:
    """Refuse an application that duplicates a unit or a pending application (see _refuse)."""
    org = data.organisation
    _refuse(data, find_duplicates(session=session, name=org.name, credit_code=org.credit_code), public=public)


def _refuse(data: ApplicationInput, duplicates: list[Duplicate], *, public: bool) -> None:
    """A pending application for the same unit is refused, and so is a unit already in the directory, except a
    member applying for a council seat and a unit that left (退出) applying again; a suspended unit is restored
    by the secretariat, not by a new application. Anonymous visitors learn nothing about who else applied;
    staff are told what it is."""
    for dup in duplicates:
        if dup.kind == "organisation" and (
            dup.status == OrgStatus.EXITED.value
            or (data.applied_for == AppliedFor.COUNCIL.value and dup.status == OrgStatus.MEMBER.value)
        ):
            continue
        if public:
            raise ValidationError("apply.duplicate")
        if dup.kind == "organisation" and dup.status == OrgStatus.SUSPENDED.value:
            raise ValidationError("validation.unit_suspended", field="name", name=dup.name)
        if dup.kind == "organisation":
            raise ValidationError("validation.already_member", field="name", name=dup.name)
        raise ValidationError("validation.duplicate_application", field="name", reference=dup.reference)


# ---------------------------------------------------------------- intake


INTAKE_LOCK = 0x45564E5301  # an arbitrary, fixed advisory-lock key for the public form's limits


def _client_hash(client: str) -> str:
    return hashlib.sha256(f"evsn-intake:{client}".encode()).hexdigest()


@requires(public=True)
def reserve_intake_attempt(*, session: Session, actor: Actor, client: str, now: datetime, limits: IntakeLimits) -> None:
    """Count a submission of the public form against the hourly limits, or refuse it (too many)."""
    since = now - timedelta(seconds=limits.window_seconds)
    client_key = _client_hash(client)
    if session.get_bind().dialect.name == "postgresql":
        # count-then-insert must not interleave between concurrent submissions (SQLite's BEGIN IMMEDIATE
        # already serialises writers); the lock ends with the transaction.
        session.execute(select(func.pg_advisory_xact_lock(INTAKE_LOCK)))
    session.execute(delete(IntakeAttempt).where(IntakeAttempt.at < now - timedelta(days=1)))
    total, mine = session.execute(
        select(func.count(), func.count(case((IntakeAttempt.client == client_key, 1)))).where(IntakeAttempt.at >= since)
    ).one()
    if mine >= limits.per_client or total >= limits.total:
        raise ValidationError("apply.too_many")
    session.execute(insert(IntakeAttempt).values(at=now, client=client_key))


def _unique_references(session: Session, now: datetime, count: int) -> list[str]:
    """`count` new reference numbers that no application has (collisions are rare: 31^8 per year)."""
    year = now.astimezone(SHANGHAI).year
    chosen: set[str] = set()
    while len(chosen) < count:
        wanted = {new_reference(year) for _ in range(count - len(chosen))} - chosen
        taken: set[str] = set()
        for chunk in _chunks(sorted(wanted)):
            taken |= set(session.scalars(select(Application.reference).where(Application.reference.in_(chunk))))
        chosen |= wanted - taken
    return sorted(chosen)


def _application_values(
    data: ApplicationInput, *, channel: Channel, now: datetime, actor: Actor, reference: str
) -> dict[str, Any]:
    """The row of a new application (validated input) as submitted now."""
    org = data.organisation
    values: dict[str, Any] = {f: getattr(org, f) for f in ORG_FIELDS}
    values.update(
        credit_code=org.credit_code or None,
        name_key=name_key(org.name),
        applied_for=data.applied_for,
        channel=channel.value,
        statement=data.statement,
        materials=data.materials,
        consent_at=now,
        status=AppStatus.SUBMITTED.value,
        submitted_at=now,
        entered_by=actor.user_id,
        reference=reference,
    )
    return values


def _insert(
    session: Session,
    actor: Actor,
    data: ApplicationInput,
    *,
    channel: Channel,
    recommender_id: int | None,
    now: datetime,
    public: bool,
) -> tuple[int, str]:
    values = _application_values(
        data, channel=channel, now=now, actor=actor, reference=_unique_references(session, now, 1)[0]
    ) | {"recommender_id": recommender_id}
    try:
        with session.begin_nested():
            app_id = int(session.execute(insert(Application).values(**values).returning(Application.id)).scalar_one())
    except IntegrityError as exc:  # a concurrent application for the same unit won the race
        if public:
            raise ValidationError("apply.duplicate") from exc
        raise ValidationError("validation.duplicate_application", field="name", reference="") from exc
    session.execute(
        insert(ApplicationEvent).values(
            application_id=app_id,
            at=now,
            user_id=actor.user_id,
            username=actor.username,
            from_status=None,
            to_status=AppStatus.SUBMITTED.value,
            note="",
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action="application.submit" if public else "application.create",
        record_type="application",
        record_id=app_id,
        after={k: v for k, v in values.items() if k != "name_key"},
    )
    rollups.touch(session=session, rollup="applications", months=[values.get("submitted_at", now)])
    return app_id, str(values["reference"])


@requires(public=True)
def submit_application(*, session: Session, actor: Actor, data: ApplicationInput, now: datetime) -> str:
    """The public form (自主报名): refused while intake is closed; returns the reference number."""
    if not settings.get_setting(session=session, key="intake_open"):
        raise ValidationError("apply.closed_now")
    clean = validate_application(data, today=now.astimezone(SHANGHAI).date())
    _refuse_duplicates(session, clean, public=True)
    return _insert(session, actor, clean, channel=Channel.SELF_APPLIED, recommender_id=None, now=now, public=True)[1]


def _check_channel(session: Session, channel: str, recommender_id: int | None) -> None:
    """A known channel; a recommendation names a recommender who is a current member."""
    status = None
    if recommender_id is not None:
        status = session.scalar(select(Organisation.status).where(Organisation.id == recommender_id))
    _check_channel_with(channel, recommender_id, status)


def _check_channel_with(channel: str, recommender_id: int | None, recommender_status: str | None) -> None:
    if channel not in {c.value for c in Channel}:
        raise ValidationError("validation.choice", field="channel")
    if channel == Channel.RECOMMENDED.value:
        if recommender_id is None:
            raise ValidationError("validation.recommender_required", field="recommender_id")
        if recommender_status != OrgStatus.MEMBER.value:
            raise ValidationError("validation.recommender_not_member", field="recommender_id")


@requires(Role.ADMIN, Role.SECRETARIAT)
def create_application(
    *,
    session: Session,
    actor: Actor,
    data: ApplicationInput,
    channel: str,
    recommender_id: int | None,
    now: datetime,
) -> tuple[int, str]:
    """Enter an application received on paper or by e-mail, an invitation or a member's recommendation."""
    _check_channel(session, channel, recommender_id)
    clean = validate_application(data, today=now.astimezone(SHANGHAI).date())
    if channel != Channel.RECOMMENDED.value:
        recommender_id = None
    _refuse_duplicates(session, clean, public=False)
    return _insert(
        session, actor, clean, channel=Channel(channel), recommender_id=recommender_id, now=now, public=False
    )


@dataclass(frozen=True)
class PublicStatus:
    """What an applicant sees of their own application: status, dates and any message to them."""

    reference: str
    name: str
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    message: str


def lookup_status(*, session: Session, reference: str, phone: str) -> PublicStatus | None:
    """The applicant's view of an application, only with the contact phone that was given; None otherwise
    (the same answer for a wrong reference and a wrong phone)."""
    ref = normalise_reference(reference)
    try:
        number = validate_phone(phone)
    except ValidationError:
        return None
    if not ref or not number:
        return None
    row = session.execute(
        select(
            Application.reference,
            Application.name,
            Application.status,
            Application.submitted_at,
            Application.decided_at,
            Application.message_to_applicant,
        ).where(Application.reference == ref, Application.phone == number)
    ).first()
    if row is None:
        return None
    message = row.message_to_applicant if row.status == AppStatus.NEEDS_MORE.value else ""
    return PublicStatus(row.reference, row.name, row.status, row.submitted_at, row.decided_at, message)


# ---------------------------------------------------------------- review list and detail


@dataclass(frozen=True)
class ApplicationFilters:
    """The review list's filters; dates are Asia/Shanghai calendar days, both ends included."""

    status: str | None = None
    channel: str | None = None
    kind: str | None = None
    province: str | None = None
    applied_for: str | None = None
    since: date | None = None
    until: date | None = None
    search: str = ""
    awaiting_unit: int | None = None  # pending applications this council unit has not given its opinion on


@dataclass(frozen=True)
class ApplicationRow:
    """An application as listed, with the tally of council opinions."""

    id: int
    reference: str
    name: str
    kind: str
    province: str
    applied_for: str
    channel: str
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    recommender: str | None
    credit_code: str | None
    contact_person: str | None
    phone: str | None
    email: str | None
    agree: int
    oppose: int
    abstain: int


def _filtered(filters: ApplicationFilters) -> list[Any]:
    where: list[Any] = []
    for field in ("status", "channel", "kind", "province", "applied_for"):
        value = getattr(filters, field)
        if value:
            where.append(getattr(Application, field) == value)
    if filters.since:
        where.append(Application.submitted_at >= day_start(filters.since))
    if filters.until:
        where.append(Application.submitted_at < day_start(filters.until + timedelta(days=1)))
    if filters.awaiting_unit is not None:
        where.append(_pending())
        where.append(~_opinion_given(filters.awaiting_unit))
    text = filters.search.strip()
    if text:
        key = like_escape(name_key(text))
        code = like_escape(normalise_identifier(text))
        matches = [
            Application.name_key.like(f"%{key}%", escape="\\"),
            Application.reference == normalise_reference(text),
        ]
        if len(code) >= 4:  # a fragment of a reference (without SQ2026-) or of a credit code
            matches += [
                Application.reference.like(f"%{code}%", escape="\\"),
                Application.credit_code.like(f"%{code}%", escape="\\"),
            ]
        where.append(or_(*matches))
    return where


def _opinion_given(unit: int) -> Any:
    return (
        select(CouncilOpinion.id)
        .where(CouncilOpinion.application_id == Application.id, CouncilOpinion.organisation_id == unit)
        .exists()
    )


def _list_query(actor: Actor, where: list[Any]) -> Any:
    recommender = aliased(Organisation)
    contacts = (
        [Application.contact_person, Application.phone, Application.email]
        if may_see_contacts(actor)
        else [null().label(c) for c in ("contact_person", "phone", "email")]
    )
    return (
        select(
            Application.id,
            Application.reference,
            Application.name,
            Application.kind,
            Application.province,
            Application.applied_for,
            Application.channel,
            Application.status,
            Application.submitted_at,
            Application.decided_at,
            recommender.name,
            Application.credit_code,
            *contacts,
        )
        .outerjoin(recommender, recommender.id == Application.recommender_id)
        .where(*where)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
    )


TALLY_CHUNK = 10_000


def _tallies(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = {i: {o.value: 0 for o in Opinion} for i in ids}
    # In chunks: a page needs one statement; an export of 100,000 rows stays under PostgreSQL's 65,535
    # parameters per statement.
    for start in range(0, len(ids), TALLY_CHUNK):
        rows = session.execute(
            select(CouncilOpinion.application_id, CouncilOpinion.opinion, func.count())
            .where(CouncilOpinion.application_id.in_(ids[start : start + TALLY_CHUNK]))
            .group_by(CouncilOpinion.application_id, CouncilOpinion.opinion)
        )
        for app_id, opinion, n in rows:
            result[int(app_id)][opinion] = int(n)
    return result


def _rows(session: Session, stmt: Any) -> list[ApplicationRow]:
    rows = session.execute(stmt).all()
    tallies = _tallies(session, [int(r[0]) for r in rows])
    result = []
    for r in rows:
        tally = tallies[int(r[0])]
        values: list[Any] = [*r, tally["agree"], tally["oppose"], tally["abstain"]]
        result.append(ApplicationRow(*values))
    return result


def list_applications(
    *, session: Session, actor: Actor, filters: ApplicationFilters, limit: int = 50, offset: int = 0
) -> tuple[list[ApplicationRow], int]:
    """One page of applications, newest first, and how many match: three statements whatever the data size."""
    _check_reader(actor)
    where = _filtered(filters)
    total = int(session.scalar(select(func.count()).select_from(Application).where(*where)) or 0)
    return _rows(session, _list_query(actor, where).limit(limit).offset(offset)), total


MAX_EXPORT_ROWS = 100_000


def export_applications(*, session: Session, actor: Actor, filters: ApplicationFilters) -> list[ApplicationRow]:
    """Every application matching the filters (up to MAX_EXPORT_ROWS), for an .xlsx/.csv export."""
    _check_reader(actor)
    return _rows(session, _list_query(actor, _filtered(filters)).limit(MAX_EXPORT_ROWS))


@dataclass(frozen=True)
class EventRow:
    """One step of the status history."""

    at: datetime
    username: str
    display_name: str | None
    from_status: str | None
    to_status: str
    note: str


@dataclass(frozen=True)
class OpinionRow:
    """A council unit's opinion."""

    organisation_id: int
    organisation_name: str
    opinion: str
    comment: str
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class ApplicationDetail:
    """Everything about one application, as the reader may see it."""

    id: int
    reference: str
    applied_for: str
    channel: str
    recommender_id: int | None
    recommender: str | None
    organisation: OrganisationInput
    statement: str
    materials: str
    consent_at: datetime
    status: str
    message_to_applicant: str
    decision_reason: str
    submitted_at: datetime
    decided_at: datetime | None
    organisation_id: int | None
    entered_by: str | None
    version: int
    history: list[EventRow]
    opinions: list[OpinionRow]

    def tally(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Opinion}
        for op in self.opinions:
            counts[op.opinion] += 1
        return counts


def get_application(*, session: Session, actor: Actor, application_id: int) -> ApplicationDetail:
    """One application with its status history and council opinions; NotFound if absent."""
    _check_reader(actor)
    recommender = aliased(Organisation)
    row = session.execute(
        select(Application, recommender.name, User.display_name)
        .outerjoin(recommender, recommender.id == Application.recommender_id)
        .outerjoin(User, User.id == Application.entered_by)
        .where(Application.id == application_id)
    ).first()
    if row is None:
        raise NotFound()
    app, recommender_name, entered_by = row
    org_values: dict[str, Any] = {f: getattr(app, f) or "" for f in ORG_FIELDS}
    if not may_see_contacts(actor):
        org_values = {**org_values, **dict.fromkeys(CONTACT_FIELDS, "")}
    history = [
        EventRow(*r)
        for r in session.execute(
            select(
                ApplicationEvent.at,
                ApplicationEvent.username,
                User.display_name,
                ApplicationEvent.from_status,
                ApplicationEvent.to_status,
                ApplicationEvent.note,
            )
            .outerjoin(User, User.id == ApplicationEvent.user_id)
            .where(ApplicationEvent.application_id == application_id)
            .order_by(ApplicationEvent.at, ApplicationEvent.id)
        )
    ]
    opinions = [
        OpinionRow(*r)
        for r in session.execute(
            select(
                CouncilOpinion.organisation_id,
                Organisation.name,
                CouncilOpinion.opinion,
                CouncilOpinion.comment,
                CouncilOpinion.updated_at,
                CouncilOpinion.version,
            )
            .join(Organisation, Organisation.id == CouncilOpinion.organisation_id)
            .where(CouncilOpinion.application_id == application_id)
            .order_by(Organisation.sort_key)
        )
    ]
    return ApplicationDetail(
        id=app.id,
        reference=app.reference,
        applied_for=app.applied_for,
        channel=app.channel,
        recommender_id=app.recommender_id,
        recommender=recommender_name,
        organisation=OrganisationInput(**org_values),
        statement=app.statement,
        materials=app.materials,
        consent_at=app.consent_at,
        status=app.status,
        message_to_applicant=app.message_to_applicant,
        decision_reason=app.decision_reason,
        submitted_at=app.submitted_at,
        decided_at=app.decided_at,
        organisation_id=app.organisation_id,
        entered_by=entered_by,
        version=app.version,
        history=history,
        opinions=opinions,
    )


def applications_of_organisation(*, session: Session, actor: Actor, organisation_id: int) -> list[ApplicationRow]:
    """The applications that made or concern a unit (linked on approval, or the same name or credit code)."""
    _check_reader(actor)
    org = session.execute(
        select(Organisation.name_key, Organisation.credit_code).where(Organisation.id == organisation_id)
    ).first()
    if org is None:
        return []
    match = [Application.organisation_id == organisation_id, Application.name_key == org.name_key]
    if org.credit_code:
        match.append(Application.credit_code == org.credit_code)
    return _rows(session, _list_query(actor, [or_(*match)]).limit(100))


# ---------------------------------------------------------------- decisions


def _locked_application(session: Session, application_id: int) -> Application:
    # FOR UPDATE on PostgreSQL: an opinion and a decision on the same application never interleave
    # (SQLite's BEGIN IMMEDIATE already serialises writers).
    app = session.execute(
        select(Application).where(Application.id == application_id).with_for_update()
    ).scalar_one_or_none()
    if app is None:
        raise NotFound()
    return app


def _admit(session: Session, actor: Actor, app: Application, today: date) -> tuple[int, date | None]:
    """Approval: create the member unit, or readmit the unit it already is (see below); returns its id and the
    join date it had before (None for a new unit)."""
    batch = str(settings.get_setting(session=session, key="current_batch"))
    fields: dict[str, Any] = {f: getattr(app, f) or "" for f in ORG_FIELDS}
    data = OrganisationInput(**fields, status=OrgStatus.MEMBER.value, joined_on=today, batch=batch)
    values = {**_values(data), "admitted_channel": app.channel}
    match = [Organisation.name_key == values["name_key"]]
    if values["credit_code"]:
        match.append(Organisation.credit_code == values["credit_code"])
    existing = session.execute(select(Organisation).where(or_(*match)).limit(2)).scalars().all()
    if len(existing) > 1:
        raise ValidationError("validation.ambiguous_unit", field="name")
    if not existing:
        _check_unique(session, values)
        org_id = int(session.execute(insert(Organisation).values(**values).returning(Organisation.id)).scalar_one())
        audit.record(
            session=session,
            actor=actor,
            action="organisation.admit",
            record_type="organisation",
            record_id=org_id,
            after=values,
        )
        return org_id, None
    unit = existing[0]
    # The directory's record stays as the secretariat keeps it: an application (perhaps typed by anyone on the
    # public form) never overwrites a unit's data. A member applying for a council seat stays as it is; a unit
    # that had left rejoins today in the current batch; a suspended unit is restored from its record instead.
    if unit.status == OrgStatus.SUSPENDED.value:
        raise ValidationError("validation.unit_suspended", field="name", name=unit.name)
    if unit.status == OrgStatus.MEMBER.value:
        return int(unit.id), unit.joined_on
    changes = {
        "status": OrgStatus.MEMBER.value,
        "joined_on": today,
        "batch": batch,
        "status_reason": "",
        "admitted_channel": app.channel,
    }
    before = {k: getattr(unit, k) for k in changes}
    versioned_update(session=session, model=Organisation, record_id=unit.id, expected_version=unit.version, **changes)
    audit.record(
        session=session,
        actor=actor,
        action="organisation.admit",
        record_type="organisation",
        record_id=unit.id,
        before=before,
        after=changes,
    )
    return int(unit.id), before["joined_on"]


@requires(Role.ADMIN, Role.SECRETARIAT)
def change_status(
    *,
    session: Session,
    actor: Actor,
    application_id: int,
    expected_version: int,
    to_status: str,
    note: str,
    now: datetime,
) -> int:
    """Move an application along DOMAIN.md's transition table (approval admits the unit); returns the new version."""
    app = _locked_application(session, application_id)
    if app.version != expected_version:
        raise StaleRecord()
    text = check_transition(app.status, to_status, note)
    values: dict[str, Any] = {"status": to_status}
    if to_status == AppStatus.NEEDS_MORE.value:
        values["message_to_applicant"] = text
    if to_status in (AppStatus.APPROVED.value, AppStatus.REJECTED.value, AppStatus.WITHDRAWN.value):
        values.update(decided_at=now, decision_reason=text)
    joined_months: list[date | None] = []
    if to_status == AppStatus.APPROVED.value:
        day = now.astimezone(SHANGHAI).date()
        values["organisation_id"], previous = _admit(session, actor, app, day)
        joined_months = [previous, day]
    before_status = app.status
    new_version = versioned_update(
        session=session, model=Application, record_id=application_id, expected_version=expected_version, **values
    )
    # counted after the status is written: a unit's channel is that of its approved application
    rollups.touch(session=session, rollup="applications", months=[app.submitted_at])
    rollups.touch(session=session, rollup="reviews", months=[values.get("decided_at")])
    rollups.touch(session=session, rollup="members", months=joined_months)
    session.execute(
        insert(ApplicationEvent).values(
            application_id=application_id,
            at=now,
            user_id=actor.user_id,
            username=actor.username,
            from_status=before_status,
            to_status=to_status,
            note=text,
        )
    )
    audit.record(
        session=session,
        actor=actor,
        action=f"application.{to_status}",
        record_type="application",
        record_id=application_id,
        before={"status": before_status},
        after=values,
    )
    return new_version


@requires(Role.COUNCIL)
def give_opinion(
    *,
    session: Session,
    actor: Actor,
    application_id: int,
    opinion: str,
    comment: str,
    expected_version: int,
    today: date,
) -> int:
    """Record or change this council unit's opinion (同意/反对/弃权) until the decision. `expected_version` is
    the version of the unit's opinion the user saw (0: none yet). Returns the opinion's new version."""
    unit = actor.organisation_id
    if unit is None or not has_active_term(session=session, organisation_id=unit, on=today):
        raise PermissionDenied("error.no_active_term")
    text = check_opinion(opinion, comment)
    app = _locked_application(session, application_id)
    if app.status not in PENDING_VALUES:
        raise ValidationError("validation.application_decided", field="opinion")
    new_version, before = versioned_upsert(
        session=session,
        model=CouncilOpinion,
        key={"application_id": application_id, "organisation_id": unit},
        values={"opinion": opinion, "comment": text, "user_id": actor.user_id},
        expected_version=expected_version,
        kept=("opinion", "comment"),
    )
    audit.record(
        session=session,
        actor=actor,
        action="application.opinion",
        record_type="application",
        record_id=application_id,
        before=before,
        after={"organisation_id": unit, "opinion": opinion, "comment": text},
    )
    return new_version


def own_opinion(*, session: Session, actor: Actor, application_id: int) -> OpinionRow | None:
    """The opinion the actor's unit gave on an application, if any."""
    if actor.organisation_id is None:
        return None
    row = session.execute(
        select(
            CouncilOpinion.organisation_id,
            Organisation.name,
            CouncilOpinion.opinion,
            CouncilOpinion.comment,
            CouncilOpinion.updated_at,
            CouncilOpinion.version,
        )
        .join(Organisation, Organisation.id == CouncilOpinion.organisation_id)
        .where(CouncilOpinion.application_id == application_id, CouncilOpinion.organisation_id == actor.organisation_id)
    ).first()
    return OpinionRow(*row) if row else None


# ---------------------------------------------------------------- the council screen's queue


@dataclass(frozen=True)
class QueuedUnit:
    """An approved council-unit application whose unit has not been seated since."""

    application_id: int
    reference: str
    organisation_id: int
    name: str
    channel: str
    decided_at: datetime


def council_queue(*, session: Session, actor: Actor) -> list[QueuedUnit]:
    """Approved 理事单位 applications waiting for a seat, oldest decision first (application data: readers of
    applications only, checked here and not only by the page)."""
    _check_reader(actor)
    from db.models import CouncilTerm

    seated_since = (
        select(CouncilTerm.id)
        .where(
            CouncilTerm.organisation_id == Application.organisation_id,
            CouncilTerm.created_at >= Application.decided_at,
        )
        .exists()
    )
    rows = session.execute(
        select(
            Application.id,
            Application.reference,
            Application.organisation_id,
            Organisation.name,
            Application.channel,
            Application.decided_at,
        )
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(
            Application.status == AppStatus.APPROVED.value,
            Application.applied_for == AppliedFor.COUNCIL.value,
            Organisation.status == OrgStatus.MEMBER.value,
            ~seated_since,
            ~select(CouncilTerm.id).where(CouncilTerm.application_id == Application.id).exists(),
        )
        .order_by(Application.decided_at)
    ).all()
    return [QueuedUnit(*r) for r in rows]  # type: ignore[arg-type]  # joined: organisation_id is set


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportRow:
    """One row of an import file, parsed: the application (or None) and the refusal, if any."""

    row_number: str
    name: str
    channel: str
    recommender_id: int | None
    data: ApplicationInput | None
    error: ValidationError | None


IMPORT_CHUNK = 500


def _chunks(values: list[Any], size: int = IMPORT_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _duplicate_index(session: Session, keys: set[str], codes: set[str]) -> Callable[[str, str], list[Duplicate]]:
    """Every unit and pending application that shares a name key or credit code with a file's rows, read in a
    few statements; returns a lookup (name key, code) -> duplicates, as find_duplicates would answer."""
    by_key: dict[str, list[Duplicate]] = {}
    by_code: dict[str, list[Duplicate]] = {}

    def note(dup: Duplicate, key: str, code: str | None) -> None:
        by_key.setdefault(key, []).append(dup)
        if code:
            by_code.setdefault(code, []).append(dup)

    chunk_pairs: Iterator[tuple[list[str], list[str]]] = zip_longest(
        _chunks(sorted(keys)), _chunks(sorted(codes)), fillvalue=[]
    )
    for chunk_keys, chunk_codes in chunk_pairs:
        org_rows = session.execute(
            select(
                Organisation.id, Organisation.name, Organisation.status, Organisation.name_key, Organisation.credit_code
            ).where(or_(Organisation.name_key.in_(chunk_keys), Organisation.credit_code.in_(chunk_codes)))
        )
        for o in org_rows:
            note(Duplicate("organisation", int(o.id), o.name, o.status, "", False), o.name_key, o.credit_code)
        app_rows = session.execute(
            select(Application.id, Application.name, Application.status, Application.reference, Application.name_key,
                   Application.credit_code)
            .where(or_(Application.name_key.in_(chunk_keys), Application.credit_code.in_(chunk_codes)), _pending())
        )  # fmt: skip
        for r in app_rows:
            note(Duplicate("application", int(r.id), r.name, r.status, r.reference, False), r.name_key, r.credit_code)

    def lookup(key: str, code: str) -> list[Duplicate]:
        found = {(d.kind, d.id): d for d in by_key.get(key, [])}
        for d in by_code.get(code, []) if code else []:
            found[(d.kind, d.id)] = replace(d, same_code=True)
        return list(found.values())

    return lookup


def check_import_rows(*, session: Session, rows: list[ImportRow], now: datetime) -> list[ImportRow]:
    """Validate every row against the rules, the database and the other rows of the file (for the preview);
    a fixed handful of statements per 500 rows, not several per row."""
    today = now.astimezone(SHANGHAI).date()
    cleaned: list[tuple[ImportRow, ApplicationInput | ValidationError]] = []
    for row in rows:
        if row.error is not None or row.data is None:
            cleaned.append((row, row.error or ValidationError("import.unreadable", field="file")))
            continue
        try:
            cleaned.append((row, validate_application(row.data, today=today)))
        except ValidationError as exc:
            cleaned.append((row, exc))
    valid = [c for _, c in cleaned if isinstance(c, ApplicationInput)]
    lookup = _duplicate_index(
        session,
        {name_key(c.organisation.name) for c in valid},
        {c.organisation.credit_code for c in valid if c.organisation.credit_code},
    )
    recommender_ids = sorted({r.recommender_id for r in rows if r.recommender_id is not None})
    statuses: dict[int, str] = {}
    for chunk in _chunks(recommender_ids):
        rows_found = session.execute(select(Organisation.id, Organisation.status).where(Organisation.id.in_(chunk)))
        statuses |= {int(i): str(status) for i, status in rows_found}
    checked: list[ImportRow] = []
    seen_names: set[str] = set()
    seen_codes: set[str] = set()
    for row, clean in cleaned:
        if isinstance(clean, ValidationError):
            checked.append(row if row.error is not None else replace(row, error=clean))
            continue
        try:
            _check_channel_with(row.channel, row.recommender_id, statuses.get(row.recommender_id or -1))
            key, code = name_key(clean.organisation.name), clean.organisation.credit_code
            _refuse(clean, lookup(key, code), public=False)
            if key in seen_names or (code and code in seen_codes):
                raise ValidationError("import.duplicate_in_file", field="name")
            seen_names.add(key)
            if code:
                seen_codes.add(code)
            checked.append(replace(row, data=clean))
        except ValidationError as exc:
            checked.append(replace(row, error=exc))
    return checked


@requires(Role.ADMIN, Role.SECRETARIAT)
def import_applications(
    *,
    session: Session,
    actor: Actor,
    rows: list[ImportRow],
    now: datetime,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create every application of a checked file in one transaction (in bulk: a short write lock even for
    thousands of rows); any bad row refuses the whole file."""
    checked = check_import_rows(session=session, rows=rows, now=now)
    bad = [r for r in checked if r.error is not None]
    if bad:
        raise ValidationError("import.has_errors", field="file", count=len(bad))
    references = _unique_references(session, now, len(checked))
    values = []
    for row, reference in zip(checked, references, strict=True):
        assert row.data is not None
        values.append(
            _application_values(row.data, channel=Channel(row.channel), now=now, actor=actor, reference=reference)
            | {"recommender_id": row.recommender_id if row.channel == Channel.RECOMMENDED.value else None}
        )
    done = 0
    for chunk in _chunks(values):
        try:
            with session.begin_nested():
                # executemany without RETURNING: one statement per chunk on SQLite (RETURNING would go row by row)
                session.execute(insert(Application), chunk)
            by_reference = {
                key: int(found_id)
                for key, found_id in session.execute(
                    select(Application.reference, Application.id).where(
                        Application.reference.in_([v["reference"] for v in chunk])
                    )
                )
            }
            ids = [by_reference[v["reference"]] for v in chunk]
        except IntegrityError as exc:  # a concurrent application for one of the units won the race
            raise ValidationError("validation.duplicate_application", field="name", reference="") from exc
        session.execute(
            insert(ApplicationEvent),
            [
                {"application_id": i, "at": now, "user_id": actor.user_id, "username": actor.username,
                 "from_status": None, "to_status": AppStatus.SUBMITTED.value, "note": ""}
                for i in ids
            ],
        )  # fmt: skip
        audit.record_many(
            session=session,
            actor=actor,
            action="application.create",
            record_type="application",
            entries=[(i, {k: v for k, v in v.items() if k != "name_key"}) for i, v in zip(ids, chunk, strict=True)],
        )
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, len(values))
    rollups.touch(session=session, rollup="applications", months=[v.get("submitted_at", now) for v in values])
    return len(values)


# ---------------------------------------------------------------- home-page to-dos


@todo_provider
def _applications_todos(session: Session, actor: Actor) -> list[TodoItem]:
    if actor.is_staff:
        counts = dict(
            session.execute(
                select(Application.status, func.count())
                .where(Application.status.in_([AppStatus.SUBMITTED.value, AppStatus.IN_REVIEW.value]))
                .group_by(Application.status)
            ).all()
        )
        items = []
        if counts.get(AppStatus.SUBMITTED.value):
            items.append(TodoItem("todo.applications_new", int(counts[AppStatus.SUBMITTED.value]), "applications"))
        if counts.get(AppStatus.IN_REVIEW.value):
            items.append(
                TodoItem("todo.applications_in_review", int(counts[AppStatus.IN_REVIEW.value]), "applications",
                         query={"status": AppStatus.IN_REVIEW.value})
            )  # fmt: skip
        return items
    if (
        actor.role is Role.COUNCIL
        and actor.organisation_id is not None
        and has_active_term(session=session, organisation_id=actor.organisation_id, on=today())
    ):
        answered = _opinion_given(actor.organisation_id)
        waiting = int(session.scalar(select(func.count()).select_from(Application).where(_pending(), ~answered)) or 0)
        item = TodoItem("todo.applications_opinion", waiting, "applications", query={"awaiting": "mine"})
        return [item] if waiting else []
    return []
