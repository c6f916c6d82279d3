"""Achievements (成果展示): member units' results submitted for publicity through the network's channels. The list
filters by status, category, unit, year and title; an achievement's page (?id=…) shows it and lets the secretariat
decide 已发布 (with the channel and date) or 未采用 (with a reason); the secretariat records new ones (?new=1)."""

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services import achievements as svc
from db.services.organisations import organisation_names
from domain.clock import today
from domain.errors import NotFound, ValidationError
from domain.roles import Role
from domain.selections import AchievementCategory, AchievementInput, AchievementStatus, PublicityChannel
from ui.auth import require_role
from ui.cache import cached_read
from ui.forms import clear_errors, field_error, finish, fresh_key, plain, remember_error, save, show_notice
from ui.i18n import enum_label, format_date, format_datetime, t
from ui.layout import link_to
from ui.pickers import member_picker
from ui.tabular import export_buttons, pager, record_table

NOTICE = "_ach_notice"
NEW_FORM, EDIT_FORM, DECIDE_FORM = "ach_new", "ach_edit", "ach_decide"
SEEN = ("_ach_seen_",)
TOPICS = (*svc.TOPICS, "organisation")
PAGE_SIZE = 50

user = require_role("achievements")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
on = today()


def back_to_list() -> None:
    if st.button(t("ach.back"), icon=":material/arrow_back:"):
        st.query_params.pop("id", None)
        st.query_params.pop("new", None)
        st.rerun()


def unit_picker(prefix: str, chosen: int | None) -> int | None:
    return member_picker(
        search_key=f"{prefix}_search",
        pick_key=f"{prefix}_unit",
        label=t("field.organisation") + " *",
        chosen=chosen,
        include_secretariat=False,
    )


def achievement_form(form: str, current: svc.AchievementRow | None, seen: int) -> None:
    """Record (or correct, while it waits for review) a member unit's achievement."""
    prefix = f"{form}_{current.id if current else 'new'}_{seen}"
    unit = unit_picker(prefix, current.organisation_id if current else None)
    field_error(form, "organisation")
    categories = [c.value for c in AchievementCategory]
    with st.form(form):
        title = st.text_input(
            t("field.title") + " *", value=current.title if current else "", key=fresh_key(f"{prefix}_title")
        )
        field_error(form, "title")
        left, right = st.columns(2)
        category = left.selectbox(
            t("ach.category") + " *", categories,
            index=categories.index(current.category) if current else 0,
            format_func=lambda v: enum_label("achievement_category", v), key=fresh_key(f"{prefix}_category"),
        )  # fmt: skip
        achieved_on = right.date_input(
            t("field.achieved_on") + " *", value=current.achieved_on if current else on, max_value=on,
            format="YYYY-MM-DD", key=fresh_key(f"{prefix}_date"),
        )  # fmt: skip
        with right:
            field_error(form, "achieved_on")
        summary = st.text_area(
            t("field.summary") + " *", value=current.summary if current else "", key=fresh_key(f"{prefix}_summary")
        )
        field_error(form, "summary")
        link = st.text_input(t("field.link"), value=current.link if current else "", key=fresh_key(f"{prefix}_link"))
        field_error(form, "link")
        submitted = st.form_submit_button(t("common.save") if current else t("ach.create"), type="primary")
    field_error(form, "_form")
    if not submitted:
        return
    if unit is None:
        remember_error(form, ValidationError("validation.required", field="organisation"))
        st.rerun()
    data = AchievementInput(
        organisation_id=unit,
        title=title,
        summary=summary,
        achieved_on=achieved_on,  # type: ignore[arg-type]
        category=category,
        link=link,
    )
    created: list[int] = []
    if current is None:
        ok = save(form, lambda s: created.append(svc.create_achievement(session=s, actor=actor, data=data, today=on)))
    else:
        ok = save(form, lambda s: svc.update_achievement(session=s, actor=actor, achievement_id=current.id, data=data,
                                                         expected_version=seen, today=on))  # fmt: skip
    if ok:
        if created:
            st.query_params.pop("new", None)
            st.query_params["id"] = str(created[0])
        finish(NOTICE, t("ach.saved"), f"{prefix}_title", f"{prefix}_summary", f"{prefix}_link", f"{prefix}_unit",
               f"{prefix}_search", forget=SEEN)  # fmt: skip
    st.rerun()


