"""Applications (入网申请) on both databases: the public form and its limits, staff intake, duplicates, the
applicant's lookup, the status machine, approval, council opinions, the review list, imports, the council queue
and the home page's to-dos; plus the membership services that came with them."""

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import func, select

from db.models import (
    Application,
    ApplicationEvent,
    AuditEntry,
    CouncilOpinion,
    IntakeAttempt,
    Organisation,
)
from db.services import applications, council, organisations, settings, users
from db.services.applications import ApplicationFilters, ImportRow
from db.services.organisations import MemberImportRow
from db.services.todos import collect_todos
from domain.applications import ApplicationInput, AppStatus, IntakeLimits
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.roles import ANONYMOUS, Actor, Role
from tests.conftest import TODAY, org_input

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 on TODAY in Shanghai
# Valid unified social credit codes (GB 32100-2015), one per applicant that needs its own.
CODE_A = "91110000802100433B"
CODE_B = "52330000MJ8765432Y"
CODE_C = "91500000MA5U7A7C0F"
CODE_D = "12100000400010398P"
CODE_E = "91440300708461136T"
S = AppStatus


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def app_input(name="杭州市环保志愿者协会", *, applied_for="member", **org) -> ApplicationInput:
    return ApplicationInput(
        organisation=org_input(name, **org), applied_for=applied_for, statement="我们想加入网络。", consent=True
    )


def team(name, **kw) -> ApplicationInput:
    """A volunteer team: it needs no credit code of its own."""
    return app_input(name, kind="volunteer_team", credit_code="", **kw)


def submit(session, data, now=NOW) -> str:
    return applications.submit_application(session=session, actor=ANONYMOUS, data=data, now=now)


def create(session, actor, data, *, channel="invited", recommender_id=None, now=NOW) -> int:
    app_id, _ = applications.create_application(
        session=session, actor=actor, data=data, channel=channel, recommender_id=recommender_id, now=now
    )
    return app_id


def row(session, app_id):
    return session.execute(
        select(
            Application.status,
            Application.version,
            Application.decided_at,
            Application.decision_reason,
            Application.message_to_applicant,
            Application.organisation_id,
        ).where(Application.id == app_id)
    ).one()


NOTES = {S.NEEDS_MORE: "请补充登记证书扫描件", S.REJECTED: "不符合入网条件"}
REACH = {
    S.SUBMITTED: [],
    S.IN_REVIEW: [S.IN_REVIEW],
    S.NEEDS_MORE: [S.NEEDS_MORE],
    S.APPROVED: [S.IN_REVIEW, S.APPROVED],
    S.REJECTED: [S.IN_REVIEW, S.REJECTED],
    S.WITHDRAWN: [S.WITHDRAWN],
}


def move(session, actor, app_id, to, *, note=None, now=NOW) -> int:
    version = session.scalar(select(Application.version).where(Application.id == app_id))
    return applications.change_status(
        session=session,
        actor=actor,
        application_id=app_id,
        expected_version=version,
        to_status=to.value,
        note=NOTES.get(to, "") if note is None else note,
        now=now,
    )


def bring_to(session, actor, app_id, status, now=NOW) -> None:
    for step in REACH[status]:
        move(session, actor, app_id, step, now=now)


@pytest.fixture
def intake_open(session, admin):
    settings.set_setting(session=session, actor=admin, key="intake_open", value=True, expected_version=0)


@pytest.fixture
def staff(make_actor) -> Actor:
    return make_actor(Role.SECRETARIAT)


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


def member(session, admin, name="杭州市环保志愿者协会", **kw) -> int:
    return organisations.create_organisation(session=session, actor=admin, today=TODAY, data=org_input(name, **kw))


# ---------------------------------------------------------------- the public form


def test_the_public_form_is_refused_while_intake_is_closed(session, admin):
    before = count(session, Application), count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        submit(session, app_input())
    assert err.value.key == "apply.closed_now"
    assert (count(session, Application), count(session, AuditEntry)) == before


def test_an_application_sent_while_intake_is_open_gets_a_reference_and_one_history_event(session, intake_open):
    before = count(session, Application)
    reference = submit(session, app_input(credit_code=CODE_A.lower(), phone="138 0013 8000"))
    assert count(session, Application) == before + 1
    assert reference.startswith("SQ2026-") and len(reference) == 15
    app = session.execute(select(Application).where(Application.reference == reference)).scalar_one()
    assert (app.status, app.channel, app.applied_for, app.recommender_id) == (
        "submitted",
        "self_applied",
        "member",
        None,
    )
    assert (app.credit_code, app.phone, app.entered_by) == (CODE_A, "+8613800138000", None)
    assert app.consent_at == NOW and app.submitted_at == NOW
    events = session.execute(
        select(ApplicationEvent.from_status, ApplicationEvent.to_status, ApplicationEvent.user_id).where(
            ApplicationEvent.application_id == app.id
        )
    ).all()
    assert events == [(None, "submitted", None)]
    assert count(session, AuditEntry, AuditEntry.action == "application.submit", AuditEntry.record_id == str(app.id))


def test_the_reference_carries_the_year_in_shanghai_not_in_utc(session, intake_open):
    new_year_in_shanghai = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert submit(session, app_input(), now=new_year_in_shanghai).startswith("SQ2027-")


def test_the_public_form_refuses_an_application_without_consent_and_writes_nothing(session, intake_open):
    before = count(session, Application), count(session, AuditEntry)
    data = ApplicationInput(organisation=org_input(), consent=False)
    with pytest.raises(ValidationError) as err:
        submit(session, data)
    assert (err.value.key, err.value.field) == ("validation.consent_required", "consent")
    assert (count(session, Application), count(session, AuditEntry)) == before


@pytest.mark.parametrize(
    ("existing", "variant"),
    [
        pytest.param("application", team("ＡＢＣ 绿色 联盟"), id="pending-application-full-width-spaced-name"),
        pytest.param(
            "application", app_input("完全不同的名字", credit_code=CODE_A), id="pending-application-same-code"
        ),
        pytest.param("member", team("ＡＢＣ绿色联盟\u3000"), id="member-full-width-name"),
        pytest.param("member", app_input("另一个名字", credit_code=CODE_A.lower()), id="member-same-code"),
    ],
)
def test_a_duplicate_on_the_public_form_is_refused_without_saying_who(session, admin, intake_open, existing, variant):
    if existing == "application":
        submit(session, app_input("ABC绿色联盟", credit_code=CODE_A))
    else:
        member(session, admin, "ABC绿色联盟", credit_code=CODE_A)
    before = count(session, Application), count(session, ApplicationEvent), count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        submit(session, variant)
    assert err.value.key == "apply.duplicate"
    assert err.value.params == {} and err.value.field is None
    assert "ABC" not in str(err.value)
    assert (count(session, Application), count(session, ApplicationEvent), count(session, AuditEntry)) == before


