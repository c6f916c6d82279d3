"""Excel/CSV on screen: exports of a filtered list (prepared on request, formulas neutralised) and the import
flow (template, upload, preview marking every bad row, confirm, one transaction, progress bar)."""

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from db.engine import transaction
from domain.errors import DomainError
from domain.spreadsheets import read_table, template_xlsx, to_csv, to_xlsx
from ui.forms import attempt, error_text, fresh_key, renew
from ui.i18n import current_language, language, t

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_buttons(
    key: str, filename: str, build: Callable[[], tuple[list[str], list[list[Any]]]], *, hint: str | None = None
) -> None:
    """.xlsx and .csv downloads of exactly the filtered list; each file is made only when its button is
    clicked (Streamlit's deferred download), so the list itself reruns at full speed."""
    lang = current_language()

    def produce(kind: str) -> Callable[[], bytes]:
        def make() -> bytes:
            with language(lang):  # made outside the script run: keep the user's language
                headers, rows = build()
            return to_xlsx(headers, rows, sheet=filename) if kind == "xlsx" else to_csv(headers, rows)

        return make

    st.caption(hint or t("export.hint"))
    left, right = st.columns(2)
    left.download_button(t("export.xlsx"), produce("xlsx"), file_name=f"{filename}.xlsx", mime=XLSX_MIME,
                         key=f"{key}_xlsx", on_click="ignore", icon=":material/download:")  # fmt: skip
    right.download_button(t("export.csv"), produce("csv"), file_name=f"{filename}.csv", mime="text/csv",
                          key=f"{key}_csv", on_click="ignore", icon=":material/download:")  # fmt: skip


class CheckedRow(Protocol):
    """What the preview needs of a parsed row."""

    @property
    def row_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def error(self) -> DomainError | None: ...


def _parsed(key: str, data: bytes) -> list[dict[str, str]]:
    """The upload's rows, parsed once per file (reruns of the preview do not parse it again)."""
    digest = hashlib.sha256(data).hexdigest()
    kept = st.session_state.get(f"_import_parsed_{key}")
    if kept is not None and kept[0] == digest:
        return list(kept[1])
    _, records = read_table(data)
    st.session_state[f"_import_parsed_{key}"] = (digest, records)
    return records


def import_section(
    key: str,
    *,
    template: tuple[list[str], list[object], list[str]],
    template_name: str,
    check: Callable[[Session, list[dict[str, str]]], list[Any]],
    commit: Callable[[Session, list[Any], Callable[[int, int], None]], int],
) -> None:
    """Template download, upload, preview with every bad row marked, and an all-or-nothing confirmed import."""
    headers, example, notes = template
    st.download_button(
        t("import.template"),
        template_xlsx(headers, example, notes, sheet=template_name),
        file_name=f"{template_name}.xlsx",
        mime=XLSX_MIME,
        key=f"{key}_template",
        icon=":material/description:",
    )
    done = st.session_state.pop(f"_import_done_{key}", None)
    if done is not None:
        st.success(t("import.done", count=done), icon=":material/check_circle:")
    generation = st.session_state.setdefault(f"_import_gen_{key}", 0)
    upload = st.file_uploader(t("import.file"), type=["xlsx", "csv"], key=f"{key}_file_{generation}")
    if upload is None:
        st.caption(t("import.hint"))
        return
    try:
        records = _parsed(key, upload.getvalue())
        with transaction() as session:
            rows = check(session, records)
    except DomainError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return
    if not rows:
        st.warning(t("import.empty"))
        return
    bad = [r for r in rows if r.error is not None]
    preview = pd.DataFrame(
        {
            t("import.row"): [r.row_number for r in rows],
            t("field.name"): [r.name for r in rows],
            t("import.result"): [
                ("✗ " + error_text(r.error, markdown=False)) if r.error else "✓ " + t("import.ok") for r in rows
            ],
        }
    )
    st.dataframe(preview, hide_index=True, width="stretch")
    if bad:
        st.error(t("import.has_errors", count=len(bad)), icon=":material/error:")
        return
    st.info(t("import.ready", count=len(rows)), icon=":material/info:")
    if not st.button(t("import.confirm", count=len(rows)), type="primary", key=f"{key}_confirm"):
        return
    bar = st.progress(0.0, text=t("import.progress", done=0, total=len(rows)))

    def progress(done_rows: int, total: int) -> None:
        if done_rows == total or done_rows % 50 == 0:
            bar.progress(done_rows / total, text=t("import.progress", done=done_rows, total=total))

    count: list[int] = []
    refusal = attempt(lambda session: count.append(commit(session, rows, progress)))
    if refusal is not None:
        bar.empty()
        st.error(t("import.failed") + " " + error_text(refusal), icon=":material/error:")
        return
    st.session_state[f"_import_done_{key}"] = count[0]
    st.session_state[f"_import_gen_{key}"] = generation + 1  # a fresh uploader: the file is done
    st.rerun()


def record_table(table: pd.DataFrame, ids: list[int], *, key: str, hint: str, param: str = "id") -> None:
    """A list whose selected row opens that record (?param=…). Back on the list the row is no longer selected
    (a kept selection would reopen the record at once), so the table takes a new key."""
    event = st.dataframe(
        table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key=fresh_key(key)
    )
    st.caption(hint)
    if event is not None and event.selection.rows:
        st.query_params[param] = str(ids[event.selection.rows[0]])
        renew(key)
        st.rerun()


def pager(total: int, page_size: int, *, key: str) -> None:
    """A page number box under a list, shown only when there is more than one page."""
    pages_total = max(1, -(-total // page_size))
    if pages_total > 1:
        st.number_input(t("common.page_of", pages=pages_total), min_value=1, max_value=pages_total, step=1, key=key)
