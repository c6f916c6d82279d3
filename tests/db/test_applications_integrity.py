# ruff: noqa: F811  (pytest fixtures imported from test_applications)
"""What a review of the applications change found, each as a test that failed before its fix: an approval never
overwrites a unit's record, suspended units get nothing by applying, council rights end with membership, viewers
receive no representative names or staff reasons, the edit form cannot change a status, and the public form's
limit holds under concurrent submissions on PostgreSQL."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from db.engine import transaction
from db.migrate import upgrade_to_head
from db.models import IntakeAttempt, Organisation
from db.services import applications, council, organisations, users
from domain.applications import ApplicationInput, IntakeLimits
from domain.errors import PermissionDenied, ValidationError
from domain.roles import ANONYMOUS, Role
from tests.conftest import TODAY, org_input
from tests.db.test_applications import (  # noqa: F401 (fixtures)
    CODE_A,
    NOW,
    S,
    app_input,
    bring_to,
    council_session,
    create,
    intake_open,
    member,
    seated,
    staff,
    submit,
)


def _unit(session, org_id):
    return session.execute(
        select(Organisation.name, Organisation.contact_person, Organisation.phone, Organisation.status,
               Organisation.joined_on, Organisation.batch).where(Organisation.id == org_id)
    ).one()  # fmt: skip


def test_approving_a_council_application_filed_in_a_members_name_leaves_the_members_record_alone(
    session, admin, staff, intake_open
):
    org_id = member(session, admin, credit_code=CODE_A, contact_person="王芳", phone="13800138000")
    before = tuple(_unit(session, org_id))
    reference = submit(
        session,
        app_input("杭州市 环保志愿者协会", applied_for="council", credit_code=CODE_A, contact_person="冒名者",
                  phone="13766665555"),
    )  # fmt: skip
    app_id = session.scalar(select(applications.Application.id).where(applications.Application.reference == reference))
    bring_to(session, staff, app_id, S.APPROVED)
    assert tuple(_unit(session, org_id)) == before


def test_a_unit_suspended_while_its_application_is_pending_is_not_readmitted_by_approval(session, admin, staff):
    org_id = member(session, admin, credit_code=CODE_A)
    app_id = create(session, staff, app_input(applied_for="council", credit_code=CODE_A))
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=org_id, expected_version=1, status="suspended", reason="暂停"
    )
    with pytest.raises(ValidationError) as refused:
        bring_to(session, staff, app_id, S.APPROVED)
    assert refused.value.key == "validation.unit_suspended"
    assert _unit(session, org_id).status == "suspended"


def test_a_unit_that_left_rejoins_today_in_the_current_batch_on_approval(session, admin, staff):
    org_id = member(session, admin, credit_code=CODE_A, joined_on=TODAY.replace(year=2025), batch="首批")
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=org_id, expected_version=1, status="exited", reason="退出"
    )
    app_id = create(session, staff, app_input(credit_code=CODE_A))
    bring_to(session, staff, app_id, S.APPROVED)
    unit = _unit(session, org_id)
    assert (unit.status, unit.joined_on, unit.batch) == ("member", NOW.date(), "首批")


@pytest.mark.parametrize("status", ["suspended", "exited"])
def test_a_council_unit_that_is_no_longer_a_member_loses_its_council_rights(session, admin, staff, seated, status):
    councillor = seated(1)
    app_id = create(session, staff, app_input(credit_code=CODE_A))
    organisations.set_organisation_status(session=session, actor=admin, organisation_id=councillor.organisation_id,
                                          expected_version=1, status=status, reason="理由")  # fmt: skip
    with pytest.raises(PermissionDenied):
        applications.give_opinion(session=session, actor=councillor, application_id=app_id, opinion="agree",
                                  comment="", expected_version=0, today=TODAY)  # fmt: skip
    info = users.get_active_user(session=session, username=councillor.username)
    assert info is not None and info.effective_role is Role.VIEWER
    assert not council.has_active_term(session=session, organisation_id=councillor.organisation_id, on=TODAY)


def test_viewers_receive_no_staff_reason_for_a_units_status(session, admin, make_actor):
    viewer = make_actor(Role.VIEWER)
    unit = member(session, admin, credit_code=CODE_A)
    organisations.set_organisation_status(session=session, actor=admin, organisation_id=unit, expected_version=1,
                                          status="suspended", reason="内部原因：欠缴")  # fmt: skip
    assert organisations.get_organisation(session=session, actor=admin, organisation_id=unit).status_reason
    assert organisations.get_organisation(session=session, actor=viewer, organisation_id=unit).status_reason == ""
    rows, _ = organisations.list_organisations(session=session, actor=viewer)
    assert all(r.status_reason == "" for r in rows)


def test_a_representatives_name_reaches_staff_but_not_viewers(session, admin, make_actor, council_session):
    viewer = make_actor(Role.VIEWER)
    unit = member(session, admin, credit_code=CODE_A)
    council.seat_term(session=session, actor=admin, session_id=council_session, seat=2, organisation_id=unit,
                      source="invited", representative="李代表")  # fmt: skip
    assert [t.representative for t in council.terms_of_organisation(session=session, actor=admin,
                                                                     organisation_id=unit)] == ["李代表"]  # fmt: skip
    assert [t.representative for t in council.terms_of_organisation(session=session, actor=viewer,
                                                                     organisation_id=unit)] == [""]  # fmt: skip


def test_the_edit_form_cannot_change_a_units_status(session, admin):
    org_id = member(session, admin, credit_code=CODE_A)
    organisations.update_organisation(session=session, actor=admin, organisation_id=org_id, expected_version=1,
                                      data=org_input(credit_code=CODE_A, status="exited"), today=TODAY)  # fmt: skip
    assert _unit(session, org_id).status == "member"


def test_the_public_limit_holds_under_concurrent_submissions(backend, fresh_engine):
    upgrade_to_head(fresh_engine)
    limits = IntakeLimits(per_client=5, total=100)
    now = datetime.now(UTC)
    accepted, refused = [], []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        barrier.wait()
        try:
            with transaction(write=True, engine=fresh_engine) as session:
                applications.reserve_intake_attempt(session=session, actor=ANONYMOUS, client="203.0.113.9",
                                                    now=now, limits=limits)  # fmt: skip
            accepted.append(1)
        except ValidationError:
            refused.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with transaction(engine=fresh_engine) as session:
        stored = session.scalar(select(func.count()).select_from(IntakeAttempt))
    assert (len(accepted), len(refused), stored) == (5, 11, 5)


def test_an_applications_data_never_blanks_or_renames_a_unit_even_from_staff(session, admin, staff):
    org_id = member(session, admin, credit_code=CODE_A, city="杭州")
    data: ApplicationInput = app_input("杭州市环保志愿者协会", applied_for="council", credit_code=CODE_A, city="")
    app_id = create(session, staff, data)
    bring_to(session, staff, app_id, S.APPROVED)
    assert session.scalar(select(Organisation.city).where(Organisation.id == org_id)) == "杭州"


def test_an_export_counts_opinions_right_across_chunks(session, admin, staff, seated, monkeypatch):
    monkeypatch.setattr(applications, "TALLY_CHUNK", 2)  # PostgreSQL allows 65,535 parameters per statement
    councillors = [seated(1), seated(2)]
    made = []
    for n in range(5):
        app_id = create(session, staff, app_input(f"分块测试单位{n}", credit_code="", kind="volunteer_team"))
        for councillor in councillors[: n % 3]:
            applications.give_opinion(session=session, actor=councillor, application_id=app_id, opinion="agree",
                                      comment="", expected_version=0, today=TODAY)  # fmt: skip
        made.append((app_id, n % 3))
    rows = {r.id: r.agree for r in applications.export_applications(
        session=session, actor=admin, filters=applications.ApplicationFilters(search="分块测试单位"))}  # fmt: skip
    assert rows == dict(made)


@pytest.mark.parametrize("size", [50, 600])
def test_an_import_sends_a_few_statements_per_500_rows_not_several_per_row(session, engine, staff, size):
    from sqlalchemy import event

    from db.services.organisations import MemberImportRow
    from domain.organisations import OrganisationInput

    apps = [
        applications.ImportRow(str(n), "", "invited", None, app_input(f"批量申请单位{n}", kind="volunteer_team",
                                                                      credit_code=""), None)
        for n in range(size)
    ]  # fmt: skip
    units = [
        MemberImportRow(
            str(n), "", OrganisationInput(name=f"批量成员单位{n}", kind="volunteer_team", province="浙江"), None
        )
        for n in range(size)
    ]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert applications.import_applications(session=session, actor=staff, rows=apps, now=NOW) == size
        assert organisations.import_organisations(session=session, actor=staff, rows=units, today=TODAY) == size
    finally:
        event.remove(engine, "before_cursor_execute", count)
    chunks = -(-size // 500)
    assert len(statements) <= 30 * chunks, len(statements)
    assert (
        session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name.like("批量成员单位%")))
        == size
    )


def test_the_council_queue_of_applications_is_refused_to_viewers_by_the_service(session, make_actor):
    from domain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        applications.council_queue(session=session, actor=make_actor(Role.VIEWER))
    assert applications.council_queue(session=session, actor=make_actor(Role.COUNCIL)) == []
