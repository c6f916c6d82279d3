"""Model selections (先进典型推选) in AppTest: viewers refused, the council reading without staff forms, the
secretariat creating a round with the default categories, entering nominations within the limit per unit and
ending the call after confirming; a council unit scoring and recusing, seeing only its own scores until the
secretariat publishes the winners; the published round read-only; user text kept inert."""

import os
import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.engine import transaction
from db.models import Nomination, NominationScore, SelectionCategory, SelectionRound
from db.services import council, organisations, users
from db.services import selections as svc
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import Role
from domain.selections import DEFAULT_CATEGORIES, CategoryInput, NominationInput, RoundInput
from tests.app.test_pages_by_role import ROOT, app_users  # noqa: F401 (fixture)
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.forms import plain
from ui.i18n import enum_label, format_date, t

PAGE = "pages/nominations.py"
COUNCIL_UNIT = "成都市绿色环保志愿者协会"  # the council user's unit, seated by the app_users fixture
HOSTILE = "<script>alert(1)</script> **粗体** [x](http://evil)"

# --------------------------------------------------------------------------------------------- helpers


def _open(users, role, state: dict | None = None, **query: str) -> AppTest:  # type: ignore[no-untyped-def]
    """The selections page as `role` (a Role or a user of the fixture), with session state and query parameters."""
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=30)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = users[role] if isinstance(role, Role) else role
    for key, value in (state or {}).items():
        at.session_state[key] = value
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _admin(users):  # type: ignore[no-untyped-def]
    return users[Role.ADMIN].actor()