@pytest.mark.parametrize("decision", [S.REJECTED, S.WITHDRAWN], ids=lambda s: s.value)
def test_after_an_application_is_decided_against_or_withdrawn_a_new_one_is_accepted(
    session, staff, intake_open, decision
):
    first = submit(session, app_input())
    first_id = session.scalar(select(Application.id).where(Application.reference == first))
    bring_to(session, staff, first_id, decision)
    second = submit(session, app_input("杭州市 环保志愿者协会"))
    assert second != first
    assert count(session, Application, Application.credit_code == CODE_A) == 2


def test_a_member_may_apply_publicly_for_a_council_seat(session, admin, intake_open):
    member(session, admin)
    reference = submit(session, app_input(applied_for="council"))
    assert session.scalar(select(Application.applied_for).where(Application.reference == reference)) == "council"


def test_a_unit_that_left_may_apply_again(session, admin, intake_open):
    org_id = member(session, admin)
    organisations.set_organisation_status(
        session=session,
        actor=admin,
        organisation_id=org_id,
        expected_version=1,
        status="exited",
        reason="不再开展志愿服务",
    )
    assert submit(session, app_input()).startswith("SQ")


@pytest.mark.parametrize("applied_for", ["member", "council"])
def test_a_suspended_unit_is_restored_by_the_secretariat_not_by_a_new_application(
    session, admin, staff, intake_open, applied_for
):
    org_id = member(session, admin)
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=org_id, expected_version=1, status="suspended", reason="暂停"
    )
    before = count(session, Application)
    with pytest.raises(ValidationError) as public:
        submit(session, app_input(applied_for=applied_for))
    assert public.value.key == "apply.duplicate" and public.value.params == {}
    with pytest.raises(ValidationError) as entered:
        create(session, staff, app_input(applied_for=applied_for))
    assert entered.value.key == "validation.unit_suspended" and entered.value.params == {"name": "杭州市环保志愿者协会"}
    assert count(session, Application) == before


def test_a_second_pending_council_application_of_a_member_is_refused(session, admin, intake_open):
    member(session, admin)
    submit(session, app_input(applied_for="council"))
    with pytest.raises(ValidationError) as err:
        submit(session, app_input(applied_for="council"))
    assert err.value.key == "apply.duplicate"


# ---------------------------------------------------------------- the public form's hourly limits


def reserve(session, client, now=NOW, limits=IntakeLimits(per_client=2, total=3)):  # noqa: B008
    applications.reserve_intake_attempt(session=session, actor=ANONYMOUS, client=client, now=now, limits=limits)


def test_the_public_form_is_limited_per_client_and_in_total(session):
    reserve(session, "203.0.113.1")
    reserve(session, "203.0.113.1", NOW + timedelta(minutes=1))
    with pytest.raises(ValidationError) as err:
        reserve(session, "203.0.113.1", NOW + timedelta(minutes=2))
    assert err.value.key == "apply.too_many"
    reserve(session, "198.51.100.7", NOW + timedelta(minutes=3))  # the third in total
    with pytest.raises(ValidationError, match="too_many"):
        reserve(session, "192.0.2.99", NOW + timedelta(minutes=4))  # a fresh client, but the hour is full
    assert count(session, IntakeAttempt) == 3  # refusals are not counted as attempts
    assert count(session, IntakeAttempt, IntakeAttempt.client == "203.0.113.1") == 0  # only a hash is kept


def test_the_hourly_limit_frees_up_when_the_hour_has_passed(session):
    reserve(session, "203.0.113.1")
    reserve(session, "203.0.113.1")
    with pytest.raises(ValidationError, match="too_many"):
        reserve(session, "203.0.113.1", NOW + timedelta(minutes=59))
    reserve(session, "203.0.113.1", NOW + timedelta(hours=1, seconds=1))
    assert count(session, IntakeAttempt) == 3


def test_staff_do_not_use_the_public_rate_limit(session, staff):
    with pytest.raises(PermissionDenied):
        applications.reserve_intake_attempt(session=session, actor=staff, client="x", now=NOW, limits=IntakeLimits())


# ---------------------------------------------------------------- staff intake


@pytest.mark.parametrize("channel", ["self_applied", "invited", "recommended"])
def test_staff_enter_an_application_received_by_any_channel(session, admin, staff, channel):
    recommender = member(session, admin, "推荐单位", credit_code=CODE_B)
    before = count(session, Application)
    app_id = create(session, staff, app_input(), channel=channel, recommender_id=recommender)
    assert count(session, Application) == before + 1
    got = session.execute(
        select(Application.channel, Application.recommender_id, Application.entered_by, Application.status).where(
            Application.id == app_id
        )
    ).one()
    expected_recommender = recommender if channel == "recommended" else None
    assert tuple(got) == (channel, expected_recommender, staff.user_id, "submitted")
    assert count(session, ApplicationEvent, ApplicationEvent.application_id == app_id) == 1
    assert count(session, AuditEntry, AuditEntry.action == "application.create", AuditEntry.user_id == staff.user_id)


def test_an_unknown_channel_is_refused(session, staff):
    with pytest.raises(ValidationError) as err:
        create(session, staff, app_input(), channel="telepathy")
    assert (err.value.key, err.value.field) == ("validation.choice", "channel")


@pytest.mark.parametrize("recommender", ["none", "missing", "suspended", "exited"])
def test_a_recommended_application_needs_a_member_as_recommender(session, admin, staff, recommender):
    org_id = member(session, admin, "推荐单位", credit_code=CODE_B)
    if recommender in ("suspended", "exited"):
        organisations.set_organisation_status(
            session=session,
            actor=admin,
            organisation_id=org_id,
            expected_version=1,
            status=recommender,
            reason="违反章程",
        )
    recommender_id = {"none": None, "missing": org_id + 1000}.get(recommender, org_id)
    before = count(session, Application), count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        create(session, staff, app_input(), channel="recommended", recommender_id=recommender_id)
    expected = "validation.recommender_required" if recommender == "none" else "validation.recommender_not_member"
    assert (err.value.key, err.value.field) == (expected, "recommender_id")
    assert (count(session, Application), count(session, AuditEntry)) == before


