"""Model selections (先进典型推选): rounds with their categories, nominations entered by the secretariat for member
units, the council units' scores with recusal (回避), the ranking, the confirmed winners and the published result.

Council units see only their own scores until a round is published (the ranking and the others' scores are
refused to them before: not hidden by the page, refused by the service)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from db.base import utcnow
from db.models import (
    CouncilTerm,
    Nomination,
    NominationScore,
    Organisation,
    SelectionCategory,
    SelectionRound,
)
from db.services import audit
from db.services._versioned import versioned_update, versioned_upsert
from db.services.access import check_reader, requires
from db.services.benefits import UnitRecord, unit_records
from db.services.council import has_active_term
from db.services.data_version import stamp, unchanged_since
from db.services.todos import TodoItem, todo_provider
from domain.clock import today as today_in_shanghai
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.organisations import OrgStatus
from domain.roles import RECORD_READERS, Actor, Role
from domain.selections import (
    CategoryInput,
    NominationInput,
    NomineeKind,
    Ranked,
    RoundInput,
    RoundStatus,
    ScoreSummary,
    check_score,
    check_winners,
    effective_status,
    rank,
    record_period,
    review_open,
    validate_nomination,
    validate_round,
)
from domain.text import bounded_text

READERS = RECORD_READERS
STAFF = (Role.ADMIN, Role.SECRETARIAT)
TOPICS = ("selection_round", "nomination", "nomination_score")
SCORE_TOPICS = ("nomination", "nomination_score")
MAX_WITHDRAW_REASON = 1000


# ---------------------------------------------------------------- rounds


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    nominee_kind: str
    places: int
    position: int


@dataclass(frozen=True)
class RoundRow:
    id: int
    name: str
    year: int
    description: str
    nomination_deadline: date
    review_deadline: date
    max_per_unit: int
    stored_status: str
    status: RoundStatus
    review_open: bool
    published_at: Any
    version: int
    nominations: int = 0
    categories: tuple[CategoryRow, ...] = ()

    @property
    def record_period(self) -> tuple[date, date]:
        """The period of the units' records attached to the nominations: the round's year, up to the call's end."""
        return record_period(self.year, self.nomination_deadline)


def _round_row(
    r: SelectionRound, today: date, nominations: int = 0, categories: Iterable[CategoryRow] = ()
) -> RoundRow:
    status = effective_status(r.status, r.nomination_deadline, today)
    return RoundRow(
        id=r.id,
        name=r.name,
        year=r.year,
        description=r.description,
        nomination_deadline=r.nomination_deadline,
        review_deadline=r.review_deadline,
        max_per_unit=r.max_per_unit,
        stored_status=r.status,
        status=status,
        review_open=review_open(status, r.review_deadline, today),
        published_at=r.published_at,
        version=r.version,
        nominations=nominations,
        categories=tuple(categories),
    )


def _categories(session: Session, round_ids: list[int]) -> dict[int, list[CategoryRow]]:
    out: dict[int, list[CategoryRow]] = {}
    rows = session.execute(
        select(SelectionCategory)
        .where(SelectionCategory.round_id.in_(round_ids))
        .order_by(SelectionCategory.round_id, SelectionCategory.position, SelectionCategory.id)
    ).scalars()
    for c in rows:
        out.setdefault(c.round_id, []).append(CategoryRow(c.id, c.name, c.nominee_kind, c.places, c.position))
    return out


def list_rounds(*, session: Session, actor: Actor, today: date) -> list[RoundRow]:
    """Every round, newest year first, with its categories and live nominations counted (three statements)."""
    check_reader(actor, READERS)
    counts = (
        select(Nomination.round_id, func.count().label("n"))
        .where(Nomination.withdrawn_at.is_(None))
        .group_by(Nomination.round_id)
        .subquery()
    )
    rows = session.execute(
        select(SelectionRound, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.round_id == SelectionRound.id)
        .order_by(SelectionRound.year.desc(), SelectionRound.id.desc())
    ).all()
    categories = _categories(session, [r.id for r, _ in rows])
    return [_round_row(r, today, int(n), categories.get(r.id, [])) for r, n in rows]


