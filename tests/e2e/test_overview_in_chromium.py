"""The metrics overview (数据概览) in Chromium, on a copy of the demo database with one more member unit whose name
a spreadsheet would run as a formula and that organised four activities this month (written through the services,
so it is among the top organisers and its name is in the organisers chart's export).

The secretariat logs in through the real form on a deep link to /overview and sees the tiles; switches the period to
this year and filters the activity category, and the tiles follow (checked against counts written by hand in SQL);
clicks a bar of the unit-kind chart and the kind filter and the members tile follow; in the activities tab clicks a
bar of the monthly chart and reads the activities behind it, then clears them; exports the organisers chart's data
as .csv and downloads the printable summary. A viewer opens the overview without the applications tab, and the home
page shows the same four headline figures as the overview's tiles."""

import csv
import io
import re
import shutil
import sqlite3
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from db.engine import make_engine, transaction
from db.models import User
from db.services import activities, organisations
from domain.activities import local_datetime
from domain.clock import SHANGHAI, today
from domain.organisations import OrganisationInput, OrgKind
from domain.roles import Actor, Role
from scripts.seed_demo import DEMO_PASSWORD
from tests.e2e.harness import assert_no_exception, click_and_wait, login, screenshot, wait_for_app
from ui.i18n import enum_label, format_date, t

pytestmark = pytest.mark.e2e

# A unit name Excel would run as a formula (the export must write it as text), organising four activities this month.
FORMULA_UNIT = '=HYPERLINK("https://example.invalid","点此")护河志愿服务队'
FORMULA_ACTIVITIES = 4
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TILES = ("members", "new_members", "pending", "activities", "hours", "trainings", "meetings")
HEADLINE = ("members", "new_members", "activities", "hours")  # the viewer's home page


# --------------------------------------------------------------------------------------------------- the data