def test_staff_are_told_which_pending_application_is_a_duplicate(session, staff):
    first_id = create(session, staff, app_input())
    first_ref = session.scalar(select(Application.reference).where(Application.id == first_id))
    before = count(session, Application)
    with pytest.raises(ValidationError) as err:
        create(session, staff, team("杭州市　环保志愿者协会"))
    assert err.value.key == "validation.duplicate_application"
    assert err.value.params == {"reference": first_ref}
    assert count(session, Application) == before


def test_staff_are_told_which_member_a_new_membership_application_duplicates(session, admin, staff):
    member(session, admin, "杭州市环保志愿者协会")
    with pytest.raises(ValidationError) as err:
        create(session, staff, app_input("另一个名字", credit_code=CODE_A))
    assert err.value.key == "validation.already_member"
    assert err.value.params == {"name": "杭州市环保志愿者协会"}


def test_find_duplicates_names_members_and_pending_applications_but_not_decided_ones(session, admin, staff):
    org_id = member(session, admin, "ABC绿色联盟", credit_code=CODE_A)
    pending = create(session, staff, app_input("某某协会", credit_code=CODE_B))
    decided = create(session, staff, app_input("某某基金会", credit_code=CODE_C))
    bring_to(session, staff, decided, S.REJECTED)
    found = applications.find_duplicates(session=session, name="ａｂｃ 绿色联盟", credit_code=CODE_B.lower())
    assert {(d.kind, d.id, d.same_code) for d in found} == {
        ("organisation", org_id, False),
        ("application", pending, True),
    }
    assert applications.find_duplicates(session=session, name="某某基金会", credit_code=CODE_C) == []
    excluded = applications.find_duplicates(
        session=session, name="某某协会", credit_code="", exclude_application_id=pending
    )
    assert excluded == []


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_council_and_viewers_cannot_enter_applications(session, make_actor, role):
    with pytest.raises(PermissionDenied):
        create(session, make_actor(role), app_input())


# ---------------------------------------------------------------- the applicant's lookup


def test_the_applicant_looks_up_their_application_with_the_phone_they_gave(session, intake_open):
    reference = submit(session, app_input(phone="13800138000"))
    typed = "  " + reference.lower().replace("-", " ")
    found = applications.lookup_status(session=session, reference=typed, phone="+86 138-0013-8000")
    assert found is not None
    assert (found.reference, found.name, found.status, found.message) == (
        reference,
        "杭州市环保志愿者协会",
        "submitted",
        "",
    )


@pytest.mark.parametrize(
    ("reference", "phone"),
    [
        pytest.param("mine", "13900139000", id="wrong-phone"),
        pytest.param("SQ2026-2222222Z", "13800138000", id="wrong-reference"),
        pytest.param("mine", "", id="no-phone"),
        pytest.param("mine", "abc", id="garbled-phone"),
        pytest.param("", "13800138000", id="no-reference"),
        pytest.param("mine' OR '1'='1", "13800138000", id="sql-fragment"),
    ],
)
def test_a_wrong_phone_or_reference_finds_nothing(session, intake_open, reference, phone):
    mine = submit(session, app_input(phone="13800138000"))
    typed = reference.replace("mine", mine) if reference.startswith("mine") else reference
    assert applications.lookup_status(session=session, reference=typed, phone=phone) is None


def test_the_message_to_the_applicant_shows_only_while_more_material_is_needed(session, staff, intake_open):
    reference = submit(session, app_input())
    app_id = session.scalar(select(Application.id).where(Application.reference == reference))

    def seen():
        return applications.lookup_status(session=session, reference=reference, phone="13800138000")

    move(session, staff, app_id, S.NEEDS_MORE, note="请补充登记证书")
    assert (seen().status, seen().message) == ("needs_more", "请补充登记证书")
    move(session, staff, app_id, S.IN_REVIEW)
    assert (seen().status, seen().message) == ("in_review", "")
    move(session, staff, app_id, S.REJECTED, note="内部意见：材料不实")
    assert (seen().status, seen().message) == ("rejected", "")
    assert seen().decided_at == NOW


# ---------------------------------------------------------------- the status machine

ALLOWED = [
    (S.SUBMITTED, S.IN_REVIEW),
    (S.SUBMITTED, S.NEEDS_MORE),
    (S.IN_REVIEW, S.NEEDS_MORE),
    (S.NEEDS_MORE, S.IN_REVIEW),
    (S.IN_REVIEW, S.APPROVED),
    (S.IN_REVIEW, S.REJECTED),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.IN_REVIEW, S.WITHDRAWN),
    (S.NEEDS_MORE, S.WITHDRAWN),
]
REFUSED = [pair for pair in product(AppStatus, AppStatus) if pair not in ALLOWED]
FINAL = {S.APPROVED, S.REJECTED, S.WITHDRAWN}


def pair_id(pair):
    return f"{pair[0].value}->{pair[1].value}"


@pytest.mark.parametrize("pair", ALLOWED, ids=pair_id)
def test_each_move_of_the_table_is_made_and_recorded(session, staff, pair):
    source, target = pair
    app_id = create(session, staff, app_input())
    bring_to(session, staff, app_id, source)
    version = row(session, app_id).version
    events = count(session, ApplicationEvent, ApplicationEvent.application_id == app_id)
    later = NOW + timedelta(days=3)
    assert move(session, staff, app_id, target, now=later) == version + 1
    after = row(session, app_id)
    assert (after.status, after.version) == (target.value, version + 1)
    assert after.decided_at == (later if target in FINAL else None)
    assert after.decision_reason == ("不符合入网条件" if target is S.REJECTED else "")
    assert (after.organisation_id is not None) == (target is S.APPROVED)
    last = session.execute(
        select(
            ApplicationEvent.from_status, ApplicationEvent.to_status, ApplicationEvent.user_id, ApplicationEvent.note
        )
        .where(ApplicationEvent.application_id == app_id)
        .order_by(ApplicationEvent.id.desc())
        .limit(1)
    ).one()
    assert tuple(last) == (source.value, target.value, staff.user_id, NOTES.get(target, ""))
    assert count(session, ApplicationEvent, ApplicationEvent.application_id == app_id) == events + 1
    assert count(session, AuditEntry, AuditEntry.action == f"application.{target.value}")