def get_round(*, session: Session, actor: Actor, round_id: int, today: date) -> RoundRow:
    check_reader(actor, READERS)
    # populate_existing: a write earlier in this session (an UPDATE that does not touch the identity map) shows
    r = session.get(SelectionRound, round_id, populate_existing=True)
    if r is None:
        raise NotFound()
    count = session.scalar(
        select(func.count()).where(Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None))
    )
    return _round_row(r, today, int(count or 0), _categories(session, [round_id]).get(round_id, []))


def _lock_round(session: Session, round_id: int) -> SelectionRound:
    r = session.execute(
        select(SelectionRound)
        .where(SelectionRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if r is None:
        raise NotFound()
    return r


def _round_audit(data: RoundInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "year": data.year,
        "nomination_deadline": data.nomination_deadline,
        "review_deadline": data.review_deadline,
        "max_per_unit": data.max_per_unit,
        "description": data.description,
        "categories": [[c.name, c.nominee_kind, c.places] for c in data.categories],
    }


@requires(*STAFF)
def create_round(*, session: Session, actor: Actor, data: RoundInput, today: date) -> int:
    """Open a new round (征集中). Its nomination deadline may not already have passed."""
    data = validate_round(data)
    if data.nomination_deadline < today:
        raise ValidationError("validation.deadline_passed", field="nomination_deadline")
    round_id = session.execute(
        insert(SelectionRound)
        .values(
            name=data.name,
            year=data.year,
            description=data.description,
            nomination_deadline=data.nomination_deadline,
            review_deadline=data.review_deadline,
            max_per_unit=data.max_per_unit,
            status=RoundStatus.OPEN.value,
        )
        .returning(SelectionRound.id)
    ).scalar_one()
    session.execute(
        insert(SelectionCategory),
        [
            {"round_id": round_id, "position": i, "name": c.name, "nominee_kind": c.nominee_kind, "places": c.places}
            for i, c in enumerate(data.categories)
        ],
    )
    audit.record(
        session=session,
        actor=actor,
        action="selection_round.create",
        record_type="selection_round",
        record_id=round_id,
        after=_round_audit(data),
    )
    return int(round_id)


@requires(*STAFF)
def update_round(
    *, session: Session, actor: Actor, round_id: int, data: RoundInput, expected_version: int, today: date
) -> int:
    """Change a round that is not published. A category with nominations keeps its kind and cannot be removed;
    once the call has ended (by its deadline or by hand) its deadline cannot reopen it."""
    data = validate_round(data)
    r = _lock_round(session, round_id)
    if r.status == RoundStatus.PUBLISHED:
        raise ValidationError("validation.round_published")
    if data.nomination_deadline != r.nomination_deadline:
        was = effective_status(r.status, r.nomination_deadline, today)
        becomes = effective_status(r.status, data.nomination_deadline, today)
        # A call that has ended stays ended: moving its deadline would either do nothing (ended by hand) or reopen
        # it under scores already given (and let a scoring unit become a nominator).
        if r.status == RoundStatus.REVIEW or (was == RoundStatus.REVIEW and becomes == RoundStatus.OPEN):
            raise ValidationError("validation.call_cannot_reopen", field="nomination_deadline")
        if was == RoundStatus.OPEN and data.nomination_deadline < today:
            # ending the call is its own action, confirmed and audited as such
            raise ValidationError("validation.deadline_use_end_call", field="nomination_deadline")
    if data.max_per_unit < r.max_per_unit:
        per_unit = (
            select(func.count().label("n"))
            .where(Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None))
            .group_by(Nomination.category_id, Nomination.nominating_org_id)
            .subquery()
        )
        most = session.scalar(select(func.max(per_unit.c.n)))
        if int(most or 0) > data.max_per_unit:
            raise ValidationError("validation.limit_below_nominations", field="max_per_unit", most=int(most))
    existing = {
        c.id: c
        for c in session.execute(select(SelectionCategory).where(SelectionCategory.round_id == round_id)).scalars()
    }
    used = set(
        session.execute(select(Nomination.category_id).where(Nomination.round_id == round_id).distinct()).scalars()
    )
    kept = {c.id for c in data.categories if c.id is not None}
    if kept - set(existing):
        raise ValidationError("validation.choice", field="category_0")
    for category_id in set(existing) - kept:
        if category_id in used:
            raise ValidationError(
                "validation.category_has_nominations", field="category_0", name=existing[category_id].name
            )
    for position, c in enumerate(data.categories):
        if c.id is not None and c.id in used and existing[c.id].nominee_kind != c.nominee_kind:
            raise ValidationError(
                "validation.category_kind_fixed", field=f"category_{position}", name=existing[c.id].name
            )
    before = {
        "name": r.name,
        "year": r.year,
        "nomination_deadline": r.nomination_deadline,
        "review_deadline": r.review_deadline,
        "max_per_unit": r.max_per_unit,
        "description": r.description,
        "categories": [[c.name, c.nominee_kind, c.places] for c in sorted(existing.values(), key=lambda c: c.position)],
    }
    new_version = versioned_update(
        session=session,
        model=SelectionRound,
        record_id=round_id,
        expected_version=expected_version,
        name=data.name,
        year=data.year,
        description=data.description,
        nomination_deadline=data.nomination_deadline,
        review_deadline=data.review_deadline,
        max_per_unit=data.max_per_unit,
    )
    removed = set(existing) - kept
    if removed:
        session.execute(delete(SelectionCategory).where(SelectionCategory.id.in_(sorted(removed))))
    # Names are unique per round: park the kept ones under temporary names first, so two can swap names.
    for c in data.categories:
        if c.id is not None:
            session.execute(update(SelectionCategory).where(SelectionCategory.id == c.id).values(name=f"~{c.id}"))
    for position, c in enumerate(data.categories):
        values = {"position": position, "name": c.name, "nominee_kind": c.nominee_kind, "places": c.places}
        if c.id is None:
            session.execute(insert(SelectionCategory).values(round_id=round_id, **values))
        else:
            session.execute(update(SelectionCategory).where(SelectionCategory.id == c.id).values(**values))
    audit.record(
        session=session,
        actor=actor,
        action="selection_round.update",
        record_type="selection_round",
        record_id=round_id,
        before=before,
        after=_round_audit(data),
    )
    return new_version


@requires(*STAFF)
def end_call(*, session: Session, actor: Actor, round_id: int, expected_version: int, today: date) -> int:
    """End the call for nominations before its deadline: the round goes to review (评审中) now."""
    r = _lock_round(session, round_id)
    if effective_status(r.status, r.nomination_deadline, today) != RoundStatus.OPEN:
        raise ValidationError("validation.round_not_open")
    new_version = versioned_update(
        session=session,
        model=SelectionRound,
        record_id=round_id,
        expected_version=expected_version,
        status=RoundStatus.REVIEW.value,
    )
    audit.record(
        session=session,
        actor=actor,
        action="selection_round.end_call",
        record_type="selection_round",
        record_id=round_id,
        before={"status": r.status},
        after={"status": RoundStatus.REVIEW.value},
    )
    return new_version


# ---------------------------------------------------------------- nominations


@dataclass(frozen=True)
class NominationRow:
    id: int
    round_id: int
    category_id: int
    category: str
    nominee_kind: str
    nominee_name: str
    nominee_org_id: int | None
    nominating_org_id: int
    nominating_org: str
    reasons: str
    evidence: str
    link: str
    winner: bool
    withdrawn: bool
    withdraw_reason: str | None
    version: int
    created_at: Any
    frozen_record: dict[str, Any] | None


def _nomination_query() -> Any:
    nominator = aliased(Organisation)
    return (
        select(
            Nomination.id,
            Nomination.round_id,
            Nomination.category_id,
            SelectionCategory.name,
            Nomination.nominee_kind,
            Nomination.nominee_name,
            Nomination.nominee_org_id,
            Nomination.nominating_org_id,
            nominator.name,
            Nomination.reasons,
            Nomination.evidence,
            Nomination.link,
            Nomination.winner,
            Nomination.withdrawn_at.is_not(None),
            Nomination.withdraw_reason,
            Nomination.version,
            Nomination.created_at,
            Nomination.record,
        )
        .join(SelectionCategory, SelectionCategory.id == Nomination.category_id)
        .join(nominator, nominator.id == Nomination.nominating_org_id)
    )


def list_nominations(*, session: Session, actor: Actor, round_id: int) -> list[NominationRow]:
    """A round's nominations (withdrawn ones too, marked), by category then as entered; one statement."""
    check_reader(actor, READERS)
    rows = session.execute(
        _nomination_query().where(Nomination.round_id == round_id).order_by(SelectionCategory.position, Nomination.id)
    ).all()
    return [NominationRow(*row) for row in rows]


def get_nomination(*, session: Session, actor: Actor, nomination_id: int) -> NominationRow:
    check_reader(actor, READERS)
    row = session.execute(_nomination_query().where(Nomination.id == nomination_id)).first()
    if row is None:
        raise NotFound()
    return NominationRow(*row)


def _check_nomination(session: Session, r: SelectionRound, data: NominationInput, exclude_id: int | None) -> str:
    """The category's nominee kind, after checking the unit, the nominee and the per-unit limit."""
    category = session.get(SelectionCategory, data.category_id)
    if category is None or category.round_id != r.id:
        raise ValidationError("validation.choice", field="category")
    unit = session.execute(
        select(Organisation.status, Organisation.is_secretariat).where(Organisation.id == data.nominating_org_id)
    ).first()
    if unit is None or unit.is_secretariat:
        raise ValidationError("validation.choice", field="nominating_org")
    if unit.status != OrgStatus.MEMBER.value:
        raise ValidationError("validation.nominator_not_member", field="nominating_org")
    if data.nominee_org_id is not None:
        if category.nominee_kind != NomineeKind.ORGANISATION:
            raise ValidationError("validation.choice", field="nominee_org")
        if session.get(Organisation, data.nominee_org_id) is None:
            raise ValidationError("validation.choice", field="nominee_org")
    taken = session.scalar(
        select(func.count()).where(
            Nomination.round_id == r.id,
            Nomination.category_id == category.id,
            Nomination.nominating_org_id == data.nominating_org_id,
            Nomination.withdrawn_at.is_(None),
            Nomination.id != (exclude_id or 0),
        )
    )
    if int(taken or 0) >= r.max_per_unit:
        raise ValidationError(
            "validation.nomination_limit", field="nominating_org", limit=r.max_per_unit, category=category.name
        )
    return category.nominee_kind


def _nomination_audit(data: NominationInput) -> dict[str, Any]:
    return {
        "category_id": data.category_id,
        "nominating_org_id": data.nominating_org_id,
        "nominee_name": data.nominee_name,
        "nominee_org_id": data.nominee_org_id,
        "reasons": data.reasons,
        "evidence": data.evidence,
        "link": data.link,
    }


def _open_round(session: Session, round_id: int, today: date) -> SelectionRound:
    r = _lock_round(session, round_id)
    if effective_status(r.status, r.nomination_deadline, today) != RoundStatus.OPEN:
        raise ValidationError("validation.nominations_closed", deadline=r.nomination_deadline)
    return r


@requires(*STAFF)
def add_nomination(*, session: Session, actor: Actor, round_id: int, data: NominationInput, today: date) -> int:
    """Enter a member unit's nomination while the call is open, within the round's limit per unit and category.
    The round's row is locked, so two clerks cannot both fill a unit's last place."""
    data = validate_nomination(data)
    r = _open_round(session, round_id, today)
    kind = _check_nomination(session, r, data, None)
    nomination_id = session.execute(
        insert(Nomination)
        .values(
            round_id=round_id,
            category_id=data.category_id,
            nominating_org_id=data.nominating_org_id,
            nominee_kind=kind,
            nominee_name=data.nominee_name,
            nominee_org_id=data.nominee_org_id,
            reasons=data.reasons,
            evidence=data.evidence,
            link=data.link,
            created_by=actor.user_id,
        )
        .returning(Nomination.id)
    ).scalar_one()
    audit.record(
        session=session,
        actor=actor,
        action="nomination.create",
        record_type="nomination",
        record_id=nomination_id,
        after={"round_id": round_id, **_nomination_audit(data)},
    )
    return int(nomination_id)


def _nomination(session: Session, nomination_id: int) -> Nomination:
    n = session.get(Nomination, nomination_id, populate_existing=True)
    if n is None:
        raise NotFound()
    return n


@requires(*STAFF)
def update_nomination(
    *, session: Session, actor: Actor, nomination_id: int, data: NominationInput, expected_version: int, today: date
) -> int:
    """Correct a nomination while the call is open (not a withdrawn one)."""
    data = validate_nomination(data)
    current = _nomination(session, nomination_id)
    r = _open_round(session, current.round_id, today)
    if current.withdrawn_at is not None:
        raise ValidationError("validation.nomination_withdrawn")
    kind = _check_nomination(session, r, data, nomination_id)
    before = _nomination_audit(
        NominationInput(
            category_id=current.category_id,
            nominating_org_id=current.nominating_org_id,
            nominee_name=current.nominee_name,
            reasons=current.reasons,
            evidence=current.evidence,
            nominee_org_id=current.nominee_org_id,
            link=current.link,
        )
    )
    new_version = versioned_update(
        session=session,
        model=Nomination,
        record_id=nomination_id,
        expected_version=expected_version,
        nominee_kind=kind,
        **{k: v for k, v in _nomination_audit(data).items()},
    )
    audit.record(
        session=session,
        actor=actor,
        action="nomination.update",
        record_type="nomination",
        record_id=nomination_id,
        before=before,
        after=_nomination_audit(data),
    )
    return new_version


@requires(*STAFF)
def withdraw_nomination(
    *, session: Session, actor: Actor, nomination_id: int, reason: str, expected_version: int, today: date
) -> int:
    """Withdraw a nomination (at its unit's request) before the result is published; it stays on record, out of
    the ranking and the unit's count."""
    text = bounded_text(reason, field="reason", limit=MAX_WITHDRAW_REASON, required=True)
    current = _nomination(session, nomination_id)
    r = _lock_round(session, current.round_id)
    if r.status == RoundStatus.PUBLISHED:
        raise ValidationError("validation.round_published")
    if current.withdrawn_at is not None:
        raise ValidationError("validation.nomination_withdrawn")
    new_version = versioned_update(
        session=session,
        model=Nomination,
        record_id=nomination_id,
        expected_version=expected_version,
        withdrawn_at=utcnow(),
        withdraw_reason=text,
    )
    audit.record(
        session=session,
        actor=actor,
        action="nomination.withdraw",
        record_type="nomination",
        record_id=nomination_id,
        after={"reason": text},
    )
    return new_version


# ---------------------------------------------------------------- the units' records


def nomination_records(*, session: Session, actor: Actor, round_id: int, today: date) -> dict[int, UnitRecord]:
    """The records of the round's nominating units and directory nominees over the round's record period, one
    statement; a published round's records as frozen at publication come from the nominations themselves."""
    rnd = get_round(session=session, actor=actor, round_id=round_id, today=today)
    if rnd.status == RoundStatus.PUBLISHED:
        frozen: dict[int, UnitRecord] = {}
        for (record,) in session.execute(
            select(Nomination.record).where(Nomination.round_id == round_id, Nomination.record.is_not(None))
        ):
            for data in (record or {}).values():
                unit = UnitRecord.from_json(data)
                frozen[unit.organisation_id] = unit
        return frozen
    ids = _record_units(session, round_id)
    first, last = rnd.record_period
    return unit_records(session=session, organisation_ids=ids, first=first, last=last, today=today)


def _record_units(session: Session, round_id: int) -> list[int]:
    rows = session.execute(
        select(Nomination.nominating_org_id, Nomination.nominee_org_id).where(Nomination.round_id == round_id)
    ).all()
    return sorted({i for row in rows for i in row if i is not None})


# ---------------------------------------------------------------- council scores


@dataclass(frozen=True)
class ScoreRow:
    nomination_id: int
    organisation_id: int
    organisation: str
    score: int | None
    recused: bool
    comment: str
    version: int
    updated_at: Any


def _score_query() -> Any:
    return select(
        NominationScore.nomination_id,
        NominationScore.organisation_id,
        Organisation.name,
        NominationScore.score,
        NominationScore.recused,
        NominationScore.comment,
        NominationScore.version,
        NominationScore.updated_at,
    ).join(Organisation, Organisation.id == NominationScore.organisation_id)


def own_scores(*, session: Session, actor: Actor, round_id: int) -> dict[int, ScoreRow]:
    """The actor's unit's scores in a round (nomination id → score)."""
    check_reader(actor, READERS)
    if actor.organisation_id is None:
        return {}
    rows = session.execute(
        _score_query()
        .join(Nomination, Nomination.id == NominationScore.nomination_id)
        .where(Nomination.round_id == round_id, NominationScore.organisation_id == actor.organisation_id)
    ).all()
    return {row.nomination_id: ScoreRow(*row) for row in rows}


def _may_see_results(actor: Actor, status: RoundStatus) -> bool:
    return actor.is_staff or (actor.role == Role.COUNCIL and status == RoundStatus.PUBLISHED)


def all_scores(*, session: Session, actor: Actor, round_id: int, today: date) -> list[ScoreRow]:
    """Every unit's scores in a round: the secretariat always; council units only once it is published."""
    rnd = get_round(session=session, actor=actor, round_id=round_id, today=today)
    if not _may_see_results(actor, rnd.status):
        raise PermissionDenied("error.scores_hidden")
    rows = session.execute(
        _score_query()
        .join(Nomination, Nomination.id == NominationScore.nomination_id)
        .where(Nomination.round_id == round_id)
        .order_by(NominationScore.nomination_id, Organisation.sort_key)
    ).all()
    return [ScoreRow(*row) for row in rows]


def _must_recuse(n: Nomination, unit: int) -> bool:
    return unit in {n.nominating_org_id, n.nominee_org_id}


@requires(Role.COUNCIL)
def score_nomination(
    *,
    session: Session,
    actor: Actor,
    nomination_id: int,
    score: int | None,
    recused: bool,
    comment: str,
    expected_version: int,
    today: date,
) -> int:
    """Record or change this council unit's score (1–10) or its recusal, while the review is open.
    A unit that nominated, or is, the nominee must recuse. `expected_version`: the version of the unit's score
    the user saw (0: none yet). Returns the new version."""
    unit = actor.organisation_id
    if unit is None or not has_active_term(session=session, organisation_id=unit, on=today):
        raise PermissionDenied("error.no_active_term")
    value, text = check_score(score, recused, comment)
    n = _nomination(session, nomination_id)
    r = _lock_round(session, n.round_id)
    status = effective_status(r.status, r.nomination_deadline, today)
    if not review_open(status, r.review_deadline, today):
        key = "validation.review_not_started" if status == RoundStatus.OPEN else "validation.review_closed"
        raise ValidationError(key, field="score")
    if n.withdrawn_at is not None:
        raise ValidationError("validation.nomination_withdrawn", field="score")
    if not recused and _must_recuse(n, unit):
        raise ValidationError("validation.must_recuse", field="score")
    new_version, before = versioned_upsert(
        session=session,
        model=NominationScore,
        key={"nomination_id": nomination_id, "organisation_id": unit},
        values={"score": value, "recused": recused, "comment": text, "user_id": actor.user_id},
        expected_version=expected_version,
        kept=("score", "recused", "comment"),
    )
    audit.record(
        session=session,
        actor=actor,
        action="nomination.score",
        record_type="nomination_score",
        record_id=nomination_id,
        before=before,
        after={"organisation_id": unit, "score": value, "recused": recused, "comment": text},
    )
    return new_version


# ---------------------------------------------------------------- ranking and result


@dataclass(frozen=True)
class RankingRow:
    nomination_id: int
    category_id: int
    category: str
    rank: int
    nominee_name: str
    nominating_org: str
    mean: Fraction | None
    scores: int
    recusals: int
    lowest: int | None
    highest: int | None
    winner: bool


def _ranking_rows(session: Session, round_id: int) -> list[Any]:
    """Per live nomination of the round: its names and the scores counted (recusals apart), in one statement, so
    a withdrawal committed meanwhile cannot leave a total without its names."""
    counted = and_(NominationScore.recused.is_(False), NominationScore.score.is_not(None))
    nominator = aliased(Organisation)
    return list(
        session.execute(
            select(
                Nomination.id,
                Nomination.category_id,
                SelectionCategory.name.label("category"),
                Nomination.nominee_name,
                nominator.name.label("nominating_org"),
                Nomination.winner,
                func.count(NominationScore.id).filter(counted).label("scores"),
                func.coalesce(func.sum(NominationScore.score).filter(counted), 0).label("total"),
                func.min(NominationScore.score).filter(counted).label("lowest"),
                func.max(NominationScore.score).filter(counted).label("highest"),
                func.count(NominationScore.id).filter(NominationScore.recused.is_(True)).label("recusals"),
            )
            .join(SelectionCategory, SelectionCategory.id == Nomination.category_id)
            .join(nominator, nominator.id == Nomination.nominating_org_id)
            .outerjoin(NominationScore, NominationScore.nomination_id == Nomination.id)
            .where(Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None))
            .group_by(
                Nomination.id,
                Nomination.category_id,
                SelectionCategory.name,
                Nomination.nominee_name,
                nominator.name,
                Nomination.winner,
            )
        ).all()
    )


