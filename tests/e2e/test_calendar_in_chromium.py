"""The activity calendar's golden path in Chromium, on a fresh database of its own (accounts and three member units
written through the services, no activities: nothing depends on what the demo data holds). The secretariat creates
a training with two places through the form, signs up three units (the third is waitlisted), withdraws one and sees
the waitlisted unit promoted; finds the training in the month, week and list views, exports the .ics and opens the
training from the month grid; a viewer reads the calendar and the activity without any edit control."""

import re
from datetime import timedelta

import icalendar
import pytest

from db.engine import make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import organisations, users
from domain.clock import SHANGHAI, today
from domain.organisations import OrganisationInput
from domain.roles import ANONYMOUS, Actor, Role
from tests.e2e.harness import assert_no_exception, box, click_and_wait, login, screenshot, wait_for_app
from ui.i18n import enum_label, t

pytestmark = pytest.mark.e2e

PASSWORD = "Calendar pass 2026"
TITLE = "冬季河湖巡护志愿者培训班"
PLACE = "杭州市西湖区湖滨路文化中心三楼"
UNITS = ("杭州市西湖区护水志愿服务队", "宁波市海曙区河长志愿服务队", "温州市鹿城区净滩志愿服务队")
SEARCH = ("西湖区护水", "海曙区河长", "鹿城区净滩")  # what is typed in the search box for each unit
UID = "activity-{id}@eco-volunteer-network"
MONTH_LABEL = re.compile(rf"^09:00 {TITLE}$")  # the month shows the start time (the form's default), then the title
WEEK_LABEL = re.compile(rf"^09:00–12:00 {TITLE}$")  # the week, start and end


def _fresh_database(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An administrator, a secretariat and a viewer account, and three member units; no activities."""
    url = f"sqlite:///{tmp_path / 'calendar.sqlite'}"
    engine = make_engine(url)
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
        for name in UNITS:
            organisations.create_organisation(
                session=session,
                actor=admin,
                today=today(),
                data=OrganisationInput(name=name, kind="volunteer_team", province="浙江", city=name[:3]),
            )
        for username, role, display_name in (
            ("staff", Role.SECRETARIAT, "秘书处李明"),
            ("partner", Role.VIEWER, "合作方王芳"),
        ):
            users.create_user(
                session=session,
                actor=admin,
                username=username,
                display_name=display_name,
                password=PASSWORD,
                role=role,
                temporary_password=False,
            )
    engine.dispose()
    return url


def _ok(page) -> None:  # type: ignore[no-untyped-def]
    """No exception box, no traceback, and not the app's own catch-all message (app.py turns an uncaught
    exception into error.unexpected, which is no stException)."""
    assert_no_exception(page)
    assert page.get_by_text(t("error.unexpected")).count() == 0, t("error.unexpected")


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
    """Do something that changes a widget, then wait for the rerun it causes to start and to finish (as
    click_and_wait does for clicks: 'not running' alone can be seen before a slow rerun has begun)."""
    act()
    try:
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", timeout=2_000)
    except Exception:
        pass
    wait_for_app(page)


def _type(page, label: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Fill a text box and send it with Enter, waiting for that rerun before the next field is touched."""
    box(page, label).fill(value)
    _rerun_after(page, lambda: box(page, label).press("Enter"))


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
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.wait_for()
    _rerun_after(page, lambda: page.keyboard.press("Enter"))
    page.get_by_role("listbox").wait_for(state="detached")
    wait_for_app(page)


def _select(page, label: str):  # type: ignore[no-untyped-def]
    """The select boxes labelled exactly so (what they show is an input's value: no text to filter on)."""
    return page.locator("[data-testid=stSelectbox]").filter(has=page.get_by_role("combobox", name=label, exact=True))


def _set_date(page, label: str, day) -> None:  # type: ignore[no-untyped-def]
    """Type a date into the year, month and day segments of a date field, as a user does, and leave it."""
    field = page.locator("[data-testid=stDateInput]").filter(has=page.get_by_role("group", name=label, exact=True))
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(f"{day:%Y%m%d}")
    # typing opens the calendar pop-up; the value is sent when it closes
    _rerun_after(page, lambda: page.keyboard.press("Escape"))
    assert field.locator("input[type=date]").input_value() == f"{day:%Y-%m-%d}"


def _view(page, key: str) -> None:  # type: ignore[no-untyped-def]
    click_and_wait(page, page.locator("[data-testid=stButtonGroup]").get_by_text(t(f"cal.view_{key}"), exact=True))


def _find_event(page, label: re.Pattern[str], step: str):  # type: ignore[no-untyped-def]
    """The training's button in the grid, stepping on (next month or week) until it is there."""
    for _ in range(3):
        button = page.get_by_role("button", name=label)
        if button.count():
            return button.first
        click_and_wait(page, page.get_by_role("button", name=step))
    raise AssertionError(f"no button {label.pattern} in the grid")