@pytest.mark.parametrize("pair", REFUSED, ids=pair_id)
def test_a_move_outside_the_table_is_refused_and_changes_nothing(session, staff, pair):
    source, target = pair
    app_id = create(session, staff, app_input())
    bring_to(session, staff, app_id, source)
    before = row(session, app_id)
    entries = count(session, AuditEntry)
    with pytest.raises(ValidationError) as err:
        move(session, staff, app_id, target, note="理由")
    assert err.value.key == "validation.transition_refused"
    assert row(session, app_id) == before
    assert count(session, AuditEntry) == entries


@pytest.mark.parametrize(("source", "target"), [(S.SUBMITTED, S.NEEDS_MORE), (S.IN_REVIEW, S.REJECTED)])
def test_a_move_without_its_required_message_or_reason_changes_nothing(session, staff, source, target):
    app_id = create(session, staff, app_input())
    bring_to(session, staff, app_id, source)
    before = row(session, app_id)
    with pytest.raises(ValidationError) as err:
        move(session, staff, app_id, target, note="  ")
    assert err.value.key in ("validation.message_required", "validation.reason_required")
    assert row(session, app_id) == before


def test_a_stale_version_is_refused_and_changes_nothing(session, staff):
    app_id = create(session, staff, app_input())
    move(session, staff, app_id, S.IN_REVIEW)
    before = row(session, app_id)
    with pytest.raises(StaleRecord):
        applications.change_status(
            session=session,
            actor=staff,
            application_id=app_id,
            expected_version=1,
            to_status="approved",
            note="",
            now=NOW,
        )
    assert row(session, app_id) == before
    assert count(session, Organisation, Organisation.credit_code == CODE_A) == 0


def test_a_missing_application_is_not_found(session, staff):
    with pytest.raises(NotFound):
        applications.change_status(
            session=session,
            actor=staff,
            application_id=987654,
            expected_version=1,
            to_status="in_review",
            note="",
            now=NOW,
        )


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_council_and_viewers_cannot_move_an_application(session, staff, make_actor, role):
    app_id = create(session, staff, app_input())
    with pytest.raises(PermissionDenied):
        applications.change_status(
            session=session,
            actor=make_actor(role),
            application_id=app_id,
            expected_version=1,
            to_status="in_review",
            note="",
            now=NOW,
        )
    assert row(session, app_id).status == "submitted"


# ---------------------------------------------------------------- approval


def test_approval_admits_the_unit_joined_today_in_shanghai_in_the_current_batch(session, admin, staff):
    settings.set_setting(session=session, actor=admin, key="current_batch", value="第二批", expected_version=0)
    app_id = create(session, staff, app_input(phone="13800138000"), now=NOW - timedelta(days=5))
    units = count(session, Organisation)
    move(session, staff, app_id, S.IN_REVIEW)
    shanghai_morning = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 28 Nov 01:30 in Shanghai, 27 Nov in UTC
    move(session, staff, app_id, S.APPROVED, now=shanghai_morning)
    assert count(session, Organisation) == units + 1
    org_id = row(session, app_id).organisation_id
    unit = session.execute(
        select(
            Organisation.name,
            Organisation.status,
            Organisation.joined_on,
            Organisation.batch,
            Organisation.credit_code,
            Organisation.phone,
            Organisation.is_secretariat,
        ).where(Organisation.id == org_id)
    ).one()
    assert tuple(unit) == (
        "杭州市环保志愿者协会",
        "member",
        date(2026, 11, 28),
        "第二批",
        CODE_A,
        "+8613800138000",
        False,
    )
    assert count(session, AuditEntry, AuditEntry.action == "organisation.admit", AuditEntry.record_id == str(org_id))


def test_an_approved_council_application_of_a_member_keeps_its_join_date_and_batch(session, admin, staff):
    org_id = organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(joined_on=date(2025, 3, 1), batch="首批")
    )
    settings.set_setting(session=session, actor=admin, key="current_batch", value="第二批", expected_version=0)
    app_id = create(session, staff, app_input(applied_for="council"))
    units = count(session, Organisation)
    bring_to(session, staff, app_id, S.APPROVED)
    assert count(session, Organisation) == units
    assert row(session, app_id).organisation_id == org_id
    unit = session.execute(
        select(Organisation.status, Organisation.joined_on, Organisation.batch).where(Organisation.id == org_id)
    ).one()
    assert tuple(unit) == ("member", date(2025, 3, 1), "首批")


def test_a_unit_that_left_rejoins_today_in_the_current_batch(session, admin, staff):
    org_id = organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(joined_on=date(2025, 3, 1), batch="首批")
    )
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=org_id, expected_version=1, status="exited", reason="自行退出"
    )
    app_id = create(session, staff, app_input())
    bring_to(session, staff, app_id, S.APPROVED)
    unit = session.execute(
        select(Organisation.status, Organisation.joined_on, Organisation.status_reason).where(Organisation.id == org_id)
    ).one()
    assert tuple(unit) == ("member", TODAY, "")


def test_approving_a_council_application_without_a_credit_code_keeps_the_members_code(session, admin, staff):
    org_id = member(session, admin, "某大学绿色志愿服务队", kind="volunteer_team", credit_code=CODE_B)
    app_id = create(session, staff, team("某大学绿色志愿服务队", applied_for="council"))
    bring_to(session, staff, app_id, S.APPROVED)
    assert session.scalar(select(Organisation.credit_code).where(Organisation.id == org_id)) == CODE_B


# ---------------------------------------------------------------- the council queue


def test_an_approved_council_unit_waits_in_the_queue_until_it_is_seated(session, admin, staff, council_session):
    now = datetime.now(UTC)  # the queue compares the decision with the term's creation time
    existing = member(session, admin, "老成员单位", credit_code=CODE_B)
    council_app = create(session, staff, app_input("老成员单位", credit_code=CODE_B, applied_for="council"), now=now)
    new_unit_app = create(session, staff, app_input("新理事单位", credit_code=CODE_C, applied_for="council"), now=now)
    member_app = create(session, staff, app_input("普通成员单位", credit_code=CODE_D), now=now)
    pending_app = create(session, staff, app_input("待审理事单位", credit_code=CODE_E, applied_for="council"), now=now)
    for app_id in (council_app, new_unit_app, member_app):
        bring_to(session, staff, app_id, S.APPROVED, now=now)
    queued = applications.council_queue(session=session, actor=staff)
    assert {q.application_id for q in queued} == {council_app, new_unit_app}
    assert pending_app not in {q.application_id for q in queued}
    assert {q.organisation_id for q in queued if q.application_id == council_app} == {existing}
    council.seat_term(
        session=session,
        actor=admin,
        session_id=council_session,
        seat=1,
        organisation_id=existing,
        source="self_applied",
    )
    assert [q.application_id for q in applications.council_queue(session=session, actor=staff)] == [new_unit_app]


