"""Model selections (先进典型推选): the rounds; a round's page (?id=…) with its nominations, the council's review
and the result; a nomination's page (?nom=…) with the units' records attached; a new round (?new=1).
The secretariat runs the round; council units score (or recuse) during the review and see only their own scores
until the result is published."""

import pandas as pd
import streamlit as st

from db.engine import transaction
from db.services import benefits
from db.services import selections as svc
from db.services.benefits import UnitRecord
from db.services.organisations import organisation_names
from domain.clock import today
from domain.errors import DomainError, NotFound, PermissionDenied, ValidationError
from domain.roles import Role
from domain.selections import (
    DEFAULT_CATEGORIES,
    MAX_CATEGORIES,
    MAX_PER_UNIT,
    MAX_PLACES,
    CategoryInput,
    NominationInput,
    NomineeKind,
    RoundInput,
    RoundStatus,
)
from ui.auth import require_role
from ui.benefits import records_table
from ui.cache import cached_read
from ui.forms import clear_errors, field_error, finish, fresh_key, plain, remember_error, save, show_notice
from ui.i18n import enum_label, format_date, format_datetime, t
from ui.layout import link_to
from ui.pickers import member_picker
from ui.tabular import export_buttons, record_table

NOTICE = "_sel_notice"
ROUND_FORM, NOM_FORM, END_FORM, PUBLISH_FORM, WITHDRAW_FORM, SCORE_FORM = (
    "sel_round",
    "sel_nom",
    "sel_end",
    "sel_publish",
    "sel_withdraw",
    "sel_score",
)
SEEN = ("_round_seen_", "_nom_seen_", "_score_seen_", "_scores_seen_")
# The units' records attached to nominations read activities, sign-ups, achievements … too.
TOPICS = tuple(dict.fromkeys((*svc.TOPICS, *benefits.TOPICS)))

user = require_role("nominations")
assert user is not None
actor = user.actor()
is_staff = actor.is_staff
is_council = actor.role is Role.COUNCIL
on = today()


def _status_label(rnd: svc.RoundRow) -> str:
    label = enum_label("round_status", rnd.status.value)
    if rnd.status == RoundStatus.REVIEW and not rnd.review_open:
        label += t("sel.review_ended_suffix")
    return label


def _mean(value: object) -> str:
    return "—" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]


def back_to_list() -> None:
    if st.button(t("sel.back_to_list"), icon=":material/arrow_back:"):
        for key in ("id", "nom", "new"):
            st.query_params.pop(key, None)
        st.rerun()


def back_to_round(round_id: int) -> None:
    if st.button(t("sel.back_to_round"), icon=":material/arrow_back:"):
        st.query_params.pop("nom", None)
        st.query_params["id"] = str(round_id)
        st.rerun()


# ---------------------------------------------------------------- the round's form (new and edit)


