"""Model selections on both databases: the call for nominations closing at its deadline (or ended early), the
limit per unit and category, who may nominate, the council's scores with recusal and the ranking they make, who
sees what before and after publication, publishing the winners and the read-only round afterwards, roles, and the
audit trail of every write."""

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction
from typing import NamedTuple

import pytest
from sqlalchemy import text

from db.services import achievements, council, organisations, users
from db.services import selections as svc
from db.services.benefits import unit_records
from db.services.todos import collect_todos
from domain.clock import today as real_today
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import AchievementInput, CategoryInput, NominationInput, RoundInput, RoundStatus
from tests.conftest import TODAY, org_input

DEADLINE = TODAY + timedelta(days=10)  # the last day of the call
REVIEW_DAY = DEADLINE + timedelta(days=1)  # the first day of the review
REVIEW_END = TODAY + timedelta(days=20)  # the last day of the review
AFTER = REVIEW_END + timedelta(days=1)


def round_input(name: str = "2026年度先进典型推选", *, per_unit: int = 1, **overrides: object) -> RoundInput:
    values: dict[str, object] = {
        "name": name,
        "year": 2026,
        "nomination_deadline": DEADLINE,
        "review_deadline": REVIEW_END,
        "categories": (CategoryInput("优秀组织", "organisation", 2), CategoryInput("优秀个人", "individual", 1)),
        "max_per_unit": per_unit,
        "description": "面向全体成员单位征集",
    }
    values.update(overrides)
    return RoundInput(**values)  # type: ignore[arg-type]


class Round(NamedTuple):
    id: int
    orgs: int  # the 优秀组织 category (organisation nominees, 2 places)
    people: int  # the 优秀个人 category (individual nominees, 1 place)


def new_round(session, actor, data: RoundInput | None = None, today: date = TODAY) -> Round:
    round_id = svc.create_round(session=session, actor=actor, data=data or round_input(), today=today)
    cats = svc.get_round(session=session, actor=actor, round_id=round_id, today=today).categories
    return Round(round_id, cats[0].id, cats[1].id)


def new_unit(session, admin, name: str) -> int:
    return organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )


def version_of(session, table: str, record_id: int) -> int:
    return session.execute(text(f"SELECT version FROM {table} WHERE id = :id"), {"id": record_id}).scalar_one()


def nominate(
    session,
    actor,
    round_id: int,
    category: int,
    unit: int,
    name: str = "河小青",
    *,
    nominee_org_id: int | None = None,
    today: date = TODAY,
) -> int:
    data = NominationInput(category, unit, name, "多年坚持河道巡护，带动千名青年参与", nominee_org_id=nominee_org_id)
    return svc.add_nomination(session=session, actor=actor, round_id=round_id, data=data, today=today)


def end_call(session, actor, round_id: int, today: date = TODAY) -> int:
    return svc.end_call(
        session=session,
        actor=actor,
        round_id=round_id,
        expected_version=version_of(session, "selection_rounds", round_id),
        today=today,
    )


def withdraw(session, actor, nomination_id: int, today: date = TODAY) -> int:
    return svc.withdraw_nomination(
        session=session,
        actor=actor,
        nomination_id=nomination_id,
        reason="推荐单位申请撤回",
        expected_version=version_of(session, "nominations", nomination_id),
        today=today,
    )


def score_version(session, nomination_id: int, unit: int) -> int:
    return session.execute(
        text(
            "SELECT COALESCE(MAX(version), 0) FROM nomination_scores WHERE nomination_id = :n AND organisation_id = :o"
        ),
        {"n": nomination_id, "o": unit},
    ).scalar_one()


def score(
    session,
    actor,
    nomination_id: int,
    value: int | None,
    *,
    recused: bool = False,
    today: date = REVIEW_DAY,
    version: int | None = None,
    comment: str = "",
) -> int:
    if version is None:
        version = score_version(session, nomination_id, actor.organisation_id)
    return svc.score_nomination(
        session=session,
        actor=actor,
        nomination_id=nomination_id,
        score=value,
        recused=recused,
        comment=comment,
        expected_version=version,
        today=today,
    )


def publish(session, actor, round_id: int, winners: dict[int, list[int]], today: date = AFTER) -> int:
    return svc.publish_round(
        session=session,
        actor=actor,
        round_id=round_id,
        winners=winners,
        expected_version=version_of(session, "selection_rounds", round_id),
        today=today,
    )


def count(session, sql: str, **params: object) -> int:
    return session.execute(text(sql), params).scalar_one()


def audits(session, action: str, record_id: int | None = None) -> int:
    sql = "SELECT COUNT(*) FROM audit_entries WHERE action = :action"
    params: dict[str, object] = {"action": action}
    if record_id is not None:
        sql += " AND record_id = :record_id"
        params["record_id"] = str(record_id)
    return count(session, sql, **params)


def live_nominations(session, round_id: int) -> int:
    return count(session, "SELECT COUNT(*) FROM nominations WHERE round_id = :r AND withdrawn_at IS NULL", r=round_id)


def stored_scores(session, nomination_id: int) -> dict[int, tuple[int | None, bool]]:
    """Unit → (score, recused) as stored, read by hand."""
    rows = session.execute(
        text("SELECT organisation_id, score, recused FROM nomination_scores WHERE nomination_id = :n"),
        {"n": nomination_id},
    )
    return {r.organisation_id: (r.score, bool(r.recused)) for r in rows}


def snapshot(session, round_id: int) -> tuple[object, ...]:
    """Everything stored about a round, read by hand, to show that a refused write changed nothing."""
    rnd = session.execute(
        text(
            "SELECT name, year, nomination_deadline, review_deadline, max_per_unit, status, published_at, version "
            "FROM selection_rounds WHERE id = :r"
        ),
        {"r": round_id},
    ).one()
    cats = session.execute(
        text(
            "SELECT id, name, nominee_kind, places, position FROM selection_categories WHERE round_id = :r ORDER BY id"
        ),
        {"r": round_id},
    ).all()
    noms = session.execute(
        text(
            "SELECT id, category_id, nominee_name, reasons, winner, withdrawn_at, version FROM nominations "
            "WHERE round_id = :r ORDER BY id"
        ),
        {"r": round_id},
    ).all()
    scores = session.execute(
        text(
            "SELECT s.id, s.score, s.recused, s.version FROM nomination_scores s "
            "JOIN nominations n ON n.id = s.nomination_id WHERE n.round_id = :r ORDER BY s.id"
        ),
        {"r": round_id},
    ).all()
    entries = count(session, "SELECT COUNT(*) FROM audit_entries")
    return tuple(rnd), [tuple(c) for c in cats], [tuple(n) for n in noms], [tuple(s) for s in scores], entries