# ---------------------------------------------------------------- council opinions


def opine(session, actor, app_id, opinion="agree", *, version=0, comment="", today=TODAY) -> int:
    return applications.give_opinion(
        session=session,
        actor=actor,
        application_id=app_id,
        opinion=opinion,
        comment=comment,
        expected_version=version,
        today=today,
    )


def test_a_seated_council_unit_gives_its_opinion_and_changes_it(session, staff, seated):
    lishi = seated(1)
    app_id = create(session, staff, app_input())
    assert opine(session, lishi, app_id, "agree", comment="同意吸纳。") == 1
    mine = applications.own_opinion(session=session, actor=lishi, application_id=app_id)
    assert (mine.opinion, mine.comment, mine.version) == ("agree", "同意吸纳。", 1)
    assert opine(session, lishi, app_id, "oppose", version=1, comment="再议") == 2
    assert count(session, CouncilOpinion, CouncilOpinion.application_id == app_id) == 1
    stored = session.execute(
        select(CouncilOpinion.opinion, CouncilOpinion.comment, CouncilOpinion.version).where(
            CouncilOpinion.application_id == app_id
        )
    ).one()
    assert tuple(stored) == ("oppose", "再议", 2)
    assert count(session, AuditEntry, AuditEntry.action == "application.opinion") == 2


def test_another_user_of_the_same_unit_with_a_stale_version_is_refused(session, admin, staff, seated):
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
    app_id = create(session, staff, app_input())
    opine(session, lishi, app_id, "agree")
    with pytest.raises(StaleRecord):
        opine(session, colleague, app_id, "oppose", version=0)
    opine(session, lishi, app_id, "abstain", version=1)
    with pytest.raises(StaleRecord):
        opine(session, colleague, app_id, "oppose", version=1)
    stored = session.execute(
        select(CouncilOpinion.opinion, CouncilOpinion.version).where(CouncilOpinion.application_id == app_id)
    ).all()
    assert [tuple(r) for r in stored] == [("abstain", 2)]
    assert opine(session, colleague, app_id, "oppose", version=2) == 3  # with the version the unit now has


def test_a_council_user_whose_unit_has_no_active_term_cannot_give_an_opinion(session, staff, make_actor):
    unseated = make_actor(Role.COUNCIL)
    app_id = create(session, staff, app_input())
    with pytest.raises(PermissionDenied) as err:
        opine(session, unseated, app_id)
    assert err.value.key == "error.no_active_term"
    assert count(session, CouncilOpinion) == 0


def test_a_unit_whose_term_ended_cannot_give_an_opinion(session, admin, staff, make_actor, council_session):
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
        session=session, actor=admin, term_id=term_id, expected_version=1, ends_on=TODAY, reason="辞任"
    )
    app_id = create(session, staff, app_input())
    with pytest.raises(PermissionDenied):
        opine(session, lishi, app_id, today=TODAY)
    assert opine(session, lishi, app_id, today=TODAY - timedelta(days=1)) == 1  # while it still held the seat


@pytest.mark.parametrize("decision", [S.APPROVED, S.REJECTED, S.WITHDRAWN], ids=lambda s: s.value)
def test_no_opinion_is_given_or_changed_after_the_decision(session, staff, seated, decision):
    lishi = seated(1)
    app_id = create(session, staff, app_input())
    opine(session, lishi, app_id, "agree")
    bring_to(session, staff, app_id, decision)
    with pytest.raises(ValidationError) as err:
        opine(session, lishi, app_id, "oppose", version=1)
    assert err.value.key == "validation.application_decided"
    assert session.scalar(select(CouncilOpinion.opinion).where(CouncilOpinion.application_id == app_id)) == "agree"


def test_each_unit_gives_one_opinion_and_the_list_tallies_them(session, staff, seated):
    first, second, third = seated(1), seated(2), seated(3)
    app_id = create(session, staff, app_input())
    opine(session, first, app_id, "agree")
    opine(session, second, app_id, "agree")
    opine(session, second, app_id, "oppose", version=1)
    opine(session, third, app_id, "abstain")
    assert count(session, CouncilOpinion, CouncilOpinion.application_id == app_id) == 3
    rows, _ = applications.list_applications(session=session, actor=first, filters=ApplicationFilters())
    assert [(r.agree, r.oppose, r.abstain) for r in rows] == [(1, 1, 1)]
    detail = applications.get_application(session=session, actor=staff, application_id=app_id)
    assert detail.tally() == {"agree": 1, "oppose": 1, "abstain": 1}
    assert {o.organisation_id for o in detail.opinions} == {
        first.organisation_id,
        second.organisation_id,
        third.organisation_id,
    }


def test_an_unknown_opinion_is_refused(session, staff, seated):
    lishi = seated(1)
    app_id = create(session, staff, app_input())
    with pytest.raises(ValidationError, match="choice"):
        opine(session, lishi, app_id, "maybe")
    assert count(session, CouncilOpinion) == 0


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT, Role.VIEWER])
def test_only_council_users_give_opinions(session, staff, make_actor, role):
    app_id = create(session, staff, app_input())
    with pytest.raises(PermissionDenied):
        opine(session, make_actor(role), app_id)
    assert count(session, CouncilOpinion) == 0


# ---------------------------------------------------------------- the review list


