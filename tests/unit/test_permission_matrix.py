"""The permission matrix: every page × role and every write service × role, against DESIGN.md's role table
written out here by hand. A page or a write service that is not registered fails this test."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import db.services
from db.services.access import INTERNAL_WRITES, WRITE_FUNCTIONS, WRITE_SERVICES
from domain.errors import PermissionDenied
from domain.roles import Actor, Role
from ui.navigation import PAGES, may_open

A, S, C, V, ANON = Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL, Role.VIEWER, None
EVERYONE_SIGNED_IN = {A, S, C, V}
STAFF = {A, S}
ROLES = [A, S, C, V, ANON]

for module in pkgutil.iter_modules(db.services.__path__):
    importlib.import_module(f"db.services.{module.name}")

EXPECTED_PAGES = {
    "home": EVERYONE_SIGNED_IN,
    "overview": EVERYONE_SIGNED_IN,
    "applications": {A, S, C},
    "members": EVERYONE_SIGNED_IN,
    "council": EVERYONE_SIGNED_IN,
    "calendar": EVERYONE_SIGNED_IN,
    "nominations": {A, S, C},
    "achievements": {A, S, C},
    "benefits": {A, S, C},
    "users": {A},
    "audit": STAFF,
    "settings": STAFF,
    "account": EVERYONE_SIGNED_IN,
    "apply": {A, S, C, V, ANON},
}
EXPECTED_SERVICES = {
    "db.services.organisations.create_organisation": STAFF,
    "db.services.organisations.update_organisation": STAFF,
    "db.services.organisations.set_organisation_status": STAFF,
    "db.services.organisations.import_organisations": STAFF,
    "db.services.applications.reserve_intake_attempt": {ANON},
    "db.services.applications.submit_application": {ANON},
    "db.services.applications.create_application": STAFF,
    "db.services.applications.import_applications": STAFF,
    "db.services.applications.change_status": STAFF,
    # council users only, and only while their unit holds an active term (checked by the service itself)
    "db.services.applications.give_opinion": {C},
    "db.services.settings.set_setting": STAFF,
    "db.services.council.create_session": STAFF,
    "db.services.council.seat_term": STAFF,
    "db.services.council.end_term_early": STAFF,
    "db.services.council.fill_by_election": STAFF,
    "db.services.council.change_representative": STAFF,
    "db.services.council.set_continue_intent": STAFF,
    "db.services.council.rotate": STAFF,
    "db.services.meetings.create_meeting": STAFF,
    "db.services.meetings.update_meeting": STAFF,
    "db.services.meetings.record_attendance": STAFF,
    "db.services.meetings.record_decision": STAFF,
    "db.services.activities.create_activity": STAFF,
    "db.services.activities.update_activity": STAFF,
    "db.services.activities.cancel_activity": STAFF,
    "db.services.activities.record_outcome": STAFF,
    "db.services.activities.add_signup": STAFF,
    "db.services.activities.cancel_signup": STAFF,
    "db.services.selections.create_round": STAFF,
    "db.services.selections.update_round": STAFF,
    "db.services.selections.end_call": STAFF,
    "db.services.selections.add_nomination": STAFF,
    "db.services.selections.update_nomination": STAFF,
    "db.services.selections.withdraw_nomination": STAFF,
    "db.services.selections.publish_round": STAFF,
    # council users only, and only while their unit holds an active term (checked by the service itself)
    "db.services.selections.score_nomination": {C},
    "db.services.achievements.create_achievement": STAFF,
    "db.services.achievements.update_achievement": STAFF,
    "db.services.achievements.decide_achievement": STAFF,
    "db.services.users.create_user": {A},
    "db.services.users.update_user": {A},
    "db.services.users.set_active": {A},
    "db.services.users.unlock_user": {A},
    "db.services.users.reset_password": {A},
    "db.services.users.change_own_password": EVERYONE_SIGNED_IN,
    "db.services.users.logout": EVERYONE_SIGNED_IN,
    "db.services.users.touch_activity": EVERYONE_SIGNED_IN,
    "db.services.users.create_first_admin": {ANON},
    "db.services.users.begin_login": {ANON},
    "db.services.users.finish_login": {ANON},
    "db.services.users.count_wrong_current_password": EVERYONE_SIGNED_IN,
}


def role_id(role):
    return role.value if role else "anonymous"


def test_every_page_is_in_the_expected_table():
    assert {p.key for p in PAGES} == set(EXPECTED_PAGES)


@pytest.mark.parametrize("role", ROLES, ids=role_id)
@pytest.mark.parametrize("key", list(EXPECTED_PAGES))
def test_page_access_follows_the_role_table(key, role):
    spec = next(p for p in PAGES if p.key == key)
    assert may_open(spec, role) == (role in EXPECTED_PAGES[key])


def test_every_registered_write_service_is_in_the_expected_table():
    registered = {name for name in WRITE_SERVICES if name.startswith("db.services.")}
    assert registered == set(EXPECTED_SERVICES)


@pytest.mark.parametrize("role", ROLES, ids=role_id)
@pytest.mark.parametrize("name", sorted(EXPECTED_SERVICES))
def test_write_service_access_follows_the_role_table(name, role):
    service = WRITE_FUNCTIONS[name]
    actor = Actor(user_id=1, username="probe", role=role)
    if role in EXPECTED_SERVICES[name]:
        # Allowed: the guard lets the call through, which then fails for want of its other arguments.
        with pytest.raises(TypeError):
            service(actor=actor)
    else:
        with pytest.raises(PermissionDenied):
            service(actor=actor)


WRITE_CALLS = {"insert", "update", "delete", "record", "put_setting", "bump"}


def _writes(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            callee = node.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if name in WRITE_CALLS:
                return True
    return False


def _decorator_names(fn: ast.FunctionDef) -> set[str]:
    names = set()
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def test_every_function_that_writes_is_registered_or_marked_internal():
    unregistered = []
    # Modules named _*.py are service-internal helpers: they open no write scope, so the runtime guard already
    # refuses them outside a registered service.
    for path in sorted(p for p in Path(db.services.__path__[0]).glob("*.py") if not p.name.startswith("_")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in tree.body:
            if isinstance(fn, ast.FunctionDef) and not fn.name.startswith("_") and _writes(fn):
                name = f"db.services.{path.stem}.{fn.name}"
                decorators = _decorator_names(fn)
                if not ({"requires", "internal_write"} & decorators):
                    unregistered.append(name)
                elif "internal_write" in decorators:
                    assert name in INTERNAL_WRITES
    assert unregistered == []