def ranking(*, session: Session, actor: Actor, round_id: int, today: date) -> list[RankingRow]:
    """The round's live nominations ranked per category (domain.selections.RANKING_RULE). Refused to council
    units until the round is published: during the review they see only their own scores."""
    rnd = get_round(session=session, actor=actor, round_id=round_id, today=today)
    if not _may_see_results(actor, rnd.status):
        raise PermissionDenied("error.scores_hidden")
    rows = {row.id: row for row in _ranking_rows(session, round_id)}
    ranked: list[Ranked] = rank(
        [ScoreSummary(r.id, r.category_id, int(r.scores), int(r.total or 0), r.lowest) for r in rows.values()]
    )
    position = {c.id: c.position for c in rnd.categories}
    out = [
        RankingRow(
            nomination_id=r.nomination_id,
            category_id=r.category_id,
            category=rows[r.nomination_id].category,
            rank=r.rank,
            nominee_name=rows[r.nomination_id].nominee_name,
            nominating_org=rows[r.nomination_id].nominating_org,
            mean=r.mean,
            scores=r.count,
            recusals=int(rows[r.nomination_id].recusals),
            lowest=r.lowest,
            highest=rows[r.nomination_id].highest,
            winner=bool(rows[r.nomination_id].winner),
        )
        for r in ranked
    ]
    return sorted(out, key=lambda row: (position.get(row.category_id, 0), row.category_id, row.rank))