@pytest.fixture
def four(session, admin, staff, intake_open):
    """Four applications of different kinds, channels, places and days (Asia/Shanghai days in comments)."""
    recommender = member(session, admin, "推荐单位", credit_code=CODE_E)
    a = create(
        session,
        staff,
        app_input("北京绿色志愿者协会", province="北京", credit_code=CODE_B),
        now=datetime(2026, 11, 27, 16, 30, tzinfo=UTC),
    )  # 28 Nov 00:30
    b = create(
        session,
        staff,
        team("上海青年环保志愿服务队", province="上海", applied_for="council"),
        channel="recommended",
        recommender_id=recommender,
        now=datetime(2026, 11, 27, 15, 30, tzinfo=UTC),
    )  # 27 Nov 23:30
    c_ref = submit(
        session,
        app_input("100%绿色行动", kind="other", province="全国", credit_code=""),
        now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
    )
    c = session.scalar(select(Application.id).where(Application.reference == c_ref))
    d = create(
        session,
        staff,
        app_input("环保_联合会", kind="mass", province="浙江", credit_code=CODE_C),
        now=datetime(2026, 11, 10, 2, 0, tzinfo=UTC),
    )
    move(session, staff, c, S.IN_REVIEW)
    return {"A": a, "B": b, "C": c, "D": d}


def listed(session, actor, four, **filters):
    rows, total = applications.list_applications(session=session, actor=actor, filters=ApplicationFilters(**filters))
    names = {v: k for k, v in four.items()}
    assert total == len(rows)
    return {names[r.id] for r in rows}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"A", "B", "C", "D"}),
        ({"status": "in_review"}, {"C"}),
        ({"status": "submitted"}, {"A", "B", "D"}),
        ({"channel": "recommended"}, {"B"}),
        ({"channel": "self_applied"}, {"C"}),
        ({"kind": "volunteer_team"}, {"B"}),
        ({"province": "北京"}, {"A"}),
        ({"applied_for": "council"}, {"B"}),
        ({"since": date(2026, 11, 28), "until": date(2026, 11, 28)}, {"A"}),
        ({"since": date(2026, 11, 27), "until": date(2026, 11, 27)}, {"B"}),
        ({"since": date(2026, 11, 20), "until": date(2026, 11, 27)}, {"B", "C"}),
        ({"since": date(2026, 11, 21)}, {"A", "B"}),
        ({"until": date(2026, 11, 19)}, {"D"}),
        ({"search": "绿色"}, {"A", "C"}),
        ({"search": "１００％"}, {"C"}),
        ({"search": "%"}, {"C"}),
        ({"search": "_"}, {"D"}),
        ({"search": "青年 环保"}, {"B"}),
        ({"search": CODE_B.lower()}, {"A"}),
        ({"search": "<script>alert(1)</script>"}, set()),
        ({"status": "submitted", "province": "上海", "applied_for": "council"}, {"B"}),
    ],
)
def test_the_review_list_filters(session, staff, four, filters, expected):
    assert listed(session, staff, four, **filters) == expected


def test_the_review_list_finds_an_application_by_its_reference_however_typed(session, staff, four):
    reference = session.scalar(select(Application.reference).where(Application.id == four["D"]))
    assert listed(session, staff, four, search=f" {reference.lower()} ") == {"D"}


def test_the_review_list_pages_newest_first_with_the_total(session, staff, four):
    def page(offset):
        rows, total = applications.list_applications(
            session=session, actor=staff, filters=ApplicationFilters(), limit=3, offset=offset
        )
        return [r.id for r in rows], total

    assert page(0) == ([four["A"], four["B"], four["C"]], 4)
    assert page(3) == ([four["D"]], 4)
    assert page(4) == ([], 4)
    rows, total = applications.list_applications(
        session=session, actor=staff, filters=ApplicationFilters(status="submitted"), limit=1
    )
    assert (len(rows), total) == (1, 3)


def test_the_export_has_every_matching_application(session, staff, four):
    exported = applications.export_applications(session=session, actor=staff, filters=ApplicationFilters(kind="social"))
    assert {r.id for r in exported} == {four["A"]}


def test_council_users_read_the_list_with_contacts(session, make_actor, four):
    rows, _ = applications.list_applications(
        session=session, actor=make_actor(Role.COUNCIL), filters=ApplicationFilters(search="北京")
    )
    assert [(r.contact_person, r.phone) for r in rows] == [("王芳", "+8613800138000")]


def test_viewers_cannot_read_applications(session, staff, make_actor):
    viewer = make_actor(Role.VIEWER)
    app_id = create(session, staff, app_input())
    with pytest.raises(PermissionDenied):
        applications.list_applications(session=session, actor=viewer, filters=ApplicationFilters())
    with pytest.raises(PermissionDenied):
        applications.export_applications(session=session, actor=viewer, filters=ApplicationFilters())
    with pytest.raises(PermissionDenied):
        applications.get_application(session=session, actor=viewer, application_id=app_id)
    with pytest.raises(PermissionDenied):
        applications.applications_of_organisation(session=session, actor=viewer, organisation_id=1)


def test_the_detail_shows_the_whole_history_in_order(session, staff):
    app_id = create(session, staff, app_input(), now=NOW - timedelta(days=2))
    move(session, staff, app_id, S.NEEDS_MORE, now=NOW - timedelta(days=1))
    move(session, staff, app_id, S.IN_REVIEW, now=NOW)
    detail = applications.get_application(session=session, actor=staff, application_id=app_id)
    assert [(e.from_status, e.to_status) for e in detail.history] == [
        (None, "submitted"),
        ("submitted", "needs_more"),
        ("needs_more", "in_review"),
    ]
    assert detail.version == 3 and detail.entered_by == "用户1"
    with pytest.raises(NotFound):
        applications.get_application(session=session, actor=staff, application_id=app_id + 1000)


def test_a_units_page_lists_the_applications_that_made_it(session, admin, staff):
    app_id = create(session, staff, app_input())
    bring_to(session, staff, app_id, S.APPROVED)
    org_id = row(session, app_id).organisation_id
    other = create(session, staff, team("别的单位"))
    found = applications.applications_of_organisation(session=session, actor=staff, organisation_id=org_id)
    assert [r.id for r in found] == [app_id]
    assert other not in {r.id for r in found}


# ---------------------------------------------------------------- imports


def import_row(n, data, channel="invited", recommender_id=None, error=None) -> ImportRow:
    name = data.organisation.name if data else ""
    return ImportRow(str(n), name, channel, recommender_id, data, error)


def test_an_application_file_with_one_bad_row_writes_nothing(session, staff):
    rows = [
        import_row(2, app_input("甲单位", credit_code=CODE_B)),
        import_row(3, app_input("乙单位", credit_code=CODE_C, phone="12345")),
        import_row(4, team("丙志愿队")),
    ]
    before = count(session, Application), count(session, AuditEntry)
    checked = applications.check_import_rows(session=session, rows=rows, now=NOW)
    assert [(r.row_number, r.error.field if r.error else None) for r in checked] == [
        ("2", None),
        ("3", "phone"),
        ("4", None),
    ]
    with pytest.raises(ValidationError) as err:
        applications.import_applications(session=session, actor=staff, rows=rows, now=NOW)
    assert (err.value.key, err.value.params) == ("import.has_errors", {"count": 1})
    assert (count(session, Application), count(session, AuditEntry)) == before