@pytest.fixture
def staff(make_actor) -> Actor:
    return make_actor(Role.SECRETARIAT)


@pytest.fixture
def units(session, admin) -> list[int]:
    return [new_unit(session, admin, f"推荐单位{i}") for i in range(6)]


@pytest.fixture
def rnd(session, staff) -> Round:
    return new_round(session, staff)


@pytest.fixture
def council_session(session, admin) -> int:
    return council.create_session(session=session, actor=admin, starts_on=TODAY - timedelta(days=10))


@pytest.fixture
def seated(session, admin, make_actor, council_session):
    """Make a council user whose unit holds the given seat of the current session."""

    def make(seat_no: int) -> Actor:
        actor = make_actor(Role.COUNCIL)
        council.seat_term(
            session=session,
            actor=admin,
            session_id=council_session,
            seat=seat_no,
            organisation_id=actor.organisation_id,
            source="invited",
        )
        return actor

    return make


# ---------------------------------------------------------------- the call for nominations


def test_a_new_round_is_open_with_its_categories_in_order(session, staff, rnd):
    row = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY)
    assert (row.status, row.review_open, row.nominations, row.version) == (RoundStatus.OPEN, False, 0, 1)
    assert [(c.name, c.nominee_kind, c.places) for c in row.categories] == [
        ("优秀组织", "organisation", 2),
        ("优秀个人", "individual", 1),
    ]
    assert [r.id for r in svc.list_rounds(session=session, actor=staff, today=TODAY)] == [rnd.id]


def test_a_round_whose_deadline_has_passed_is_refused_and_one_ending_today_accepted(session, staff):
    before = count(session, "SELECT COUNT(*) FROM selection_rounds")
    with pytest.raises(ValidationError) as err:
        svc.create_round(session=session, actor=staff, data=round_input(), today=DEADLINE + timedelta(days=1))
    assert err.value.key == "validation.deadline_passed"
    assert count(session, "SELECT COUNT(*) FROM selection_rounds") == before
    assert svc.create_round(session=session, actor=staff, data=round_input(), today=DEADLINE)


def test_nominations_are_taken_through_the_deadline_day_and_refused_the_day_after(session, staff, units, rnd):
    nominate(session, staff, rnd.id, rnd.orgs, units[0], today=TODAY)
    nominate(session, staff, rnd.id, rnd.orgs, units[1], today=DEADLINE)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, rnd.orgs, units[2], today=DEADLINE + timedelta(days=1))
    assert err.value.key == "validation.nominations_closed"
    assert live_nominations(session, rnd.id) == 2
    after = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=DEADLINE + timedelta(days=1))
    assert (after.status, after.review_open, after.nominations) == (RoundStatus.REVIEW, True, 2)


def test_ending_the_call_early_closes_nominations_and_opens_the_review_at_once(session, staff, units, rnd):
    nominate(session, staff, rnd.id, rnd.orgs, units[0])
    assert end_call(session, staff, rnd.id) == 2
    row = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY)
    assert (row.status, row.review_open) == (RoundStatus.REVIEW, True)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, rnd.orgs, units[1], today=TODAY)
    assert err.value.key == "validation.nominations_closed"
    assert live_nominations(session, rnd.id) == 1
    assert audits(session, "selection_round.end_call", rnd.id) == 1


@pytest.mark.parametrize("ended", ["by_hand", "by_date"])
def test_a_call_already_over_cannot_be_ended_again(session, staff, rnd, ended):
    today = TODAY
    if ended == "by_hand":
        end_call(session, staff, rnd.id)
    else:
        today = DEADLINE + timedelta(days=1)
    before = snapshot(session, rnd.id)
    with pytest.raises(ValidationError) as err:
        end_call(session, staff, rnd.id, today=today)
    assert err.value.key == "validation.round_not_open"
    assert snapshot(session, rnd.id) == before


def test_ending_the_call_on_a_stale_version_is_refused(session, staff, rnd):
    with pytest.raises(StaleRecord):
        svc.end_call(session=session, actor=staff, round_id=rnd.id, expected_version=2, today=TODAY)
    assert svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).status == RoundStatus.OPEN


def test_a_later_deadline_does_not_reopen_a_call_ended_by_hand(session, staff, units, rnd):
    end_call(session, staff, rnd.id)
    later = round_input(nomination_deadline=DEADLINE + timedelta(days=5), review_deadline=REVIEW_END)
    data = replace(
        later,
        categories=svc.category_inputs(
            svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories
        ),
    )
    try:
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=data, expected_version=2, today=TODAY)
    except ValidationError:
        pass  # refusing the edit is as good: the call stays closed either way
    assert svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).status == RoundStatus.REVIEW
    with pytest.raises(ValidationError):
        nominate(session, staff, rnd.id, rnd.orgs, units[0])


def test_moving_the_deadline_of_a_call_ended_by_hand_is_refused(session, staff, rnd):
    end_call(session, staff, rnd.id)
    cats = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories
    data = replace(round_input(nomination_deadline=DEADLINE + timedelta(days=5)), categories=svc.category_inputs(cats))
    with pytest.raises(ValidationError):
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=data, expected_version=2, today=TODAY)


# ---------------------------------------------------------------- editing a round


def test_a_round_is_edited_on_the_version_seen_and_its_categories_renamed_and_swapped(session, staff, rnd):
    cats = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories
    swapped = (
        CategoryInput("优秀个人", "organisation", 3, cats[0].id),
        CategoryInput("优秀组织", "individual", 1, cats[1].id),
        CategoryInput("优秀项目", "project", 2),
    )
    data = round_input("2026年度推选（修订）", categories=swapped, per_unit=2)
    assert (
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=data, expected_version=1, today=TODAY) == 2
    )
    rows = session.execute(
        text("SELECT id, name, nominee_kind, places FROM selection_categories WHERE round_id = :r ORDER BY position"),
        {"r": rnd.id},
    ).all()
    assert [tuple(r)[1:] for r in rows] == [
        ("优秀个人", "organisation", 3),
        ("优秀组织", "individual", 1),
        ("优秀项目", "project", 2),
    ]
    assert [r.id for r in rows][:2] == [cats[0].id, cats[1].id]
    with pytest.raises(StaleRecord):
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=data, expected_version=1, today=TODAY)
    assert audits(session, "selection_round.update", rnd.id) == 1