def round_form(rnd: svc.RoundRow | None, seen_version: int) -> None:
    """Name, year, deadlines, the limit per unit, and up to six categories (an empty name leaves a row unused)."""
    prefix = f"rf_{rnd.id if rnd else 'new'}_{seen_version}"
    first_deadline, second_deadline = svc.default_deadlines(on)
    with st.form(ROUND_FORM):
        name = st.text_input(t("sel.round_name") + " *", value=rnd.name if rnd else "", key=fresh_key(f"{prefix}_name"))
        field_error(ROUND_FORM, "name")
        cols = st.columns(4)
        year = cols[0].number_input(
            t("field.year"), min_value=2000, max_value=2100, step=1, value=rnd.year if rnd else on.year,
            key=fresh_key(f"{prefix}_year"),
        )  # fmt: skip
        nomination_deadline = cols[1].date_input(
            t("field.nomination_deadline"), value=rnd.nomination_deadline if rnd else first_deadline,
            format="YYYY-MM-DD", key=fresh_key(f"{prefix}_nd"),
        )  # fmt: skip
        review_deadline = cols[2].date_input(
            t("field.review_deadline"), value=rnd.review_deadline if rnd else second_deadline,
            format="YYYY-MM-DD", key=fresh_key(f"{prefix}_rd"),
        )  # fmt: skip
        max_per_unit = cols[3].number_input(
            t("field.max_per_unit"), min_value=1, max_value=MAX_PER_UNIT, step=1,
            value=rnd.max_per_unit if rnd else 1, help=t("sel.max_per_unit_help"), key=fresh_key(f"{prefix}_mpu"),
        )  # fmt: skip
        for f in ("year", "nomination_deadline", "review_deadline", "max_per_unit"):
            field_error(ROUND_FORM, f)
        description = st.text_area(
            t("sel.round_description"), value=rnd.description if rnd else "", key=fresh_key(f"{prefix}_desc")
        )
        field_error(ROUND_FORM, "description")
        st.markdown(f"**{t('sel.categories')}**")
        st.caption(t("sel.categories_help"))
        existing = list(rnd.categories) if rnd else []
        rows: list[tuple[str, str, int, int | None]] = []
        kinds = [k.value for k in NomineeKind]
        for slot in range(MAX_CATEGORIES):
            if rnd is not None:
                c = existing[slot] if slot < len(existing) else None
                initial = (c.name, c.nominee_kind, c.places, c.id) if c else ("", NomineeKind.PROJECT.value, 3, None)
            elif slot < len(DEFAULT_CATEGORIES):
                label, kind, places = DEFAULT_CATEGORIES[slot]
                initial = (label, kind.value, places, None)
            else:
                initial = ("", NomineeKind.PROJECT.value, 3, None)
            left, middle, right = st.columns([3, 2, 1])
            c_name = left.text_input(
                t("sel.category_name", n=slot + 1), value=initial[0], key=fresh_key(f"{prefix}_c{slot}_name")
            )
            c_kind = middle.selectbox(
                t("sel.nominee_kind"), kinds, index=kinds.index(initial[1]),
                format_func=lambda v: enum_label("nominee_kind", v), key=fresh_key(f"{prefix}_c{slot}_kind"),
            )  # fmt: skip
            c_places = right.number_input(
                t("sel.places"), min_value=1, max_value=MAX_PLACES, step=1, value=initial[2],
                key=fresh_key(f"{prefix}_c{slot}_places"),
            )  # fmt: skip
            field_error(ROUND_FORM, f"category_{slot}")
            rows.append((c_name, c_kind, int(c_places), initial[3]))
        submitted = st.form_submit_button(t("common.save") if rnd else t("sel.create_round"), type="primary")
    field_error(ROUND_FORM, "_form")
    if not submitted:
        return
    categories = tuple(CategoryInput(n, k, p, i) for n, k, p, i in rows if n.strip())
    data = RoundInput(
        name=name,
        year=int(year),
        nomination_deadline=nomination_deadline,  # type: ignore[arg-type]
        review_deadline=review_deadline,  # type: ignore[arg-type]
        categories=categories,
        max_per_unit=int(max_per_unit),
        description=description,
    )
    created: list[int] = []

    def write(session: object) -> None:
        if rnd is None:
            created.append(svc.create_round(session=session, actor=actor, data=data, today=on))  # type: ignore[arg-type]
        else:
            svc.update_round(session=session, actor=actor, round_id=rnd.id, data=data,  # type: ignore[arg-type]
                             expected_version=seen_version, today=on)  # fmt: skip

    if save(ROUND_FORM, write):
        if created:
            st.query_params.pop("new", None)
            st.query_params["id"] = str(created[0])
        finish(NOTICE, t("sel.round_saved"), forget=SEEN)
    st.rerun()


def new_round_page() -> None:
    st.title(t("sel.new_round"))
    if not is_staff:
        st.warning(t("error.forbidden"))
        back_to_list()
        return
    round_form(None, 0)
    back_to_list()


# ---------------------------------------------------------------- the list of rounds