def test_a_row_that_could_not_be_read_refuses_the_file(session, staff):
    rows = [import_row(2, team("甲志愿队")), import_row(3, None, error=ValidationError("import.bad_row"))]
    with pytest.raises(ValidationError, match="has_errors"):
        applications.import_applications(session=session, actor=staff, rows=rows, now=NOW)
    assert count(session, Application) == 0


def test_a_good_application_file_is_written_in_one_go(session, admin, staff):
    recommender = member(session, admin, "推荐单位", credit_code=CODE_E)
    rows = [
        import_row(2, app_input("甲单位", credit_code=CODE_B)),
        import_row(3, team("乙志愿队"), channel="recommended", recommender_id=recommender),
        import_row(4, team("丙志愿队", applied_for="council"), channel="self_applied"),
    ]
    progress = []
    done = applications.import_applications(
        session=session, actor=staff, rows=rows, now=NOW, on_progress=lambda i, n: progress.append((i, n))
    )
    assert done == 3 and progress[-1] == (3, 3)  # progress is reported per chunk of rows written
    stored = session.execute(select(Application.name, Application.channel).order_by(Application.name)).all()
    assert sorted(tuple(r) for r in stored) == sorted(
        [("甲单位", "invited"), ("乙志愿队", "recommended"), ("丙志愿队", "self_applied")]
    )
    assert count(session, ApplicationEvent) == 3
    assert count(session, AuditEntry, AuditEntry.action == "application.create") == 3


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(team("甲　单位"), id="same-name-full-width-space"),
        pytest.param(app_input("乙单位", credit_code=CODE_B.lower()), id="same-credit-code"),
    ],
)
def test_a_duplicate_within_the_file_refuses_it(session, staff, second):
    rows = [import_row(2, app_input("甲单位", credit_code=CODE_B)), import_row(3, second)]
    checked = applications.check_import_rows(session=session, rows=rows, now=NOW)
    assert [r.error.key if r.error else None for r in checked] == [None, "import.duplicate_in_file"]
    with pytest.raises(ValidationError, match="has_errors"):
        applications.import_applications(session=session, actor=staff, rows=rows, now=NOW)
    assert count(session, Application) == 0


def test_an_import_row_duplicating_a_pending_application_is_refused(session, staff):
    create(session, staff, app_input())
    checked = applications.check_import_rows(session=session, rows=[import_row(2, app_input())], now=NOW)
    assert checked[0].error.key == "validation.duplicate_application"


def test_a_recommended_import_row_needs_a_recommender(session, staff):
    checked = applications.check_import_rows(
        session=session, rows=[import_row(2, team("甲志愿队"), channel="recommended")], now=NOW
    )
    assert checked[0].error.key == "validation.recommender_required"


def test_an_import_row_recommended_by_a_unit_that_left_is_refused_in_the_preview(session, admin, staff):
    gone = member(session, admin, "已退出单位", credit_code=CODE_E)
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=gone, expected_version=1, status="exited", reason="退出"
    )
    rows = [
        import_row(2, team("甲志愿队")),
        import_row(3, team("乙志愿队"), channel="recommended", recommender_id=gone),
    ]
    checked = applications.check_import_rows(session=session, rows=rows, now=NOW)
    assert [r.error.key if r.error else None for r in checked] == [None, "validation.recommender_not_member"]


def test_an_import_row_with_an_unknown_channel_is_refused_in_the_preview(session, staff):
    checked = applications.check_import_rows(
        session=session, rows=[import_row(2, team("甲志愿队"), channel="telepathy")], now=NOW
    )
    assert checked[0].error is not None and checked[0].error.field == "channel"


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_only_staff_import_applications(session, make_actor, role):
    with pytest.raises(PermissionDenied):
        applications.import_applications(session=session, actor=make_actor(role), rows=[], now=NOW)


def member_row(n, data, error=None) -> MemberImportRow:
    return MemberImportRow(str(n), data.name if data else "", data, error)


def test_a_member_file_with_one_bad_row_writes_nothing(session, staff):
    rows = [
        member_row(2, org_input("甲单位", credit_code=CODE_B)),
        member_row(3, org_input("乙单位", credit_code=CODE_C, province="火星")),
        member_row(4, org_input("丙志愿队", kind="volunteer_team", credit_code="")),
    ]
    before = count(session, Organisation), count(session, AuditEntry)
    checked = organisations.check_member_rows(session=session, rows=rows, today=TODAY)
    assert [r.error.field if r.error else None for r in checked] == [None, "province", None]
    with pytest.raises(ValidationError) as err:
        organisations.import_organisations(session=session, actor=staff, rows=rows, today=TODAY)
    assert (err.value.key, err.value.params) == ("import.has_errors", {"count": 1})
    assert (count(session, Organisation), count(session, AuditEntry)) == before


def test_a_good_member_file_is_written_in_one_go(session, staff):
    rows = [
        member_row(2, org_input("甲单位", credit_code=CODE_B, joined_on=date(2025, 6, 1), batch="首批")),
        member_row(3, org_input("丙志愿队", kind="volunteer_team", credit_code="")),
    ]
    before = count(session, Organisation)
    assert organisations.import_organisations(session=session, actor=staff, rows=rows, today=TODAY) == 2
    assert count(session, Organisation) == before + 2
    assert session.scalar(select(Organisation.joined_on).where(Organisation.name == "甲单位")) == date(2025, 6, 1)
    assert count(session, AuditEntry, AuditEntry.action == "organisation.create", AuditEntry.user_id == staff.user_id)