def proposed_winners(rows: list[RankingRow], places: int) -> list[int]:
    """The winners offered to the secretariat for one category: the top of its ranking within its places, among
    the nominations that received at least one score (an unscored one is never proposed)."""
    return [r.nomination_id for r in sorted(rows, key=lambda r: r.rank) if r.scores][:places]


@dataclass(frozen=True)
class ProgressRow:
    organisation_id: int
    organisation: str
    scored: int
    recused: int
    missing: int


def scores_stamp(*, session: Session, actor: Actor) -> int:
    """The stamp of nominations and scores a publication is checked against (publish_round's scores_seen)."""
    check_reader(actor, READERS)
    return stamp(session=session, topics=SCORE_TOPICS)


def review_progress(*, session: Session, actor: Actor, round_id: int, today: date) -> list[ProgressRow]:
    """For the secretariat: per council unit holding a seat today, how many live nominations it has scored,
    recused from, or not yet looked at."""
    if not actor.is_staff:
        raise PermissionDenied()
    live = int(
        session.scalar(select(func.count()).where(Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None)))
        or 0
    )
    scores = (
        select(
            NominationScore.organisation_id.label("org"),
            func.count().filter(NominationScore.recused.is_(False)).label("scored"),
            func.count().filter(NominationScore.recused.is_(True)).label("recused"),
        )
        .join(Nomination, Nomination.id == NominationScore.nomination_id)
        .where(Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None))
        .group_by(NominationScore.organisation_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Organisation.id, Organisation.name, func.coalesce(scores.c.scored, 0), func.coalesce(scores.c.recused, 0)
        )
        .join(CouncilTerm, CouncilTerm.organisation_id == Organisation.id)
        .outerjoin(scores, scores.c.org == Organisation.id)
        .where(
            CouncilTerm.starts_on <= today, today < CouncilTerm.ends_on, Organisation.status == OrgStatus.MEMBER.value
        )
        .order_by(CouncilTerm.seat)
    ).all()
    return [ProgressRow(i, name, int(s), int(rc), max(0, live - int(s) - int(rc))) for i, name, s, rc in rows]