def rounds_list() -> None:
    st.title(t("page.nominations"))
    show_notice(NOTICE)
    st.caption(t("sel.intro"))
    if is_staff and st.button(t("sel.new_round"), icon=":material/add:", type="primary"):
        st.query_params["new"] = "1"
        st.rerun()
    rounds = cached_read(TOPICS, svc.list_rounds, actor=actor, today=on)
    if not rounds:
        st.info(t("sel.no_rounds_staff") if is_staff else t("sel.no_rounds"))
        return
    table = pd.DataFrame(
        {
            t("sel.round_name"): [r.name for r in rounds],
            t("field.year"): [str(r.year) for r in rounds],
            t("field.status"): [_status_label(r) for r in rounds],
            t("field.nomination_deadline"): [format_date(r.nomination_deadline) for r in rounds],
            t("field.review_deadline"): [format_date(r.review_deadline) for r in rounds],
            t("sel.nominations_count"): [r.nominations for r in rounds],
        }
    )
    record_table(table, [r.id for r in rounds], key="sel_rounds", hint=t("sel.open_hint"))


# ---------------------------------------------------------------- one round


def _unit_picker(prefix: str, label: str, chosen: int | None) -> int | None:
    return member_picker(
        search_key=f"{prefix}_search", pick_key=f"{prefix}_unit", label=label, chosen=chosen, include_secretariat=False
    )


def nomination_form(rnd: svc.RoundRow, current: svc.NominationRow | None, seen_version: int) -> None:
    """Enter (or correct) a member unit's nomination while the call is open."""
    prefix = f"nf_{current.id if current else rnd.id}_{seen_version}"
    categories = {c.id: c for c in rnd.categories}
    category_id = st.selectbox(
        t("sel.category") + " *",
        list(categories),
        index=list(categories).index(current.category_id) if current else 0,
        format_func=lambda i: f"{categories[i].name}（{enum_label('nominee_kind', categories[i].nominee_kind)}）",
        key=fresh_key(f"{prefix}_cat"),
    )
    nominator = _unit_picker(
        f"{prefix}_by", t("field.nominating_org") + " *", current.nominating_org_id if current else None
    )
    field_error(NOM_FORM, "nominating_org")
    nominee_org: int | None = None
    if categories[category_id].nominee_kind == NomineeKind.ORGANISATION:
        st.caption(t("sel.nominee_org_help"))
        nominee_org = _unit_picker(
            f"{prefix}_nominee", t("field.nominee_org"), current.nominee_org_id if current else None
        )
        field_error(NOM_FORM, "nominee_org")
    with st.form(NOM_FORM):
        default_name = current.nominee_name if current else ""
        nominee_name = st.text_input(
            t("field.nominee_name") + " *", value=default_name, help=t("sel.nominee_name_help"),
            key=fresh_key(f"{prefix}_name"),
        )  # fmt: skip
        field_error(NOM_FORM, "nominee_name")
        reasons = st.text_area(
            t("field.reasons") + " *", value=current.reasons if current else "", key=fresh_key(f"{prefix}_reasons")
        )
        field_error(NOM_FORM, "reasons")
        evidence = st.text_area(
            t("field.evidence"), value=current.evidence if current else "", help=t("sel.evidence_help"),
            key=fresh_key(f"{prefix}_evidence"),
        )  # fmt: skip
        field_error(NOM_FORM, "evidence")
        link = st.text_input(t("field.link"), value=current.link if current else "", key=fresh_key(f"{prefix}_link"))
        field_error(NOM_FORM, "link")
        submitted = st.form_submit_button(t("common.save") if current else t("sel.add_nomination"), type="primary")
    field_error(NOM_FORM, "_form")
    field_error(NOM_FORM, "category")
    if not submitted:
        return
    if nominator is None:
        remember_error(NOM_FORM, ValidationError("validation.required", field="nominating_org"))
        st.rerun()
    name = nominee_name
    if not name.strip() and nominee_org is not None:
        with transaction() as session:
            name = organisation_names(session=session, ids=[nominee_org]).get(nominee_org, "")
    data = NominationInput(
        category_id=category_id,
        nominating_org_id=nominator,
        nominee_name=name,
        reasons=reasons,
        evidence=evidence,
        nominee_org_id=nominee_org,
        link=link,
    )
    if current is None:
        ok = save(NOM_FORM, lambda s: svc.add_nomination(session=s, actor=actor, round_id=rnd.id, data=data, today=on))
        message = t("sel.nomination_added")
    else:
        nomination_id = current.id
        ok = save(
            NOM_FORM,
            lambda s: svc.update_nomination(
                session=s, actor=actor, nomination_id=nomination_id, data=data, expected_version=seen_version, today=on
            ),
        )
        message = t("sel.nomination_saved")
    if ok:
        finish(NOTICE, message, f"{prefix}_name", f"{prefix}_reasons", f"{prefix}_evidence", f"{prefix}_link",
               f"{prefix}_by_unit", f"{prefix}_by_search", f"{prefix}_nominee_unit", f"{prefix}_nominee_search",
               forget=SEEN)  # fmt: skip
    st.rerun()