def test_a_category_with_nominations_keeps_its_kind_and_cannot_be_removed(session, staff, units, rnd):
    nominate(session, staff, rnd.id, rnd.orgs, units[0])
    cats = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories
    before = snapshot(session, rnd.id)
    removed = round_input(categories=(CategoryInput("优秀个人", "individual", 1, cats[1].id),))
    with pytest.raises(ValidationError) as err:
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=removed, expected_version=1, today=TODAY)
    assert err.value.key == "validation.category_has_nominations"
    rekinded = round_input(
        categories=(
            CategoryInput("优秀组织", "project", 2, cats[0].id),
            CategoryInput("优秀个人", "individual", 1, cats[1].id),
        )
    )
    with pytest.raises(ValidationError) as err:
        svc.update_round(session=session, actor=staff, round_id=rnd.id, data=rekinded, expected_version=1, today=TODAY)
    assert err.value.key == "validation.category_kind_fixed"
    assert snapshot(session, rnd.id) == before
    # the empty category may go
    kept = round_input(categories=(CategoryInput("优秀组织", "organisation", 2, cats[0].id),))
    svc.update_round(session=session, actor=staff, round_id=rnd.id, data=kept, expected_version=1, today=TODAY)
    assert count(session, "SELECT COUNT(*) FROM selection_categories WHERE round_id = :r", r=rnd.id) == 1


# ---------------------------------------------------------------- the limit per unit and category


@pytest.mark.parametrize("per_unit", [1, 2])
def test_a_unit_nominates_at_most_the_rounds_limit_per_category(session, staff, units, per_unit):
    r = new_round(session, staff, round_input(per_unit=per_unit))
    first = [nominate(session, staff, r.id, r.orgs, units[0], f"候选{i}") for i in range(per_unit)]
    before = snapshot(session, r.id)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, r.id, r.orgs, units[0], "再多一个")
    assert (err.value.key, err.value.params["limit"]) == ("validation.nomination_limit", per_unit)
    assert snapshot(session, r.id) == before
    # the limit is per category and per unit
    nominate(session, staff, r.id, r.people, units[0], "张三")
    nominate(session, staff, r.id, r.orgs, units[1], "另一单位的候选")
    # a withdrawn nomination does not count: its place is free again
    withdraw(session, staff, first[0])
    nominate(session, staff, r.id, r.orgs, units[0], "替补候选")
    mine = count(
        session,
        "SELECT COUNT(*) FROM nominations WHERE round_id = :r AND category_id = :c "
        "AND nominating_org_id = :o AND withdrawn_at IS NULL",
        r=r.id,
        c=r.orgs,
        o=units[0],
    )
    assert mine == per_unit


def test_editing_a_nomination_counts_it_once_and_moving_it_into_a_full_category_is_refused(session, staff, units):
    r = new_round(
        session,
        staff,
        round_input(
            categories=(CategoryInput("优秀组织", "organisation", 2), CategoryInput("优秀项目", "organisation", 2))
        ),
    )
    cats = svc.get_round(session=session, actor=staff, round_id=r.id, today=TODAY).categories
    a = nominate(session, staff, r.id, cats[0].id, units[0], "甲")
    nominate(session, staff, r.id, cats[1].id, units[0], "乙")
    edited = NominationInput(cats[0].id, units[0], "甲（更正）", "理由更新")
    assert (
        svc.update_nomination(
            session=session, actor=staff, nomination_id=a, data=edited, expected_version=1, today=TODAY
        )
        == 2
    )
    moved = NominationInput(cats[1].id, units[0], "甲（更正）", "理由更新")
    with pytest.raises(ValidationError) as err:
        svc.update_nomination(
            session=session, actor=staff, nomination_id=a, data=moved, expected_version=2, today=TODAY
        )
    assert err.value.key == "validation.nomination_limit"
    assert svc.get_nomination(session=session, actor=staff, nomination_id=a).category_id == cats[0].id
    with pytest.raises(StaleRecord):
        svc.update_nomination(
            session=session, actor=staff, nomination_id=a, data=edited, expected_version=1, today=TODAY
        )


# ---------------------------------------------------------------- who may nominate


def test_the_secretariat_is_not_a_nominating_unit(session, admin, staff, rnd):
    secretariat = organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=org_input("生态环境部宣传教育中心", kind="government", is_secretariat=True),
    )
    before = snapshot(session, rnd.id)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, rnd.orgs, secretariat)
    assert (err.value.key, err.value.field) == ("validation.choice", "nominating_org")
    assert snapshot(session, rnd.id) == before


@pytest.mark.parametrize("status", ["suspended", "exited"])
def test_a_unit_that_is_not_a_member_cannot_nominate(session, admin, staff, units, rnd, status):
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=units[0], expected_version=1, status=status, reason="暂停活动"
    )
    before = snapshot(session, rnd.id)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, rnd.orgs, units[0])
    assert err.value.key == "validation.nominator_not_member"
    assert snapshot(session, rnd.id) == before


def test_an_unknown_unit_or_a_category_of_another_round_is_refused(session, staff, units, rnd):
    other = new_round(session, staff, round_input("另一轮推选"))
    with pytest.raises(ValidationError):
        nominate(session, staff, rnd.id, rnd.orgs, 999_999)
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, other.orgs, units[0])
    assert err.value.field == "category"
    assert live_nominations(session, rnd.id) == 0


def test_a_directory_nominee_only_in_a_category_for_organisations(session, staff, units, rnd):
    nominate(session, staff, rnd.id, rnd.orgs, units[0], "推荐单位1", nominee_org_id=units[1])
    with pytest.raises(ValidationError) as err:
        nominate(session, staff, rnd.id, rnd.people, units[0], "推荐单位1", nominee_org_id=units[1])
    assert err.value.field == "nominee_org"


@pytest.mark.parametrize(
    ("name", "reasons", "link"),
    [("", "理由", ""), ("候选", "   ", ""), ("候选", "理由", "javascript:alert(1)"), ("名" * 101, "理由", "")],
)
def test_a_nomination_without_a_name_or_reasons_or_with_a_bad_link_writes_nothing(
    session, staff, units, rnd, name, reasons, link
):
    data = NominationInput(rnd.orgs, units[0], name, reasons, link=link)
    with pytest.raises(ValidationError):
        svc.add_nomination(session=session, actor=staff, round_id=rnd.id, data=data, today=TODAY)
    assert live_nominations(session, rnd.id) == 0


# ---------------------------------------------------------------- council scores


