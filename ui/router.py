"""st.Page objects for the PAGES table (all registered, hidden; our own menu lists what a role may use)."""

import streamlit as st

from db.engine import ROOT
from ui.i18n import t
from ui.navigation import PAGES


def st_pages() -> dict[str, st.Page]:
    """One st.Page per registered screen, keyed by page key, titles in the session's language."""
    return {
        spec.key: st.Page(
            str(ROOT / spec.file),
            title=t(spec.title_key),
            icon=spec.icon,
            url_path=spec.url_path or None,
            default=spec.url_path == "",
        )
        for spec in PAGES
    }