def nominations_tab(rnd: svc.RoundRow, nominations: list[svc.NominationRow]) -> None:
    live = [n for n in nominations if not n.withdrawn]
    if rnd.status == RoundStatus.OPEN:
        st.info(t("sel.call_open", deadline=format_date(rnd.nomination_deadline), limit=rnd.max_per_unit))
    elif rnd.status == RoundStatus.REVIEW:
        st.caption(t("sel.call_closed"))
    if not nominations:
        st.caption(
            t("sel.no_nominations_staff") if is_staff and rnd.status == RoundStatus.OPEN else t("sel.no_nominations")
        )
    else:
        table = pd.DataFrame(
            {
                t("sel.category"): [n.category for n in nominations],
                t("field.nominee_name"): [n.nominee_name for n in nominations],
                t("field.nominating_org"): [n.nominating_org for n in nominations],
                t("field.status"): [
                    t("sel.withdrawn")
                    if n.withdrawn
                    else (
                        t("sel.winner")
                        if n.winner
                        else (t("sel.not_winner") if rnd.status == RoundStatus.PUBLISHED else t("sel.live"))
                    )
                    for n in nominations
                ],
                t("sel.entered_at"): [format_datetime(n.created_at) for n in nominations],
            }
        )
        record_table(table, [n.id for n in nominations], key=f"sel_noms_{rnd.id}", hint=t("sel.open_nomination_hint"),
                     param="nom")  # fmt: skip
        st.caption(t("sel.live_count", live=len(live), withdrawn=len(nominations) - len(live)))
    if is_staff and rnd.status == RoundStatus.OPEN:
        with st.expander(t("sel.add_nomination"), icon=":material/add:", expanded=not nominations):
            nomination_form(rnd, None, 0)


def score_tab(rnd: svc.RoundRow, nominations: list[svc.NominationRow]) -> None:
    """Council: score or recuse per nomination. Secretariat: who has scored how much."""
    live = [n for n in nominations if not n.withdrawn]
    if rnd.status == RoundStatus.OPEN:
        st.info(t("sel.review_not_started", deadline=format_date(rnd.nomination_deadline)))
        return
    if is_staff:
        progress = cached_read(TOPICS, svc.review_progress, actor=actor, round_id=rnd.id, today=on)
        if not progress:
            st.caption(t("sel.no_council"))
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        t("sel.council_unit"): [p.organisation for p in progress],
                        t("sel.scored"): [p.scored for p in progress],
                        t("sel.recused"): [p.recused for p in progress],
                        t("sel.missing"): [p.missing for p in progress],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
        return
    if not is_council:
        return
    if rnd.status == RoundStatus.PUBLISHED:
        st.caption(t("sel.review_over"))
    elif not rnd.review_open:
        st.warning(t("sel.review_deadline_passed", deadline=format_date(rnd.review_deadline)))
    else:
        st.info(t("sel.review_open", deadline=format_date(rnd.review_deadline)))
    mine = cached_read(TOPICS, svc.own_scores, actor=actor, round_id=rnd.id)
    if not live:
        st.caption(t("sel.no_nominations"))
        return
    records = cached_read(TOPICS, svc.nomination_records, actor=actor, round_id=rnd.id, today=on)
    for n in live:
        own = mine.get(n.id)
        state = (
            t("sel.my_recusal")
            if own and own.recused
            else (t("sel.my_score", score=own.score) if own else t("sel.not_scored"))
        )
        with st.expander(f"{plain(n.category)} · {plain(n.nominee_name)} · {state}"):
            nomination_summary(n, records)
            if rnd.review_open:
                score_form(n, own)