def test_a_seated_council_unit_scores_during_the_review_and_changes_its_score(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    assert score(session, lishi, n, 8, comment="事迹突出") == 1
    assert score(session, lishi, n, 9) == 2
    assert stored_scores(session, n) == {lishi.organisation_id: (9, False)}
    mine = svc.own_scores(session=session, actor=lishi, round_id=rnd.id)
    assert (mine[n].score, mine[n].version, mine[n].recused) == (9, 2, False)


def test_scores_are_refused_before_the_review_and_after_its_deadline(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    with pytest.raises(ValidationError) as err:
        score(session, lishi, n, 8, today=DEADLINE)  # the call is still open
    assert err.value.key == "validation.review_not_started"
    with pytest.raises(ValidationError) as err:
        score(session, lishi, n, 8, today=AFTER)
    assert err.value.key == "validation.review_closed"
    assert stored_scores(session, n) == {}
    assert score(session, lishi, n, 8, today=REVIEW_END) == 1  # the review deadline day itself


def test_a_call_ended_early_opens_the_review_before_the_deadline(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    end_call(session, staff, rnd.id)
    assert score(session, lishi, n, 7, today=TODAY) == 1


def test_a_council_user_whose_unit_holds_no_seat_cannot_score(session, staff, units, rnd, make_actor):
    unseated = make_actor(Role.COUNCIL)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    with pytest.raises(PermissionDenied) as err:
        score(session, unseated, n, 8)
    assert err.value.key == "error.no_active_term"
    assert stored_scores(session, n) == {}


def test_a_unit_whose_term_ended_cannot_score_any_more(session, admin, staff, units, rnd, make_actor, council_session):
    lishi = make_actor(Role.COUNCIL)
    term_id = council.seat_term(
        session=session,
        actor=admin,
        session_id=council_session,
        seat=1,
        organisation_id=lishi.organisation_id,
        source="invited",
    )
    council.end_term_early(
        session=session, actor=admin, term_id=term_id, expected_version=1, ends_on=REVIEW_END, reason="辞任"
    )
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    assert score(session, lishi, n, 8, today=REVIEW_END - timedelta(days=1)) == 1
    with pytest.raises(PermissionDenied):
        score(session, lishi, n, 5, today=REVIEW_END)
    assert stored_scores(session, n) == {lishi.organisation_id: (8, False)}


def test_a_suspended_council_unit_cannot_score(session, admin, staff, units, rnd, seated):
    lishi = seated(1)
    organisations.set_organisation_status(
        session=session,
        actor=admin,
        organisation_id=lishi.organisation_id,
        expected_version=1,
        status="suspended",
        reason="暂停",
    )
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    with pytest.raises(PermissionDenied):
        score(session, lishi, n, 8)
    assert stored_scores(session, n) == {}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT, Role.VIEWER])
def test_only_council_users_score(session, staff, units, rnd, make_actor, role):
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    actor = make_actor(role)
    with pytest.raises(PermissionDenied):
        svc.score_nomination(
            session=session,
            actor=actor,
            nomination_id=n,
            score=8,
            recused=False,
            comment="",
            expected_version=0,
            today=REVIEW_DAY,
        )
    assert stored_scores(session, n) == {}


@pytest.mark.parametrize(("value", "recused"), [(0, False), (11, False), (7.5, False), (None, False), (6, True)])
def test_a_bad_score_writes_nothing(session, staff, units, rnd, seated, value, recused):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    with pytest.raises(ValidationError):
        score(session, lishi, n, value, recused=recused)
    assert stored_scores(session, n) == {}


def test_another_user_of_the_same_unit_on_a_stale_version_is_refused(session, admin, staff, units, rnd, seated):
    lishi = seated(1)
    colleague_id = users.create_user(
        session=session,
        actor=admin,
        username="colleague",
        display_name="同事",
        password="password 123",
        role=Role.COUNCIL,
        organisation_id=lishi.organisation_id,
    )
    colleague = Actor(colleague_id, "colleague", Role.COUNCIL, lishi.organisation_id)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    score(session, lishi, n, 8, version=0)
    with pytest.raises(StaleRecord):
        score(session, colleague, n, 3, version=0)
    score(session, lishi, n, 9, version=1)
    with pytest.raises(StaleRecord):
        score(session, colleague, n, 3, version=1)
    assert stored_scores(session, n) == {lishi.organisation_id: (9, False)}
    assert score(session, colleague, n, 3, version=2) == 3  # on the version the unit now has
    assert audits(session, "nomination.score", n) == 3


def test_a_withdrawn_nomination_cannot_be_scored(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    withdraw(session, staff, n, today=REVIEW_DAY)
    with pytest.raises(ValidationError) as err:
        score(session, lishi, n, 8)
    assert err.value.key == "validation.nomination_withdrawn"


def test_the_unit_that_nominated_must_recuse(session, staff, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, lishi.organisation_id)
    with pytest.raises(ValidationError) as err:
        score(session, lishi, n, 10)
    assert err.value.key == "validation.must_recuse"
    assert stored_scores(session, n) == {}
    assert score(session, lishi, n, None, recused=True, comment="本单位推荐") == 1
    assert stored_scores(session, n) == {lishi.organisation_id: (None, True)}


def test_the_unit_that_is_the_nominee_must_recuse(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0], "理事单位", nominee_org_id=lishi.organisation_id)
    with pytest.raises(ValidationError) as err:
        score(session, lishi, n, 10)
    assert err.value.key == "validation.must_recuse"
    assert score(session, lishi, n, None, recused=True) == 1


def ranking_of(session, actor, round_id: int, today: date = REVIEW_DAY) -> dict[int, svc.RankingRow]:
    return {r.nomination_id: r for r in svc.ranking(session=session, actor=actor, round_id=round_id, today=today)}


def hand_mean(session, nomination_id: int) -> Fraction | None:
    """The mean of the scores counted, summed by hand: recusals are not scores."""
    total, n = session.execute(
        text(
            "SELECT COALESCE(SUM(score), 0), COUNT(score) FROM nomination_scores "
            "WHERE nomination_id = :n AND NOT recused"
        ),
        {"n": nomination_id},
    ).one()
    return Fraction(int(total), int(n)) if n else None


def test_a_recusal_never_changes_the_mean(session, staff, units, rnd, seated):
    a, b, c = seated(1), seated(2), seated(3)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    score(session, a, n, 8)
    score(session, b, n, 6)
    without = ranking_of(session, staff, rnd.id)[n]
    score(session, c, n, None, recused=True)
    with_recusal = ranking_of(session, staff, rnd.id)[n]
    assert (without.mean, without.scores, without.recusals) == (Fraction(7), 2, 0)
    assert (with_recusal.mean, with_recusal.scores, with_recusal.recusals) == (Fraction(7), 2, 1)
    assert (with_recusal.lowest, with_recusal.highest) == (6, 8)
    # a score turned into a recusal leaves the mean as if it had never been given
    score(session, c, n, 1)
    assert ranking_of(session, staff, rnd.id)[n].mean == Fraction(5)
    score(session, c, n, None, recused=True)
    assert ranking_of(session, staff, rnd.id)[n].mean == Fraction(7) == hand_mean(session, n)


def test_the_ranking_follows_the_rule_and_leaves_out_withdrawn_nominations(session, staff, units, rnd, seated):
    c1, c2, c3, c4 = seated(1), seated(2), seated(3), seated(4)
    n1, n2, n3, n4, n5, n6 = (
        nominate(session, staff, rnd.id, rnd.orgs, u, f"候选{i}") for i, u in enumerate(units, start=1)
    )
    person = nominate(session, staff, rnd.id, rnd.people, units[0], "张三")
    plan = {
        n1: {c1: 8, c2: 8},  # mean 8 of two, lowest 8
        n2: {c1: 6, c2: 10},  # mean 8 of two, lowest 6: behind n1
        n3: {c1: 8, c2: 8, c3: 8},  # mean 8 of three: ahead of n1 and n2
        n5: {c1: 10, c2: 10},  # withdrawn below: out of the ranking
        n6: {c1: 9, c4: None},  # mean 9 of one, one recusal: first
        person: {c2: 2},
    }
    for nomination_id, marks in plan.items():
        for unit, value in marks.items():
            score(session, unit, nomination_id, value, recused=value is None)
    withdraw(session, staff, n5, today=REVIEW_DAY)
    rows = svc.ranking(session=session, actor=staff, round_id=rnd.id, today=REVIEW_DAY)
    assert [(r.category, r.rank, r.nomination_id) for r in rows] == [
        ("优秀组织", 1, n6),
        ("优秀组织", 2, n3),
        ("优秀组织", 3, n1),
        ("优秀组织", 4, n2),
        ("优秀组织", 5, n4),
        ("优秀个人", 1, person),
    ]
    for r in rows:
        assert r.mean == hand_mean(session, r.nomination_id)
    by_id = {r.nomination_id: r for r in rows}
    assert (by_id[n6].scores, by_id[n6].recusals, by_id[n4].scores, by_id[n4].mean) == (1, 1, 0, None)
    assert by_id[n1].nominating_org == "推荐单位0"


def test_council_units_see_only_their_own_scores_until_the_result_is_published(session, staff, units, rnd, seated):
    a, b = seated(1), seated(2)
    n1 = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    n2 = nominate(session, staff, rnd.id, rnd.orgs, units[1])
    score(session, a, n1, 9)
    score(session, b, n1, 5)
    score(session, b, n2, 7)
    mine = svc.own_scores(session=session, actor=a, round_id=rnd.id)
    assert set(mine) == {n1}
    assert {(s.organisation_id, s.score) for s in mine.values()} == {(a.organisation_id, 9)}
    assert {s.organisation_id for s in svc.own_scores(session=session, actor=b, round_id=rnd.id).values()} == {
        b.organisation_id
    }
    for reader in (svc.ranking, svc.all_scores):
        with pytest.raises(PermissionDenied) as err:
            reader(session=session, actor=a, round_id=rnd.id, today=REVIEW_DAY)
        assert err.value.key == "error.scores_hidden"
    # the secretariat sees everything during the review
    assert len(svc.all_scores(session=session, actor=staff, round_id=rnd.id, today=REVIEW_DAY)) == 3
    assert len(svc.ranking(session=session, actor=staff, round_id=rnd.id, today=REVIEW_DAY)) == 2
    publish(session, staff, rnd.id, {rnd.orgs: [n1]})
    seen = svc.all_scores(session=session, actor=a, round_id=rnd.id, today=AFTER)
    assert {(s.nomination_id, s.organisation_id, s.score) for s in seen} == {
        (n1, a.organisation_id, 9),
        (n1, b.organisation_id, 5),
        (n2, b.organisation_id, 7),
    }
    ranked = svc.ranking(session=session, actor=a, round_id=rnd.id, today=AFTER)
    assert [(r.nomination_id, r.winner) for r in ranked] == [(n1, True), (n2, False)]  # mean 7 of two before 7 of one


def test_review_progress_counts_each_seated_units_scores_for_the_secretariat(session, staff, units, rnd, seated):
    a, b = seated(1), seated(2)
    n1 = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    nominate(session, staff, rnd.id, rnd.orgs, units[1])
    nominate(session, staff, rnd.id, rnd.people, units[0], "张三")
    score(session, a, n1, 9)
    score(session, b, n1, None, recused=True)
    progress = svc.review_progress(session=session, actor=staff, round_id=rnd.id, today=REVIEW_DAY)
    assert [(p.organisation_id, p.scored, p.recused, p.missing) for p in progress] == [
        (a.organisation_id, 1, 0, 2),
        (b.organisation_id, 0, 1, 2),
    ]
    with pytest.raises(PermissionDenied):
        svc.review_progress(session=session, actor=a, round_id=rnd.id, today=REVIEW_DAY)


# ---------------------------------------------------------------- publishing the result


def test_the_result_cannot_be_published_while_the_call_is_open(session, staff, units, rnd):
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    before = snapshot(session, rnd.id)
    with pytest.raises(ValidationError) as err:
        publish(session, staff, rnd.id, {rnd.orgs: [n]}, today=DEADLINE)
    assert err.value.key == "validation.publish_while_open"
    assert snapshot(session, rnd.id) == before


def test_winners_beyond_the_places_or_outside_their_category_are_refused(session, staff, units, rnd):
    a, b, c = (nominate(session, staff, rnd.id, rnd.orgs, u, f"候选{u}") for u in units[:3])
    p = nominate(session, staff, rnd.id, rnd.people, units[0], "张三")
    gone = nominate(session, staff, rnd.id, rnd.people, units[1], "李四")
    withdraw(session, staff, gone)
    other = new_round(session, staff, round_input("另一轮"))
    before = snapshot(session, rnd.id)
    for winners in (
        {rnd.orgs: [a, b, c]},  # three for two places
        {rnd.people: [p, gone]},  # two for one place
        {rnd.orgs: [p]},  # a nomination of the other category
        {rnd.people: [gone]},  # a withdrawn nomination
        {other.orgs: []},  # a category of another round
        {rnd.orgs: [999_999]},
    ):
        with pytest.raises(ValidationError):
            publish(session, staff, rnd.id, winners)
        assert snapshot(session, rnd.id) == before, winners


def test_publishing_marks_exactly_the_winners_and_closes_the_round(session, staff, units, rnd):
    a, b, c = (nominate(session, staff, rnd.id, rnd.orgs, u, f"候选{u}") for u in units[:3])
    p = nominate(session, staff, rnd.id, rnd.people, units[0], "张三")
    assert publish(session, staff, rnd.id, {rnd.orgs: [c, a], rnd.people: []}) == 2
    winners = (
        session.execute(text("SELECT id FROM nominations WHERE round_id = :r AND winner ORDER BY id"), {"r": rnd.id})
        .scalars()
        .all()
    )
    assert winners == [a, c]
    row = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=AFTER)
    assert row.status == RoundStatus.PUBLISHED and row.published_at is not None and not row.review_open
    assert {n.id: n.winner for n in svc.list_nominations(session=session, actor=staff, round_id=rnd.id)} == {
        a: True,
        b: False,
        c: True,
        p: False,
    }
    assert audits(session, "selection_round.publish", rnd.id) == 1


