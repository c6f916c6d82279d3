"""The council golden path in Chromium on the demo data: end a term early and fill the seat by a by-election
with a unit from the queue of approved council-unit applications, end another and fill it by invitation,
record a meeting with attendance and a decision vote, run the rotation, see the timeline."""

import pytest

from scripts.seed_demo import DEMO_PASSWORD
from tests.e2e.harness import assert_no_exception, click_and_wait, login, screenshot, wait_for_app
from ui.i18n import enum_label, t

pytestmark = pytest.mark.e2e


def _view(page, key: str) -> None:  # type: ignore[no-untyped-def]
    click_and_wait(page, page.locator("[data-testid=stButtonGroup]").get_by_text(t(f"council.view_{key}"), exact=True))


def _expand(page, label: str) -> None:  # type: ignore[no-untyped-def]
    expander = page.locator("[data-testid=stExpander]").filter(has_text=label).first
    if expander.locator("details").get_attribute("open") is None:  # open it unless it already is
        expander.locator("summary").click()


def _choose(page, container, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    _pick(page, container.locator("[data-testid=stSelectbox]").filter(has_text=label).first, option)
    wait_for_app(page)


def _pick(page, select, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose an option of a select box: open it, filter by typing, take the first match, wait until closed."""
    for attempt in range(3):  # a click during the previous list's closing animation may not open this one
        select.click()
        try:
            page.get_by_role("listbox").wait_for(timeout=3_000)
            break
        except Exception:
            if attempt == 2:
                raise
    choice = page.get_by_role("listbox").get_by_role("option", name=option).first
    if choice.count() == 0:  # a long list draws only its first options: filter it by typing
        page.keyboard.type(option)
    # clicking the option itself: typed text can land before the list's input has focus and be lost
    choice.wait_for()
    choice.click()
    page.get_by_role("listbox").wait_for(state="detached")


def _end_early(page, seat: int) -> None:  # type: ignore[no-untyped-def]
    _expand(page, t("council.end_early"))
    form = page.locator("[data-testid=stForm]").filter(has_text=t("council.end_term"))
    _choose(page, form, t("council.seat"), t("council.seat_n", seat=seat))
    form.get_by_role("textbox", name=t("field.ended_reason")).fill("单位工作调整，申请辞任")
    form.get_by_text(t("council.confirm_end")).click()
    click_and_wait(page, form.get_by_role("button", name=t("council.end_term")))
    page.get_by_text(t("council.ended", seat=seat)).wait_for()


def test_council_golden_path(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(f"{server.url}/council")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    page.get_by_role("heading", name=t("council.session_title", number=1)).wait_for()
    screenshot(page, "30-council-seats")

    # 1. A resignation, filled by a by-election with a unit from the queue of approved applications.
    _end_early(page, 9)
    _expand(page, t("council.fill_seat"))
    fill = page.locator("[data-testid=stExpander]").filter(has_text=t("council.fill_seat"))
    _choose(page, fill, t("council.seat"), t("council.seat_n", seat=9))
    assert fill.get_by_text(t("council.queue")).count() == 1, "the queue of approved council-unit applications"
    click_and_wait(page, fill.get_by_role("button", name=t("council.seat_unit")))
    page.get_by_text(t("council.seated", seat=9)).wait_for()
    assert_no_exception(page)

    # 2. Another resignation, filled by inviting a member.
    _end_early(page, 8)
    _expand(page, t("council.fill_seat"))
    fill = page.locator("[data-testid=stExpander]").filter(has_text=t("council.fill_seat"))
    _choose(page, fill, t("council.seat"), t("council.seat_n", seat=8))
    fill.get_by_text(t("council.how_invite"), exact=True).click()
    wait_for_app(page)
    fill.get_by_role("textbox", name=t("council.member_search")).fill("志愿服务队")
    fill.get_by_role("textbox", name=t("council.member_search")).press("Enter")
    wait_for_app(page)
    fill.locator("[data-testid=stSelectbox]").last.click()  # 单位: the members found
    page.get_by_role("option").nth(1).click()
    wait_for_app(page)
    click_and_wait(page, fill.get_by_role("button", name=t("council.seat_unit")))
    page.get_by_text(t("council.seated", seat=8)).wait_for()
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.locator("[role=gridcell]", has_text=enum_label("term_source", "by_election")).first.wait_for(state="attached")
    screenshot(page, "31-council-by-elections")

    # 3. A meeting with attendance and a decision vote.
    _view(page, "meetings")
    _expand(page, t("council.new_meeting"))
    form = page.locator("[data-testid=stForm]").filter(has_text=t("council.save_meeting"))
    form.get_by_role("textbox", name=t("field.title") + " *").fill("理事会临时会议")
    form.get_by_role("textbox", name=t("field.place")).fill("北京（演示）")
    form.get_by_role("textbox", name=t("council.agenda_lines")).fill("审议补选结果")
    click_and_wait(page, form.get_by_role("button", name=t("council.save_meeting")))
    page.get_by_role("heading", name="理事会临时会议").wait_for()
    attendance = page.locator("[data-testid=stForm]").filter(has_text=t("council.save_attendance"))
    for select in attendance.locator("[data-testid=stSelectbox]").all():  # nobody is present until marked
        _pick(page, select, enum_label("attendance", "present"))
    click_and_wait(page, page.get_by_role("button", name=t("council.save_attendance")))
    page.get_by_text(t("council.attendance_saved")).wait_for()
    _expand(page, t("council.new_decision"))
    form = page.locator("[data-testid=stForm]").filter(has_text=t("council.save_decision"))
    form.get_by_role("textbox", name=t("field.title") + " *").fill("关于补选结果的决议")
    for select in form.locator("[data-testid=stSelectbox]").all():
        _pick(page, select, enum_label("vote", "agree"))
    click_and_wait(page, form.get_by_role("button", name=t("council.save_decision")))
    page.get_by_text(t("council.decision_saved")).wait_for()
    page.get_by_text(f"— {t('council.passed')}").wait_for()
    assert_no_exception(page)
    screenshot(page, "32-council-meeting")

    # 4. The rotation: every sitting unit says it continues; the plan is confirmed; session 2 opens.
    page.goto(f"{server.url}/council?view=rotation")
    wait_for_app(page)
    intents = page.locator("[data-testid=stForm]").filter(has_text=t("council.save_intents"))
    for select in intents.locator("[data-testid=stSelectbox]").all():
        if enum_label("intent", "continue") not in select.inner_text():
            _pick(page, select, enum_label("intent", "continue"))
    click_and_wait(page, intents.get_by_role("button", name=t("council.save_intents")))
    try:
        page.get_by_text(t("council.intents_saved")).wait_for()
    except Exception:
        screenshot(page, "33x-intents-failed")
        raise
    screenshot(page, "33-council-rotation-planner")
    plan = page.locator("[data-testid=stForm]").filter(has_text=t("council.rotate"))
    plan.get_by_text(t("council.confirm_rotation", number=2)).click()
    click_and_wait(page, plan.get_by_role("button", name=t("council.rotate")))
    page.get_by_text(t("council.rotated", number=2)).wait_for()
    assert_no_exception(page)

    # 5. The timeline shows both sessions.
    _view(page, "timeline")
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for()
    page.get_by_text(t("council.timeline_title")).first.wait_for(state="attached")
    assert_no_exception(page)
    screenshot(page, "34-council-timeline")