def score_form(n: svc.NominationRow, own: svc.ScoreRow | None) -> None:
    form = f"{SCORE_FORM}_{n.id}"
    seen_key = f"_score_seen_{n.id}"
    seen = st.session_state.setdefault(seen_key, own.version if own else 0)
    must_recuse = actor.organisation_id in {n.nominating_org_id, n.nominee_org_id}
    if must_recuse:
        st.caption(t("sel.must_recuse_note"))
    with st.form(form):
        score = st.number_input(
            t("field.score"), min_value=1, max_value=10, step=1,
            value=own.score if own and own.score is not None else None, placeholder=t("sel.score_placeholder"),
            key=f"score_{n.id}_{seen}",
        )  # fmt: skip
        field_error(form, "score")
        recused = st.checkbox(
            t("sel.recuse"), value=bool(own.recused) if own else must_recuse, help=t("sel.recuse_help"),
            key=f"recuse_{n.id}_{seen}",
        )  # fmt: skip
        comment = st.text_area(t("field.comment"), value=own.comment if own else "", key=f"score_comment_{n.id}_{seen}")
        field_error(form, "comment")
        submitted = st.form_submit_button(t("sel.save_score"), type="primary")
    field_error(form, "_form")
    if (own.version if own else 0) != seen:
        st.warning(t("sel.score_changed_meanwhile"))
        if st.button(t("common.reload"), key=f"reload_score_{n.id}"):
            st.session_state.pop(seen_key, None)
            clear_errors(form)
            st.rerun()
    if not submitted:
        return
    value = None if recused else (int(score) if score is not None else None)
    if save(
        form,
        lambda s: svc.score_nomination(
            session=s,
            actor=actor,
            nomination_id=n.id,
            score=value,
            recused=recused,
            comment=comment,
            expected_version=seen,
            today=on,
        ),
    ):
        finish(NOTICE, t("sel.score_saved", name=plain(n.nominee_name)), forget=SEEN)
    st.rerun()


def nomination_summary(n: svc.NominationRow, records: dict[int, UnitRecord]) -> None:
    """The nominee, the reasons and evidence as plain text, and the units' records from the database."""
    st.markdown(
        f"**{t('field.nominee_name')}**：{plain(n.nominee_name)}（{enum_label('nominee_kind', n.nominee_kind)}）"
    )
    st.markdown(f"**{t('field.nominating_org')}**：{plain(n.nominating_org)}")
    st.markdown(f"**{t('field.reasons')}**")
    st.text(n.reasons)
    if n.evidence:
        st.markdown(f"**{t('field.evidence')}**")
        st.text(n.evidence)
    if n.link:
        st.markdown(f"**{t('field.link')}**")
        st.code(n.link, language=None)
    shown = [
        records[i] for i in dict.fromkeys((n.nominating_org_id, n.nominee_org_id)) if i is not None and i in records
    ]
    if shown:
        st.markdown(f"**{t('sel.records')}**")
        records_table(shown)


def result_tab(rnd: svc.RoundRow) -> None:
    if not is_staff and rnd.status != RoundStatus.PUBLISHED:
        st.info(t("sel.result_hidden"))
        return
    try:
        # read before the ranking: a score given after this refuses the publication (chosen on an older ranking)
        with transaction() as session:
            scores_seen = svc.scores_stamp(session=session, actor=actor)
        rows = cached_read(TOPICS, svc.ranking, actor=actor, round_id=rnd.id, today=on)
    except PermissionDenied:
        st.info(t("sel.result_hidden"))
        return
    if rnd.status == RoundStatus.PUBLISHED:
        st.success(t("sel.published_at", at=format_datetime(rnd.published_at)), icon=":material/verified:")
    st.caption(t("sel.ranking_rule"))
    if not rows:
        st.caption(t("sel.no_nominations"))
        if is_staff and rnd.status == RoundStatus.REVIEW:
            publish_form(rnd, rows, scores_seen)  # a round nobody was nominated in is closed by publishing it
        return
    table = pd.DataFrame(
        {
            t("sel.category"): [r.category for r in rows],
            t("sel.rank"): [r.rank for r in rows],
            t("sel.winner"): [t("sel.yes") if r.winner else "" for r in rows],
            t("field.nominee_name"): [r.nominee_name for r in rows],
            t("field.nominating_org"): [r.nominating_org for r in rows],
            t("sel.mean"): [None if r.mean is None else round(float(r.mean), 2) for r in rows],
            t("sel.scores"): [r.scores for r in rows],
            t("sel.recusals"): [r.recusals for r in rows],
            t("sel.lowest"): [r.lowest for r in rows],
            t("sel.highest"): [r.highest for r in rows],
        }
    )
    # numbers stay numbers: a click on a column header sorts 10 after 9, and the export keeps them numeric
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={t("sel.mean"): st.column_config.NumberColumn(format="%.2f")},
    )

    def build() -> tuple[list[str], list[list[object]]]:
        return list(table.columns), [[None if pd.isna(v) else v for v in row] for row in table.values.tolist()]

    export_buttons(f"sel_export_{rnd.id}", t("sel.export_name", year=rnd.year), build)
    if is_staff and rnd.status == RoundStatus.REVIEW:
        publish_form(rnd, rows, scores_seen)


