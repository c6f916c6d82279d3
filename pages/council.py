"""Council (理事会): the seat board of the current session, rotation (换届), the timeline and composition, work
meetings (?meeting=…) and the history of every term. The secretariat acts; council users read everything;
viewers see the seat board and the timeline without people's names."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services import applications, council, meetings
from db.services.organisations import search_members
from domain.clock import SHANGHAI, today
from domain.council import SEATS, Attendance, Intent, MeetingKind, TermSource, Vote
from domain.errors import NotFound, ValidationError
from domain.roles import Role
from ui.auth import require_role
from ui.charts import counts_bar, term_rows, term_timeline
from ui.forms import field_error, finish, fresh_key, plain, remember_error, save, show_notice
from ui.i18n import enum_label, format_date, format_datetime, t
from ui.printable import minutes_html, notice_html
from ui.tabular import export_buttons, record_table

NOTICE = "_council_notice"
SEAT_FORM, END_FORM, REP_FORM, INTENT_FORM, ROTATE_FORM = "c_seat", "c_end", "c_rep", "c_intent", "c_rotate"
MEETING_FORM, ATTEND_FORM, DECISION_FORM, MINUTES_FORM = "m_new", "m_attend", "m_decision", "m_minutes"

user = require_role("council")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
reads_all = actor.role in (Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL)
on = today()


SEEN = ("_c_seen_", "_m_seen_")


def notice() -> None:
    show_notice(NOTICE)


def done(message: str, *bases: str) -> None:
    """After a successful action: say so, empty the forms named, forget what the user had seen, run again."""
    finish(NOTICE, message, *bases, forget=SEEN)


def forget_seen() -> None:
    for key in [k for k in st.session_state if str(k).startswith(SEEN)]:
        st.session_state.pop(key, None)


def _marks(board: list[council.BoardSeat]) -> list[tuple[int, int | None, int, str | None]]:
    return [(b.seat, b.term_id, b.version, b.continue_intent) for b in board]


def seen_board(current: council.SessionRow, board: list[council.BoardSeat]) -> list[council.BoardSeat]:
    """The seats as this user first saw them: the forms offer and check exactly those (a seat list rebuilt on
    every run would shift under a stale tab and act on another seat). A change by someone else is announced."""
    seen: list[council.BoardSeat] = st.session_state.setdefault(f"_c_seen_{current.id}", board)
    if _marks(seen) != _marks(board):
        st.warning(t("council.changed_meanwhile"), icon=":material/sync_problem:")
        if st.button(t("common.reload"), key="c_reload"):
            forget_seen()
            st.rerun()
    return seen


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# ---------------------------------------------------------------- seats


def first_session_form() -> None:
    """No session yet: the secretariat opens the first (第一届) from a date."""
    st.info(t("council.no_session_staff" if is_staff else "council.no_session"), icon=":material/info:")
    if not is_staff:
        return
    with st.form("c_first"):
        starts = st.date_input(t("council.first_starts"), value=on, format="YYYY-MM-DD", key="c_first_start")
        submitted = st.form_submit_button(t("council.open_first"), type="primary")
    field_error("c_first", "starts_on")
    if submitted and save("c_first", lambda s: council.create_session(session=s, actor=actor, starts_on=starts)):
        done(t("council.first_opened"))
    elif submitted:
        st.rerun()


def unit_picker(prefix: str, queue: list[applications.QueuedUnit]) -> tuple[int | None, str, int | None]:
    """Choose a unit from the queue of approved council-unit applications, or invite a member; returns
    (organisation id, source, application id)."""
    way = st.radio(
        t("council.how"),
        ["queue", "invite"],
        format_func=lambda v: t(f"council.how_{v}"),
        horizontal=True,
        key=fresh_key(f"{prefix}_way"),
    )
    if way == "queue":
        if not queue:
            st.caption(t("council.queue_empty"))
            return None, "", None
        by_id = {q.application_id: q for q in queue}
        chosen = st.selectbox(
            t("council.queue"),
            list(by_id),
            format_func=lambda a: (
                f"{by_id[a].name}（{by_id[a].reference} · {enum_label('channel', by_id[a].channel)}）"
            ),
            key=fresh_key(f"{prefix}_queue"),
        )
        item = by_id[chosen]
        return item.organisation_id, item.channel, item.application_id
    query = st.text_input(t("council.member_search"), key=fresh_key(f"{prefix}_search"))
    with transaction() as session:
        found = dict(search_members(session=session, text=query))
    picked = st.selectbox(
        t("council.unit"),
        [None, *found],
        format_func=lambda v: t("council.choose_unit") if v is None else found[v],
        key=fresh_key(f"{prefix}_member"),
    )
    return picked, TermSource.INVITED.value, None


def seat_actions(current: council.SessionRow, board: list[council.BoardSeat]) -> None:
    """The secretariat's actions on the seat board."""
    with transaction() as session:
        queue = applications.council_queue(session=session, actor=actor)
    vacant = [b for b in board if b.term_id is None]
    held = [b for b in board if b.term_id is not None]
    with st.expander(t("council.fill_seat"), icon=":material/person_add:", expanded=bool(vacant)):
        if not vacant:
            st.caption(t("council.no_vacancy"))
        else:
            seat = st.selectbox(
                t("council.seat"),
                [b.seat for b in vacant],
                format_func=lambda s: (
                    t("council.seat_n", seat=s)
                    + (
                        f" · {t('council.by_election')}"
                        if next(b for b in vacant if b.seat == s).vacated_term_id
                        else ""
                    )
                ),
                key=fresh_key("c_seat_no"),
            )
            slot = next(b for b in vacant if b.seat == seat)
            unit, source, application_id = unit_picker("c_seat", queue)
            representative = st.text_input(t("field.representative"), key=fresh_key("c_seat_rep"))
            starts = st.date_input(
                t("field.starts_on"),
                value=max(on, current.starts_on),
                min_value=current.starts_on,
                max_value=current.ends_on - timedelta(days=1),
                format="YYYY-MM-DD",
                key=fresh_key("c_seat_start"),
            )
            field_error(SEAT_FORM, "organisation_id")
            field_error(SEAT_FORM, "application_id")
            field_error(SEAT_FORM, "starts_on")
            field_error(SEAT_FORM, "seat")
            for field in ("representative", "source", "ends_on"):  # refusals with no box of their own
                field_error(SEAT_FORM, field)
            field_error(SEAT_FORM, "_form")
            if st.button(t("council.seat_unit"), type="primary", key=fresh_key("c_seat_go")):
                if unit is None:
                    remember_error(SEAT_FORM, ValidationError("validation.required", field="organisation_id"))
                    st.rerun()

                def write(session):  # type: ignore[no-untyped-def]
                    if slot.vacated_term_id is not None:
                        return council.fill_by_election(
                            session=session,
                            actor=actor,
                            vacated_term_id=slot.vacated_term_id,
                            organisation_id=unit,
                            representative=representative,
                            starts_on=starts,
                            application_id=application_id,
                        )
                    return council.seat_term(
                        session=session,
                        actor=actor,
                        session_id=current.id,
                        seat=seat,
                        organisation_id=unit,
                        source=source,
                        representative=representative,
                        starts_on=starts,
                        application_id=application_id,
                    )

                if save(SEAT_FORM, write):
                    done(
                        t("council.seated", seat=seat),
                        "c_seat_no",
                        "c_seat_way",
                        "c_seat_queue",
                        "c_seat_search",
                        "c_seat_member",
                        "c_seat_rep",
                        "c_seat_start",
                    )
                st.rerun()
    if not held:
        return
    labels = {b.seat: f"{t('council.seat_n', seat=b.seat)} · {b.unit}" for b in held}
    with st.expander(t("council.end_early"), icon=":material/logout:"), st.form(END_FORM):
        seat = st.selectbox(
            t("council.seat"), list(labels), format_func=labels.__getitem__, key=fresh_key("c_end_seat")
        )
        ends = st.date_input(t("council.end_on"), value=on, format="YYYY-MM-DD", key=fresh_key("c_end_on"))
        reason = st.text_area(t("field.ended_reason"), key=fresh_key("c_end_reason"))
        field_error(END_FORM, "ended_reason")
        field_error(END_FORM, "ends_on")
        confirm = st.checkbox(t("council.confirm_end"), key=fresh_key("c_end_confirm"))
        field_error(END_FORM, "confirm")
        submitted = st.form_submit_button(t("council.end_term"))
    field_error(END_FORM, "_form")
    if submitted:
        slot = next(b for b in held if b.seat == seat)
        if not confirm:
            remember_error(END_FORM, ValidationError("validation.confirm_required", field="confirm"))
        elif save(
            END_FORM,
            lambda s: council.end_term_early(
                session=s, actor=actor, term_id=slot.term_id, expected_version=slot.version, ends_on=ends, reason=reason
            ),
        ):
            done(t("council.ended", seat=seat), "c_end_seat", "c_end_on", "c_end_reason", "c_end_confirm")
        st.rerun()
    with st.expander(t("council.change_rep"), icon=":material/badge:"), st.form(REP_FORM):
        seat = st.selectbox(
            t("council.seat"), list(labels), format_func=labels.__getitem__, key=fresh_key("c_rep_seat")
        )
        person = st.text_input(t("council.new_rep"), key=fresh_key("c_rep_name"))
        field_error(REP_FORM, "representative")
        submitted = st.form_submit_button(t("common.save"))
    field_error(REP_FORM, "_form")
    if submitted:
        slot = next(b for b in held if b.seat == seat)
        if save(
            REP_FORM,
            lambda s: council.change_representative(
                session=s, actor=actor, term_id=slot.term_id, expected_version=slot.version, representative=person
            ),
        ):
            done(t("council.rep_changed", seat=seat), "c_rep_seat", "c_rep_name")
        st.rerun()