def test_a_published_round_is_read_only(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    end_call(session, staff, rnd.id)
    score(session, lishi, n, 8, today=TODAY)
    publish(session, staff, rnd.id, {rnd.orgs: [n]}, today=TODAY)
    cats = svc.category_inputs(svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories)
    before = snapshot(session, rnd.id)
    version = version_of(session, "selection_rounds", rnd.id)
    attempts = {
        "update_round": lambda: svc.update_round(
            session=session,
            actor=staff,
            round_id=rnd.id,
            today=TODAY,
            data=round_input("改名", categories=cats),
            expected_version=version,
        ),
        "end_call": lambda: end_call(session, staff, rnd.id),
        "add_nomination": lambda: nominate(session, staff, rnd.id, rnd.orgs, units[1]),
        "update_nomination": lambda: svc.update_nomination(
            session=session,
            actor=staff,
            nomination_id=n,
            data=NominationInput(rnd.orgs, units[0], "改", "改"),
            expected_version=version_of(session, "nominations", n),
            today=TODAY,
        ),
        "withdraw_nomination": lambda: withdraw(session, staff, n),
        "score_nomination": lambda: score(session, lishi, n, 2, today=TODAY),
        "publish_round": lambda: publish(session, staff, rnd.id, {rnd.orgs: []}, today=TODAY),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ValidationError):
            attempt()
        assert snapshot(session, rnd.id) == before, name


def test_the_units_records_are_frozen_when_the_result_is_published(session, staff, units, rnd):
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0], "推荐单位1", nominee_org_id=units[1])
    first, last = date(2026, 1, 1), DEADLINE
    live = svc.nomination_records(session=session, actor=staff, round_id=rnd.id, today=TODAY)
    assert set(live) == {units[0], units[1]}
    publish(session, staff, rnd.id, {rnd.orgs: [n]})
    at_publication = unit_records(session=session, organisation_ids=[units[0], units[1]], first=first, last=last)
    frozen = svc.nomination_records(session=session, actor=staff, round_id=rnd.id, today=AFTER)
    assert frozen == at_publication
    assert count(session, "SELECT COUNT(*) FROM nominations WHERE round_id = :r AND record IS NULL", r=rnd.id) == 0
    # the unit's record moves on afterwards; the nomination keeps what it was
    achievement_id = achievements.create_achievement(
        session=session,
        actor=staff,
        today=TODAY,
        data=AchievementInput(units[0], "河道守护行动", "全年巡河一百次", date(2026, 3, 1), "service_case"),
    )
    achievements.decide_achievement(
        session=session,
        actor=staff,
        achievement_id=achievement_id,
        status="published",
        channel="wechat",
        published_on=date(2026, 4, 1),
        note="",
        expected_version=1,
        today=TODAY,
    )
    now = unit_records(session=session, organisation_ids=[units[0]], first=first, last=last)[units[0]]
    assert now.achievements_published == at_publication[units[0]].achievements_published + 1
    assert svc.nomination_records(session=session, actor=staff, round_id=rnd.id, today=AFTER) == frozen