def publish_form(rnd: svc.RoundRow, rows: list[svc.RankingRow], scores_seen: int) -> None:
    """The secretariat confirms the winners (the top of each category is proposed) and publishes."""
    st.subheader(t("sel.confirm_winners"))
    seen = st.session_state.setdefault(f"_round_seen_{rnd.id}", rnd.version)
    progress = cached_read(TOPICS, svc.review_progress, actor=actor, round_id=rnd.id, today=on)
    missing = sum(p.missing for p in progress)
    if rnd.review_open:
        st.warning(t("sel.publish_before_deadline", deadline=format_date(rnd.review_deadline)))
    if missing:
        st.warning(t("sel.scores_missing", count=missing))
    # the scores the proposal below was made from; a score given since asks for a reload (the service refuses too)
    scores_key = f"_scores_seen_{rnd.id}"
    seen_scores = st.session_state.setdefault(scores_key, scores_seen)
    if seen_scores != scores_seen:
        st.warning(t("sel.ranking_changed"))
        if st.button(t("common.reload"), key="reload_ranking"):
            st.session_state.pop(scores_key, None)
            clear_errors(PUBLISH_FORM)
            st.rerun()
    by_category: dict[int, list[svc.RankingRow]] = {}
    for r in rows:
        by_category.setdefault(r.category_id, []).append(r)
    chosen: dict[int, list[int]] = {}
    with st.form(PUBLISH_FORM):
        for c in rnd.categories:
            candidates = by_category.get(c.id, [])
            if not candidates:
                st.caption(t("sel.no_candidates", category=plain(c.name)))
                chosen[c.id] = []
                continue
            labels = {r.nomination_id: f"{r.rank}. {r.nominee_name}（{_mean(r.mean)}）" for r in candidates}
            proposed = svc.proposed_winners(candidates, c.places)
            chosen[c.id] = st.multiselect(
                t("sel.winners_of", category=plain(c.name), places=c.places),
                list(labels),
                default=proposed,
                format_func=lambda i, labels=labels: labels[i],
                max_selections=c.places,
                key=f"winners_{rnd.id}_{c.id}_{seen}_{seen_scores}",
            )
        field_error(PUBLISH_FORM, "winners")
        confirm = st.checkbox(t("sel.confirm_publish"), key=f"publish_confirm_{rnd.id}_{seen}")
        field_error(PUBLISH_FORM, "confirm")
        submitted = st.form_submit_button(t("sel.publish"), type="primary")
    field_error(PUBLISH_FORM, "_form")
    if not submitted:
        return
    if not confirm:
        remember_error(PUBLISH_FORM, ValidationError("validation.confirm_required", field="confirm"))
        st.rerun()
    if save(
        PUBLISH_FORM,
        lambda s: svc.publish_round(
            session=s,
            actor=actor,
            round_id=rnd.id,
            winners=chosen,
            expected_version=seen,
            today=on,
            scores_seen=seen_scores,
        ),
    ):
        finish(NOTICE, t("sel.published"), forget=SEEN)
    st.rerun()


