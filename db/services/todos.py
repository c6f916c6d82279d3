"""Home-page to-dos: each screen's service registers a provider; the home page only collects."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from domain.roles import Actor


@dataclass(frozen=True)
class TodoItem:
    """One line on the home page: a message key with its parameters and the page it links to."""

    key: str
    count: int
    page: str
    params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)  # the link's query: the page opens filtered


TodoProvider = Callable[[Session, Actor], list[TodoItem]]
PROVIDERS: list[TodoProvider] = []


def todo_provider(fn: TodoProvider) -> TodoProvider:
    """Register a function that returns the to-dos of a screen for an actor."""
    PROVIDERS.append(fn)
    return fn


def _load_every_service() -> None:
    # Providers register when their module is imported; the home page must not depend on which screens this
    # process happened to run before (a fresh server showed no reminders until someone opened /council).
    import importlib
    import pkgutil

    import db.services

    for module in pkgutil.iter_modules(db.services.__path__):
        importlib.import_module(f"db.services.{module.name}")


def collect_todos(*, session: Session, actor: Actor) -> list[TodoItem]:
    """All providers' items for this actor, in registration order."""
    _load_every_service()
    items: list[TodoItem] = []
    for provider in PROVIDERS:
        items.extend(provider(session, actor))
    return items
