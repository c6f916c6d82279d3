"""Cached reads: a read service's result is kept (shared by all sessions, as st.cache_data is) under its
arguments and the data-version stamp of the record types it reads. Every write raises that stamp in its own
transaction (audit.record), so the next read after a write, on any replica, misses and reads afresh."""

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from db.engine import database_url, transaction
from db.services.data_version import stamp

R = TypeVar("R")


@st.cache_data(max_entries=256, show_spinner=False)
def _cached(database: str, name: str, version: int, kwargs: dict[str, Any], _fn: Callable[..., Any]) -> Any:
    # `database`, `name`, `version` and `kwargs` make the key (the actor is among the kwargs wherever results differ by
    # reader); `_fn` is not hashed. Services return plain dataclasses, never live ORM objects.
    with transaction() as session:
        return _fn(session=session, **kwargs)


def cached_read(topics: tuple[str, ...], fn: Callable[..., R], **kwargs: Any) -> R:
    """fn(session=…, **kwargs), served from the cache while nothing of `topics` has been written since."""
    with transaction() as session:
        version = stamp(session=session, topics=topics)
    result: R = _cached(database_url(), f"{fn.__module__}.{fn.__qualname__}", version, kwargs, fn)
    return result