def settings_tab(rnd: svc.RoundRow) -> None:
    seen = st.session_state.setdefault(f"_round_seen_{rnd.id}", rnd.version)
    if seen != rnd.version:
        st.warning(t("sel.round_changed_meanwhile"))
        if st.button(t("common.reload"), key="reload_round"):
            st.session_state.pop(f"_round_seen_{rnd.id}", None)
            clear_errors(ROUND_FORM)
            st.rerun()
    if rnd.status == RoundStatus.PUBLISHED:
        st.caption(t("sel.read_only"))
        return
    if rnd.status == RoundStatus.OPEN:
        st.subheader(t("sel.end_call"))
        st.caption(t("sel.end_call_help"))
        with st.form(END_FORM):
            confirm = st.checkbox(t("sel.confirm_end_call"), key=f"end_confirm_{rnd.id}_{seen}")
            field_error(END_FORM, "confirm")
            submitted = st.form_submit_button(t("sel.end_call"))
        field_error(END_FORM, "_form")
        if submitted:
            if not confirm:
                remember_error(END_FORM, ValidationError("validation.confirm_required", field="confirm"))
            elif save(END_FORM, lambda s: svc.end_call(session=s, actor=actor, round_id=rnd.id,
                                                       expected_version=seen, today=on)):  # fmt: skip
                finish(NOTICE, t("sel.call_ended"), forget=SEEN)
            st.rerun()
    st.subheader(t("sel.edit_round"))
    round_form(rnd, seen)


def show_round(round_id: int) -> None:
    try:
        rnd = cached_read(TOPICS, svc.get_round, actor=actor, round_id=round_id, today=on)
        nominations = cached_read(TOPICS, svc.list_nominations, actor=actor, round_id=round_id)
    except NotFound:
        st.title(t("page.nominations"))
        st.warning(t("error.not_found"))
        back_to_list()
        return
    st.title(plain(rnd.name))
    show_notice(NOTICE)
    st.markdown(
        t(
            "sel.round_line",
            status=_status_label(rnd),
            year=rnd.year,
            nomination=format_date(rnd.nomination_deadline),
            review=format_date(rnd.review_deadline),
        )
    )
    st.caption(
        " · ".join(
            f"{plain(c.name)}（{enum_label('nominee_kind', c.nominee_kind)}，{t('sel.places_n', n=c.places)}）"
            for c in rnd.categories
        )
    )
    if rnd.description:
        st.text(rnd.description)
    names = [t("sel.tab_nominations"), t("sel.tab_review"), t("sel.tab_result")]
    if is_staff:
        names.append(t("sel.tab_settings"))
    tabs = st.tabs(names, key=f"sel_tabs_{rnd.id}")  # keyed: the chosen tab stays chosen after a save
    with tabs[0]:
        nominations_tab(rnd, nominations)
    with tabs[1]:
        score_tab(rnd, nominations)
    with tabs[2]:
        result_tab(rnd)
    if is_staff:
        with tabs[3]:
            settings_tab(rnd)
        if user.effective_role in {Role.ADMIN, Role.SECRETARIAT}:
            link_to("audit", t("sel.history"), query_params={"type": "selection_round", "id": str(rnd.id)})
    back_to_list()


# ---------------------------------------------------------------- one nomination


def withdraw_form(n: svc.NominationRow, seen: int) -> None:
    with st.form(WITHDRAW_FORM):
        reason = st.text_area(t("sel.withdraw_reason") + " *", key=fresh_key(f"withdraw_reason_{n.id}"))
        field_error(WITHDRAW_FORM, "reason")
        confirm = st.checkbox(t("sel.confirm_withdraw"), key=fresh_key(f"withdraw_confirm_{n.id}"))
        field_error(WITHDRAW_FORM, "confirm")
        submitted = st.form_submit_button(t("sel.withdraw"))
    field_error(WITHDRAW_FORM, "_form")
    if not submitted:
        return
    if not confirm:
        remember_error(WITHDRAW_FORM, ValidationError("validation.confirm_required", field="confirm"))
        st.rerun()
    if save(
        WITHDRAW_FORM,
        lambda s: svc.withdraw_nomination(
            session=s, actor=actor, nomination_id=n.id, reason=reason, expected_version=seen, today=on
        ),
    ):
        finish(
            NOTICE, t("sel.nomination_withdrawn"), f"withdraw_reason_{n.id}", f"withdraw_confirm_{n.id}", forget=SEEN
        )
    st.rerun()