def decide_form(a: svc.AchievementRow, seen: int) -> None:
    """待审核 → 已发布 (channel, date) or 未采用 (reason); the decision is final."""
    st.subheader(t("ach.decide"))
    channels = [c.value for c in PublicityChannel]
    with st.form(DECIDE_FORM):
        target = st.radio(
            t("ach.decision"),
            [AchievementStatus.PUBLISHED.value, AchievementStatus.REJECTED.value],
            index=None,
            format_func=lambda v: enum_label("achievement_status", v),
            horizontal=True,
            key=fresh_key(f"decide_target_{a.id}"),
        )
        field_error(DECIDE_FORM, "status")
        left, right = st.columns(2)
        channel = left.selectbox(
            t("field.channel_published"), channels, index=None, placeholder=t("ach.choose_channel"),
            format_func=lambda v: enum_label("publicity_channel", v), key=fresh_key(f"decide_channel_{a.id}"),
        )  # fmt: skip
        with left:
            field_error(DECIDE_FORM, "channel")
        published_on = right.date_input(
            t("field.published_on"), value=on, max_value=on, format="YYYY-MM-DD", key=fresh_key(f"decide_date_{a.id}")
        )
        with right:
            field_error(DECIDE_FORM, "published_on")
        note = st.text_area(t("ach.note"), help=t("ach.note_help"), key=fresh_key(f"decide_note_{a.id}"))
        field_error(DECIDE_FORM, "note")
        confirm = st.checkbox(t("ach.confirm_decision"), key=fresh_key(f"decide_confirm_{a.id}"))
        field_error(DECIDE_FORM, "confirm")
        submitted = st.form_submit_button(t("ach.save_decision"), type="primary")
    field_error(DECIDE_FORM, "_form")
    if not submitted:
        return
    if target is None:
        remember_error(DECIDE_FORM, ValidationError("validation.choose_status", field="status"))
        st.rerun()
    if not confirm:
        remember_error(DECIDE_FORM, ValidationError("validation.confirm_required", field="confirm"))
        st.rerun()
    published = target == AchievementStatus.PUBLISHED
    if save(
        DECIDE_FORM,
        lambda s: svc.decide_achievement(
            session=s,
            actor=actor,
            achievement_id=a.id,
            status=target,
            channel=channel if published else None,
            published_on=published_on if published else None,  # type: ignore[arg-type]
            note=note,
            expected_version=seen,
            today=on,
        ),
    ):
        finish(NOTICE, t("ach.decided", status=enum_label("achievement_status", target)),
               f"decide_target_{a.id}", f"decide_channel_{a.id}", f"decide_note_{a.id}", f"decide_confirm_{a.id}",
               forget=SEEN)  # fmt: skip
    st.rerun()


def show_achievement(achievement_id: int) -> None:
    try:
        a = cached_read(TOPICS, svc.get_achievement, actor=actor, achievement_id=achievement_id)
    except NotFound:
        st.title(t("page.achievements"))
        st.warning(t("error.not_found"))
        back_to_list()
        return
    st.title(plain(a.title))
    show_notice(NOTICE)
    status = enum_label("achievement_status", a.status)
    if a.status == AchievementStatus.PUBLISHED:
        st.success(
            t("ach.published_line", channel=enum_label("publicity_channel", a.channel), on=format_date(a.published_on)),
            icon=":material/campaign:",
        )
    elif a.status == AchievementStatus.REJECTED:
        st.info(t("ach.rejected_line", reason=plain(a.decision_note)))
    else:
        st.info(t("ach.pending_line"))
    rows = [
        (t("field.organisation"), a.organisation),
        (t("ach.category"), enum_label("achievement_category", a.category)),
        (t("field.achieved_on"), format_date(a.achieved_on)),
        (t("field.status"), status),
        (t("field.link"), a.link or "—"),
        (t("ach.recorded_at"), format_datetime(a.created_at)),
    ]
    st.dataframe(pd.DataFrame(rows, columns=[t("members.field"), t("members.value")]), hide_index=True,
                 width="stretch", height=35 * (len(rows) + 1) + 3)  # fmt: skip
    st.markdown(f"**{t('field.summary')}**")
    st.text(a.summary)
    if a.status == AchievementStatus.PUBLISHED and a.decision_note:
        st.caption(t("ach.note") + "：" + plain(a.decision_note))
    link_to("members", t("ach.open_unit"), query_params={"id": str(a.organisation_id)})
    if is_staff and a.status == AchievementStatus.PENDING:
        seen = st.session_state.setdefault(f"_ach_seen_{a.id}", a.version)
        if seen != a.version:
            st.warning(t("ach.changed_meanwhile"))
            if st.button(t("common.reload"), key="reload_achievement"):
                st.session_state.pop(f"_ach_seen_{a.id}", None)
                clear_errors(DECIDE_FORM)
                clear_errors(EDIT_FORM)
                st.rerun()
        decide_form(a, seen)
        with st.expander(t("ach.edit"), icon=":material/edit:"):
            achievement_form(EDIT_FORM, a, seen)
    if user.effective_role in {Role.ADMIN, Role.SECRETARIAT}:
        link_to("audit", t("sel.history"), query_params={"type": "achievement", "id": str(a.id)})
    back_to_list()