def _unit(users, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        return organisations.create_organisation(
            session=session,
            actor=_admin(users),
            today=today(),
            data=OrganisationInput(name=name, kind="volunteer_team", province="四川"),
        )


def _council_unit_id() -> int:
    with transaction() as session:
        return organisations.search_members(session=session, text=COUNCIL_UNIT)[0][0]


def _round(users, name: str) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """An open round with the default categories (call open a month, review two weeks more); its category ids."""
    nomination, review = svc.default_deadlines(today())
    data = RoundInput(
        name=name,
        year=today().year,
        nomination_deadline=nomination,
        review_deadline=review,
        categories=tuple(CategoryInput(n, k.value, p) for n, k, p in DEFAULT_CATEGORIES),
    )
    with transaction(write=True) as session:
        round_id = svc.create_round(session=session, actor=_admin(users), data=data, today=today())
        rnd = svc.get_round(session=session, actor=_admin(users), round_id=round_id, today=today())
    return round_id, {c.name: c.id for c in rnd.categories}


def _nominate(users, round_id: int, category: int, unit: int, name: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        return svc.add_nomination(
            session=session,
            actor=_admin(users),
            round_id=round_id,
            data=NominationInput(category_id=category, nominating_org_id=unit, nominee_name=name, reasons="事迹突出"),
            today=today(),
        )


def _end_call(users, round_id: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        version = svc.get_round(session=session, actor=_admin(users), round_id=round_id, today=today()).version
        svc.end_call(session=session, actor=_admin(users), round_id=round_id, expected_version=version, today=today())


def _score(actor, nomination: int, score: int | None, *, recused: bool = False, comment: str = "") -> None:  # type: ignore[no-untyped-def]
    with transaction(write=True) as session:
        svc.score_nomination(session=session, actor=actor, nomination_id=nomination, score=score, recused=recused,
                             comment=comment, expected_version=0, today=today())  # fmt: skip


def _widget(widgets, base: str):  # type: ignore[no-untyped-def]
    """The widget keyed `base` or a renewed `base_<generation>` (forms are emptied by new keys after a save)."""
    found = [w for w in widgets if w.key and re.fullmatch(rf"{re.escape(base)}(_\d+)?", w.key)]
    assert len(found) == 1, [w.key for w in widgets]
    return found[0]


def _submit(at: AppTest, form: str, label: str) -> AppTest:
    """Click the submit button of the form `form`."""
    [button] = [b for b in at.button if b.form_id == form and b.label == label]
    button.click()
    return _run(at)


def _texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.value for e in elements]


def _labels(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.label for e in elements]


def _everything(at: AppTest) -> str:
    """All text on the page, tables included, to check that something is nowhere on it."""
    parts = [str(e.value) for kind in ("markdown", "caption", "text", "info", "warning", "error", "success", "title",
                                       "subheader") for e in getattr(at, kind)]  # fmt: skip
    parts += [e.label for e in at.expander]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


def _query(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


@pytest.fixture(scope="module")
def second_council(app_users):  # noqa: F811
    """Another council unit holding a seat now, and its user's actor (it scores through the service)."""
    admin = _admin(app_users)
    with transaction(write=True) as session:
        unit = organisations.create_organisation(
            session=session, actor=admin, today=today(),
            data=OrganisationInput(name="第二理事单位生态保护促进会", kind="volunteer_team", province="四川"),
        )  # fmt: skip
        current = council.current_session(session=session, on=today())
        assert current is not None
        council.seat_term(session=session, actor=admin, session_id=current.id, seat=2, organisation_id=unit,
                          source="invited")  # fmt: skip
        users.create_user(session=session, actor=admin, username="council2", display_name="第二理事",
                          password="password 123", role=Role.COUNCIL, organisation_id=unit)  # fmt: skip
        return users.get_active_user(session=session, username="council2").actor()


# --------------------------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("query", [{}, {"new": "1"}, {"id": "1"}, {"nom": "1"}], ids=["list", "new", "round", "nom"])
def test_a_viewer_is_refused_the_selections_page(app_users, query):  # noqa: F811
    at = _open(app_users, Role.VIEWER, **query)
    assert _texts(at.title) == []
    assert _texts(at.error) == [t("error.forbidden")]
    assert not at.dataframe and not at.text_input and not at.button


def test_the_council_reads_rounds_and_nominations_but_gets_no_staff_forms(app_users):  # noqa: F811
    unit = _unit(app_users, "理事只读测试志愿队")
    round_id, cats = _round(app_users, "理事只读测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, "张只读")

    staff = _open(app_users, Role.SECRETARIAT)
    assert t("sel.new_round") in _labels(staff.button)
    at = _open(app_users, Role.COUNCIL)
    assert _texts(at.title) == [t("page.nominations")]
    assert "理事只读测试推选" in at.dataframe[0].value[t("sel.round_name")].tolist()
    assert t("sel.new_round") not in _labels(at.button), "no new-round button for the council"

    page = _open(app_users, Role.COUNCIL, id=str(round_id))
    assert _texts(page.title) == ["理事只读测试推选"]
    assert _labels(page.tabs) == [t("sel.tab_nominations"), t("sel.tab_review"), t("sel.tab_result")], "no 设置 tab"
    assert "张只读" in page.dataframe[0].value[t("field.nominee_name")].tolist()
    assert t("sel.add_nomination") not in _labels(page.expander)
    assert not page.text_input and not page.text_area and not page.selectbox and not page.checkbox
    assert not [b for b in page.button if b.form_id], "no form at all"
    assert t("sel.result_hidden") in _texts(page.tabs[2].info)

    new = _open(app_users, Role.COUNCIL, new="1")
    assert _texts(new.warning) == [t("error.forbidden")]
    assert not new.text_input and not [b for b in new.button if b.form_id]

    nom = _open(app_users, Role.COUNCIL, nom=str(nomination))
    assert _texts(nom.title) == ["张只读"]
    assert t("sel.withdraw") not in _labels(nom.expander) and t("sel.edit_nomination") not in _labels(nom.expander)
    assert not nom.text_area and not [b for b in nom.button if b.form_id]


# --------------------------------------------------------------------------------------------- the secretariat


def test_the_secretariat_creates_a_round_with_the_default_three_categories(app_users):  # noqa: F811
    at = _open(app_users, Role.SECRETARIAT, new="1")
    assert _texts(at.title) == [t("sel.new_round")]
    names = [_widget(at.text_input, f"rf_new_0_c{slot}_name").value for slot in range(3)]
    assert names == [n for n, _, _ in DEFAULT_CATEGORIES], "the default categories are proposed"

    _submit(at, "sel_round", t("sel.create_round"))
    assert t("validation.required") in _texts(at.error), "a round needs a name"
    assert _query(at, "new") == "1", "still on the form"

    _widget(at.text_input, "rf_new_0_name").input("2026年度先进典型推选（页面）")
    _submit(at, "sel_round", t("sel.create_round"))
    assert _texts(at.success) == [t("sel.round_saved")], _texts(at.error)
    assert _texts(at.title) == ["2026年度先进典型推选（页面）"]
    round_id = int(_query(at, "id") or 0)
    with transaction() as session:
        stored = session.execute(select(SelectionRound).where(SelectionRound.id == round_id)).scalar_one()
        categories = session.execute(
            select(SelectionCategory.name, SelectionCategory.nominee_kind, SelectionCategory.places)
            .where(SelectionCategory.round_id == round_id)
            .order_by(SelectionCategory.position)
        ).all()
    assert stored.name == "2026年度先进典型推选（页面）" and stored.status == "open" and stored.max_per_unit == 1
    assert [tuple(c) for c in categories] == [(n, k.value, p) for n, k, p in DEFAULT_CATEGORIES]
    assert _labels(at.tabs)[-1] == t("sel.tab_settings")


def _enter_nomination(at: AppTest, round_id: int, category: int, unit: int, nominee: str) -> None:
    """Pick the category, type part of the unit's name in the search box, pick it, fill in and submit."""
    prefix = f"nf_{round_id}_0"
    _widget(at.selectbox, f"{prefix}_cat").select(category)
    _run(at)
    _widget(at.text_input, f"{prefix}_by_search").input("河湖守护")
    _run(at)
    picker = _widget(at.selectbox, f"{prefix}_by_unit")
    assert picker.options == [t("sel.choose_unit"), "提名测试河湖守护队"], "the unit typed is found, only it"
    picker.select(unit)
    _widget(at.text_input, f"{prefix}_name").input(nominee)
    _widget(at.text_area, f"{prefix}_reasons").input("常年组织河道巡护，带动志愿者三百余人。")
    _submit(at, "sel_nom", t("sel.add_nomination"))


def test_the_secretariat_enters_a_nomination_and_a_second_of_the_unit_in_the_category_is_refused(app_users):  # noqa: F811
    unit = _unit(app_users, "提名测试河湖守护队")
    round_id, cats = _round(app_users, "提名表单测试推选")
    at = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert t("sel.no_nominations_staff") in _texts(at.caption)

    _submit(at, "sel_nom", t("sel.add_nomination"))
    assert t("validation.required") in _texts(at.error), "a nominating unit must be picked"

    _enter_nomination(at, round_id, cats["优秀个人"], unit, "王志愿")
    assert _texts(at.success) == [t("sel.nomination_added")], _texts(at.error)
    table = at.dataframe[0].value
    assert table[t("field.nominee_name")].tolist() == ["王志愿"]
    assert table[t("field.nominating_org")].tolist() == ["提名测试河湖守护队"]
    assert _widget(at.text_input, f"nf_{round_id}_0_name").value == "", "the form is emptied for the next one"

    _enter_nomination(at, round_id, cats["优秀个人"], unit, "李第二")
    limit = t("validation.nomination_limit", category="优秀个人", limit=1)
    assert limit in _texts(at.error), _texts(at.error)
    assert not at.success
    assert _widget(at.text_input, f"nf_{round_id}_0_name").value == "李第二", "input stays on screen"
    with transaction() as session:
        stored = session.scalars(select(Nomination.nominee_name).where(Nomination.round_id == round_id)).all()
    assert stored == ["王志愿"]

    _enter_nomination(at, round_id, cats["优秀项目"], unit, "清河行动")
    assert _texts(at.success) == [t("sel.nomination_added")], "another category takes the same unit"


def test_ending_the_call_needs_the_confirmation_tick(app_users):  # noqa: F811
    round_id, _ = _round(app_users, "结束征集测试推选")
    at = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    settings = at.tabs[3]
    assert t("sel.end_call") in _texts(settings.subheader)
    _submit(at, "sel_end", t("sel.end_call"))
    assert t("validation.confirm_required") in _texts(at.error)
    with transaction() as session:
        assert session.scalar(select(SelectionRound.status).where(SelectionRound.id == round_id)) == "open"

    _widget(at.checkbox, f"end_confirm_{round_id}_1").check()
    _submit(at, "sel_end", t("sel.end_call"))
    assert _texts(at.success) == [t("sel.call_ended")], _texts(at.error)
    with transaction() as session:
        assert session.scalar(select(SelectionRound.status).where(SelectionRound.id == round_id)) == "review"
    assert enum_label("round_status", "review") in at.markdown[0].value
    assert t("sel.add_nomination") not in _labels(at.expander), "no more nominations once the call is over"
    assert t("sel.end_call") not in _texts(at.tabs[3].subheader)


def test_the_secretariat_withdraws_a_nomination_after_confirming_and_the_unit_may_be_nominated_again(app_users):  # noqa: F811
    unit = _unit(app_users, "撤回测试志愿队")
    round_id, cats = _round(app_users, "撤回测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, "周撤回")
    at = _open(app_users, Role.SECRETARIAT, nom=str(nomination))
    assert t("sel.withdraw") in _labels(at.expander) and t("sel.edit_nomination") in _labels(at.expander)
    _widget(at.text_area, f"withdraw_reason_{nomination}").input("推荐单位来函申请撤回")
    _submit(at, "sel_withdraw", t("sel.withdraw"))
    assert t("validation.confirm_required") in _texts(at.error)
    _widget(at.checkbox, f"withdraw_confirm_{nomination}").check()
    _submit(at, "sel_withdraw", t("sel.withdraw"))
    assert _texts(at.success) == [t("sel.nomination_withdrawn")], _texts(at.error)
    assert _texts(at.warning) == [t("sel.withdrawn_because", reason="推荐单位来函申请撤回")]
    assert t("sel.withdraw") not in _labels(at.expander), "a withdrawn nomination cannot be withdrawn again"

    listed = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert listed.dataframe[0].value[t("field.status")].tolist() == [t("sel.withdrawn")]
    assert t("sel.live_count", live=0, withdrawn=1) in _texts(listed.caption)
    again = _nominate(app_users, round_id, cats["优秀个人"], unit, "吴再荐")
    assert again != nomination, "the withdrawn one no longer counts against the unit's limit"


def test_a_withdrawal_reason_with_markup_is_shown_as_typed(app_users):  # noqa: F811
    unit = _unit(app_users, "撤回标记测试志愿队")
    round_id, cats = _round(app_users, "撤回标记测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, "郑撤回")
    at = _open(app_users, Role.SECRETARIAT, nom=str(nomination))
    _widget(at.text_area, f"withdraw_reason_{nomination}").input(HOSTILE)
    _widget(at.checkbox, f"withdraw_confirm_{nomination}").check()
    _submit(at, "sel_withdraw", t("sel.withdraw"))
    assert _texts(at.warning) == [t("sel.withdrawn_because", reason=plain(HOSTILE))]


def test_a_nomination_shows_the_units_record_as_it_is_now(app_users):  # noqa: F811
    from db.services import achievements
    from domain.selections import AchievementInput

    unit = _unit(app_users, "记录测试志愿队")
    round_id, cats = _round(app_users, "记录测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, "冯记录")
    at = _open(app_users, Role.SECRETARIAT, nom=str(nomination))
    _run(at)  # the second run is served from the cache
    record = at.dataframe[0].value
    assert record[t("benefits.col_unit")].tolist() == ["记录测试志愿队"]
    assert record[t("benefits.col_achievements_published")].tolist() == [0]
    with transaction(write=True) as session:  # meanwhile the unit's achievement is published
        admin = _admin(app_users)
        achievement = achievements.create_achievement(
            session=session, actor=admin, today=today(),
            data=AchievementInput(unit, "湿地保护宣传片", "拍摄并发布宣传片", today(), "publicity_work"),
        )  # fmt: skip
        achievements.decide_achievement(session=session, actor=admin, achievement_id=achievement, status="published",
                                        channel="wechat", published_on=today(), note="", expected_version=1,
                                        today=today())  # fmt: skip
    again = _run(at)
    assert again.dataframe[0].value[t("benefits.col_achievements_published")].tolist() == [1], (
        "the caption says the records are live until publication"
    )


# --------------------------------------------------------------------------------------------- the council's review


def test_a_council_unit_scores_one_nomination_and_recuses_on_another(app_users):  # noqa: F811
    a, b = _unit(app_users, "评分测试甲队"), _unit(app_users, "评分测试乙队")
    round_id, cats = _round(app_users, "评分测试推选")
    scored = _nominate(app_users, round_id, cats["优秀个人"], a, "赵评分")
    recused = _nominate(app_users, round_id, cats["优秀个人"], b, "钱回避")
    own = _nominate(app_users, round_id, cats["优秀项目"], _council_unit_id(), "本单位项目")
    _end_call(app_users, round_id)

    at = _open(app_users, Role.COUNCIL, id=str(round_id))
    review = at.tabs[1]
    assert _texts(review.info) == [t("sel.review_open", deadline=format_date(svc.default_deadlines(today())[1]))]
    labels = _labels(review.expander)
    assert f"优秀个人 · 赵评分 · {t('sel.not_scored')}" in labels

    _submit(at, f"sel_score_{scored}", t("sel.save_score"))
    assert t("validation.required") in _texts(at.error), "a score needs a value"
    with transaction() as session:
        assert session.scalar(select(NominationScore.id).where(NominationScore.nomination_id == scored)) is None

    at.number_input(key=f"score_{scored}_0").set_value(8)
    at.text_area(key=f"score_comment_{scored}_0").input("材料翔实")
    _submit(at, f"sel_score_{scored}", t("sel.save_score"))
    assert _texts(at.success) == [t("sel.score_saved", name="赵评分")], _texts(at.error)
    assert f"优秀个人 · 赵评分 · {t('sel.my_score', score=8)}" in _labels(at.tabs[1].expander)

    at.checkbox(key=f"recuse_{recused}_0").check()
    _submit(at, f"sel_score_{recused}", t("sel.save_score"))
    assert _texts(at.success) == [t("sel.score_saved", name="钱回避")], _texts(at.error)
    assert f"优秀个人 · 钱回避 · {t('sel.my_recusal')}" in _labels(at.tabs[1].expander)

    assert at.checkbox(key=f"recuse_{own}_0").value is True, "the unit's own nomination: recusal proposed"
    assert t("sel.must_recuse_note") in _texts(at.caption)
    at.checkbox(key=f"recuse_{own}_0").uncheck()
    at.number_input(key=f"score_{own}_0").set_value(10)
    _submit(at, f"sel_score_{own}", t("sel.save_score"))
    assert t("validation.must_recuse") in _texts(at.error), "a unit cannot score its own nomination"

    with transaction() as session:
        stored = session.execute(
            select(
                NominationScore.nomination_id, NominationScore.score, NominationScore.recused, NominationScore.comment
            )
            .join(Nomination, Nomination.id == NominationScore.nomination_id)
            .where(Nomination.round_id == round_id)
            .order_by(NominationScore.nomination_id)
        ).all()
    assert [tuple(s) for s in stored] == [(scored, 8, False, "材料翔实"), (recused, None, True, "")]


def test_the_council_sees_only_its_own_scores_until_the_secretariat_publishes_the_winners(app_users, second_council):  # noqa: F811
    a, b = _unit(app_users, "公布测试甲队"), _unit(app_users, "公布测试乙队")
    round_id, cats = _round(app_users, "公布测试推选")
    first = _nominate(app_users, round_id, cats["优秀个人"], a, "孙第一")
    second = _nominate(app_users, round_id, cats["优秀个人"], b, "李第二")
    _end_call(app_users, round_id)
    _score(app_users[Role.COUNCIL].actor(), first, 7)
    _score(app_users[Role.COUNCIL].actor(), second, 6)
    _score(second_council, first, 9, comment="第二理事单位的评语")
    _score(second_council, second, 5)

    at = _open(app_users, Role.COUNCIL, id=str(round_id))
    assert _texts(at.tabs[2].info) == [t("sel.result_hidden")]
    assert not at.tabs[2].dataframe, "no ranking before publication"
    nom = _open(app_users, Role.COUNCIL, nom=str(first))
    assert t("sel.my_score", score=7) in _texts(nom.caption)
    assert t("sel.scores_of_units") not in _texts(nom.subheader)
    for page in (at, nom):
        shown = _everything(page)
        assert "第二理事单位" not in shown and "第二理事单位的评语" not in shown and "9" not in shown.split(), shown

    staff = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    result = staff.tabs[2]
    ranking = result.dataframe[0].value
    assert ranking[t("field.nominee_name")].tolist()[:2] == ["孙第一", "李第二"], "mean 8 before mean 5.5"
    assert ranking[t("sel.mean")].tolist()[:2] == [8.0, 5.5]  # numbers, shown with two decimals
    individual = cats["优秀个人"]
    winners = _widget(staff.multiselect, f"winners_{round_id}_{individual}_2")
    assert winners.value == [first, second], "the scored ones are proposed, within 5 places"
    winners.set_value([first])
    _submit(staff, "sel_publish", t("sel.publish"))
    assert t("validation.confirm_required") in _texts(staff.error)
    with transaction() as session:
        assert session.scalar(select(SelectionRound.status).where(SelectionRound.id == round_id)) == "review"

    _widget(staff.multiselect, f"winners_{round_id}_{individual}_2").set_value([first])
    _widget(staff.checkbox, f"publish_confirm_{round_id}_2").check()
    _submit(staff, "sel_publish", t("sel.publish"))
    assert _texts(staff.success)[0] == t("sel.published"), _texts(staff.error)
    with transaction() as session:
        won = session.execute(
            select(Nomination.id, Nomination.winner).where(Nomination.round_id == round_id).order_by(Nomination.id)
        ).all()
        assert session.scalar(select(SelectionRound.status).where(SelectionRound.id == round_id)) == "published"
    assert [tuple(w) for w in won] == [(first, True), (second, False)]

    # published: the council sees the ranking and every unit's scores; the round is read-only
    after = _open(app_users, Role.COUNCIL, id=str(round_id))
    table = after.tabs[2].dataframe[0].value
    assert table[t("field.nominee_name")].tolist() == ["孙第一", "李第二"]
    assert table[t("sel.winner")].tolist() == [t("sel.yes"), ""]
    assert t("sel.result_hidden") not in _texts(after.info)
    nom = _open(app_users, Role.COUNCIL, nom=str(first))
    assert _texts(nom.success) == [t("sel.winner")]
    scores = nom.dataframe[-1].value
    assert sorted(scores[t("field.score")].tolist()) == ["7", "9"]
    assert "第二理事单位的评语" in scores[t("field.comment")].tolist()

    done = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert t("sel.read_only") in _texts(done.tabs[3].caption)
    assert not done.text_input and not done.text_area and not done.checkbox and not done.multiselect
    assert not [b for b in done.button if b.form_id], "a published round has no forms"
    nom_staff = _open(app_users, Role.SECRETARIAT, nom=str(second))
    assert t("sel.withdraw") not in _labels(nom_staff.expander) and not nom_staff.text_area


# --------------------------------------------------------------------------------------------- user text


def test_a_nominee_name_with_markup_is_shown_as_typed(app_users):  # noqa: F811
    unit = _unit(app_users, "标记测试志愿队")
    round_id, cats = _round(app_users, "标记测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, HOSTILE)
    at = _open(app_users, Role.SECRETARIAT, nom=str(nomination))
    assert _texts(at.title) == [plain(HOSTILE)]
    assert "<script>" not in at.title[0].value and "http://" not in at.title[0].value
    assert f"**{t('field.nominee_name')}**：{plain(HOSTILE)}" in at.markdown[0].value
    listed = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert listed.dataframe[0].value[t("field.nominee_name")].tolist() == [HOSTILE], "a table cell is text"


def test_a_nominee_name_with_markup_is_inert_in_the_council_review(app_users):  # noqa: F811
    unit = _unit(app_users, "标记评审测试志愿队")
    round_id, cats = _round(app_users, "标记评审测试推选")
    _nominate(app_users, round_id, cats["优秀个人"], unit, HOSTILE)
    _end_call(app_users, round_id)
    at = _open(app_users, Role.COUNCIL, id=str(round_id))
    assert _labels(at.tabs[1].expander) == [f"优秀个人 · {plain(HOSTILE)} · {t('sel.not_scored')}"]


def test_the_score_saved_message_shows_a_nominee_name_with_markup_as_typed(app_users):  # noqa: F811
    unit = _unit(app_users, "标记评分测试志愿队")
    round_id, cats = _round(app_users, "标记评分测试推选")
    nomination = _nominate(app_users, round_id, cats["优秀个人"], unit, HOSTILE)
    _end_call(app_users, round_id)
    at = _open(app_users, Role.COUNCIL, id=str(round_id))
    at.number_input(key=f"score_{nomination}_0").set_value(6)
    _submit(at, f"sel_score_{nomination}", t("sel.save_score"))
    assert _texts(at.success) == [t("sel.score_saved", name=plain(HOSTILE))]


def test_a_category_name_with_markup_is_shown_as_typed_in_the_publish_form(app_users):  # noqa: F811
    nomination, review = svc.default_deadlines(today())
    name = "[x](http://evil) **类**"
    data = RoundInput(name="类别标记测试推选", year=today().year, nomination_deadline=nomination,
                      review_deadline=review, categories=(CategoryInput(name, "project", 2),))  # fmt: skip
    with transaction(write=True) as session:
        round_id = svc.create_round(session=session, actor=_admin(app_users), data=data, today=today())
        category = svc.get_round(session=session, actor=_admin(app_users), round_id=round_id, today=today())
    _nominate(app_users, round_id, category.categories[0].id, _unit(app_users, "类别标记测试志愿队"), "清溪项目")
    _end_call(app_users, round_id)
    at = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert _labels(at.multiselect) == [t("sel.winners_of", category=plain(name), places=2)]


def test_an_unknown_round_or_nomination_says_not_found(app_users):  # noqa: F811
    for query in ({"id": "999999"}, {"nom": "999999"}, {"id": "abc"}):
        at = _open(app_users, Role.SECRETARIAT, **query)
        assert _texts(at.warning) == [t("error.not_found")]
        assert t("sel.back_to_list") in _labels(at.button)


def test_a_round_without_nominations_is_closed_by_publishing_it_with_no_winner(app_users):  # noqa: F811
    round_id, _ = _round(app_users, "无人推荐的推选")
    _end_call(app_users, round_id)
    at = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    assert t("sel.no_nominations") in _texts(at.caption)
    _widget(at.checkbox, f"publish_confirm_{round_id}_2").check()
    _submit(at, "sel_publish", t("sel.publish"))
    assert _texts(at.success)[0] == t("sel.published"), _texts(at.error)
    with transaction() as session:
        assert session.scalar(select(SelectionRound.status).where(SelectionRound.id == round_id)) == "published"


def test_the_nomination_picker_does_not_offer_the_secretariat(app_users):  # noqa: F811
    secretariat_name = "生态环境部宣传教育中心（推荐测试）"
    with transaction(write=True) as session:
        organisations.create_organisation(
            session=session,
            actor=_admin(app_users),
            today=today(),
            data=OrganisationInput(name=secretariat_name, kind="other", province="北京", is_secretariat=True),
        )
    round_id, _ = _round(app_users, "秘书处不可推荐的推选")
    at = _open(app_users, Role.SECRETARIAT, id=str(round_id))
    _widget(at.text_input, f"nf_{round_id}_0_by_search").input("宣传教育中心")
    _run(at)
    assert secretariat_name not in _widget(at.selectbox, f"nf_{round_id}_0_by_unit").options
