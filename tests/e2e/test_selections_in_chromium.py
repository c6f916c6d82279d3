"""The model selections (先进典型推选) golden path in Chromium, on a fresh database of its own (accounts, two member
units and a council session with one seated unit written through the services; no rounds). The secretariat
creates a round through the form, enters two nominations for different member units in one category (one of them
named with markup, which must show as text), and ends the call; a council user scores the other unit's nomination
and recuses from its own unit's one, and is told the result is hidden; the secretariat publishes with the proposed
winner, sees 已公布 and the ranking and downloads the .csv; the council user then sees the ranking."""

import csv
import io
import re
from datetime import timedelta

import pytest

from db.engine import make_engine, transaction
from db.services import council, organisations, users
from domain.clock import today
from domain.organisations import OrganisationInput
from domain.roles import ANONYMOUS, Actor, Role
from tests.e2e.harness import assert_no_exception, box, click_and_wait, login, logout, screenshot, wait_for_app
from ui.i18n import enum_label, format_date, t

pytestmark = pytest.mark.e2e

PASSWORD = "Selections pass 2026"
ROUND = "2026年度生态环保志愿服务先进典型推选"
COUNCIL_UNIT = "杭州市西湖区护水志愿服务队"  # holds a council seat; its own nomination must be recused
OTHER_UNIT = "宁波市海曙区河长志愿服务队"
CATEGORY = "优秀项目"
WINNER = "甬江河长巡河护水项目"
HOSTILE = "<img src=x onerror=alert(1)>"  # typed as the council unit's nominee: text, never an element
DEFAULT_CATEGORY_NAMES = ("优秀组织", "优秀个人", "优秀项目", "", "", "")
REVIEW_DEADLINE = today() + timedelta(days=44)  # the form's default: a month for nominations, two weeks more
PUBLISHED_AT = re.compile(t("sel.published_at", at="@").split("@")[0] + r"\d{4}")