# ---------------------------------------------------------------- roles


def staff_writes(session, actor, rnd: Round, nomination_id: int, unit: int) -> dict[str, object]:
    cats = svc.category_inputs(svc.get_round(session=session, actor=actor, round_id=rnd.id, today=TODAY).categories)

    def round_v() -> int:
        return version_of(session, "selection_rounds", rnd.id)

    def nomination_v() -> int:
        return version_of(session, "nominations", nomination_id)

    return {
        "create_round": lambda a: svc.create_round(session=session, actor=a, data=round_input("新一轮"), today=TODAY),
        "update_round": lambda a: svc.update_round(
            session=session,
            actor=a,
            round_id=rnd.id,
            today=TODAY,
            data=round_input("改名", categories=cats),
            expected_version=round_v(),
        ),
        "end_call": lambda a: svc.end_call(
            session=session, actor=a, round_id=rnd.id, expected_version=round_v(), today=TODAY
        ),
        "add_nomination": lambda a: svc.add_nomination(
            session=session,
            actor=a,
            round_id=rnd.id,
            today=TODAY,
            data=NominationInput(rnd.people, unit, "张三", "理由"),
        ),
        "update_nomination": lambda a: svc.update_nomination(
            session=session,
            actor=a,
            nomination_id=nomination_id,
            expected_version=nomination_v(),
            today=TODAY,
            data=NominationInput(rnd.orgs, unit, "改", "改"),
        ),
        "withdraw_nomination": lambda a: svc.withdraw_nomination(
            session=session,
            actor=a,
            nomination_id=nomination_id,
            reason="撤回",
            expected_version=nomination_v(),
            today=TODAY,
        ),
        "publish_round": lambda a: svc.publish_round(
            session=session, actor=a, round_id=rnd.id, winners={}, expected_version=round_v(), today=AFTER
        ),
    }


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER, None], ids=lambda r: r.value if r else "anonymous")
def test_council_viewers_and_visitors_cannot_make_staff_writes(session, staff, units, rnd, seated, role):
    actor = seated(1) if role is Role.COUNCIL else make_plain(session, role)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    before = snapshot(session, rnd.id)
    rounds = count(session, "SELECT COUNT(*) FROM selection_rounds")
    for name, write in staff_writes(session, staff, rnd, n, units[0]).items():
        with pytest.raises(PermissionDenied):
            write(actor)  # type: ignore[operator]
        assert snapshot(session, rnd.id) == before, name
    assert count(session, "SELECT COUNT(*) FROM selection_rounds") == rounds


def make_plain(session, role: Role | None) -> Actor:
    if role is None:
        return ANONYMOUS
    return Actor(user_id=None, username="probe", role=role)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT])
def test_admin_and_secretariat_make_every_staff_write(session, make_actor, units, role):
    actor = make_actor(role)
    r = new_round(session, actor)
    n = nominate(session, actor, r.id, r.orgs, units[0])
    writes = staff_writes(session, actor, r, n, units[0])
    for name in ("update_nomination", "update_round", "withdraw_nomination", "end_call", "publish_round"):
        writes[name](actor)  # type: ignore[operator]
    assert svc.get_round(session=session, actor=actor, round_id=r.id, today=AFTER).status == RoundStatus.PUBLISHED