def _all(_: object) -> str:
    return t("common.all")


def achievements_list() -> None:
    st.title(t("page.achievements"))
    show_notice(NOTICE)
    st.caption(t("ach.intro"))
    if is_staff and st.button(t("ach.new"), icon=":material/add:", type="primary"):
        st.query_params["new"] = "1"
        st.rerun()
    years = cached_read(TOPICS, svc.achievement_years, actor=actor)
    preset = st.query_params.get("status")
    statuses = [s.value for s in AchievementStatus]
    if preset in statuses and "ach_status" not in st.session_state:
        st.session_state["ach_status"] = preset
    cols = st.columns([2, 2, 2, 3])
    status = cols[0].selectbox(
        t("field.status"), [None, *statuses], key="ach_status",
        format_func=lambda v: t("common.all") if v is None else enum_label("achievement_status", v),
    )  # fmt: skip
    category = cols[1].selectbox(
        t("ach.category"), [None, *[c.value for c in AchievementCategory]], key="ach_category",
        format_func=lambda v: t("common.all") if v is None else enum_label("achievement_category", v),
    )  # fmt: skip
    year = cols[2].selectbox(
        t("field.year"), [None, *years], key="ach_year", format_func=lambda v: t("common.all") if v is None else str(v)
    )
    search = cols[3].text_input(t("ach.search"), key="ach_search")
    unit_param = st.query_params.get("unit")
    unit = int(unit_param) if unit_param and unit_param.isdigit() else None
    if unit is not None:
        with transaction() as session:
            unit_name = organisation_names(session=session, ids=[unit]).get(unit, "")
        st.caption(t("ach.only_unit", name=plain(unit_name)))
        if st.button(t("ach.all_units")):
            st.query_params.pop("unit", None)
            st.rerun()
    filters = svc.AchievementFilters(status=status, category=category, organisation_id=unit, year=year, search=search)
    if st.session_state.get("_ach_filters") != filters:  # other filters: back to the first page
        st.session_state["_ach_filters"] = filters
        st.session_state.pop("ach_page", None)
    counts = cached_read(TOPICS, svc.status_counts, actor=actor, filters=filters)
    st.caption(" · ".join(f"{enum_label('achievement_status', s)} {counts.get(s, 0)}" for s in statuses))
    page_number = int(st.session_state.get("ach_page", 1) or 1)
    rows, total = cached_read(
        TOPICS,
        svc.list_achievements,
        actor=actor,
        filters=filters,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    if not total:
        st.info(t("ach.empty_staff") if is_staff else t("ach.empty"))
        return
    table = pd.DataFrame(
        {
            t("field.title"): [r.title for r in rows],
            t("field.organisation"): [r.organisation for r in rows],
            t("ach.category"): [enum_label("achievement_category", r.category) for r in rows],
            t("field.achieved_on"): [format_date(r.achieved_on) for r in rows],
            t("field.status"): [enum_label("achievement_status", r.status) for r in rows],
            t("field.channel_published"): [
                enum_label("publicity_channel", r.channel) if r.channel else "—" for r in rows
            ],
            t("field.published_on"): [format_date(r.published_on) if r.published_on else "—" for r in rows],
        }
    )
    st.caption(t("ach.total", count=total))
    record_table(table, [r.id for r in rows], key="ach_table", hint=t("ach.open_hint"))
    pager(total, PAGE_SIZE, key="ach_page")

    def build() -> tuple[list[str], list[list[object]]]:
        with transaction() as session:
            every, _ = svc.list_achievements(session=session, actor=actor, filters=filters, limit=None)
        headers = [t("field.title"), t("field.organisation"), t("ach.category"), t("field.achieved_on"),
                   t("field.status"), t("field.channel_published"), t("field.published_on"), t("field.link"),
                   t("field.summary")]  # fmt: skip
        return headers, [
            [
                r.title,
                r.organisation,
                enum_label("achievement_category", r.category),
                r.achieved_on,
                enum_label("achievement_status", r.status),
                enum_label("publicity_channel", r.channel) if r.channel else "",
                r.published_on or "",
                r.link,
                r.summary,
            ]
            for r in every
        ]

    export_buttons("ach_export", t("ach.export_name"), build)


def new_page() -> None:
    st.title(t("ach.new"))
    if not is_staff:
        st.warning(t("error.forbidden"))
    else:
        achievement_form(NEW_FORM, None, 0)
    back_to_list()


record = st.query_params.get("id")
if st.query_params.get("new") == "1":
    new_page()
elif record is not None:
    if record.isdigit():
        show_achievement(int(record))
    else:
        st.title(t("page.achievements"))
        st.warning(t("error.not_found"))
        back_to_list()
else:
    achievements_list()
