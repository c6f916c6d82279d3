"""Activity calendar (活动日历): month, week and list views of the activities with filters, holidays and make-up
working days marked; an activity's page (?id=…) with its sign-ups, waitlist, invitations and outcome; the
secretariat creates, edits, copies and cancels activities (?new=1, ?copy=…). Every role may read it."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.base import utcnow
from db.engine import transaction
from db.services import activities as svc
from db.services.organisations import organisation_names, search_members
from domain.activities import (
    MAX_SERIES,
    ActivityStatus,
    Category,
    Outcome,
    Repeat,
    SignupKind,
    SignupStatus,
    local_datetime,
    series_starts,
)
from domain.clock import SHANGHAI, today
from domain.errors import DomainError, NotFound, ValidationError
from domain.holidays import day_marks, known_year
from domain.ical import to_ics
from domain.metrics import add_months
from domain.organisations import PROVINCES
from domain.roles import Role
from ui.auth import require_role
from ui.cache import cached_read
from ui.charts import CATEGORY_COLOURS
from ui.forms import field_error, finish, fresh_key, plain, remember_error, save, show_notice
from ui.i18n import current_language, enum_label, format_date, format_datetime, language, t
from ui.pickers import member_picker
from ui.tabular import export_buttons, pager, record_table

NOTICE = "_cal_notice"
EDIT_FORM, CANCEL_FORM, SIGNUP_FORM, WITHDRAW_FORM, OUTCOME_FORM = (
    "a_edit",
    "a_cancel",
    "a_signup",
    "a_withdraw",
    "a_out",
)
TOPICS = ("activity", "signup", "organisation")
SEEN = ("_a_seen_", "_su_seen_")  # the versions a user saw of an activity and of its sign-ups
PAGE_SIZE = 50
MONTH_PER_DAY, WEEK_PER_DAY = 3, 12
ICS_MIME = "text/calendar"

user = require_role("calendar")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
on = today()
# Streamlit drops a widget's value in a run that does not draw it: the view and the filters are kept across a
# visit to an activity's page, so 返回日历 comes back to the same view, range and filters.
KEPT = ("cal_view", "cal_f_", "cal_list_", "cal_page", "_generation_cal_f_org")
for _key in [k for k in st.session_state if str(k).startswith(KEPT)]:
    st.session_state[_key] = st.session_state[_key]


def notice() -> None:
    show_notice(NOTICE)


def done(message: str, *bases: str) -> None:
    """After a successful action: say so, empty the forms named, forget the versions seen, run again."""
    finish(NOTICE, message, *bases, forget=SEEN)


def minute() -> datetime:
    """Now to the minute: a cached view keys on it, so statuses (计划中 → 进行中) follow the clock."""
    return utcnow().replace(second=0, microsecond=0)


def styles() -> None:
    """Category colours on the calendar's buttons (by their keys) and marks for today and holidays. The CSS is
    ours alone: no user text goes into it."""
    rules = [
        f'[class*="st-key-ev_{c}_"] button, [class*="st-key-wk_{c}_"] button {{ border-left: 5px solid {hex_}; }}'
        for c, hex_ in CATEGORY_COLOURS.items()
    ]
    # a cell's buttons fill its width; the month shows one line per activity, the week wraps whole titles
    rules.append(
        '[class*="st-key-ev_"], [class*="st-key-ev_"] .stButton, [class*="st-key-ev_"] button, '
        '[class*="st-key-wk_"], [class*="st-key-wk_"] .stButton, [class*="st-key-wk_"] button '
        "{ width: 100%; min-width: 0; }"
    )
    rules.append(
        '[class*="st-key-ev_"] button, [class*="st-key-wk_"] button '
        "{ justify-content: flex-start; padding: 2px 6px; min-height: 1.8rem; text-align: left; }"
    )
    rules.append(
        '[class*="st-key-ev_"] button p { font-size: 0.8rem; white-space: nowrap; overflow: hidden; '
        "text-overflow: ellipsis; }"
    )
    rules.append('[class*="st-key-day_"] { padding: 6px 6px 8px 6px !important; gap: 4px !important; }')
    rules.append('[class*="st-key-wk_"] button p { font-size: 0.8rem; white-space: normal; text-align: left; }')
    rules.append('[class*="st-key-day_"][class*="_today"] { outline: 2px solid #2E7D32; background: #f1f8f1; }')
    rules.append('[class*="st-key-day_"][class*="_off"] { background: #fff4f4; }')
    rules.append('[class*="st-key-day_"][class*="_other"] { opacity: 0.55; }')
    chips = " ".join(
        f'<span style="display:inline-block;margin-right:10px;font-size:0.8rem">'
        f'<span style="display:inline-block;width:10px;height:10px;background:{hex_};margin-right:4px"></span>'
        f"{enum_label('category', c)}</span>"
        for c, hex_ in CATEGORY_COLOURS.items()
    )
    st.html("<style>" + "\n".join(rules) + "</style>")
    st.html(f"<div>{chips}</div>")


# --------------------------------------------------------------------------------------------- filters


def forget_seen() -> None:
    """A fresh visit to an activity starts from what is stored now (not from what an earlier visit saw)."""
    for key in [k for k in st.session_state if str(k).startswith(SEEN)]:
        st.session_state.pop(key, None)


def open_activity(activity_id: int) -> None:
    forget_seen()
    st.query_params["id"] = str(activity_id)


def organiser_picker(prefix: str, current: tuple[int, str] | None, *, none_label: str) -> int | None:
    """A searchable unit picker over a large directory: the current choice stays among the options."""
    return member_picker(
        search_key=f"{prefix}_q",
        pick_key=f"{prefix}_pick",
        label=t("field.organiser"),
        chosen=current[0] if current is not None else None,
        none_label=none_label,
        search_label=t("cal.search_unit"),
        side_by_side=False,
    )


def active_filters() -> int:
    """How many filters are set (shown on the closed panel, so a filtered view never looks like the whole)."""
    state = st.session_state
    return sum(
        [
            bool(state.get("cal_f_category")),
            bool(state.get("cal_f_status")),
            state.get("cal_f_province") is not None,
            state.get("cal_f_mode", "all") != "all",
            state.get(fresh_key("cal_f_org_pick")) is not None,
            bool(str(state.get("cal_f_text", "")).strip()),
            bool(state.get("cal_f_needs_outcome")),
        ]
    )


def filters_panel() -> svc.ActivityFilters:
    count = active_filters()
    label = t("cal.filters_active", count=count) if count else t("cal.filters")
    with st.expander(label, icon=":material/filter_list:", expanded=bool(count)):
        left, right = st.columns(2)
        categories = left.multiselect(
            t("field.category"),
            [c.value for c in Category],
            format_func=lambda v: enum_label("category", v),
            placeholder=t("common.all"),
            key="cal_f_category",
        )
        statuses = right.multiselect(
            t("field.status"),
            [s.value for s in ActivityStatus],
            format_func=lambda v: enum_label("activity_status", v),
            placeholder=t("common.all"),
            key="cal_f_status",
        )
        province = left.selectbox(
            t("field.province"),
            [None, *PROVINCES],
            format_func=lambda v: t("common.all") if v is None else v,
            key="cal_f_province",
        )
        mode = right.selectbox(
            t("cal.mode"),
            ["all", "online", "offline"],
            format_func=lambda v: t(f"cal.mode_{v}"),
            key="cal_f_mode",
        )
        organiser = organiser_picker("cal_f_org", None, none_label=t("common.all"))
        text = st.text_input(t("cal.search_title"), key="cal_f_text")
        needs_outcome = st.checkbox(t("cal.needs_outcome"), key="cal_f_needs_outcome")
    return svc.ActivityFilters(
        categories=tuple(categories),
        organiser_id=organiser,
        province=province,
        statuses=tuple(statuses),
        online=None if mode == "all" else mode == "online",
        needs_outcome=needs_outcome,
        text=text,
    )


# --------------------------------------------------------------------------------------------- views


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def event_button(item: svc.CalendarItem, day: date, *, week: bool) -> None:
    start, end = item.starts_at.astimezone(SHANGHAI), item.ends_at.astimezone(SHANGHAI)
    last_day = (item.ends_at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    if start.date() == day == last_day:
        when = f"{start:%H:%M}–{end:%H:%M}" if week else f"{start:%H:%M}"
    elif start.date() == day:
        when = f"{start:%H:%M}→"
    elif last_day == day:
        when = f"→{end:%H:%M}"
    else:
        when = "↔"
    title = plain(item.title)
    if item.status == ActivityStatus.CANCELLED.value:
        title = f"~~{title}~~"
    st.button(
        f"{when} {title}",
        key=f"{'wk' if week else 'ev'}_{item.category}_{item.id}_{day:%Y%m%d}",
        help=f"{title} · {enum_label('category', item.category)} · {enum_label('activity_status', item.status)}",
        on_click=open_activity,
        args=(item.id,),
        width="stretch",
    )


def show_more(day: date) -> None:
    st.session_state["cal_view"] = "list"
    st.session_state["cal_list_from"] = day
    st.session_state["cal_list_to"] = day


def day_cell(cell: svc.DayCell, marks: dict, *, month: int | None, week: bool) -> None:
    mark = marks.get(cell.day)
    flags = ("_today" if cell.day == on else "") + ("_off" if mark is not None and mark.off else "")
    flags += "_other" if month is not None and cell.day.month != month else ""
    with st.container(border=True, key=f"day_{cell.day:%Y%m%d}{flags}"):
        head = (
            f"**{cell.day.day}**" if not week else f"**{t(f'cal.wd_{WEEKDAYS[cell.day.weekday()]}')} {cell.day:%m-%d}**"
        )
        if cell.day == on:
            head += " :green-badge[" + t("cal.today") + "]"
        if mark is not None:
            name = t(f"holiday.{mark.holiday}") if mark.holiday else ""
            badge = t("cal.off") if mark.off else t("cal.workday")
            colour = "red" if mark.off else "gray"
            head += f" :{colour}-badge[{badge}]" + (f" :small[{name}]" if name and mark.off else "")
        st.markdown(head)
        for item in cell.items:
            event_button(item, cell.day, week=week)
        more = cell.total - len(cell.items)
        if more > 0:
            st.button(
                t("cal.more", count=more),
                key=f"more_{cell.day:%Y%m%d}",
                on_click=show_more,
                args=(cell.day,),
                type="tertiary",
            )


def holiday_note(first: date, last: date) -> None:
    unknown = sorted({y for y in (first.year, last.year) if not known_year(y)})
    if unknown:
        st.caption(t("cal.holidays_unknown", years="、".join(str(y) for y in unknown)))


def grid(first: date, last: date, filters: svc.ActivityFilters, *, week: bool, month: int | None) -> None:
    cells, truncated = cached_read(
        ("activity",),
        svc.calendar_cells,
        actor=actor,
        first=first,
        last=last,
        filters=filters,
        per_day=WEEK_PER_DAY if week else MONTH_PER_DAY,
        now=minute(),
    )
    if truncated:
        st.warning(t("cal.truncated", count=svc.MAX_RANGE_ROWS), icon=":material/warning:")
    marks = day_marks(first, last)
    if not week:
        for n, column in enumerate(st.columns(7, gap="small")):
            column.markdown(f"**{t(f'cal.wd_{WEEKDAYS[n]}')}**")
    for row in range(0, len(cells), 7):
        columns = st.columns(7, gap="small")
        for column, cell in zip(columns, cells[row : row + 7], strict=True):
            with column:
                day_cell(cell, marks, month=month, week=week)
    if not any(c.total for c in cells):
        st.info(t("cal.empty_staff" if is_staff else "cal.empty"), icon=":material/event_busy:")
    holiday_note(first, last)


def month_range(anchor: date) -> tuple[date, date]:
    first_of_month = anchor.replace(day=1)
    first = first_of_month - timedelta(days=first_of_month.weekday())
    last_of_month = add_months(first_of_month, 1) - timedelta(days=1)
    last = last_of_month + timedelta(days=6 - last_of_month.weekday())
    return first, last


def week_range(anchor: date) -> tuple[date, date]:
    first = anchor - timedelta(days=anchor.weekday())
    return first, first + timedelta(days=6)


def shift(step: int) -> None:
    anchor: date = st.session_state["cal_anchor"]
    if st.session_state.get("cal_view") == "week":
        st.session_state["cal_anchor"] = anchor + timedelta(weeks=step)
    else:
        st.session_state["cal_anchor"] = add_months(anchor, step)


def go_today() -> None:
    st.session_state["cal_anchor"] = on


def list_view(filters: svc.ActivityFilters) -> None:
    left, right = st.columns(2)
    st.session_state.setdefault("cal_list_from", on.replace(day=1))
    st.session_state.setdefault("cal_list_to", add_months(on, 1) - timedelta(days=1))
    first = left.date_input(t("cal.from"), key="cal_list_from", format="YYYY-MM-DD")
    last = right.date_input(t("cal.to"), key="cal_list_to", format="YYYY-MM-DD")
    if first > last:
        st.error(t("validation.dates_reversed"), icon=":material/error:")
        return
    page = int(st.session_state.get("cal_page", 1))
    rows, total = cached_read(
        TOPICS,
        svc.list_activities,
        actor=actor,
        first=first,
        last=last,
        filters=filters,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        now=minute(),
    )
    totals = cached_read(TOPICS, svc.range_totals, actor=actor, first=first, last=last, filters=filters, now=minute())
    a, b, c, d = st.columns(4)
    a.metric(t("cal.kpi_activities"), totals.activities)
    b.metric(t("cal.kpi_people"), totals.signups_people)
    c.metric(t("cal.kpi_volunteers"), totals.volunteers)
    d.metric(t("cal.kpi_hours"), f"{totals.service_hours:,.1f}")
    if not rows:
        st.info(t("cal.empty_staff" if is_staff else "cal.empty"), icon=":material/event_busy:")
        return
    table = pd.DataFrame(
        {
            t("field.starts_at"): [format_datetime(r.starts_at) for r in rows],
            t("field.title"): [r.title for r in rows],
            t("field.category"): [enum_label("category", r.category) for r in rows],
            t("field.status"): [enum_label("activity_status", r.status) for r in rows],
            t("field.organiser"): [r.organiser or t("cal.secretariat") for r in rows],
            t("field.province"): [r.province for r in rows],
            t("cal.where"): [t("cal.online") if r.online else r.place for r in rows],
            t("cal.places"): [
                f"{r.confirmed_people}/{r.capacity}" if r.capacity else str(r.confirmed_people) for r in rows
            ],
            t("cal.waitlist_units"): [r.waitlisted for r in rows],
            t("field.service_hours"): ["—" if r.service_hours is None else f"{r.service_hours:,.1f}" for r in rows],
        }
    )
    record_table(table, [r.id for r in rows], key="cal_table", hint=t("cal.open_hint"))
    pager(total, PAGE_SIZE, key="cal_page")
    st.caption(t("cal.count", count=total))


def ics_download(key: str, filename: str, build: Callable[[], bytes]) -> None:
    lang = current_language()

    def make() -> bytes:
        with language(lang):
            return build()

    st.download_button(
        t("cal.ics"),
        make,
        file_name=f"{filename}.ics",
        mime=ICS_MIME,
        key=key,
        on_click="ignore",
        icon=":material/event:",
    )


def calendar_bytes(items: list[svc.IcsActivity]) -> bytes:
    return to_ics(
        items,
        name=t("page.calendar"),
        category_label=lambda c: enum_label("category", c),
        organiser_label=t("field.organiser"),
    )


def views() -> None:
    st.title(t("page.calendar"))
    notice()
    # A link (a home-page reminder) may name the view, the list's range and the outcome filter: applied whenever
    # the link's parameters are new, also when this session has been on the calendar before.
    link = tuple(st.query_params.get(p, "") for p in ("view", "from", "to", "needs_outcome"))
    if st.session_state.get("_cal_link") != link or "cal_view" not in st.session_state:
        st.session_state["_cal_link"] = link
        wanted = link[0]
        st.session_state["cal_view"] = wanted if wanted in ("month", "week", "list") else "month"
        for value, state in ((link[1], "cal_list_from"), (link[2], "cal_list_to")):
            try:
                st.session_state[state] = date.fromisoformat(value)
            except ValueError:
                pass
        if link[3] == "1":
            st.session_state["cal_f_needs_outcome"] = True
    st.session_state.setdefault("cal_anchor", on)
    top = st.columns([4, 1], vertical_alignment="center")
    with top[0]:
        view = st.segmented_control(
            t("cal.view"),
            ["month", "week", "list"],
            format_func=lambda v: t(f"cal.view_{v}"),
            key="cal_view",
            label_visibility="collapsed",
        )
    if is_staff and top[1].button(t("cal.new"), type="primary", icon=":material/add:", key="cal_new"):
        st.query_params["new"] = "1"
        st.rerun()
    chosen = view or "month"
    anchor: date = st.session_state["cal_anchor"]
    if chosen != "list":
        a, b, c, d = st.columns([1.3, 1, 1.3, 5], vertical_alignment="center")
        a.button(
            t(f"cal.previous_{chosen}"), icon=":material/chevron_left:", key="cal_prev", on_click=shift, args=(-1,)
        )
        b.button(t("cal.today"), key="cal_today", on_click=go_today)
        c.button(t(f"cal.next_{chosen}"), icon=":material/chevron_right:", key="cal_next", on_click=shift, args=(1,))
        if chosen == "month":
            d.markdown(f"#### {t('cal.month_title', year=anchor.year, month=anchor.month)}")
        else:
            first, last = week_range(anchor)
            d.markdown(f"#### {format_date(first)} – {format_date(last)}")
    filters = filters_panel()
    if chosen != "list":
        styles()
    if chosen == "month":
        first, last = month_range(anchor)
        grid(first, last, filters, week=False, month=anchor.month)
    elif chosen == "week":
        first, last = week_range(anchor)
        grid(first, last, filters, week=True, month=None)
    else:
        list_view(filters)
        first, last = st.session_state["cal_list_from"], st.session_state["cal_list_to"]
        if first > last:
            return

    def build() -> bytes:
        with transaction() as session:
            items, _ = svc.ics_activities(session=session, actor=actor, first=first, last=last, filters=filters)
        return calendar_bytes(items)

    st.caption(t("cal.ics_hint", max=svc.MAX_ICS_EVENTS))
    ics_download("cal_ics", f"{t('page.calendar')}_{first:%Y%m%d}-{last:%Y%m%d}", build)


# --------------------------------------------------------------------------------------------- editing


def activity_form(
    prefix: str, initial: svc.ActivityInput | None, *, creating: bool
) -> tuple[svc.ActivityInput | None, str, int]:
    """The fields of an activity (new, copied or edited); returns the input when every field parses."""
    start_local = initial.starts_at.astimezone(SHANGHAI) if initial else local_datetime(on + timedelta(days=7), time(9))
    end_local = initial.ends_at.astimezone(SHANGHAI) if initial else start_local + timedelta(hours=3)
    title = st.text_input(
        t("field.title") + " *", value=initial.title if initial else "", key=fresh_key(f"{prefix}_title"), max_chars=200
    )
    field_error(EDIT_FORM, "title")
    left, right = st.columns(2)
    categories = [c.value for c in Category]
    category = left.selectbox(
        t("field.category"),
        categories,
        index=categories.index(initial.category) if initial else 0,
        format_func=lambda v: enum_label("category", v),
        key=fresh_key(f"{prefix}_category"),
    )
    province = right.selectbox(
        t("field.province"),
        list(PROVINCES),
        index=PROVINCES.index(initial.province) if initial else 0,
        key=fresh_key(f"{prefix}_province"),
    )
    a, b, c, d = st.columns(4)
    start_day = a.date_input(
        t("cal.start_day"), value=start_local.date(), format="YYYY-MM-DD", key=fresh_key(f"{prefix}_sd")
    )
    start_time = b.time_input(t("cal.start_time"), value=start_local.time(), key=fresh_key(f"{prefix}_st"), step=900)
    end_day = c.date_input(t("cal.end_day"), value=end_local.date(), format="YYYY-MM-DD", key=fresh_key(f"{prefix}_ed"))
    end_time = d.time_input(t("cal.end_time"), value=end_local.time(), key=fresh_key(f"{prefix}_et"), step=900)
    st.caption(t("cal.time_hint"))
    field_error(EDIT_FORM, "starts_at")
    field_error(EDIT_FORM, "ends_at")
    online = st.toggle(
        t("cal.online_toggle"), value=initial.online if initial else False, key=fresh_key(f"{prefix}_online")
    )
    place = st.text_input(
        t("field.place"), value=initial.place if initial else "", key=fresh_key(f"{prefix}_place"), max_chars=200
    )
    field_error(EDIT_FORM, "place")
    link = st.text_input(
        t("field.online_link"), value=initial.online_link if initial else "", key=fresh_key(f"{prefix}_link")
    )
    field_error(EDIT_FORM, "online_link")
    capacity = st.number_input(
        t("cal.capacity_input"),
        min_value=0,
        max_value=100_000,
        step=1,
        value=(initial.capacity or 0) if initial else 0,
        key=fresh_key(f"{prefix}_cap"),
    )
    field_error(EDIT_FORM, "capacity")
    st.markdown(f"**{t('field.organiser')}**")
    current = None
    if initial is not None and initial.organiser_id is not None:
        with transaction() as session:
            names = organisation_names(session=session, ids=[initial.organiser_id])
        current = (initial.organiser_id, names.get(initial.organiser_id, "—"))
    organiser = organiser_picker(f"{prefix}_org", current, none_label=t("cal.secretariat"))
    field_error(EDIT_FORM, "organiser")
    co_query = st.text_input(t("cal.search_co"), key=fresh_key(f"{prefix}_co_q"))
    chosen_key = fresh_key(f"{prefix}_co")
    # the chosen units stay among the options whatever is searched next
    chosen_now = st.session_state.setdefault(chosen_key, list(initial.co_organiser_ids) if initial else [])
    with transaction() as session:
        options = organisation_names(session=session, ids=[int(u) for u in chosen_now])
        options.update(dict(search_members(session=session, text=co_query)))
    co = st.multiselect(
        t("field.co_organisers"),
        list(options),
        format_func=lambda u: options.get(u, str(u)),
        placeholder=t("cal.co_placeholder"),
        key=chosen_key,
    )
    field_error(EDIT_FORM, "co_organisers")
    description = st.text_area(
        t("field.details"),
        value=initial.description if initial else "",
        key=fresh_key(f"{prefix}_desc"),
        max_chars=5000,
    )
    field_error(EDIT_FORM, "details")
    repeat, count = Repeat.NONE.value, 1
    if creating:
        r1, r2 = st.columns(2)
        repeat = r1.radio(
            t("field.repeat"),
            [r.value for r in Repeat],
            format_func=lambda v: t(f"repeat.{v}"),
            horizontal=True,
            key=fresh_key(f"{prefix}_repeat"),
        )
        if repeat != Repeat.NONE.value:
            count = int(
                r2.number_input(
                    t("field.repeat_count"),
                    min_value=2,
                    max_value=MAX_SERIES,
                    value=4,
                    key=fresh_key(f"{prefix}_count"),
                )
            )
        field_error(EDIT_FORM, "repeat_count")
    if start_day is None or end_day is None or start_time is None or end_time is None:
        return None, repeat, count
    data = svc.ActivityInput(
        title=title,
        category=category,
        starts_at=local_datetime(start_day, start_time),
        ends_at=local_datetime(end_day, end_time),
        province=province,
        organiser_id=organiser,
        co_organiser_ids=tuple(co),
        place=place,
        online=online,
        online_link=link,
        description=description,
        capacity=int(capacity) or None,
    )
    return data, repeat, count


def conflicts_check(prefix: str, data: svc.ActivityInput, starts: list[datetime] | None, exclude: int | None) -> bool:
    """Warn of double bookings; True when there are none or the user has confirmed saving anyway."""
    with transaction() as session:
        found = svc.find_conflicts(session=session, actor=actor, data=data, exclude_id=exclude, starts=starts)
    if not found:
        return True
    lines = [
        f"- {format_datetime(c.starts_at)} {plain(c.title)}（{t(f'cal.conflict_{c.reason}')}）" for c in found[:10]
    ]
    st.warning(t("cal.conflicts", count=len(found)) + "\n\n" + "\n".join(lines), icon=":material/event_busy:")
    return bool(st.checkbox(t("cal.save_anyway"), key=fresh_key(f"{prefix}_anyway")))


def new_activity_page() -> None:
    st.title(t("cal.new_title"))
    initial = None
    copy_of = st.query_params.get("copy")
    if copy_of and copy_of.isdigit():
        try:
            with transaction() as session:
                initial = svc.get_activity(session=session, actor=actor, activity_id=int(copy_of)).as_input()
            st.info(t("cal.copy_hint"), icon=":material/content_copy:")
        except NotFound:
            st.warning(t("error.not_found"))
    # every field is keyed by this prefix: a new generation after a save starts the next form empty
    prefix = f"a_new_{copy_of or 'blank'}_{st.session_state.get('_a_new_gen', 0)}"
    data, repeat, count = activity_form(prefix, initial, creating=True)
    field_error(EDIT_FORM, "_form")
    back, save_col = st.columns([1, 1])
    if back.button(t("cal.back"), icon=":material/arrow_back:", key="a_new_back"):
        st.query_params.clear()
        st.rerun()
    if data is None:
        return
    starts = None
    try:
        starts = series_starts(data.starts_at, Repeat(repeat), count)
    except DomainError:
        starts = None
    confirmed = conflicts_check(prefix, data, starts, None)
    if save_col.button(t("cal.save_new"), type="primary", key="a_new_save", disabled=not confirmed):
        created: list[int] = []
        if save(
            EDIT_FORM,
            lambda s: created.extend(
                svc.create_activity(session=s, actor=actor, data=data, repeat=repeat, count=count)
            ),
        ):
            st.query_params.clear()
            st.query_params["id"] = str(created[0])
            message = t("cal.created_series", count=len(created)) if len(created) > 1 else t("cal.created")
            st.session_state["_a_new_gen"] = int(st.session_state.get("_a_new_gen", 0)) + 1
            done(message)
        st.rerun()


# --------------------------------------------------------------------------------------------- one activity


def back_to_calendar() -> None:
    if st.button(t("cal.back"), icon=":material/arrow_back:", key="a_back"):
        forget_seen()
        st.query_params.clear()
        st.rerun()


def activity_page(activity_id: int) -> None:
    try:
        with transaction() as session:
            a = svc.get_activity(session=session, actor=actor, activity_id=activity_id)
    except NotFound:
        st.title(t("page.calendar"))
        st.warning(t("error.not_found"))
        back_to_calendar()
        return
    back_to_calendar()
    st.title(plain(a.title))
    notice()
    seen = int(st.session_state.setdefault(f"_a_seen_{a.id}", a.version))
    if seen != a.version:
        st.warning(t("cal.changed_meanwhile"), icon=":material/sync_problem:")
        if st.button(t("common.reload"), key="a_reload"):
            forget_seen()
            st.rerun()
    colour = {"planned": "blue", "ongoing": "green", "finished": "gray", "cancelled": "red"}[a.status]
    st.markdown(
        f":{colour}-badge[{enum_label('activity_status', a.status)}] "
        f":gray-badge[{enum_label('category', a.category)}]"
        + (f" :violet-badge[{t('cal.series')}]" if a.series_id else "")
    )
    if a.cancelled_at is not None:
        st.error(
            t("cal.cancelled_note", date=format_date(a.cancelled_at), reason=plain(a.cancel_reason)),
            icon=":material/event_busy:",
        )
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('cal.when')}**：{format_datetime(a.starts_at)} – {format_datetime(a.ends_at)}")
        st.markdown(f"**{t('field.organiser')}**：{plain(a.organiser) or t('cal.secretariat')}")
        if a.co_organisers:
            st.markdown(f"**{t('field.co_organisers')}**：" + "、".join(plain(n) for _, n in a.co_organisers))
        st.markdown(f"**{t('field.province')}**：{a.province}")
    with right:
        st.markdown(f"**{t('cal.where')}**：{t('cal.online') if a.online else plain(a.place)}")
        if a.online_link:
            st.link_button(t("cal.join_online"), a.online_link, icon=":material/videocam:")
        capacity = str(a.capacity) if a.capacity else t("cal.unlimited")
        st.markdown(f"**{t('cal.places')}**：{t('cal.places_used', used=a.confirmed_people, capacity=capacity)}")
        if a.waitlisted_people:
            st.markdown(f"**{t('cal.waitlist')}**：{t('cal.people', count=a.waitlisted_people)}")
    if a.description:
        st.text(a.description)
    with transaction() as session:
        items, _ = svc.ics_activities(session=session, actor=actor, activity_id=a.id)
    st.download_button(
        t("cal.ics_one"),
        calendar_bytes(items),
        file_name=f"activity-{a.id}.ics",
        mime=ICS_MIME,
        key="a_ics",
        icon=":material/event:",
        on_click="ignore",
    )
    tabs = [t("cal.tab_signups"), t("cal.tab_outcome")]
    if is_staff and a.cancelled_at is None:
        tabs += [t("cal.tab_edit"), t("cal.tab_cancel")]
    panes = st.tabs(tabs, key=f"a_tabs_{a.id}")  # keyed: the chosen tab stays chosen after a save
    with panes[0]:
        signups_section(a)
    with panes[1]:
        outcome_section(a, seen)
    if len(panes) > 2:
        with panes[2]:
            edit_section(a, seen)
        with panes[3]:
            cancel_section(a, seen)
    if is_staff:
        if st.button(t("cal.copy"), icon=":material/content_copy:", key="a_copy"):
            st.query_params.clear()
            st.query_params["new"] = "1"
            st.query_params["copy"] = str(a.id)
            st.rerun()


def signups_section(a: svc.ActivityDetail) -> None:
    live = [s for s in a.signups if s.status != SignupStatus.CANCELLED.value]
    withdrawn = [s for s in a.signups if s.status == SignupStatus.CANCELLED.value]
    headers = [
        t("cal.unit"),
        t("field.province"),
        t("field.signup_kind"),
        t("field.status"),
        t("field.people"),
        t("field.note"),
        t("cal.signed_up_at"),
    ]

    def status_text(s: svc.SignupRow) -> str:
        if s.status == SignupStatus.WAITLISTED.value:
            return t("cal.waitlist_position", position=s.position)
        return enum_label("signup_status", s.status)

    # viewers do not receive notes (the service leaves them out): no empty column either
    with_notes = actor.role != Role.VIEWER
    if not with_notes:
        headers.remove(t("field.note"))

    def lines(rows: list[svc.SignupRow]) -> list[list[object]]:
        return [
            [
                s.unit,
                s.province,
                enum_label("signup_kind", s.kind),
                status_text(s),
                s.people,
                *([s.note] if with_notes else []),
                format_datetime(s.created_at),
            ]
            for s in rows
        ]

    if live:
        st.dataframe(pd.DataFrame(lines(live), columns=headers), hide_index=True, width="stretch")
    else:
        open_for_signups = is_staff and a.cancelled_at is None and a.status != ActivityStatus.FINISHED.value
        st.info(t("cal.no_signups_staff" if open_for_signups else "cal.no_signups"), icon=":material/group_add:")
    if withdrawn:
        with st.expander(t("cal.withdrawn", count=len(withdrawn))):
            st.dataframe(
                pd.DataFrame(
                    [
                        [
                            s.unit,
                            enum_label("signup_kind", s.kind),
                            s.people,
                            s.cancel_reason,
                            format_datetime(s.cancelled_at),
                        ]
                        for s in withdrawn
                    ],
                    columns=[
                        t("cal.unit"),
                        t("field.signup_kind"),
                        t("field.people"),
                        t("field.cancel_reason"),
                        t("cal.withdrawn_at"),
                    ],
                ),
                hide_index=True,
                width="stretch",
            )
    if a.signups:
        export_buttons(
            "a_signups", t("cal.signups_file", id=a.id), lambda: (headers, lines(a.signups)), hint=t("cal.export_hint")
        )
    if not is_staff or a.cancelled_at is not None or a.status == ActivityStatus.FINISHED.value:
        return
    st.markdown(f"**{t('cal.add_signup')}**")
    query = st.text_input(t("cal.search_unit"), key=fresh_key("a_su_q"))
    with transaction() as session:
        found = dict(svc.signup_candidates(session=session, actor=actor, activity_id=a.id, text=query))
    unit = st.selectbox(
        t("cal.unit"),
        [None, *found],
        format_func=lambda v: t("cal.choose_unit") if v is None else found[v],
        key=fresh_key("a_su_unit"),
    )
    field_error(SIGNUP_FORM, "organisation")
    left, right = st.columns(2)
    kind = left.radio(
        t("field.signup_kind"),
        [k.value for k in SignupKind],
        format_func=lambda v: enum_label("signup_kind", v),
        horizontal=True,
        key=fresh_key("a_su_kind"),
    )
    people = right.number_input(
        t("field.people"), min_value=1, max_value=10_000, value=1, step=1, key=fresh_key("a_su_people")
    )
    field_error(SIGNUP_FORM, "people")
    note = st.text_input(t("field.note"), key=fresh_key("a_su_note"), max_chars=500)
    field_error(SIGNUP_FORM, "_form")
    if st.button(t("cal.save_signup"), type="primary", key="a_su_save"):
        if unit is None:
            remember_error(SIGNUP_FORM, ValidationError("validation.required", field="organisation"))
            st.rerun()
        result: list[svc.SignupResult] = []
        if save(
            SIGNUP_FORM,
            lambda s: result.append(
                svc.add_signup(
                    session=s,
                    actor=actor,
                    activity_id=a.id,
                    organisation_id=unit,
                    people=int(people),
                    kind=kind,
                    note=note,
                )
            ),
        ):
            key = {"confirmed": "cal.signup_confirmed", "waitlisted": "cal.signup_waitlisted"}.get(
                result[0].status, "cal.invitation_saved"
            )
            done(t(key, unit=plain(found[unit])), "a_su_q", "a_su_unit", "a_su_kind", "a_su_people", "a_su_note")
        st.rerun()
    if live:
        st.markdown(f"**{t('cal.withdraw')}**")
        by_id = {s.id: s for s in live}
        # the versions of the sign-ups as this user first saw them here: a withdrawal is checked against them
        seen_versions = st.session_state.setdefault(f"_su_seen_{a.id}", {s.id: s.version for s in a.signups})
        if any(seen_versions.get(s.id, s.version) != s.version for s in a.signups):
            st.warning(t("cal.signups_changed"), icon=":material/sync_problem:")
            if st.button(t("common.reload"), key="a_su_reload"):
                forget_seen()
                st.rerun()
        chosen = st.selectbox(
            t("cal.unit"),
            [None, *by_id],
            key=fresh_key("a_wd_pick"),
            format_func=lambda v: (
                t("cal.choose_unit")
                if v is None
                else f"{by_id[v].unit}（{status_text(by_id[v])}，{t('cal.people', count=by_id[v].people)}）"
            ),
        )
        reason = st.text_input(t("field.cancel_reason"), key=fresh_key("a_wd_reason"), max_chars=500)
        sure = st.checkbox(t("cal.confirm_withdraw"), key=fresh_key("a_wd_sure"))
        field_error(WITHDRAW_FORM, "_form")
        if st.button(t("cal.do_withdraw"), key="a_wd_save", disabled=chosen is None or not sure):
            promoted: list[list[int]] = []
            target = by_id[chosen]
            if save(
                WITHDRAW_FORM,
                lambda s: promoted.append(
                    svc.cancel_signup(
                        session=s,
                        actor=actor,
                        signup_id=target.id,
                        expected_version=seen_versions.get(target.id, target.version),
                        reason=reason,
                    )
                ),
            ):
                names = {s.organisation_id: s.unit for s in a.signups}
                message = t("cal.withdrawn_done", unit=plain(target.unit))
                if promoted[0]:
                    message += " " + t("cal.promoted", units="、".join(plain(names[u]) for u in promoted[0]))
                done(message, "a_wd_pick", "a_wd_reason", "a_wd_sure")
            st.rerun()


def outcome_section(a: svc.ActivityDetail, seen: int) -> None:
    if a.outcome_at is not None:
        x, y = st.columns(2)
        x.metric(t("field.volunteers"), a.volunteers or 0)
        y.metric(t("field.service_hours"), f"{(a.service_hours or 0):,.1f}")
        if a.outcome_summary:
            st.text(a.outcome_summary)
        if a.outcome_link:
            st.link_button(t("cal.outcome_open"), a.outcome_link, icon=":material/link:")
        st.caption(t("cal.outcome_recorded", date=format_datetime(a.outcome_at)))
    elif a.status in (ActivityStatus.PLANNED.value, ActivityStatus.CANCELLED.value):
        st.caption(t("cal.outcome_later"))
    else:
        st.info(t("cal.outcome_missing"), icon=":material/pending_actions:")
    if not is_staff or a.status in (ActivityStatus.PLANNED.value, ActivityStatus.CANCELLED.value):
        return
    with st.form(OUTCOME_FORM, enter_to_submit=False):
        left, right = st.columns(2)
        volunteers = left.number_input(
            t("field.volunteers"),
            min_value=0,
            max_value=1_000_000,
            step=1,
            value=a.volunteers or 0,
            key=f"a_out_v_{a.id}_{seen}",
        )
        hours = right.number_input(
            t("field.service_hours"),
            min_value=0.0,
            step=0.5,
            format="%.1f",
            value=float(a.service_hours or 0),
            key=f"a_out_h_{a.id}_{seen}",
        )
        field_error(OUTCOME_FORM, "volunteers")
        field_error(OUTCOME_FORM, "service_hours")
        summary = st.text_area(
            t("field.summary"), value=a.outcome_summary, max_chars=2000, key=f"a_out_s_{a.id}_{seen}"
        )
        field_error(OUTCOME_FORM, "summary")
        link = st.text_input(t("field.outcome_link"), value=a.outcome_link, key=f"a_out_l_{a.id}_{seen}")
        field_error(OUTCOME_FORM, "outcome_link")
        submitted = st.form_submit_button(t("cal.save_outcome"), type="primary")
    field_error(OUTCOME_FORM, "_form")
    if submitted:
        outcome = Outcome(volunteers=int(volunteers), service_hours=hours, summary=summary, link=link)  # type: ignore[arg-type]
        if save(
            OUTCOME_FORM,
            lambda s: svc.record_outcome(
                session=s, actor=actor, activity_id=a.id, expected_version=seen, outcome=outcome
            ),
        ):
            done(t("cal.outcome_saved"))
        st.rerun()


def edit_section(a: svc.ActivityDetail, seen: int) -> None:
    prefix = f"a_edit_{a.id}_{seen}"
    data, _, _ = activity_form(prefix, a.as_input(), creating=False)
    field_error(EDIT_FORM, "_form")
    if data is None:
        return
    confirmed = conflicts_check(prefix, data, None, a.id)
    if st.button(t("common.save"), type="primary", key="a_edit_save", disabled=not confirmed):
        if save(
            EDIT_FORM,
            lambda s: svc.update_activity(session=s, actor=actor, activity_id=a.id, expected_version=seen, data=data),
        ):
            done(t("cal.saved"))
        st.rerun()


def cancel_section(a: svc.ActivityDetail, seen: int) -> None:
    st.caption(t("cal.cancel_hint"))
    reason = st.text_area(t("field.cancel_reason") + " *", key=fresh_key("a_cancel_reason"), max_chars=500)
    field_error(CANCEL_FORM, "cancel_reason")
    sure = st.checkbox(t("cal.confirm_cancel"), key=fresh_key("a_cancel_sure"))
    field_error(CANCEL_FORM, "_form")
    if st.button(t("cal.do_cancel"), key="a_cancel_save", disabled=not sure):
        if save(
            CANCEL_FORM,
            lambda s: svc.cancel_activity(
                session=s, actor=actor, activity_id=a.id, expected_version=seen, reason=reason
            ),
        ):
            done(t("cal.cancelled_done"), "a_cancel_reason", "a_cancel_sure")
        st.rerun()


# --------------------------------------------------------------------------------------------- the page

activity_param = st.query_params.get("id")
if activity_param is not None:
    if activity_param.isdigit():
        activity_page(int(activity_param))
    else:
        st.title(t("page.calendar"))
        st.warning(t("error.not_found"))
        back_to_calendar()
elif st.query_params.get("new") == "1" and is_staff:
    new_activity_page()
else:
    views()