def reads(session, rnd: Round, nomination_id: int) -> dict[str, object]:
    return {
        "list_rounds": lambda a: svc.list_rounds(session=session, actor=a, today=TODAY),
        "get_round": lambda a: svc.get_round(session=session, actor=a, round_id=rnd.id, today=TODAY),
        "list_nominations": lambda a: svc.list_nominations(session=session, actor=a, round_id=rnd.id),
        "get_nomination": lambda a: svc.get_nomination(session=session, actor=a, nomination_id=nomination_id),
        "own_scores": lambda a: svc.own_scores(session=session, actor=a, round_id=rnd.id),
        "all_scores": lambda a: svc.all_scores(session=session, actor=a, round_id=rnd.id, today=TODAY),
        "ranking": lambda a: svc.ranking(session=session, actor=a, round_id=rnd.id, today=TODAY),
        "nomination_records": lambda a: svc.nomination_records(session=session, actor=a, round_id=rnd.id, today=TODAY),
        "review_progress": lambda a: svc.review_progress(session=session, actor=a, round_id=rnd.id, today=TODAY),
    }


@pytest.mark.parametrize("role", [Role.VIEWER, None], ids=lambda r: r.value if r else "anonymous")
def test_viewers_and_visitors_read_nothing_of_the_selections(session, staff, units, rnd, role):
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    actor = make_plain(session, role)
    for name, read in reads(session, rnd, n).items():
        with pytest.raises(PermissionDenied):
            read(actor)  # type: ignore[operator]
        assert name