def show_nomination(nomination_id: int) -> None:
    try:
        n = cached_read(TOPICS, svc.get_nomination, actor=actor, nomination_id=nomination_id)
        rnd = cached_read(TOPICS, svc.get_round, actor=actor, round_id=n.round_id, today=on)
    except NotFound:
        st.title(t("page.nominations"))
        st.warning(t("error.not_found"))
        back_to_list()
        return
    st.title(plain(n.nominee_name))
    show_notice(NOTICE)
    st.caption(f"{plain(rnd.name)} · {plain(n.category)} · {_status_label(rnd)}")
    if n.withdrawn:
        st.warning(t("sel.withdrawn_because", reason=plain(n.withdraw_reason or "")))
    elif rnd.status == RoundStatus.PUBLISHED:
        (st.success if n.winner else st.info)(t("sel.winner") if n.winner else t("sel.not_winner"))
    records = cached_read(TOPICS, svc.nomination_records, actor=actor, round_id=rnd.id, today=on)
    nomination_summary(n, records)
    if rnd.status == RoundStatus.PUBLISHED:
        st.caption(t("sel.records_frozen"))
    else:
        first, last = rnd.record_period
        st.caption(t("sel.records_live", first=format_date(first), last=format_date(last)))
    link_to("members", t("sel.open_nominator"), query_params={"id": str(n.nominating_org_id)})
    if is_council:
        own = cached_read(TOPICS, svc.own_scores, actor=actor, round_id=rnd.id).get(n.id)
        if own:
            st.caption(t("sel.my_recusal") if own.recused else t("sel.my_score", score=own.score))
    if is_staff or rnd.status == RoundStatus.PUBLISHED:
        try:
            scores = [s for s in cached_read(TOPICS, svc.all_scores, actor=actor, round_id=rnd.id, today=on)
                      if s.nomination_id == n.id]  # fmt: skip
        except DomainError:
            scores = []
        if scores:
            st.subheader(t("sel.scores_of_units"))
            st.dataframe(
                pd.DataFrame(
                    {
                        t("sel.council_unit"): [s.organisation for s in scores],
                        t("field.score"): [t("sel.recused_short") if s.recused else str(s.score) for s in scores],
                        t("field.comment"): [s.comment for s in scores],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    if is_staff and not n.withdrawn and rnd.status != RoundStatus.PUBLISHED:
        seen = st.session_state.setdefault(f"_nom_seen_{n.id}", n.version)
        if seen != n.version:
            st.warning(t("sel.nomination_changed_meanwhile"))
            if st.button(t("common.reload"), key="reload_nomination"):
                st.session_state.pop(f"_nom_seen_{n.id}", None)
                st.rerun()
        if rnd.status == RoundStatus.OPEN:
            with st.expander(t("sel.edit_nomination"), icon=":material/edit:"):
                nomination_form(rnd, n, seen)
        with st.expander(t("sel.withdraw"), icon=":material/undo:"):
            withdraw_form(n, seen)
    if user.effective_role in {Role.ADMIN, Role.SECRETARIAT}:
        link_to("audit", t("sel.history"), query_params={"type": "nomination", "id": str(n.id)})
    back_to_round(rnd.id)


# ---------------------------------------------------------------- routing


def _number(param: str) -> int | None:
    value = st.query_params.get(param)
    return int(value) if value is not None and value.isdigit() else None


if st.query_params.get("new") == "1":
    new_round_page()
elif "nom" in st.query_params:
    nomination_param = _number("nom")
    if nomination_param is None:
        st.title(t("page.nominations"))
        st.warning(t("error.not_found"))
        back_to_list()
    else:
        show_nomination(nomination_param)
elif "id" in st.query_params:
    round_param = _number("id")
    if round_param is None:
        st.title(t("page.nominations"))
        st.warning(t("error.not_found"))
        back_to_list()
    else:
        show_round(round_param)
else:
    rounds_list()
