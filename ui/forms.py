"""Form helpers: field errors shown beside the field, input kept on screen."""

import re
from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from db.engine import transaction
from domain.errors import DomainError
from ui.i18n import t


def _message(exc: DomainError, markdown: bool = True) -> str:
    # Parameters can be user text (a unit's name): made inert where messages are shown as Markdown.
    params = {k: plain(v) if markdown and isinstance(v, str) else v for k, v in exc.params.items()}
    return t(exc.key, **params)


def error_text(exc: DomainError, *, markdown: bool = True) -> str:
    """The translated message of a refusal, naming the field when there is one (markdown=False for table
    cells, which show text as it is)."""
    message = _message(exc, markdown)
    if exc.field:
        return f"{t('field.' + exc.field)}：{message}"
    return message


def remember_error(form: str, exc: DomainError) -> None:
    """Keep a refusal for the next run so it is shown beside its field."""
    st.session_state[f"_errors_{form}"] = {exc.field or "_form": _message(exc)}


def remember_errors(form: str, errors: list[DomainError]) -> None:
    """Keep several refusals for the next run, each shown beside its field."""
    st.session_state[f"_errors_{form}"] = {e.field or "_form": _message(e) for e in reversed(errors)}


def has_errors(form: str) -> bool:
    """Whether refusals are waiting to be shown beside fields (not only for the form as a whole)."""
    return any(field != "_form" for field in st.session_state.get(f"_errors_{form}", {}))


def fresh_key(base: str) -> str:
    """A widget key that changes after `renew(base)`: Streamlit keeps a widget's value (also in the browser)
    for as long as its key lives, so a form is emptied, or a table's selection dropped, by a new key."""
    generation = int(st.session_state.get(f"_generation_{base}", 0))
    return base if generation == 0 else f"{base}_{generation}"


def renew(base: str) -> None:
    """Give the widgets keyed by fresh_key(base) new keys at the next run (empty again)."""
    st.session_state[f"_generation_{base}"] = int(st.session_state.get(f"_generation_{base}", 0)) + 1


def show_notice(state_key: str) -> None:
    """Show, once, the success message an action left for the next run."""
    message = st.session_state.pop(state_key, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def finish(state_key: str, message: str, *bases: str, forget: tuple[str, ...] = ()) -> None:
    """After a successful action: keep its message for the next run, empty the forms keyed by `bases`, forget
    what the user had seen of the records (state keys starting with `forget`), and run again."""
    st.session_state[state_key] = message
    for base in bases:
        renew(base)
    for key in [k for k in st.session_state if forget and str(k).startswith(forget)]:
        st.session_state.pop(key, None)
    st.rerun()


def clear_errors(form: str) -> None:
    """Forget the refusals of a form (after a successful save)."""
    st.session_state.pop(f"_errors_{form}", None)


def field_error(form: str, field: str) -> None:
    """Show the refusal for one field under it, if any."""
    message = st.session_state.get(f"_errors_{form}", {}).get(field)
    if message:
        st.error(message, icon=":material/error:")


def attempt(write: Callable[[Session], object]) -> DomainError | None:
    """Run one write in its own transaction (committed on success); return the refusal, if any."""
    try:
        with transaction(write=True) as session:
            write(session)
    except DomainError as exc:
        return exc
    return None


def save(form: str, write: Callable[[Session], object]) -> bool:
    """Like attempt(), keeping a refusal's message for its field (shown by field_error) and returning False."""
    refusal = attempt(write)
    if refusal is not None:
        remember_error(form, refusal)
        return False
    clear_errors(form)
    return True


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_ZERO_WIDTH_SPACE = "\u200b"


def plain(text: str | None) -> str:
    """User text made inert for Streamlit's Markdown (no links, images or formatting): every special
    character is escaped, so it shows exactly as typed; and a web or e-mail address gets an invisible break,
    since Markdown turns a bare http://… or www.… or name@host into a live link even when escaped."""
    broken = _AUTOLINK.sub(lambda m: m.group(1)[0] + _ZERO_WIDTH_SPACE + m.group(1)[1:], text or "")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", broken)