def seats_view(current: council.SessionRow | None) -> None:
    """The ten seats of the session in force today."""
    if current is None:
        first_session_form()
        return
    with transaction() as session:
        board = council.seat_board(session=session, actor=actor, session_id=current.id, on=board_day)
    left = max(0, (current.ends_on - on).days)
    st.subheader(t("council.session_title", number=current.number))
    st.caption(f"{t('council.session_period')}：{format_date(current.starts_on)} – {format_date(current.ends_on)}")
    cols = st.columns(2)
    cols[0].metric(t("council.seats_filled"), f"{sum(1 for b in board if b.term_id)}/{SEATS}")
    cols[1].metric(t("council.rotation_in"), t("council.days", days=left))
    table = pd.DataFrame(
        {
            t("council.seat"): [b.seat for b in board],
            t("council.unit"): [b.unit or t("council.vacant") for b in board],
            t("field.kind"): [enum_label("org_kind", b.kind) if b.kind else "" for b in board],
            t("field.province"): [b.province for b in board],
            **({t("field.representative"): [b.representative for b in board]} if reads_all else {}),
            t("council.source"): [enum_label("term_source", b.source) if b.source else "" for b in board],
            # text columns: a vacancy shows blank cells, not "None"
            t("council.consecutive"): [str(b.consecutive) if b.term_id else "" for b in board],
            t("council.days_left"): [str(b.days_left) if b.term_id else "" for b in board],
            t("council.attendance_rate"): [_percent(b.attendance) if b.term_id else "" for b in board],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(board) + 1) + 3)
    st.caption(t("council.board_hint"))
    if is_staff:
        seat_actions(current, seen_board(current, board))