def test_council_units_read_rounds_nominations_and_records(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    allowed = {"list_rounds", "get_round", "list_nominations", "get_nomination", "own_scores", "nomination_records"}
    for name, read in reads(session, rnd, n).items():
        if name in allowed:
            read(lishi)  # type: ignore[operator]
        else:
            with pytest.raises(PermissionDenied):
                read(lishi)  # type: ignore[operator]


def test_a_missing_round_or_nomination_is_not_found(session, staff):
    with pytest.raises(NotFound):
        svc.get_round(session=session, actor=staff, round_id=999_999, today=TODAY)
    with pytest.raises(NotFound):
        svc.get_nomination(session=session, actor=staff, nomination_id=999_999)
    with pytest.raises(NotFound):
        svc.end_call(session=session, actor=staff, round_id=999_999, expected_version=1, today=TODAY)


# ---------------------------------------------------------------- the audit trail


def test_every_write_leaves_an_audit_entry_naming_who_did_it(session, staff, units, seated):
    lishi = seated(1)
    r = new_round(session, staff)
    cats = svc.category_inputs(svc.get_round(session=session, actor=staff, round_id=r.id, today=TODAY).categories)
    svc.update_round(
        session=session,
        actor=staff,
        round_id=r.id,
        data=round_input("改名", categories=cats),
        expected_version=1,
        today=TODAY,
    )
    n = nominate(session, staff, r.id, r.orgs, units[0])
    gone = nominate(session, staff, r.id, r.orgs, units[1])
    svc.update_nomination(
        session=session,
        actor=staff,
        nomination_id=n,
        expected_version=1,
        today=TODAY,
        data=NominationInput(r.orgs, units[0], "河小青（更正）", "理由"),
    )
    withdraw(session, staff, gone)
    end_call(session, staff, r.id)
    score(session, lishi, n, 8, today=TODAY)
    publish(session, staff, r.id, {r.orgs: [n]}, today=TODAY)
    expected = [
        ("selection_round.create", r.id, staff.username),
        ("selection_round.update", r.id, staff.username),
        ("nomination.create", n, staff.username),
        ("nomination.create", gone, staff.username),
        ("nomination.update", n, staff.username),
        ("nomination.withdraw", gone, staff.username),
        ("selection_round.end_call", r.id, staff.username),
        ("nomination.score", n, lishi.username),
        ("selection_round.publish", r.id, staff.username),
    ]
    rows = session.execute(
        text(
            "SELECT action, record_id, username FROM audit_entries WHERE record_type IN "
            "('selection_round', 'nomination', 'nomination_score') ORDER BY id"
        )
    ).all()
    assert [(a, int(i), u) for a, i, u in rows] == expected


def test_a_refused_write_leaves_no_audit_entry(session, staff, units, rnd):
    nominate(session, staff, rnd.id, rnd.orgs, units[0])
    entries = count(session, "SELECT COUNT(*) FROM audit_entries")
    with pytest.raises(ValidationError):
        nominate(session, staff, rnd.id, rnd.orgs, units[0], "第二个")
    assert count(session, "SELECT COUNT(*) FROM audit_entries") == entries


# ---------------------------------------------------------------- home to-dos


def test_the_home_page_reminds_council_units_to_score_and_staff_to_publish(session, admin, staff, units, make_actor):
    on = real_today()  # the to-dos look at today's date in Shanghai
    session_id = council.create_session(session=session, actor=admin, starts_on=on - timedelta(days=10))
    lishi = make_actor(Role.COUNCIL)
    council.seat_term(
        session=session,
        actor=admin,
        session_id=session_id,
        seat=1,
        organisation_id=lishi.organisation_id,
        source="invited",
    )
    data = round_input(nomination_deadline=on + timedelta(days=5), review_deadline=on + timedelta(days=15))
    r = new_round(session, staff, data, today=on)
    n1 = nominate(session, staff, r.id, r.orgs, units[0], today=on)
    nominate(session, staff, r.id, r.orgs, units[1], today=on)
    nominate(session, staff, r.id, r.people, units[0], "张三", today=on)

    def items(actor, key):
        return [t for t in collect_todos(session=session, actor=actor) if t.key == key]

    assert items(lishi, "todo.nominations_to_score") == []  # the call is still open
    end_call(session, staff, r.id, today=on)
    (todo,) = items(lishi, "todo.nominations_to_score")
    assert (todo.count, todo.query) == (3, {"id": str(r.id)})
    score(session, lishi, n1, 7, today=on)
    assert items(lishi, "todo.nominations_to_score")[0].count == 2
    # a round whose review is over and not yet published waits for the secretariat
    assert items(staff, "todo.rounds_to_publish") == []
    past = round_input("上一轮", nomination_deadline=on - timedelta(days=20), review_deadline=on - timedelta(days=1))
    new_round(session, staff, past, today=on - timedelta(days=30))
    assert [t.count for t in items(staff, "todo.rounds_to_publish")] == [1]


# ---------------------------------------------------------------- integrity across edits of the round


def test_a_council_units_score_never_stands_on_its_own_nomination(session, staff, units, rnd, seated):
    lishi = seated(1)
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    score(session, lishi, n, 10)  # the review has started by date
    cats = svc.category_inputs(
        svc.get_round(session=session, actor=staff, round_id=rnd.id, today=REVIEW_DAY).categories
    )
    later = round_input(nomination_deadline=REVIEW_DAY + timedelta(days=5), review_deadline=REVIEW_END, categories=cats)
    try:
        svc.update_round(
            session=session, actor=staff, round_id=rnd.id, data=later, expected_version=1, today=REVIEW_DAY
        )
        moved = NominationInput(rnd.orgs, lishi.organisation_id, "河小青", "多年坚持河道巡护")
        svc.update_nomination(
            session=session, actor=staff, nomination_id=n, data=moved, expected_version=1, today=REVIEW_DAY
        )
    except ValidationError:
        pass  # refusing either edit keeps the rule
    nominator = count(session, "SELECT nominating_org_id FROM nominations WHERE id = :n", n=n)
    own = stored_scores(session, n).get(lishi.organisation_id)
    assert not (nominator == lishi.organisation_id and own == (10, False))


def test_a_round_that_is_accepted_can_be_published(session, staff, units):
    data = round_input("年份填错的推选", year=2000)
    try:
        r = new_round(session, staff, data)
    except ValidationError:
        return  # refusing the year up front is as good
    n = nominate(session, staff, r.id, r.orgs, units[0])
    svc.nomination_records(session=session, actor=staff, round_id=r.id, today=TODAY)
    publish(session, staff, r.id, {r.orgs: [n]})
    assert svc.get_round(session=session, actor=staff, round_id=r.id, today=AFTER).status == RoundStatus.PUBLISHED


# ---------------------------------------------------------------- review fixes


def test_a_score_given_after_the_ranking_was_shown_refuses_the_publication(session, staff, rnd, units, seated):
    first = nominate(session, staff, rnd.id, rnd.orgs, units[0], "甲")
    second = nominate(session, staff, rnd.id, rnd.orgs, units[1], "乙")
    one, two = seated(1), seated(2)
    score(session, one, first, 9)
    score(session, one, second, 6)
    seen = svc.scores_stamp(session=session, actor=staff)
    score(session, two, second, 10, today=REVIEW_DAY)  # the ranking moves after the secretariat looked
    with pytest.raises(StaleRecord) as err:
        svc.publish_round(
            session=session,
            actor=staff,
            round_id=rnd.id,
            winners={rnd.orgs: [first]},
            expected_version=version_of(session, "selection_rounds", rnd.id),
            today=REVIEW_DAY,
            scores_seen=seen,
        )
    assert err.value.key == "error.scores_changed"
    assert count(session, "SELECT COUNT(*) FROM nominations WHERE winner") == 0
    fresh = svc.scores_stamp(session=session, actor=staff)
    svc.publish_round(
        session=session,
        actor=staff,
        round_id=rnd.id,
        winners={rnd.orgs: [first, second]},
        expected_version=version_of(session, "selection_rounds", rnd.id),
        today=REVIEW_DAY,
        scores_seen=fresh,
    )
    assert svc.get_round(session=session, actor=staff, round_id=rnd.id, today=AFTER).status == RoundStatus.PUBLISHED


def test_a_withdrawn_nomination_cannot_be_confirmed_as_a_winner(session, staff, rnd, units):
    n = nominate(session, staff, rnd.id, rnd.orgs, units[0])
    withdraw(session, staff, n)
    with pytest.raises(ValidationError) as err:
        publish(session, staff, rnd.id, {rnd.orgs: [n]})
    assert (err.value.key, err.value.field) == ("validation.winner_not_live", "winners")


def test_a_round_nobody_was_nominated_in_can_be_closed_by_publishing_it(session, staff, rnd):
    publish(session, staff, rnd.id, {})
    assert svc.get_round(session=session, actor=staff, round_id=rnd.id, today=AFTER).status == RoundStatus.PUBLISHED


def test_the_limit_per_unit_cannot_go_below_what_a_unit_already_nominated(session, staff, units):
    r = new_round(session, staff, round_input(per_unit=2))
    nominate(session, staff, r.id, r.orgs, units[0], "甲")
    nominate(session, staff, r.id, r.orgs, units[0], "乙")
    cats = svc.get_round(session=session, actor=staff, round_id=r.id, today=TODAY).categories
    with pytest.raises(ValidationError) as err:
        svc.update_round(
            session=session,
            actor=staff,
            round_id=r.id,
            data=round_input(per_unit=1, categories=svc.category_inputs(cats)),
            expected_version=version_of(session, "selection_rounds", r.id),
            today=TODAY,
        )
    assert (err.value.key, err.value.field, err.value.params["most"]) == (
        "validation.limit_below_nominations",
        "max_per_unit",
        2,
    )
    assert count(session, "SELECT max_per_unit FROM selection_rounds WHERE id = :r", r=r.id) == 2


def test_an_open_call_is_ended_by_its_own_action_not_by_a_deadline_in_the_past(session, staff, rnd):
    cats = svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).categories
    with pytest.raises(ValidationError) as err:
        svc.update_round(
            session=session,
            actor=staff,
            round_id=rnd.id,
            data=round_input(nomination_deadline=TODAY - timedelta(days=1), categories=svc.category_inputs(cats)),
            expected_version=version_of(session, "selection_rounds", rnd.id),
            today=TODAY,
        )
    assert (err.value.key, err.value.field) == ("validation.deadline_use_end_call", "nomination_deadline")
    assert svc.get_round(session=session, actor=staff, round_id=rnd.id, today=TODAY).status == RoundStatus.OPEN


def test_the_unit_search_for_nominations_leaves_out_the_secretariat(session, admin, units):
    secretariat = organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=replace(org_input("生态环境部宣传教育中心", kind="government"), is_secretariat=True),
    )
    everyone = dict(organisations.search_members(session=session, text=""))
    members_only = dict(organisations.search_members(session=session, text="", include_secretariat=False))
    assert secretariat in everyone and secretariat not in members_only
    assert set(units) <= set(members_only)


def test_the_proposed_winners_are_the_top_of_the_ranking_within_the_places_never_an_unscored_one():
    def row(n: int, rank: int, scores: int) -> svc.RankingRow:
        return svc.RankingRow(n, 1, "优秀组织", rank, f"对象{n}", "单位", None, scores, 0, None, None, False)

    rows = [row(3, 3, 1), row(1, 1, 2), row(4, 4, 0), row(2, 2, 1)]
    assert svc.proposed_winners(rows, 2) == [1, 2]
    assert svc.proposed_winners(rows, 5) == [1, 2, 3]  # the unscored fourth is not proposed
    assert svc.proposed_winners([], 3) == []
