"""A searchable picker of member units: the directory may hold thousands, so a search box narrows a select box
(20 matches, in pinyin order). The current choice always stays among the options, even when it is no longer a
member or does not match the search."""

import streamlit as st

from db.engine import transaction
from db.services.organisations import organisation_names, search_members
from ui.forms import fresh_key
from ui.i18n import t


def member_picker(
    *,
    search_key: str,
    pick_key: str,
    label: str,
    chosen: int | None = None,
    none_label: str | None = None,
    search_label: str | None = None,
    side_by_side: bool = True,
    include_secretariat: bool = True,
) -> int | None:
    """The picked unit's id (None: none picked). Widget keys are renewed with ui.forms.renew(search/pick key)."""
    search_box, pick_box = st.columns(2) if side_by_side else (st.container(), st.container())
    query = search_box.text_input(search_label or t("sel.search_unit"), key=fresh_key(search_key))
    with transaction() as session:
        found = dict(search_members(session=session, text=query, include_secretariat=include_secretariat))
        if chosen is not None and chosen not in found:
            found = {**organisation_names(session=session, ids=[chosen]), **found}
    options: list[int | None] = [None, *found]
    choice = pick_box.selectbox(
        label,
        options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=lambda v: (none_label or t("sel.choose_unit")) if v is None else found[v],
        key=fresh_key(pick_key),
    )
    return choice if choice in found else None