@pytest.mark.parametrize(
    ("second", "key"),
    [
        pytest.param(
            org_input("ＡＢＣ 单位", kind="volunteer_team", credit_code=""),
            "import.duplicate_in_file",
            id="same-name-in-file",
        ),
        pytest.param(
            org_input("乙单位", credit_code=CODE_B.lower()), "import.duplicate_in_file", id="same-code-in-file"
        ),
        pytest.param(
            org_input("已有单位", kind="volunteer_team", credit_code=""),
            "validation.duplicate_name",
            id="already-in-directory",
        ),
    ],
)
def test_a_duplicate_member_row_refuses_the_file(session, admin, staff, second, key):
    member(session, admin, "已有单位", credit_code=CODE_E)
    rows = [member_row(2, org_input("ABC单位", credit_code=CODE_B)), member_row(3, second)]
    checked = organisations.check_member_rows(session=session, rows=rows, today=TODAY)
    assert [r.error.key if r.error else None for r in checked] == [None, key]
    before = count(session, Organisation)
    with pytest.raises(ValidationError, match="has_errors"):
        organisations.import_organisations(session=session, actor=staff, rows=rows, today=TODAY)
    assert count(session, Organisation) == before


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_only_staff_import_members(session, make_actor, role):
    with pytest.raises(PermissionDenied):
        organisations.import_organisations(session=session, actor=make_actor(role), rows=[], today=TODAY)


# ---------------------------------------------------------------- membership status


def org_state(session, org_id):
    return session.execute(
        select(Organisation.status, Organisation.status_reason, Organisation.version).where(Organisation.id == org_id)
    ).one()


@pytest.mark.parametrize("status", ["suspended", "exited"])
def test_suspending_or_ending_a_membership_needs_a_reason(session, admin, staff, status):
    org_id = member(session, admin)
    for reason in ("", "  ", "\u3000"):
        with pytest.raises(ValidationError) as err:
            organisations.set_organisation_status(
                session=session, actor=staff, organisation_id=org_id, expected_version=1, status=status, reason=reason
            )
        assert (err.value.key, err.value.field) == ("validation.reason_required", "reason")
    assert tuple(org_state(session, org_id)) == ("member", "", 1)
    entries = count(session, AuditEntry, AuditEntry.action == "organisation.status")
    new_version = organisations.set_organisation_status(
        session=session, actor=staff, organisation_id=org_id, expected_version=1, status=status, reason=" 未按期年报 "
    )
    assert new_version == 2
    assert tuple(org_state(session, org_id)) == (status, "未按期年报", 2)
    assert count(session, AuditEntry, AuditEntry.action == "organisation.status") == entries + 1


def test_a_membership_is_restored_without_a_reason(session, admin, staff):
    org_id = member(session, admin)
    organisations.set_organisation_status(
        session=session, actor=staff, organisation_id=org_id, expected_version=1, status="suspended", reason="暂停"
    )
    organisations.set_organisation_status(
        session=session, actor=staff, organisation_id=org_id, expected_version=2, status="member", reason=""
    )
    assert tuple(org_state(session, org_id)) == ("member", "", 3)


def test_setting_the_status_a_unit_already_has_is_refused(session, admin, staff):
    org_id = member(session, admin)
    with pytest.raises(ValidationError) as err:
        organisations.set_organisation_status(
            session=session, actor=staff, organisation_id=org_id, expected_version=1, status="member", reason="x"
        )
    assert err.value.key == "validation.status_unchanged"
    assert org_state(session, org_id).version == 1


def test_a_stale_status_change_is_refused(session, admin, staff):
    org_id = member(session, admin)
    organisations.set_organisation_status(
        session=session, actor=staff, organisation_id=org_id, expected_version=1, status="suspended", reason="暂停"
    )
    with pytest.raises(StaleRecord):
        organisations.set_organisation_status(
            session=session, actor=staff, organisation_id=org_id, expected_version=1, status="exited", reason="退出"
        )
    assert tuple(org_state(session, org_id)) == ("suspended", "暂停", 2)


def test_an_unknown_status_or_unit_is_refused(session, admin, staff):
    org_id = member(session, admin)
    with pytest.raises(ValidationError, match="choice"):
        organisations.set_organisation_status(
            session=session, actor=staff, organisation_id=org_id, expected_version=1, status="banned", reason="x"
        )
    with pytest.raises(NotFound):
        organisations.set_organisation_status(
            session=session, actor=staff, organisation_id=org_id + 1000, expected_version=1, status="exited", reason="x"
        )


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER])
def test_only_staff_change_a_membership(session, admin, make_actor, role):
    org_id = member(session, admin)
    with pytest.raises(PermissionDenied):
        organisations.set_organisation_status(
            session=session,
            actor=make_actor(role),
            organisation_id=org_id,
            expected_version=1,
            status="exited",
            reason="x",
        )


def test_the_directory_sorts_by_pinyin(session, admin):
    for name in ("重庆山水志愿服务队", "北京绿色志愿者协会", "安徽环保联合会"):
        member(session, admin, name, kind="volunteer_team", credit_code="")
    rows, _ = organisations.list_organisations(session=session, actor=admin, order="pinyin", limit=100)
    ours = [r.name for r in rows if r.name in {"重庆山水志愿服务队", "北京绿色志愿者协会", "安徽环保联合会"}]
    assert ours == ["安徽环保联合会", "北京绿色志愿者协会", "重庆山水志愿服务队"]


# ---------------------------------------------------------------- home-page to-dos


def todos(session, actor):
    return {item.key: item.count for item in collect_todos(session=session, actor=actor) if "applications" in item.key}


def test_staff_see_new_and_in_review_applications_to_do(session, staff):
    first = create(session, staff, app_input("甲单位", credit_code=CODE_B))
    create(session, staff, app_input("乙单位", credit_code=CODE_C))
    create(session, staff, team("丙志愿队"))
    move(session, staff, first, S.IN_REVIEW)
    assert todos(session, staff) == {"todo.applications_new": 2, "todo.applications_in_review": 1}


def test_a_council_user_sees_the_applications_awaiting_their_units_opinion(session, staff, seated, make_actor):
    lishi = seated(1)
    first = create(session, staff, app_input("甲单位", credit_code=CODE_B))
    create(session, staff, app_input("乙单位", credit_code=CODE_C))
    decided = create(session, staff, team("丙志愿队"))
    bring_to(session, staff, decided, S.REJECTED)
    assert todos(session, lishi) == {"todo.applications_opinion": 2}
    opine(session, lishi, first)
    assert todos(session, lishi) == {"todo.applications_opinion": 1}
    assert todos(session, make_actor(Role.VIEWER)) == {}


def test_a_council_user_without_a_seat_is_not_asked_for_opinions(session, staff, make_actor):
    unseated = make_actor(Role.COUNCIL)
    create(session, staff, app_input())
    assert todos(session, unseated) == {}