@requires(*STAFF)
def publish_round(
    *,
    session: Session,
    actor: Actor,
    round_id: int,
    winners: dict[int, list[int]],
    expected_version: int,
    today: date,
    scores_seen: int | None = None,
) -> int:
    """Confirm the winners (category id → nomination ids, within each category's places) and publish the result.
    Only after the call has ended. The units' records are frozen into the nominations; the round is read-only.
    `scores_seen`: the stamp of nominations and scores (scores_stamp) when the ranking was shown; a score given
    since refuses the publication (the winners were chosen on an older ranking)."""
    r = _lock_round(session, round_id)
    if scores_seen is not None and not unchanged_since(session=session, seen=scores_seen, topics=SCORE_TOPICS):
        raise StaleRecord("error.scores_changed")
    status = effective_status(r.status, r.nomination_deadline, today)
    if status == RoundStatus.PUBLISHED:
        raise ValidationError("validation.round_published")
    if status == RoundStatus.OPEN:
        raise ValidationError("validation.publish_while_open", field="winners")
    categories = {
        c.id: c.places
        for c in session.execute(select(SelectionCategory).where(SelectionCategory.round_id == round_id)).scalars()
    }
    if set(winners) - set(categories):
        raise ValidationError("validation.choice", field="winners")
    check_winners(winners, categories)
    live = {
        i: c
        for i, c in session.execute(
            select(Nomination.id, Nomination.category_id).where(
                Nomination.round_id == round_id, Nomination.withdrawn_at.is_(None)
            )
        ).all()
    }
    chosen = sorted({i for ids in winners.values() for i in ids})
    for category_id, ids in winners.items():
        if any(live.get(i) != category_id for i in ids):
            raise ValidationError("validation.winner_not_live", field="winners")
    new_version = versioned_update(
        session=session,
        model=SelectionRound,
        record_id=round_id,
        expected_version=expected_version,
        status=RoundStatus.PUBLISHED.value,
        published_at=utcnow(),
        published_by=actor.user_id,
    )
    session.execute(
        update(Nomination)
        .where(Nomination.round_id == round_id)
        .values(winner=case((Nomination.id.in_(chosen or [0]), True), else_=False))
        .execution_options(synchronize_session=False)
    )
    first, last = record_period(r.year, r.nomination_deadline)
    records = unit_records(
        session=session, organisation_ids=_record_units(session, round_id), first=first, last=last, today=today
    )
    pairs = session.execute(
        select(Nomination.id, Nomination.nominating_org_id, Nomination.nominee_org_id).where(
            Nomination.round_id == round_id
        )
    ).all()
    if pairs:
        session.execute(
            update(Nomination).execution_options(synchronize_session=False),
            [
                {
                    "id": i,
                    "record": {str(org): records[org].as_json() for org in (nominator, nominee) if org in records},
                }
                for i, nominator, nominee in pairs
            ],
        )
    audit.record(
        session=session,
        actor=actor,
        action="selection_round.publish",
        record_type="selection_round",
        record_id=round_id,
        before={"status": r.status},
        after={"status": RoundStatus.PUBLISHED.value, "winners": chosen},
    )
    return new_version


