"""The PAGES table and the write-service registry, checked without a browser."""

from pathlib import Path

import pytest

from db.services.access import WRITE_SERVICES, may_call, requires
from domain.errors import PermissionDenied
from domain.roles import ANONYMOUS, Actor, Role
from ui.navigation import PAGES, may_open, menu_for

ROOT = Path(__file__).resolve().parents[2]


def keys(role):
    return [p.key for p in menu_for(role)]


def test_every_registered_page_has_a_file_that_calls_the_guard_for_itself():
    for spec in PAGES:
        source = (ROOT / spec.file).read_text(encoding="utf-8")
        assert f'require_role("{spec.key}")' in source, spec.file


def test_every_file_in_pages_is_registered():
    registered = {spec.file for spec in PAGES}
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert on_disk == registered


def test_the_stable_paths_of_the_foundation_exist():
    paths = {spec.url_path for spec in PAGES}
    assert paths == {
        "",
        "overview",
        "applications",
        "members",
        "council",
        "calendar",
        "nominations",
        "achievements",
        "benefits",
        "users",
        "audit",
        "settings",
        "account",
        "apply",
    }


def test_each_role_sees_its_own_menu():
    assert keys(Role.ADMIN) == [
        "home",
        "overview",
        "applications",
        "members",
        "council",
        "calendar",
        "nominations",
        "achievements",
        "benefits",
        "users",
        "audit",
        "settings",
        "account",
    ]
    assert keys(Role.SECRETARIAT) == [
        "home",
        "overview",
        "applications",
        "members",
        "council",
        "calendar",
        "nominations",
        "achievements",
        "benefits",
        "audit",
        "settings",
        "account",
    ]
    assert keys(Role.COUNCIL) == [
        "home",
        "overview",
        "applications",
        "members",
        "council",
        "calendar",
        "nominations",
        "achievements",
        "benefits",
        "account",
    ]
    assert keys(Role.VIEWER) == ["home", "overview", "members", "council", "calendar", "account"]
    assert keys(None) == []


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER, None])
def test_only_the_admin_may_open_accounts(role):
    users_page = next(p for p in PAGES if p.key == "users")
    assert not may_open(users_page, role)
    assert may_open(users_page, Role.ADMIN)


def test_the_public_form_is_open_to_anonymous_visitors_only_by_link():
    apply_page = next(p for p in PAGES if p.key == "apply")
    assert may_open(apply_page, None) and "apply" not in keys(Role.ADMIN)


def test_a_registered_write_refuses_roles_it_does_not_list():
    @requires(Role.SECRETARIAT)
    def write_something(*, actor: Actor) -> str:
        return "written"

    spec = WRITE_SERVICES[f"{write_something.__module__}.{write_something.__qualname__}"]
    assert write_something(actor=Actor(1, "s", Role.SECRETARIAT)) == "written"
    for role in (Role.ADMIN, Role.COUNCIL, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            write_something(actor=Actor(1, "x", role))
    with pytest.raises(PermissionDenied):
        write_something(actor=ANONYMOUS)
    assert may_call(spec, Role.SECRETARIAT) and not may_call(spec, None)


def test_a_write_outside_any_registered_service_is_refused(tmp_path):
    from sqlalchemy import insert, text
    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from db.migrate import upgrade_to_head
    from db.models import Setting
    from db.services.access import UnregisteredWrite, write_scope

    engine = make_engine(f"sqlite:///{tmp_path / 'guard.sqlite'}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        with pytest.raises(UnregisteredWrite):
            session.execute(insert(Setting).values(key="sneaky", value=True))
        with pytest.raises(UnregisteredWrite):
            session.execute(text("DELETE FROM audit_entries"))
        session.add(Setting(key="orm_sneak", value=1, version=1))
        with pytest.raises(UnregisteredWrite):
            session.flush()
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM settings")).scalar() == 0  # reads are fine
        with write_scope("test"):
            session.execute(insert(Setting).values(key="allowed", value=True))
    engine.dispose()


def test_a_write_called_with_something_else_than_an_actor_is_refused():
    @requires(Role.ADMIN)
    def write_with_fake_actor(*, actor: Actor) -> str:
        return "written"

    with pytest.raises(TypeError, match="needs actor"):
        write_with_fake_actor(actor={"role": "admin"})  # type: ignore[arg-type]


def test_the_home_page_collects_every_screens_to_dos_in_a_fresh_process():
    import subprocess
    import sys

    code = (
        "from db.services.todos import PROVIDERS, _load_every_service; _load_every_service(); "
        "print(sorted({p.__module__ for p in PROVIDERS}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in ("db.services.applications", "db.services.council", "db.services.meetings"):
        assert module in out, out
