"""The write-service registry: each write declares the roles that may call it, checked on every call."""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session

from domain.errors import PermissionDenied
from domain.roles import Actor, Role

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class ServiceSpec:
    """A registered write service and who may call it (public: anonymous visitors too)."""

    name: str
    roles: frozenset[Role]
    public: bool


WRITE_SERVICES: dict[str, ServiceSpec] = {}
WRITE_FUNCTIONS: dict[str, Callable[..., Any]] = {}
# Writes no user calls directly: the app itself (setup token, data-version stamp) or another service does.
INTERNAL_WRITES: dict[str, str] = {}


# Kept on SQLAlchemy's Session class, which Streamlit never reloads: when Streamlit reloads this module after a
# source change, the listeners registered by the first import must see the scope the reloaded services set
# (otherwise every write, logins included, was refused until a restart).
_WRITE_SCOPE: ContextVar[str | None] = Session.__dict__.get("_evsn_write_scope") or ContextVar(
    "evsn_write_scope", default=None
)
Session._evsn_write_scope = _WRITE_SCOPE  # type: ignore[attr-defined]
_WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT"})


class UnregisteredWrite(RuntimeError):
    """A statement tried to change data outside any registered write service."""


@contextmanager
def write_scope(name: str) -> Iterator[None]:
    """Let writes happen inside: entered by registered services (and by tests that write raw SQL on purpose)."""
    token = _WRITE_SCOPE.set(name)
    try:
        yield
    finally:
        _WRITE_SCOPE.reset(token)


@event.listens_for(Session, "do_orm_execute")
def _refuse_unregistered_statements(state: ORMExecuteState) -> None:
    if _WRITE_SCOPE.get() is not None:
        return
    statement = state.statement
    writes = state.is_insert or state.is_update or state.is_delete
    if not writes and isinstance(statement, TextClause):
        first = statement.text.lstrip().split(None, 1)
        writes = bool(first) and first[0].upper() in _WRITE_WORDS
    if writes:
        raise UnregisteredWrite("data changed outside a registered write service (@requires / @internal_write)")


@event.listens_for(Session, "before_flush")
def _refuse_unregistered_flush(session: Session, _context: object, _instances: object) -> None:
    if _WRITE_SCOPE.get() is None and (session.new or session.dirty or session.deleted):
        raise UnregisteredWrite("ORM changes flushed outside a registered write service")


def internal_write(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a write that is not a user action (so the registry knows it is not forgotten) and let it write."""

    def mark(fn: Callable[P, R]) -> Callable[P, R]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        INTERNAL_WRITES[name] = reason

        @functools.wraps(fn)
        def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
            with write_scope(name):
                return fn(*args, **kwargs)

        return scoped

    return mark


def requires(*roles: Role, public: bool = False) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a write service and refuse callers whose role is not listed (PermissionDenied)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        name = f"{fn.__module__}.{fn.__qualname__}"
        WRITE_SERVICES[name] = ServiceSpec(name=name, roles=frozenset(roles), public=public)

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = kwargs.get("actor")
            if not isinstance(actor, Actor):
                raise TypeError(f"{name} needs actor=Actor(...)")
            allowed = actor.role in roles if actor.role is not None else public
            if not allowed:
                raise PermissionDenied()
            with write_scope(name):
                return fn(*args, **kwargs)

        guarded.__dict__["service_spec"] = WRITE_SERVICES[name]
        WRITE_FUNCTIONS[name] = guarded
        return guarded

    return decorate


def check_reader(actor: Actor, roles: frozenset[Role]) -> None:
    """Refuse a read service to a caller whose role is not among `roles` (the server-side check of a read)."""
    if actor.role not in roles:
        raise PermissionDenied()


def may_call(spec: ServiceSpec, role: Role | None) -> bool:
    """Whether a role (None: anonymous) may call the service; the same rule the guard applies."""
    return role in spec.roles if role is not None else spec.public


def service_spec(fn: Any) -> ServiceSpec:
    """The registration of a decorated service function."""
    spec: ServiceSpec = fn.__dict__["service_spec"]
    return spec
