"""The audit log's filters, on both databases: by user, record type, record and time."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from db.services import audit, organisations, settings
from domain.roles import Role
from tests.conftest import TODAY, org_input


def test_filters_select_by_user_record_type_record_and_time(session, admin, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    org_id = organisations.create_organisation(session=session, actor=staff, data=org_input(), today=TODAY)
    settings.set_setting(session=session, actor=admin, key="intake_open", value=True, expected_version=0)

    by_staff, n = audit.list_entries(session=session, username=staff.username)
    assert n == len(by_staff) and {e.username for e in by_staff} == {staff.username}
    assert "organisation.create" in {e.action for e in by_staff} and "setting.set" not in {e.action for e in by_staff}

    orgs, _ = audit.list_entries(session=session, record_type="organisation")
    assert {e.record_type for e in orgs} == {"organisation"} and [e.record_id for e in orgs] == [str(org_id)]

    one, total = audit.list_entries(session=session, record_type="organisation", record_id=str(org_id))
    assert total == 1 and one[0].after["name"] == "杭州市环保志愿者协会"

    # Move one entry back in time: a window ending before now excludes the rest.
    from db.services.access import write_scope

    with write_scope("test: back-date an entry"):
        session.execute(
            text("UPDATE audit_entries SET at = :at WHERE action = 'setting.set' AND record_id = 'intake_open'"),
            {"at": datetime(2020, 1, 1, tzinfo=UTC)},
        )
    old, total_old = audit.list_entries(
        session=session, since=datetime(2019, 12, 31, tzinfo=UTC), until=datetime(2020, 1, 2, tzinfo=UTC)
    )
    assert total_old == 1 and old[0].action == "setting.set"
    recent, _ = audit.list_entries(session=session, since=datetime.now(UTC) - timedelta(days=1))
    assert "intake_open" not in {e.record_id for e in recent}


def test_entries_are_newest_first_and_paged(session, admin):
    for i in range(3):
        organisations.create_organisation(
            session=session, actor=admin, today=TODAY, data=org_input(f"单位{i}", kind="volunteer_team", credit_code="")
        )
    page, total = audit.list_entries(session=session, record_type="organisation", limit=2)
    assert total == 3 and len(page) == 2 and page[0].id > page[1].id


def test_writes_still_work_after_the_services_are_reloaded_as_streamlit_does_on_a_source_change(session, admin):
    """Streamlit drops changed modules from sys.modules and imports them afresh in a running server; the write
    guard registered by the first import must accept the scope the fresh services set (it refused every write,
    logins included, until a restart)."""
    import importlib
    import sys

    from sqlalchemy import event
    from sqlalchemy.orm import Session as OrmSession

    from db.services import access, todos

    names = ["db.services.access", "db.services.audit", "db.services.organisations"]
    registries = (todos.PROVIDERS, access.WRITE_SERVICES, access.WRITE_FUNCTIONS, access.INTERNAL_WRITES)
    saved = [registry.copy() for registry in registries]
    kept = {name: sys.modules.pop(name) for name in names}
    try:
        fresh_access = importlib.import_module("db.services.access")
        fresh = importlib.import_module("db.services.organisations")
        unit = fresh.create_organisation(session=session, actor=admin, data=org_input("重载后新建的单位"), today=TODAY)
        assert unit > 0
    finally:
        event.remove(OrmSession, "do_orm_execute", fresh_access._refuse_unregistered_statements)
        event.remove(OrmSession, "before_flush", fresh_access._refuse_unregistered_flush)
        sys.modules.update(kept)
        # the fresh modules registered their to-dos and services again: the rest of the run sees the originals
        for registry, copy in zip(registries, saved, strict=True):
            registry.clear()
            if isinstance(registry, dict):
                registry.update(copy)
            else:
                registry.extend(copy)