def _database(demo_database: str, tmp_path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A copy of the demo database (the module's fixture stays as seeded) with the formula-named unit and its
    activities; returns the URL and the file's path (for the counts written by hand)."""
    path = tmp_path / "overview.sqlite"
    shutil.copy(demo_database.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    on = today()
    with transaction(write=True, engine=engine) as session:
        admin_id = session.scalar(select(User.id).where(User.username == "demo_admin"))
        admin = Actor(user_id=admin_id, username="demo_admin", role=Role.ADMIN)
        unit = organisations.create_organisation(
            session=session,
            actor=admin,
            today=on,
            data=OrganisationInput(name=FORMULA_UNIT, kind="volunteer_team", province="浙江", city="杭州"),
        )
        for day in range(1, FORMULA_ACTIVITIES + 1):
            starts = local_datetime(on.replace(day=day), time(9, 0))
            activities.create_activity(
                session=session,
                actor=admin,
                data=activities.ActivityInput(
                    title=f"钱塘江护河巡查第{day}次",
                    category="volunteering",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3),
                    province="浙江",
                    organiser_id=unit,
                    place="杭州市钱塘江南岸",
                ),
            )
    engine.dispose()
    return url, str(path)


def _utc_text(day: date) -> str:
    """Midnight of a day in Asia/Shanghai as the UTC text SQLite stores."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _count_activities(path: str, first: date, after: date, category: str | None = None) -> int:
    """Activities not cancelled that start in [first, after), counted by hand."""
    sql = "SELECT count(*) FROM activities WHERE cancelled_at IS NULL AND starts_at >= ? AND starts_at < ?"
    params: list[str] = [_utc_text(first), _utc_text(after)]
    if category:
        sql += " AND category = ?"
        params.append(category)
    with sqlite3.connect(path) as db:
        return int(db.execute(sql, params).fetchone()[0])


def _count_members(path: str, kind: str) -> int:
    sql = "SELECT count(*) FROM organisations WHERE status = 'member' AND NOT is_secretariat AND kind = ?"
    with sqlite3.connect(path) as db:
        return int(db.execute(sql, (kind,)).fetchone()[0])


# --------------------------------------------------------------------------------------------------- the page


def _ok(page) -> None:  # type: ignore[no-untyped-def]
    """No exception box, no traceback, not the app's catch-all message."""
    assert_no_exception(page)
    assert page.get_by_text(t("error.unexpected")).count() == 0, t("error.unexpected")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot of the whole page: the window is made as tall as the content for the picture, then put back
    (Streamlit scrolls inside its main block, which a full-page screenshot does not unroll)."""
    size = page.viewport_size
    page.mouse.move(1, 1, steps=5)  # off the charts
    height = page.evaluate(
        "Math.max(...['[data-testid=stMain]', '[data-testid=stAppViewContainer]', '[data-testid=stSidebarContent]']"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], int(height)), 6000)})
    page.wait_for_timeout(800)  # the Vega charts re-layout to the new size
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


def _select(page, label: str):  # type: ignore[no-untyped-def]
    """The select box labelled exactly so."""
    return page.locator("[data-testid=stSelectbox]").filter(has=page.get_by_role("combobox", name=label, exact=True))


def _pick(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Choose an option of a select box: open it, filter by typing, take the first match, wait until closed."""
    select = _select(page, label)
    for attempt in range(3):  # a click during the previous list's closing animation may not open this one
        select.click()
        try:
            page.get_by_role("listbox").wait_for(timeout=3_000)
            break
        except Exception:
            if attempt == 2:
                raise
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for()
    _rerun_after(page, lambda: page.keyboard.press("Enter"))
    page.get_by_role("listbox").wait_for(state="detached")
    wait_for_app(page)
    assert _chosen(page, label) == option


def _chosen(page, label: str) -> str:  # type: ignore[no-untyped-def]
    """What a select box shows (its input's value)."""
    return str(page.get_by_role("combobox", name=label, exact=True).input_value()).strip()


def _tile(page, key: str) -> str:  # type: ignore[no-untyped-def]
    """The value a KPI tile shows (visible tiles only: a metric may also sit in a hidden tab)."""
    label = page.locator("[data-testid=stMetricLabel]").get_by_text(t(f"overview.kpi_{key}"), exact=True)
    metric = page.locator("[data-testid=stMetric]").filter(has=label).filter(visible=True)
    assert metric.count() == 1, f"one tile {t(f'overview.kpi_{key}')}"
    return str(metric.locator("[data-testid=stMetricValue]").inner_text()).strip()


def _number(shown: str) -> float:
    return float(shown.replace(",", ""))


def _caption(page) -> str:  # type: ignore[no-untyped-def]
    """The period note under the filters."""
    prefix = t("overview.period_note", first="", last="", previous="", previous_last="").split("：")[0]
    note = page.locator("[data-testid=stCaptionContainer]").filter(has_text=prefix).filter(visible=True)
    return str(note.first.inner_text()).strip()


def _bars(page, *fields: str):  # type: ignore[no-untyped-def]
    """The visible bars of the charts whose Vega aria-label names these fields ("月份: 2026-11; 活动数: 4; …")."""
    selector = "".join(f'[aria-label*="{f}: "]' for f in fields)
    return page.locator(f"path[role=graphics-symbol]{selector}").filter(visible=True)


def _fields(bar) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A bar's aria-label as field -> value."""
    label = str(bar.get_attribute("aria-label"))
    return dict(part.split(": ", 1) for part in label.split("; "))


def _biggest(bars, value: str):  # type: ignore[no-untyped-def]
    """The bar with the largest value (the easiest to hit), with its fields."""
    found = [(bar, _fields(bar)) for bar in bars.all()]
    assert found, "no bars"
    return max(found, key=lambda pair: _number(pair[1][value]))


def _open_tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    page.wait_for_function(
        "name => [...document.querySelectorAll('[role=tab]')].some("
        "e => e.textContent.trim() === name && e.getAttribute('aria-selected') === 'true')",
        arg=name,
    )
    wait_for_app(page)


def _login_on_overview(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/overview")  # a deep link on a freshly started server
    wait_for_app(page)
    login(page, username, DEMO_PASSWORD)
    page.get_by_role("heading", name=t("page.overview")).wait_for()
    page.locator("[data-testid=stMetric]").first.wait_for()
    _ok(page)


# --------------------------------------------------------------------------------------------------- the steps


def _tiles_period_and_category(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """Steps 1-2: the tiles, then this year, then one category and back to all."""
    on = today()
    this_month = on.replace(day=1)
    after = _next_month(this_month)
    twelve = date(this_month.year - (1 if this_month.month < 12 else 0), this_month.month % 12 + 1, 1)
    for key in TILES:
        assert _tile(page, key) not in ("", "—"), key
    assert _chosen(page, t("field.category")) == t("common.all")
    twelve_activities = _count_activities(path, twelve, after)
    twelve_shown = _tile(page, "activities")
    assert _number(twelve_shown) == twelve_activities
    # the tiles and the member charts
    _bars(page, t("field.kind"), t("overview.units")).first.wait_for()
    _bars(page, t("field.province"), t("overview.units")).first.wait_for()
    _ok(page)
    _shot(page, "50-overview-tiles-members")

    # This year: the period note and the activities tile follow.
    before = _caption(page)
    year_start = date(on.year, 1, 1)
    months = on.month
    _rerun_after(
        page,
        lambda: page.locator("[data-testid=stButtonGroup]").get_by_text(t("overview.preset_year"), exact=True).click(),
    )
    expected = t(
        "overview.period_note",
        first=format_date(year_start),
        last=format_date(after - timedelta(days=1)),
        previous=format_date(date(on.year - 1, 13 - months, 1)),
        previous_last=format_date(date(on.year - 1, 12, 31)),
    )
    assert _caption(page) == expected
    if on.month != 12:  # in December this year and the last 12 months are the same months
        assert _caption(page) != before
    year_activities = _count_activities(path, year_start, after)
    assert _number(_tile(page, "activities")) == year_activities
    # the tile changes whenever the months before January held activities (all but in December, on the demo)
    assert (_tile(page, "activities") != twelve_shown) == (year_activities != twelve_activities)
    _ok(page)

    # One category: the activities tile counts only trainings (so equals the trainings tile), then back to all.
    _pick(page, t("field.category"), enum_label("category", "training"))
    trainings = _count_activities(path, year_start, after, "training")
    assert trainings != year_activities, "the demo data has activities of other categories this year"
    assert _number(_tile(page, "activities")) == trainings
    assert _tile(page, "activities") == _tile(page, "trainings")
    _ok(page)
    _pick(page, t("field.category"), t("common.all"))
    assert _number(_tile(page, "activities")) == year_activities

    # back to the last 12 months for the rest
    _rerun_after(
        page,
        lambda: page.locator("[data-testid=stButtonGroup]").get_by_text(t("overview.preset_12m"), exact=True).click(),
    )
    assert _caption(page) == before
    _ok(page)


def _kind_bar_filters_the_page(page, path: str) -> None:  # type: ignore[no-untyped-def]
    """Step 3: a click on a bar of the unit-kind chart sets the kind filter; the members tile follows."""
    all_members = _tile(page, "members")
    kind_bars = _bars(page, t("field.kind"), t("overview.units"))
    kind_bars.first.wait_for()
    assert kind_bars.count() >= 2, "the demo has units of several kinds"
    bar = kind_bars.last  # the smallest: the members tile must change
    kind_name, units = _fields(bar)[t("field.kind")], _fields(bar)[t("overview.units")]
    _rerun_after(page, lambda: bar.click(force=True))
    assert _chosen(page, t("field.kind")) == kind_name
    code = next(k.value for k in OrgKind if enum_label("org_kind", k.value) == kind_name)
    assert _tile(page, "members") == units
    assert _number(_tile(page, "members")) == _count_members(path, code)
    assert _tile(page, "members") != all_members
    left = _bars(page, t("field.kind"), t("overview.units"))
    assert left.count() == 1 and _fields(left.first)[t("field.kind")] == kind_name, "only the kind picked is left"
    _ok(page)
    # The clicked bar's tooltip outlives the chart drawn again under it: it goes once the pointer passes over
    # another chart's bar and leaves it, as a user's pointer soon does.
    _bars(page, t("field.province"), t("overview.units")).first.hover(force=True)
    page.mouse.move(1, 1, steps=5)
    _shot(page, "51-overview-kind-picked")
    _pick(page, t("field.kind"), t("common.all"))
    assert _tile(page, "members") == all_members
    _ok(page)


def _drill_into_a_month(page) -> None:  # type: ignore[no-untyped-def]
    """Step 4: in the activities tab a click on a bar of the monthly chart shows the activities behind it."""
    _open_tab(page, t("overview.tab_activities"))
    monthly = _bars(page, t("overview.month"), t("overview.activities"))
    monthly.first.wait_for()
    bar, fields = _biggest(monthly, t("overview.activities"))
    month, category, count = fields[t("overview.month")], fields[t("field.category")], fields[t("overview.activities")]
    _rerun_after(page, lambda: bar.click(force=True))
    page.get_by_role("heading", name=t("overview.drill_title")).wait_for()
    page.get_by_text(t("overview.drill_activities", count=int(_number(count))), exact=True).wait_for()
    table = page.locator("[data-testid=stDataFrame]").filter(visible=True)
    assert table.count() == 1, "the drill table is the only table shown (the charts' tables are folded)"
    grid = table.first
    year, number = (int(p) for p in month.split("-"))
    started = format_date(date(year, number, 1)).removesuffix("1日")  # e.g. 2026年11月
    grid.locator("[role=gridcell]", has_text=category).first.wait_for(state="attached")
    grid.locator("[role=gridcell]", has_text=started).first.wait_for(state="attached")
    rows = grid.locator("[role=row]").count() - 1  # the header row
    assert rows >= 1, "the drill table has rows"
    for cell in grid.locator("[role=gridcell]").all_inner_texts():
        assert not re.match(r"^\d{4}年\d{1,2}月", cell) or cell.startswith(started), f"{cell} not in {month}"
    _ok(page)
    _shot(page, "52-overview-activities-drill")

    click_and_wait(page, page.get_by_role("button", name=t("overview.drill_clear")))
    assert page.get_by_role("heading", name=t("overview.drill_title")).count() == 0
    assert page.locator("[data-testid=stDataFrame]").filter(visible=True).count() == 0
    _ok(page)


def _export_organisers_csv(page) -> None:  # type: ignore[no-untyped-def]
    """Step 5: the organisers chart's data as .csv: BOM, header row, the formula-named unit written as text."""
    expander = page.locator("[data-testid=stExpander]").filter(has=page.locator(".st-key-ov_export_organisers_csv"))
    expander.get_by_text(t("overview.chart_data"), exact=True).click()
    button = expander.get_by_role("button", name=t("export.csv"))
    button.wait_for()
    expander.get_by_role("button", name=t("export.xlsx")).wait_for()
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"{t('overview.file_organisers')}.csv"
    data = download.value.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM (Chinese Excel reads it right)"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [t("field.organiser"), t("overview.activities"), t("field.service_hours")]
    assert len(rows) > 2
    names = [row[0] for row in rows[1:]]
    assert "'" + FORMULA_UNIT in names, names
    assert FORMULA_UNIT not in names
    assert t("cal.secretariat") in names
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"a live formula: {cell!r}"
    _ok(page)


def _printable_summary(page) -> None:  # type: ignore[no-untyped-def]
    """Step 6: the printable summary is an HTML page with every tile's label and figure, and no script."""
    shown = {key: _tile(page, key) for key in TILES}
    with page.expect_download() as download:
        page.get_by_role("button", name=t("overview.print")).click()
    assert download.value.suggested_filename.endswith(".html")
    html = download.value.path().read_text(encoding="utf-8")
    assert re.match(r"\s*<!doctype html>", html, re.IGNORECASE), html[:80]
    assert "<script" not in html.lower()
    assert t("overview.print_title") in html
    for key, value in shown.items():
        assert f"<td>{t(f'overview.kpi_{key}')}</td><td>{value}</td>" in html, key
    _ok(page)


def _viewer_path(viewer, url: str) -> None:  # type: ignore[no-untyped-def]
    """Step 7: a viewer opens the overview (no applications tab), and home shows the same headline figures."""
    _login_on_overview(viewer, url, "demo_viewer")
    for tab in (t("overview.tab_members"), t("overview.tab_activities"), t("overview.tab_council")):
        viewer.get_by_role("tab", name=tab, exact=True).wait_for()
    assert viewer.get_by_role("tab", name=t("overview.tab_applications"), exact=True).count() == 0
    figures = {key: _tile(viewer, key) for key in HEADLINE}
    _ok(viewer)
    _shot(viewer, "53-overview-viewer")

    viewer.goto(url)
    wait_for_app(viewer)
    viewer.get_by_role("heading", name=t("home.headline")).wait_for()
    metrics = viewer.locator("[data-testid=stMain] [data-testid=stMetric]")
    assert metrics.count() == 4
    for key in HEADLINE:
        assert _tile(viewer, key) == figures[key], key
    _ok(viewer)
    _shot(viewer, "54-overview-viewer-home")


def test_overview_tiles_follow_the_filters_bars_filter_and_drill_exports_work_and_a_viewer_reads_the_headline(
    browser, page, start_server, demo_database, tmp_path
):
    url, path = _database(demo_database, tmp_path)
    server = start_server(url)
    _login_on_overview(page, server.url, "demo_secretariat")
    try:
        _tiles_period_and_category(page, path)
        _kind_bar_filters_the_page(page, path)
        _drill_into_a_month(page)
        _export_organisers_csv(page)
        _printable_summary(page)
    except Exception:
        _shot(page, "5x-overview-secretariat-failed")  # what the page showed, for the person reading the log
        raise
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    viewer = context.new_page()
    viewer.set_default_timeout(20_000)
    try:
        _viewer_path(viewer, server.url)
    except Exception:
        _shot(viewer, "5x-overview-viewer-failed")
        raise
    finally:
        context.close()