# ---------------------------------------------------------------- rotation


def rotation_view(current: council.SessionRow | None) -> None:
    """换届: the countdown, each sitting unit's intention, the candidates, and the plan for the next session."""
    if current is None:
        first_session_form()
        return
    with transaction() as session:
        board = council.seat_board(session=session, actor=actor, session_id=current.id, on=board_day)
        all_sessions = council.sessions(session=session)
        queue = applications.council_queue(session=session, actor=actor)
    following = [s for s in all_sessions if s.number == current.number + 1]
    left = max(0, (current.ends_on - on).days)
    st.subheader(t("council.rotation_title", number=current.number + 1))
    st.metric(t("council.rotation_in"), t("council.days", days=left))
    st.caption(f"{t('council.rotation_date')}：{format_date(current.ends_on)}")
    if following:
        st.success(t("council.next_open", number=current.number + 1), icon=":material/check_circle:")
        return
    held = [b for b in (seen_board(current, board) if is_staff else board) if b.term_id is not None]
    st.markdown(f"**{t('council.intents')}**")
    with st.form(INTENT_FORM):
        intents: dict[int, str | None] = {}
        options: list[str | None] = [None, *[i.value for i in Intent]]
        for b in held:
            intents[b.seat] = st.selectbox(
                f"{t('council.seat_n', seat=b.seat)} · {plain(b.unit)}",
                options,
                index=options.index(b.continue_intent),
                format_func=lambda v: t("council.intent_unknown") if v is None else enum_label("intent", v),
                key=fresh_key(f"c_intent_{b.seat}"),
                disabled=not is_staff,
            )
        saved = st.form_submit_button(t("council.save_intents"), disabled=not is_staff)
    field_error(INTENT_FORM, "_form")
    if saved and is_staff:

        def write_intents(session):  # type: ignore[no-untyped-def]
            for b in held:
                if intents[b.seat] != b.continue_intent:
                    council.set_continue_intent(
                        session=session,
                        actor=actor,
                        term_id=b.term_id,
                        expected_version=b.version,
                        intent=intents[b.seat],
                    )

        if save(INTENT_FORM, write_intents):
            # the plan below starts again from the new intentions
            done(
                t("council.intents_saved"),
                *[f"c_intent_{b.seat}" for b in held],
                *[f"c_plan_{n}" for n in range(1, SEATS + 1)],
            )
        st.rerun()
    st.markdown(f"**{t('council.candidates')}**")
    if queue:
        st.dataframe(
            pd.DataFrame(
                {
                    t("council.unit"): [q.name for q in queue],
                    t("applications.reference"): [q.reference for q in queue],
                    t("field.channel"): [enum_label("channel", q.channel) for q in queue],
                    t("applications.decided_at"): [format_date(q.decided_at) for q in queue],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(t("council.queue_empty"))
    if not is_staff:
        return
    # Candidates: sitting units (unless they said they leave), the queue, and members invited by search.
    choices: dict[int, tuple[str, str, int | None]] = {}
    for b in held:
        if b.continue_intent != Intent.LEAVE.value and b.organisation_id is not None:
            source = TermSource.INVITED.value if b.source == TermSource.BY_ELECTION.value else b.source
            choices[b.organisation_id] = (b.unit, source, None)
    for q in queue:
        choices[q.organisation_id] = (f"{q.name}（{t('council.from_queue')}）", q.channel, q.application_id)
    invited = st.session_state.setdefault("_c_invited", {})
    query = st.text_input(t("council.invite_search"), key="c_invite_search")
    if query.strip():
        with transaction() as session:
            found = dict(search_members(session=session, text=query, limit=10))
        add = st.selectbox(
            t("council.invite_add"),
            [None, *found],
            format_func=lambda v: t("council.choose_unit") if v is None else found[v],
            key="c_invite_pick",
        )
        if add is not None and add not in invited:
            invited[add] = found[add]
    for unit, name in invited.items():
        choices.setdefault(unit, (f"{name}（{t('council.how_invite')}）", TermSource.INVITED.value, None))
    st.markdown(f"**{t('council.plan')}**")
    defaults = {b.seat: b.organisation_id for b in held if b.organisation_id in choices}
    with st.form(ROTATE_FORM):
        plan: dict[int, int | None] = {}
        people: dict[int, str] = {}
        for seat in range(1, SEATS + 1):
            left_col, right_col = st.columns([3, 2])
            keys = [None, *choices]
            plan[seat] = left_col.selectbox(
                t("council.seat_n", seat=seat),
                keys,
                index=keys.index(defaults.get(seat)) if defaults.get(seat) in keys else 0,
                format_func=lambda v: t("council.choose_unit") if v is None else choices[v][0],
                key=fresh_key(f"c_plan_{seat}"),
            )
            people[seat] = right_col.text_input(t("field.representative"), key=fresh_key(f"c_plan_rep_{seat}"))
        confirm = st.checkbox(t("council.confirm_rotation", number=current.number + 1), key=fresh_key("c_plan_ok"))
        field_error(ROTATE_FORM, "confirm")
        field_error(ROTATE_FORM, "seat")
        for field in ("organisation_id", "representative", "source", "starts_on", "application_id"):
            field_error(ROTATE_FORM, field)
        submitted = st.form_submit_button(t("council.rotate"), type="primary")
    field_error(ROTATE_FORM, "_form")
    if submitted:
        if not confirm:
            remember_error(ROTATE_FORM, ValidationError("validation.confirm_required", field="confirm"))
            st.rerun()
        planned = [
            council.PlannedSeat(
                seat=seat,
                organisation_id=unit,
                source=choices[unit][1],
                representative=people[seat],
                application_id=choices[unit][2],
            )
            for seat, unit in plan.items()
            if unit is not None
        ]
        if save(ROTATE_FORM, lambda s: council.rotate(session=s, actor=actor, plan=planned)):
            st.session_state.pop("_c_invited", None)
            done(
                t("council.rotated", number=current.number + 1),
                *[f"c_plan_{n}" for n in range(1, SEATS + 1)],
                *[f"c_plan_rep_{n}" for n in range(1, SEATS + 1)],
                "c_plan_ok",
            )
        st.rerun()


# ---------------------------------------------------------------- timeline and composition


def timeline_view() -> None:
    """Every term over time, and the council's composition on a chosen date."""
    with transaction() as session:
        history = council.term_history(session=session, actor=actor)
    if not history:
        st.info(t("council.no_terms"), icon=":material/info:")
        return
    st.altair_chart(term_timeline(term_rows(history), on), width="stretch")
    day = st.date_input(t("council.composition_on"), value=on, format="YYYY-MM-DD", key="c_comp_day")
    with transaction() as session:
        by_kind, by_province = council.composition(session=session, on=day)
    if not by_kind:
        st.caption(t("council.nobody_on", date=format_date(day)))
        return
    left, right = st.columns(2)
    left.altair_chart(
        counts_bar(by_kind, title=t("council.by_kind"), label=t("field.kind"), by_kind=True), width="stretch"
    )
    right.altair_chart(
        counts_bar(by_province, title=t("council.by_province"), label=t("field.province"), by_kind=False),
        width="stretch",
    )


# ---------------------------------------------------------------- meetings


def new_meeting_form() -> None:
    with st.expander(t("council.new_meeting"), icon=":material/event:"), st.form(MEETING_FORM, enter_to_submit=False):
        kind = st.selectbox(
            t("council.meeting_kind"),
            [k.value for k in MeetingKind],
            format_func=lambda v: enum_label("meeting_kind", v),
            key=fresh_key("m_kind"),
        )
        title = st.text_input(t("field.title") + " *", key=fresh_key("m_title"))
        field_error(MEETING_FORM, "title")
        left, right = st.columns(2)
        day = left.date_input(t("council.meeting_day"), value=on, format="YYYY-MM-DD", key=fresh_key("m_day"))
        hour = right.time_input(t("council.meeting_time"), value=time(9, 30), key=fresh_key("m_time"))
        place = st.text_input(t("field.place"), key=fresh_key("m_place"))
        field_error(MEETING_FORM, "place")
        link = st.text_input(t("field.online_link"), key=fresh_key("m_link"))
        field_error(MEETING_FORM, "online_link")
        notice_on = st.date_input(t("field.notice_on"), value=None, format="YYYY-MM-DD", key=fresh_key("m_notice"))
        field_error(MEETING_FORM, "notice_on")
        agenda = st.text_area(t("council.agenda_lines"), key=fresh_key("m_agenda"))
        field_error(MEETING_FORM, "agenda")
        submitted = st.form_submit_button(t("council.save_meeting"), type="primary")
    field_error(MEETING_FORM, "_form")
    if not submitted:
        return
    data = meetings.MeetingInput(
        kind=kind,
        title=title,
        starts_at=datetime.combine(day, hour, tzinfo=SHANGHAI),
        place=place,
        online_link=link,
        notice_on=notice_on,
        agenda=tuple(agenda.splitlines()),
    )
    created: list[int] = []
    if save(MEETING_FORM, lambda s: created.append(meetings.create_meeting(session=s, actor=actor, data=data))):
        st.query_params["meeting"] = str(created[0])
        done(
            t("council.meeting_saved"),
            "m_kind",
            "m_title",
            "m_day",
            "m_time",
            "m_place",
            "m_link",
            "m_notice",
            "m_agenda",
        )
    st.rerun()


def meetings_view() -> None:
    """Work meetings, newest first; select one to open it."""
    if is_staff:
        new_meeting_form()
    with transaction() as session:
        rows = meetings.list_meetings(session=session, actor=actor)
    if not rows:
        st.info(t("council.no_meetings_staff" if is_staff else "council.no_meetings"), icon=":material/info:")
        return
    table = pd.DataFrame(
        {
            t("field.starts_at"): [format_datetime(r.starts_at) for r in rows],
            t("council.meeting_kind"): [enum_label("meeting_kind", r.kind) for r in rows],
            t("field.title"): [r.title for r in rows],
            t("field.place"): [r.place or r.online_link for r in rows],
            t("council.present_of"): [f"{r.present}/{r.expected}" if r.expected else "—" for r in rows],
            t("council.decisions"): [r.decisions for r in rows],
        }
    )
    record_table(table, [r.id for r in rows], key="m_table", hint=t("council.meeting_open_hint"), param="meeting")


def meeting_record(meeting_id: int) -> None:
    """One meeting: agenda, attendance and quorum, decisions with votes, minutes, printable notice and minutes."""
    try:
        with transaction() as session:
            meeting = meetings.get_meeting(session=session, actor=actor, meeting_id=meeting_id)
    except NotFound:
        st.warning(t("error.not_found"))
        back_to_meetings()
        return
    st.title(plain(meeting.title))
    notice()
    # The version this user saw: every save is checked against it (and the widgets keep their keys, so what was
    # typed stays on screen when another user saved first).
    seen = int(st.session_state.setdefault(f"_m_seen_{meeting.id}", meeting.version))
    if seen != meeting.version:
        st.warning(t("council.meeting_changed_meanwhile"), icon=":material/sync_problem:")
        if st.button(t("common.reload"), key="m_reload"):
            forget_seen()
            st.rerun()
    where = meeting.place or ""
    st.caption(
        " · ".join(
            x
            for x in (
                enum_label("meeting_kind", meeting.kind),
                format_datetime(meeting.starts_at),
                plain(where),
            )
            if x
        )
    )
    if meeting.online_link:
        # The service accepts only http(s) links: a button opens it intact (Markdown would need it broken).
        st.link_button(t("council.join_online"), meeting.online_link, icon=":material/videocam:")
    st.markdown(f"**{t('field.agenda')}**")
    st.text("\n".join(f"{n}. {item}" for n, item in enumerate(meeting.agenda, start=1)) or t("council.no_agenda"))
    units = {a.organisation_id: a.unit for a in meeting.attendance}
    st.subheader(t("field.attendance"))
    quorum_key = "council.quorum_yes" if meeting.quorum else "council.quorum_no"
    (st.success if meeting.quorum else st.warning)(t(quorum_key, present=meeting.present, seated=meeting.seated))
    if is_staff and meeting.attendance:
        with st.form(ATTEND_FORM):
            entries: dict[int, tuple[str, str]] = {}
            statuses: list[str | None] = [None, *[a.value for a in Attendance]]
            for a in meeting.attendance:
                left, right = st.columns([3, 2])
                status = left.selectbox(
                    plain(a.unit),
                    statuses,
                    index=statuses.index(a.status),
                    format_func=lambda v: t("council.not_recorded") if v is None else enum_label("attendance", v),
                    key=f"m_att_{meeting.id}_{seen}_{a.organisation_id}",
                )
                proxy = right.text_input(
                    t("field.proxy"), value=a.proxy, key=f"m_proxy_{meeting.id}_{seen}_{a.organisation_id}"
                )
                if status is not None:  # a unit left 未登记 is not recorded (nobody is present by default)
                    entries[a.organisation_id] = (status, proxy)
            field_error(ATTEND_FORM, "attendance")
            field_error(ATTEND_FORM, "proxy")
            submitted = st.form_submit_button(t("council.save_attendance"))
        field_error(ATTEND_FORM, "_form")
        if submitted:
            if save(
                ATTEND_FORM,
                lambda s: meetings.record_attendance(
                    session=s, actor=actor, meeting_id=meeting.id, expected_version=seen, entries=entries
                ),
            ):
                done(t("council.attendance_saved"))
            st.rerun()
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    t("council.unit"): [a.unit for a in meeting.attendance],
                    t("field.attendance"): [
                        enum_label("attendance", a.status) if a.status else "—" for a in meeting.attendance
                    ],
                    t("field.proxy"): [a.proxy for a in meeting.attendance],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.subheader(t("council.decisions"))
    for d in meeting.decisions:
        result = t("council.passed" if d.passed else "council.not_passed")
        st.markdown(f"**{plain(d.title)}** — {result}")
        if d.text:
            st.text(d.text)
        st.caption(t("council.tally", agree=d.agree, oppose=d.oppose, abstain=d.abstain))
        if d.votes:
            st.dataframe(
                pd.DataFrame(
                    {
                        t("council.unit"): [units.get(u, str(u)) for u in d.votes],
                        t("field.votes"): [enum_label("vote", v) for v in d.votes.values()],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    if not meeting.decisions:
        st.caption(t("council.no_decisions"))
    present = [a for a in meeting.attendance if a.status == Attendance.PRESENT.value]
    if is_staff:
        with st.expander(t("council.new_decision"), icon=":material/how_to_vote:"), st.form(DECISION_FORM):
            title = st.text_input(t("field.title") + " *", key=fresh_key(f"d_title_{meeting.id}"))
            field_error(DECISION_FORM, "title")
            text = st.text_area(t("field.text"), key=fresh_key(f"d_text_{meeting.id}"))
            votes: dict[int, str] = {}
            choices = [None, *[v.value for v in Vote]]
            for a in present:
                vote = st.selectbox(
                    plain(a.unit),
                    choices,
                    format_func=lambda v: t("council.no_vote") if v is None else enum_label("vote", v),
                    key=fresh_key(f"d_vote_{meeting.id}_{a.organisation_id}"),
                )
                if vote is not None:
                    votes[a.organisation_id] = vote
            if not present:
                st.caption(t("council.mark_present_first"))
            field_error(DECISION_FORM, "votes")
            field_error(DECISION_FORM, "text")
            submitted = st.form_submit_button(t("council.save_decision"))
        field_error(DECISION_FORM, "_form")
        if submitted:
            if save(
                DECISION_FORM,
                lambda s: meetings.record_decision(
                    session=s,
                    actor=actor,
                    meeting_id=meeting.id,
                    expected_version=seen,
                    title=title,
                    text=text,
                    votes=votes,
                ),
            ):
                done(
                    t("council.decision_saved"),
                    f"d_title_{meeting.id}",
                    f"d_text_{meeting.id}",
                    *[f"d_vote_{meeting.id}_{a.organisation_id}" for a in present],
                )
            st.rerun()
    st.subheader(t("field.minutes"))
    if is_staff:
        with st.form(MINUTES_FORM):
            minutes = st.text_area(
                t("field.minutes"),
                value=meeting.minutes,
                height=200,
                key=f"m_minutes_{meeting.id}_{seen}",
                label_visibility="collapsed",
            )
            field_error(MINUTES_FORM, "minutes")
            submitted = st.form_submit_button(t("council.save_minutes"))
        field_error(MINUTES_FORM, "_form")
        if submitted:
            data = meetings.MeetingInput(
                kind=meeting.kind,
                title=meeting.title,
                starts_at=meeting.starts_at,
                place=meeting.place,
                online_link=meeting.online_link,
                notice_on=meeting.notice_on,
                minutes=minutes,
                agenda=tuple(meeting.agenda),
            )
            if save(
                MINUTES_FORM,
                lambda s: meetings.update_meeting(
                    session=s, actor=actor, meeting_id=meeting.id, expected_version=seen, data=data
                ),
            ):
                done(t("council.minutes_saved"))
            st.rerun()
    else:
        st.text(meeting.minutes or "—")
    left, right = st.columns(2)
    left.download_button(
        t("council.print_notice"),
        notice_html(meeting),
        file_name=f"notice-{meeting.id}.html",
        mime="text/html",
        icon=":material/print:",
        on_click="ignore",
    )
    right.download_button(
        t("council.print_minutes"),
        minutes_html(meeting, units),
        file_name=f"minutes-{meeting.id}.html",
        mime="text/html",
        icon=":material/print:",
        on_click="ignore",
    )
    back_to_meetings()


def back_to_meetings() -> None:
    if st.button(t("council.back_to_meetings"), icon=":material/arrow_back:"):
        st.query_params.pop("meeting", None)
        st.query_params["view"] = "meetings"
        st.rerun()


# ---------------------------------------------------------------- history


def history_view() -> None:
    """Every term of every session, filtered, exportable."""
    with transaction() as session:
        numbers = [s.number for s in council.sessions(session=session)]
    cols = st.columns(3)
    number = cols[0].selectbox(
        t("council.session"),
        [None, *numbers],
        key="h_session",
        format_func=lambda v: t("common.all") if v is None else t("council.session_title", number=v),
    )
    source = cols[1].selectbox(
        t("council.source"),
        [None, *[s.value for s in TermSource]],
        key="h_source",
        format_func=lambda v: t("common.all") if v is None else enum_label("term_source", v),
    )
    search = cols[2].text_input(t("council.history_search"), key="h_search")
    with transaction() as session:
        rows = council.term_history(session=session, actor=actor, session_number=number, search=search, source=source)
    if not rows:
        st.info(t("council.no_terms"), icon=":material/info:")
        return
    headers = [
        t("council.session"),
        t("council.seat"),
        t("council.unit"),
        t("field.kind"),
        t("field.province"),
        t("field.representative"),
        t("field.starts_on"),
        t("field.ends_on"),
        t("council.source"),
        t("field.status"),
        t("field.ended_reason"),
    ]

    def lines() -> list[list[object]]:
        return [
            [
                t("council.session_title", number=h.session_number),
                h.seat,
                h.unit,
                enum_label("org_kind", h.kind),
                h.province,
                h.representative,
                h.starts_on,
                h.ends_on,
                enum_label("term_source", h.source),
                enum_label("term_status", h.status),
                h.ended_reason,
            ]
            for h in rows
        ]

    st.dataframe(pd.DataFrame(lines(), columns=headers), hide_index=True, width="stretch")
    export_buttons("council_history", t("council.export_name"), lambda: (headers, lines()))


# ---------------------------------------------------------------- the page

meeting_param = st.query_params.get("meeting")
if meeting_param is not None:
    if reads_all and meeting_param.isdigit():
        meeting_record(int(meeting_param))
    else:
        st.title(t("page.council"))
        st.warning(t("error.not_found"))
        back_to_meetings()
    st.stop()

st.title(t("page.council"))
notice()
with transaction() as db:
    current_session = council.current_session(session=db, on=on)
    latest = (council.sessions(session=db) or [None])[-1]
# No session in force today: the last one may have ended without a rotation (overdue), or the first may start
# later. The board then shows that session on its last (or first) day, and the rotation plans from it.
board_day = on
if current_session is None and latest is not None:
    current_session = latest
    board_day = latest.ends_on - timedelta(days=1) if latest.ends_on <= on else latest.starts_on
    if latest.ends_on <= on:
        st.warning(
            t("council.overdue", number=latest.number, date=format_date(latest.ends_on), next=latest.number + 1),
            icon=":material/warning:",
        )
# Viewers (partner demos) see the seat board and the timeline; the rotation planner (with the queue of
# applications), meetings and the history are for the secretariat and the council.
VIEWS = {"seats": seats_view, "timeline": timeline_view}
if reads_all:
    VIEWS = {
        "seats": seats_view,
        "rotation": rotation_view,
        "timeline": timeline_view,
        "meetings": meetings_view,
        "history": history_view,
    }
wanted = st.query_params.get("view")
if "c_view" not in st.session_state:
    # A link (a home-page reminder) may name the view; set through the state only, never also as a default.
    st.session_state["c_view"] = wanted if wanted in VIEWS else "seats"
view = st.segmented_control(
    t("council.view"),
    list(VIEWS),
    format_func=lambda v: t(f"council.view_{v}"),
    key="c_view",
    label_visibility="collapsed",
)
chosen = view or "seats"
if chosen in ("seats", "rotation"):
    VIEWS[chosen](current_session)  # type: ignore[operator]
else:
    VIEWS[chosen]()  # type: ignore[operator]