# ---------------------------------------------------------------- home to-dos


@todo_provider
def _selection_todos(session: Session, actor: Actor) -> list[TodoItem]:
    on = today_in_shanghai()
    if actor.role == Role.COUNCIL and actor.organisation_id is not None:
        if not has_active_term(session=session, organisation_id=actor.organisation_id, on=on):
            return []
        mine = select(NominationScore.nomination_id).where(NominationScore.organisation_id == actor.organisation_id)
        waiting = session.execute(
            select(SelectionRound.id, func.count(Nomination.id))
            .join(Nomination, Nomination.round_id == SelectionRound.id)
            .where(
                SelectionRound.status != RoundStatus.PUBLISHED.value,
                (SelectionRound.status == RoundStatus.REVIEW.value) | (SelectionRound.nomination_deadline < on),
                SelectionRound.review_deadline >= on,
                Nomination.withdrawn_at.is_(None),
                Nomination.id.not_in(mine),
            )
            .group_by(SelectionRound.id)
            .order_by(SelectionRound.id)
        ).all()
        total = sum(int(n) for _, n in waiting)
        if not total:
            return []
        query = {"id": str(waiting[0][0])} if len(waiting) == 1 else {}
        return [TodoItem("todo.nominations_to_score", total, "nominations", query=query)]
    if actor.is_staff:
        due = session.scalar(
            select(func.count()).where(
                SelectionRound.status != RoundStatus.PUBLISHED.value, SelectionRound.review_deadline < on
            )
        )
        if due:
            return [TodoItem("todo.rounds_to_publish", int(due), "nominations")]
    return []


def default_deadlines(today: date) -> tuple[date, date]:
    """A new round's suggested deadlines: a month for nominations, two more weeks for the review."""
    return today + timedelta(days=30), today + timedelta(days=44)


def category_inputs(categories: Iterable[CategoryRow]) -> tuple[CategoryInput, ...]:
    return tuple(CategoryInput(c.name, c.nominee_kind, c.places, c.id) for c in categories)
