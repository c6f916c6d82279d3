"""The write-service registry: each write declares the roles that may call it, checked on every call."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

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


def internal_write(reason: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a write that is not a user action (so the registry test knows it is not forgotten)."""

    def mark(fn: Callable[P, R]) -> Callable[P, R]:
        INTERNAL_WRITES[f"{fn.__module__}.{fn.__qualname__}"] = reason
        return fn

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
            return fn(*args, **kwargs)

        guarded.__dict__["service_spec"] = WRITE_SERVICES[name]
        WRITE_FUNCTIONS[name] = guarded
        return guarded

    return decorate


def may_call(spec: ServiceSpec, role: Role | None) -> bool:
    """Whether a role (None: anonymous) may call the service; the same rule the guard applies."""
    return role in spec.roles if role is not None else spec.public


def service_spec(fn: Any) -> ServiceSpec:
    """The registration of a decorated service function."""
    spec: ServiceSpec = fn.__dict__["service_spec"]
    return spec