def _fresh_database(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An administrator, a secretariat and a council account; two member units, the first holding seat 1 of
    the current council session (the council user's unit); no selection rounds."""
    url = f"sqlite:///{tmp_path / 'selections.sqlite'}"
    engine = make_engine(url)
    from db.migrate import upgrade_to_head

    upgrade_to_head(engine)
    with transaction(write=True, engine=engine) as session:
        token = users.issue_setup_token(session=session)
        assert token is not None
        admin_id = users.create_first_admin(
            session=session,
            actor=ANONYMOUS,
            token=token,
            username="root",
            display_name="管理员",
            password=PASSWORD,
            password_repeat=PASSWORD,
        )
        admin = Actor(user_id=admin_id, username="root", role=Role.ADMIN)
        unit_ids = [
            organisations.create_organisation(
                session=session,
                actor=admin,
                today=today(),
                data=OrganisationInput(name=name, kind="volunteer_team", province="浙江", city=name[:3]),
            )
            for name in (COUNCIL_UNIT, OTHER_UNIT)
        ]
        session_id = council.create_session(session=session, actor=admin, starts_on=today() - timedelta(days=30))
        council.seat_term(session=session, actor=admin, session_id=session_id, seat=1, organisation_id=unit_ids[0],
                          source="invited", representative="张伟")  # fmt: skip
        for username, role, display_name, unit in (
            ("staff", Role.SECRETARIAT, "秘书处李明", None),
            ("council", Role.COUNCIL, "理事单位代表张伟", unit_ids[0]),
        ):
            users.create_user(
                session=session,
                actor=admin,
                username=username,
                display_name=display_name,
                password=PASSWORD,
                role=role,
                organisation_id=unit,
                temporary_password=False,
            )
    engine.dispose()
    return url


# ---------------------------------------------------------------- helpers


def _ok(page) -> None:  # type: ignore[no-untyped-def]
    """No exception box, no traceback, not the app's catch-all message, and no markup typed by a user run."""
    assert_no_exception(page)
    assert page.locator("img[src=x]").count() == 0, "a typed <img> became an element"


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the whole page: Streamlit scrolls inside its main block, which a full-page screenshot
    does not unroll, so the window is made as tall as the content for the picture, then put back."""
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(...['[data-testid=stMain]', '[data-testid=stAppViewContainer]', '[data-testid=stSidebarContent]']"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], int(height)), 6000)})
    page.wait_for_timeout(300)
    screenshot(page, name)
    page.set_viewport_size(size)
    page.wait_for_timeout(100)


def _rerun_after(page, act) -> None:  # type: ignore[no-untyped-def]
    """Do something that changes a widget, then wait for the rerun it causes to start and to finish."""
    act()
    try:
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", timeout=2_000)
    except Exception:
        pass
    wait_for_app(page)


def _pick(page, select, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose an option of a select box: open it, click the option (filtering by typing if it is not drawn)."""
    for attempt in range(3):  # a click during the previous list's closing animation may not open this one
        select.click()
        try:
            page.get_by_role("listbox").wait_for(timeout=3_000)
            break
        except Exception:
            if attempt == 2:
                raise
    choice = page.get_by_role("listbox").get_by_role("option", name=option, exact=True).first
    if choice.count() == 0:  # a long list draws only its first options
        page.keyboard.type(option)
    choice.wait_for()
    _rerun_after(page, choice.click)
    page.get_by_role("listbox").wait_for(state="detached")
    wait_for_app(page)


def _select(scope, label: str):  # type: ignore[no-untyped-def]
    """The select box labelled exactly so, inside scope (a page or a part of it)."""
    page = getattr(scope, "page", scope)  # `has` takes a locator relative to the select box: start from the page
    return scope.locator("[data-testid=stSelectbox]").filter(has=page.get_by_role("combobox", name=label, exact=True))


def _shown(select) -> str:  # type: ignore[no-untyped-def]
    """What a select box shows (its input's value, not text)."""
    return str(select.get_by_role("combobox").input_value())


def _tab(page, key: str) -> None:  # type: ignore[no-untyped-def]
    """Open a tab of the round's page (switching tabs runs nothing on the server)."""
    tab = page.get_by_role("tab", name=t(key), exact=True)
    tab.click()
    page.wait_for_function("t => t.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())
    page.wait_for_timeout(200)


def _panel(page):  # type: ignore[no-untyped-def]
    """The visible tab's content."""
    return page.locator("[role=tabpanel]:not([hidden])")


def _expand(scope, label: str):  # type: ignore[no-untyped-def]
    """The expander whose label holds this text, opened unless it already is."""
    expander = scope.locator("[data-testid=stExpander]").filter(
        has=scope.page.locator("summary", has_text=label)
    ).first  # fmt: skip
    if expander.locator("details").get_attribute("open") is None:
        expander.locator("summary").click()
    scope.page.wait_for_timeout(300)
    return expander


def _cells(page, text: str):  # type: ignore[no-untyped-def]
    """The data grid cells holding this text, in the visible part of the page (grids draw on a canvas; their
    accessible cells are in the DOM but not visible)."""
    return _panel(page).locator("[data-testid=stDataFrame] [role=gridcell]", has_text=text)


def _notice(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid=stAlert]", has_text=text).first.wait_for()


def _round_line(page) -> str:  # type: ignore[no-untyped-def]
    """The line under the round's title: status · year · deadlines."""
    return str(page.locator("[data-testid=stMain] [data-testid=stMarkdown]", has_text="年度").first.inner_text())


def _open_round_as(page, url: str, round_id: int, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/nominations?id={round_id}")  # a deep link: the login form, then the round
    wait_for_app(page)
    login(page, username, PASSWORD)
    page.get_by_role("heading", name=ROUND).wait_for()
    _ok(page)


# ---------------------------------------------------------------- the steps


def _create_round(page, url: str) -> int:  # type: ignore[no-untyped-def]
    """Step 1: the secretariat opens the new-round form from the list, checks its prefilled categories, and
    creates the round (one nomination per unit and category; default deadlines)."""
    page.goto(f"{url}/nominations")
    wait_for_app(page)
    login(page, "staff", PASSWORD)
    page.get_by_role("heading", name=t("page.nominations")).wait_for()
    page.get_by_text(t("sel.no_rounds_staff")).wait_for()
    click_and_wait(page, page.get_by_role("button", name=t("sel.new_round")))
    page.get_by_role("heading", name=t("sel.new_round")).wait_for()
    assert "new=1" in page.url, page.url
    form = page.locator("[data-testid=stForm]")
    for n, name in enumerate(DEFAULT_CATEGORY_NAMES, start=1):
        assert box(form, t("sel.category_name", n=n)).input_value() == name, n
    assert form.get_by_role("spinbutton", name=t("field.year")).input_value() == str(today().year)
    box(form, t("sel.round_name") + " *").fill(ROUND)
    form.get_by_role("textbox", name=t("sel.round_description")).fill("面向全体成员单位征集推荐，理事单位评审。")
    _ok(page)
    _shot(page, "60-selections-new-round-form")
    click_and_wait(page, form.get_by_role("button", name=t("sel.create_round")))
    page.get_by_role("heading", name=ROUND).wait_for()
    _notice(page, t("sel.round_saved"))
    assert enum_label("round_status", "open") in _round_line(page)
    found = re.search(r"[?&]id=(\d+)", page.url)
    assert found and "new=" not in page.url, page.url
    _ok(page)
    return int(found.group(1))


def _add_nomination(page, search: str, unit: str, nominee: str, reasons: str) -> None:  # type: ignore[no-untyped-def]
    """Step 2: enter one nomination in 优秀项目 through the 登记提名 expander."""
    _tab(page, "sel.tab_nominations")
    adding = _expand(_panel(page), t("sel.add_nomination"))
    category = _select(adding, t("sel.category") + " *")
    wanted = f"{CATEGORY}（{enum_label('nominee_kind', 'project')}）"
    if _shown(category) != wanted:
        _pick(page, category, wanted)
    adding = _expand(_panel(page), t("sel.add_nomination"))
    search_box = box(adding, t("sel.search_unit"))
    search_box.fill(search)
    _rerun_after(page, lambda: search_box.press("Enter"))
    adding = _expand(_panel(page), t("sel.add_nomination"))
    _pick(page, _select(adding, t("field.nominating_org") + " *"), unit)
    adding = _expand(_panel(page), t("sel.add_nomination"))
    assert _shown(_select(adding, t("field.nominating_org") + " *")) == unit
    form = adding.locator("[data-testid=stForm]")
    box(form, t("field.nominee_name") + " *").fill(nominee)
    form.get_by_role("textbox", name=t("field.reasons") + " *").fill(reasons)
    form.get_by_role("textbox", name=t("field.evidence")).fill("2026年累计巡河120次，服务时长3600小时。")
    box(form, t("field.link")).fill("https://example.org/river")
    click_and_wait(page, form.get_by_role("button", name=t("sel.add_nomination")))
    _notice(page, t("sel.nomination_added"))
    _ok(page)


def _secretariat_opens_the_round(page, url: str) -> int:  # type: ignore[no-untyped-def]
    """Steps 1-3 as the secretariat; returns the round's id."""
    round_id = _create_round(page, url)

    _add_nomination(page, "海曙区河长", OTHER_UNIT, WINNER, "常态化巡河护水，带动社区居民参与。")
    _cells(page, WINNER).first.wait_for(state="attached")
    _add_nomination(page, "西湖区护水", COUNCIL_UNIT, HOSTILE, "推荐理由：西湖周边水质监测与宣传。")
    _tab(page, "sel.tab_nominations")
    _cells(page, HOSTILE).first.wait_for(state="attached")
    _cells(page, OTHER_UNIT).first.wait_for(state="attached")
    _cells(page, COUNCIL_UNIT).first.wait_for(state="attached")
    page.get_by_text(t("sel.live_count", live=2, withdrawn=0)).wait_for()
    _ok(page)
    _shot(page, "61-selections-two-nominations")

    # 3. The call ends early: the confirmation tick, then the button; the round is in review.
    _tab(page, "sel.tab_settings")
    form = _panel(page).locator("[data-testid=stForm]").filter(has_text=t("sel.confirm_end_call"))
    form.get_by_text(t("sel.confirm_end_call")).click()
    click_and_wait(page, form.get_by_role("button", name=t("sel.end_call")))
    _notice(page, t("sel.call_ended"))
    assert enum_label("round_status", "review") in _round_line(page)
    _tab(page, "sel.tab_nominations")
    page.get_by_text(t("sel.call_closed")).wait_for()
    assert _panel(page).get_by_role("button", name=t("sel.add_nomination")).count() == 0, "the call is over"
    _ok(page)
    _shot(page, "62-selections-call-ended")
    return round_id


def _council_scores(page, url: str, round_id: int) -> None:  # type: ignore[no-untyped-def]
    """Step 4: the council user scores the other unit's nomination, recuses from its own unit's, and is told
    that the result is hidden until it is published."""
    _open_round_as(page, url, round_id, "council")
    assert page.get_by_role("tab", name=t("sel.tab_settings")).count() == 0, "no settings for the council"
    _tab(page, "sel.tab_review")
    page.get_by_text(t("sel.review_open", deadline=format_date(REVIEW_DEADLINE))).wait_for()

    scoring = _expand(_panel(page), WINNER)
    assert scoring.get_by_text(t("sel.must_recuse_note")).count() == 0, "another unit's nomination"
    scoring.get_by_role("spinbutton", name=t("field.score")).fill("8")
    scoring.get_by_role("textbox", name=t("field.comment")).fill("成效显著，示范性强。")
    click_and_wait(page, scoring.get_by_role("button", name=t("sel.save_score")))
    _notice(page, t("sel.score_saved", name=WINNER))
    _ok(page)

    # the review tab stays chosen after a save: the council goes straight on to the next nomination
    review_tab = page.get_by_role("tab", name=t("sel.tab_review"), exact=True)
    assert review_tab.get_attribute("aria-selected") == "true", "the page jumped back to the first tab"
    _panel(page).locator("summary", has_text=t("sel.my_score", score=8)).wait_for()
    own = _expand(_panel(page), HOSTILE)  # its label shows the typed markup as text
    own.get_by_text(t("sel.must_recuse_note")).wait_for()
    kind = enum_label("nominee_kind", "project")
    own.get_by_text(f"{t('field.nominee_name')}：{HOSTILE}（{kind}）").wait_for()  # the summary, as typed
    recuse = own.get_by_role("checkbox", name=t("sel.recuse"))
    assert recuse.is_checked(), "the must-recuse nomination comes with 回避 ticked"
    _shot(page, "63-selections-council-recusal")
    click_and_wait(page, own.get_by_role("button", name=t("sel.save_score")))
    _notice(page, t("sel.score_saved", name=HOSTILE))
    _tab(page, "sel.tab_review")
    _panel(page).locator("summary", has_text=t("sel.my_recusal")).wait_for()
    _panel(page).locator("summary", has_text=t("sel.my_score", score=8)).wait_for()
    _ok(page)
    _shot(page, "64-selections-council-scored")

    _tab(page, "sel.tab_result")
    _panel(page).get_by_text(t("sel.result_hidden")).wait_for()
    assert _panel(page).locator("[data-testid=stDataFrame]").count() == 0, "no ranking before publication"
    assert _panel(page).get_by_role("button", name=t("export.csv")).count() == 0
    _ok(page)
    _shot(page, "65-selections-council-result-hidden")


def _secretariat_publishes(page, url: str, round_id: int) -> None:  # type: ignore[no-untyped-def]
    """Step 5: the secretariat sees the progress, publishes with the proposed winner, sees 已公布 and the
    ranking, and downloads the .csv."""
    _open_round_as(page, url, round_id, "staff")
    _tab(page, "sel.tab_review")
    progress = _panel(page).locator("[data-testid=stDataFrame] [role=row]", has_text=COUNCIL_UNIT)
    progress.wait_for(state="attached")
    cells = [c.strip() for c in progress.locator("[role=gridcell]").all_inner_texts()]
    assert cells[-3:] == ["1", "1", "0"], cells  # scored, recused, missing

    _tab(page, "sel.tab_result")
    form = _panel(page).locator("[data-testid=stForm]").filter(has_text=t("sel.confirm_publish"))
    winners = form.locator("[data-testid=stMultiSelect]").filter(has_text=t("sel.winners_of", category=CATEGORY,
                                                                            places=3))  # fmt: skip
    chosen = [c.strip() for c in winners.locator("[data-tag]").all_inner_texts()]
    assert chosen == [f"1. {WINNER}（8.00）"], chosen  # the top ranked with a score is proposed; the recused not
    _panel(page).get_by_text(t("sel.publish_before_deadline", deadline=format_date(REVIEW_DEADLINE))).wait_for()
    _ok(page)
    _shot(page, "66-selections-publish-form")
    form.get_by_text(t("sel.confirm_publish")).click()
    click_and_wait(page, form.get_by_role("button", name=t("sel.publish")))
    _notice(page, t("sel.published"))
    assert enum_label("round_status", "published") in _round_line(page)

    _tab(page, "sel.tab_result")
    _panel(page).locator("[data-testid=stAlert]", has_text=PUBLISHED_AT).wait_for()
    row = _panel(page).locator("[data-testid=stDataFrame] [role=row]", has_text=WINNER)
    row.locator("[role=gridcell]", has_text=t("sel.yes")).wait_for(state="attached")
    assert _panel(page).get_by_role("button", name=t("sel.publish")).count() == 0, "published: read-only"
    _ok(page)
    _shot(page, "67-selections-published-ranking")

    with page.expect_download() as download:
        _panel(page).get_by_role("button", name=t("export.csv")).click()
    assert download.value.suggested_filename == f"{t('sel.export_name', year=today().year)}.csv"
    text = download.value.path().read_bytes().decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text)))
    by_name = {r[t("field.nominee_name")]: r for r in records}
    assert set(by_name) == {WINNER, HOSTILE}, by_name
    won = by_name[WINNER]
    assert won[t("sel.category")] == CATEGORY and won[t("sel.rank")] == "1"
    assert won[t("field.nominating_org")] == OTHER_UNIT
    assert (float(won[t("sel.mean")]), won[t("sel.scores")], won[t("sel.recusals")]) == (8.0, "1", "0")  # numbers
    assert won[t("sel.winner")] == t("sel.yes")
    lost = by_name[HOSTILE]
    assert (lost[t("sel.rank")], lost[t("sel.mean")], lost[t("sel.recusals")], lost[t("sel.winner")]) == (
        "2",
        "",  # no score counted: no mean
        "1",
        "",
    )
    _tab(page, "sel.tab_nominations")
    _cells(page, t("sel.winner")).first.wait_for(state="attached")
    _cells(page, t("sel.not_winner")).first.wait_for(state="attached")
    _ok(page)


def _council_sees_the_ranking(page, url: str, round_id: int) -> None:  # type: ignore[no-untyped-def]
    """Step 6: after publication the council user sees the ranking with the winner."""
    _open_round_as(page, url, round_id, "council")
    assert enum_label("round_status", "published") in _round_line(page)
    _tab(page, "sel.tab_result")
    assert _panel(page).get_by_text(t("sel.result_hidden")).count() == 0
    row = _panel(page).locator("[data-testid=stDataFrame] [role=row]", has_text=WINNER)
    row.locator("[role=gridcell]", has_text=t("sel.yes")).wait_for(state="attached")
    _cells(page, HOSTILE).first.wait_for(state="attached")
    assert _panel(page).get_by_role("button", name=t("sel.publish")).count() == 0
    _tab(page, "sel.tab_review")
    page.get_by_text(t("sel.review_over")).wait_for()
    assert _panel(page).get_by_role("button", name=t("sel.save_score")).count() == 0, "the review is over"
    _tab(page, "sel.tab_result")
    _ok(page)
    _shot(page, "68-selections-council-ranking")


def test_a_round_from_the_call_to_the_published_result_with_a_score_a_recusal_and_the_csv(page, start_server, tmp_path):
    server = start_server(_fresh_database(tmp_path))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    step = "secretariat"
    try:
        round_id = _secretariat_opens_the_round(page, server.url)
        logout(page)
        step = "council"
        _council_scores(page, server.url, round_id)
        logout(page)
        step = "publish"
        _secretariat_publishes(page, server.url, round_id)
        logout(page)
        step = "council-ranking"
        _council_sees_the_ranking(page, server.url, round_id)
    except Exception:
        _shot(page, f"6x-selections-{step}-failed")  # what the page showed, for the person reading the log
        raise
    assert dialogs == [], f"the typed markup ran: {dialogs}"