def _login_on_calendar(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/calendar")  # a deep link on a freshly started server
    wait_for_app(page)
    login(page, username, PASSWORD)
    page.get_by_role("heading", name=t("page.calendar")).wait_for()
    _ok(page)


def _new_training(page, start_day, *, shot: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Create the training (two places, 09:00–12:00 on start_day) through the form; returns its id."""
    click_and_wait(page, page.get_by_role("button", name=t("cal.new")))
    page.get_by_role("heading", name=t("cal.new_title")).wait_for()
    _type(page, t("field.title") + " *", TITLE)
    _pick(page, _select(page, t("field.category")).first, t("category.training"))
    _set_date(page, t("cal.start_day"), start_day)
    _set_date(page, t("cal.end_day"), start_day)
    _type(page, t("field.place"), PLACE)
    capacity = page.get_by_role("spinbutton", name=t("cal.capacity_input"))
    capacity.fill("2")
    _rerun_after(page, lambda: capacity.press("Enter"))
    _ok(page)
    if shot:
        _shot(page, shot)
    click_and_wait(page, page.get_by_role("button", name=t("cal.save_new")))
    page.get_by_text(t("cal.created")).wait_for()
    page.get_by_role("heading", name=TITLE).wait_for()
    page.get_by_text(t("cal.places_used", used=0, capacity=2)).wait_for()
    _ok(page)
    found = re.search(r"[?&]id=(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def _sign_up(page, search: str, unit: str) -> None:  # type: ignore[no-untyped-def]
    """Find a unit by part of its name, choose it and save its sign-up of one person."""
    _type(page, t("cal.search_unit"), search)
    _pick(page, _select(page, t("cal.unit")).first, unit)
    click_and_wait(page, page.get_by_role("button", name=t("cal.save_signup")))
    _ok(page)


def _signups(page):  # type: ignore[no-untyped-def]
    """The table of live sign-ups on an activity's page (the first grid on it)."""
    return page.locator("[data-testid=stDataFrame]").first


def _metric(page, label: str) -> str:  # type: ignore[no-untyped-def]
    metric = page.locator("[data-testid=stMetric]").filter(has_text=label)
    return str(metric.locator("[data-testid=stMetricValue]").inner_text()).strip()


def _secretariat_path(page, url: str) -> int:  # type: ignore[no-untyped-def]
    """Steps 1-7, as the secretariat; returns the training's id."""
    start_day = today() + timedelta(days=3)
    _login_on_calendar(page, url, "staff")

    # 1. The secretariat creates a training with two places through the form.
    activity_id = _new_training(page, start_day, shot="40-calendar-new-activity-form")

    # 2. Three units of one person each: two confirmed, the third waitlisted.
    _sign_up(page, SEARCH[0], UNITS[0])
    page.get_by_text(t("cal.signup_confirmed", unit=UNITS[0])).wait_for()
    _sign_up(page, SEARCH[1], UNITS[1])
    page.get_by_text(t("cal.signup_confirmed", unit=UNITS[1])).wait_for()
    _sign_up(page, SEARCH[2], UNITS[2])
    page.get_by_text(t("cal.signup_waitlisted", unit=UNITS[2])).wait_for()
    page.get_by_text(t("cal.places_used", used=2, capacity=2)).wait_for()
    waiting = _signups(page).locator("[role=row]", has_text=UNITS[2])
    waiting.locator("[role=gridcell]", has_text=t("cal.waitlist_position", position=1)).wait_for(state="attached")
    _ok(page)
    _shot(page, "41-calendar-activity-signups-waitlist")

    # 3. A confirmed unit withdraws: the waitlisted unit takes its place.
    _pick(page, _select(page, t("cal.unit")).last, UNITS[0])
    click_and_wait(page, page.get_by_text(t("cal.confirm_withdraw")))
    click_and_wait(page, page.get_by_role("button", name=t("cal.do_withdraw")))
    _ok(page)
    page.get_by_text(t("cal.withdrawn_done", unit=UNITS[0])).wait_for()  # one message: withdrawn, then promoted
    page.get_by_text(t("cal.promoted", units=UNITS[2])).wait_for()
    page.get_by_text(t("cal.places_used", used=2, capacity=2)).wait_for()
    promoted = _signups(page).locator("[role=row]", has_text=UNITS[2])
    promoted.locator("[role=gridcell]", has_text=enum_label("signup_status", "confirmed")).wait_for(state="attached")
    assert _signups(page).locator("[role=gridcell]", has_text=t("cal.waitlist_position", position=1)).count() == 0
    assert _signups(page).locator("[role=gridcell]", has_text=UNITS[0]).count() == 0, "withdrawn: not live"
    page.get_by_text(t("cal.withdrawn", count=1)).wait_for()
    _ok(page)
    _shot(page, "42-calendar-activity-promoted")

    # 4. Back to the calendar: the month view, stepping on if the training falls in the next month.
    click_and_wait(page, page.get_by_role("button", name=t("cal.back")))
    page.get_by_role("heading", name=t("page.calendar")).wait_for()
    _find_event(page, MONTH_LABEL, t("cal.next_month"))
    _ok(page)
    _shot(page, "43-calendar-month")

    # 5. The .ics of the month holds the training, with its stable UID and its start in Asia/Shanghai.
    with page.expect_download() as download:
        page.get_by_role("button", name=t("cal.ics")).click()
    assert download.value.suggested_filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(download.value.path().read_bytes())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    ours = events[UID.format(id=activity_id)]
    assert str(ours["SUMMARY"]) == TITLE
    assert ours["DTSTART"].params.get("TZID") == "Asia/Shanghai"
    starts = ours.decoded("DTSTART")
    assert starts.utcoffset() == timedelta(hours=8)
    assert starts.astimezone(SHANGHAI).date() == start_day and (starts.hour, starts.minute) == (9, 0)
    assert str(ours["LOCATION"]) == PLACE
    _ok(page)

    # 6. The week and list views.
    _view(page, "week")
    _find_event(page, WEEK_LABEL, t("cal.next_week"))
    assert page.get_by_role("button", name=MONTH_LABEL).count() == 0, "the week shows start and end"
    _ok(page)
    _shot(page, "44-calendar-week")
    _view(page, "list")
    _set_date(page, t("cal.to"), start_day + timedelta(days=7))
    grid = page.locator("[data-testid=stDataFrame]")
    grid.locator("[role=gridcell]", has_text=TITLE).first.wait_for(state="attached")
    grid.locator("[role=gridcell]", has_text=enum_label("category", "training")).first.wait_for(state="attached")
    assert _metric(page, t("cal.kpi_activities")) == "1"
    assert _metric(page, t("cal.kpi_people")) == "2"
    _ok(page)
    _shot(page, "45-calendar-list")

    # 7. In the month view the training's button opens its page.
    _view(page, "month")
    click_and_wait(page, _find_event(page, MONTH_LABEL, t("cal.next_month")))
    page.get_by_role("heading", name=TITLE).wait_for()
    assert re.search(rf"[?&]id={activity_id}(&|$)", page.url), page.url
    page.get_by_role("button", name=t("cal.save_signup")).wait_for()
    _ok(page)

    return activity_id


def _viewer_path(viewer, url: str, activity_id: int) -> None:  # type: ignore[no-untyped-def]
    """Step 8: a viewer reads the calendar and the activity with its sign-ups, and has no edit control."""
    _login_on_calendar(viewer, url, "partner")
    assert viewer.get_by_role("button", name=t("cal.new")).count() == 0
    click_and_wait(viewer, _find_event(viewer, MONTH_LABEL, t("cal.next_month")))
    viewer.get_by_role("heading", name=TITLE).wait_for()
    assert re.search(rf"[?&]id={activity_id}(&|$)", viewer.url), viewer.url
    row = _signups(viewer).locator("[role=row]", has_text=UNITS[2])
    row.locator("[role=gridcell]", has_text=enum_label("signup_status", "confirmed")).wait_for(state="attached")
    for button in (t("cal.save_signup"), t("cal.do_withdraw"), t("cal.copy"), t("cal.save_new"), t("common.save")):
        assert viewer.get_by_role("button", name=button).count() == 0, button
    for tab in (t("cal.tab_edit"), t("cal.tab_cancel")):
        assert viewer.get_by_role("tab", name=tab).count() == 0, tab
    main = viewer.locator("[data-testid=stMain]")
    assert main.locator("[data-testid=stTextInput], [data-testid=stNumberInput], [data-testid=stCheckbox]").count() == 0
    assert main.locator("[data-testid=stSelectbox], [data-testid=stTextArea], [data-testid=stForm]").count() == 0
    _ok(viewer)
    _shot(viewer, "46-calendar-activity-viewer")
    viewer.goto(f"{url}/calendar?new=1")  # nor is the new-activity form theirs by URL
    wait_for_app(viewer)
    viewer.get_by_role("heading", name=t("page.calendar")).wait_for()
    assert viewer.get_by_role("heading", name=t("cal.new_title")).count() == 0
    assert viewer.get_by_role("button", name=t("cal.save_new")).count() == 0
    _ok(viewer)


def test_golden_path_training_fills_waitlists_promotes_shows_in_every_view_exports_and_a_viewer_only_reads(
    browser, page, start_server, tmp_path
):
    server = start_server(_fresh_database(tmp_path))
    try:
        activity_id = _secretariat_path(page, server.url)
    except Exception:
        _shot(page, "4x-calendar-secretariat-failed")  # what the page showed, for the person reading the log
        raise
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    viewer = context.new_page()
    viewer.set_default_timeout(20_000)
    try:
        _viewer_path(viewer, server.url, activity_id)
    except Exception:
        _shot(viewer, "4x-calendar-viewer-failed")
        raise
    finally:
        context.close()
