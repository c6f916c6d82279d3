"""The applications golden path in Chromium on the demo data: a visitor applies on the public form and gets a
reference number; the secretariat takes the application into review; two council units give their opinion;
the secretariat approves; the unit is in the member directory. And bad input on the public form."""

import pytest
from sqlalchemy import select

from db.engine import make_engine, transaction
from db.models import Application
from db.services import settings
from scripts.seed_demo import DEMO_PASSWORD
from tests.e2e.harness import assert_no_exception, box, click_and_wait, login, screenshot, wait_for_app
from ui.i18n import enum_label, t

pytestmark = pytest.mark.e2e

NAME = "宁波市鄞州区海岸线守护志愿者协会"
CODE = "91330600MA2D5TX879"


def _open_intake(database_url: str) -> None:
    engine = make_engine(database_url)
    with transaction(write=True, engine=engine) as session:
        from db.services import users

        staff = users.get_active_user(session=session, username="demo_secretariat")
        assert staff is not None
        version = settings.get_setting_version(session=session, key="intake_open")
        settings.set_setting(session=session, actor=staff.actor(), key="intake_open", value=True,
                             expected_version=version)  # fmt: skip
    engine.dispose()


def _application_id(database_url: str, reference: str) -> int:
    engine = make_engine(database_url)
    with transaction(engine=engine) as session:
        app_id = session.scalar(select(Application.id).where(Application.reference == reference))
    engine.dispose()
    assert app_id is not None
    return int(app_id)


def _fresh(browser, url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(url)
    wait_for_app(tab)
    return context, tab


def _choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("[data-testid=stSelectbox]").filter(has_text=label).first.click()
    page.keyboard.type(option)  # long lists render only the options in view: filter first
    page.get_by_role("option", name=option, exact=True).click()


def _fill_public_form(page, **values: str) -> None:  # type: ignore[no-untyped-def]
    fields = {
        t("field.name") + " *": NAME,
        t("field.credit_code"): CODE,
        t("field.contact_person") + " *": "周洋",
        t("field.phone") + " *": "13955556666",
        t("field.email"): "coast@example.org",
        **values,
    }
    for label, value in fields.items():
        box(page, label).fill(value)


def test_golden_path_public_form_to_review_opinions_approval_and_directory(browser, page, start_server, demo_database):
    _open_intake(demo_database)
    server = start_server(demo_database)

    visitor_ctx, visitor = _fresh(browser, f"{server.url}/apply")
    visitor.get_by_role("heading", name=t("page.apply")).wait_for()
    _fill_public_form(visitor)
    _choose(visitor, t("field.province"), "浙江")
    visitor.get_by_text(t("apply.consent")).click()
    click_and_wait(visitor, visitor.get_by_role("button", name=t("apply.submit")))
    visitor.get_by_text(t("apply.done", reference="").split("。")[0]).wait_for()
    assert_no_exception(visitor)
    reference = visitor.locator("[data-testid=stCode]").inner_text().strip()
    assert reference.startswith("SQ")
    screenshot(visitor, "20-apply-reference")
    visitor_ctx.close()
    app_id = _application_id(demo_database, reference)

    page.goto(f"{server.url}/applications?id={app_id}")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    page.get_by_role("heading", name=NAME).wait_for()
    _choose(page, t("applications.move_to"), enum_label("app_status", "in_review"))
    click_and_wait(page, page.get_by_role("button", name=t("applications.apply_action")))
    page.get_by_text(t("applications.moved", status=enum_label("app_status", "in_review"))).wait_for()
    screenshot(page, "21-applications-in-review")

    for username in ("demo_council", "demo_council_02"):
        ctx, council = _fresh(browser, f"{server.url}/applications?id={app_id}")
        login(council, username, DEMO_PASSWORD)
        council.get_by_role("heading", name=NAME).wait_for()
        assert council.get_by_role("button", name=t("applications.apply_action")).count() == 0
        council.get_by_role("textbox", name=t("field.comment")).fill("同意吸纳，建议加强活动记录。")
        click_and_wait(council, council.get_by_role("button", name=t("applications.save_opinion")))
        council.get_by_text(t("applications.opinion_saved")).wait_for()
        assert_no_exception(council)
        screenshot(council, f"22-opinion-{username}")
        ctx.close()

    page.reload()
    wait_for_app(page)
    metric = page.locator("[data-testid=stMetric]").filter(has_text=enum_label("opinion", "agree"))
    assert metric.locator("[data-testid=stMetricValue]").inner_text().strip() == "2"
    _choose(page, t("applications.move_to"), enum_label("app_status", "approved"))
    page.get_by_text(t("applications.confirm_final")).click()
    click_and_wait(page, page.get_by_role("button", name=t("applications.apply_action")))
    page.get_by_text(t("applications.moved", status=enum_label("app_status", "approved"))).wait_for()
    assert_no_exception(page)
    screenshot(page, "23-approved")

    page.goto(f"{server.url}/members")
    wait_for_app(page)
    box(page, t("members.search")).fill("海岸线守护")
    box(page, t("members.search")).press("Enter")
    wait_for_app(page)
    grid = page.locator("[data-testid=stDataFrame]")
    grid.locator("[role=gridcell]", has_text=NAME).first.wait_for(state="attached")
    screenshot(page, "24-directory")


def test_bad_input_on_the_public_form_gets_messages_and_script_shows_as_text(browser, start_server, demo_database):
    _open_intake(demo_database)
    server = start_server(demo_database)
    ctx, visitor = _fresh(browser, f"{server.url}/apply")
    hostile = "<script>window.__pwned = 1</script><b>粗体</b>"
    _fill_public_form(
        visitor,
        **{
            t("field.name") + " *": hostile,
            t("field.credit_code"): "91330600MA2D5TX87A",
            t("field.phone") + " *": "12345",
            t("field.email"): "不是邮箱",
        },
    )
    click_and_wait(visitor, visitor.get_by_role("button", name=t("apply.submit")))
    visitor.get_by_text(t("form.fix_marked")).wait_for()
    for key in ("validation.credit_code_invalid", "validation.phone_invalid", "validation.email_invalid"):
        visitor.get_by_text(t(key)).first.wait_for()
    visitor.get_by_text(t("validation.consent_required")).wait_for()
    assert box(visitor, t("field.name") + " *").input_value() == hostile, "what was typed stays"
    assert visitor.evaluate("window.__pwned") is None
    assert visitor.locator("b", has_text="粗体").count() == 0
    assert_no_exception(visitor)
    screenshot(visitor, "25-apply-bad-input")
    ctx.close()


def _csv(rows: list[list[str]]) -> bytes:
    header = [
        t("field.name") + " *",
        t("field.kind") + " *",
        t("field.province") + " *",
        t("field.contact_person"),
        t("field.phone"),
        t("field.applied_for") + " *",
        t("field.channel") + " *",
        t("field.consent") + " *",
    ]
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")  # what Chinese Excel saves


def test_an_import_with_a_bad_row_writes_nothing_and_the_corrected_gb18030_file_imports(
    page, start_server, demo_database
):
    from sqlalchemy import func

    def count() -> int:
        engine = make_engine(demo_database)
        with transaction(engine=engine) as session:
            n = session.scalar(select(func.count()).select_from(Application))
        engine.dispose()
        return int(n or 0)

    server = start_server(demo_database)
    before = count()
    page.goto(f"{server.url}/applications")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    click_and_wait(page, page.locator("[data-testid=stButtonGroup]").get_by_text(t("applications.tab_import")))
    good = [
        "温州市瓯海区绿色骑行志愿服务队",
        "志愿服务队伍",
        "浙江",
        "郑伟",
        "13766667777",
        "成员单位",
        "网络邀请",
        "是",
    ]
    bad = ["丽水市莲都区生态茶园志愿服务队", "志愿服务队伍", "浙江", "陈芳", "12345", "成员单位", "自主报名", "是"]
    uploader = page.locator("[data-testid=stFileUploaderDropzoneInput]")
    uploader.set_input_files(files=[{"name": "申请.csv", "mimeType": "text/csv", "buffer": _csv([good, bad])}])
    wait_for_app(page)
    page.get_by_text(t("import.has_errors", count=1)).wait_for()
    grid = page.locator("[data-testid=stDataFrame]")
    grid.locator("[role=gridcell]", has_text=t("validation.phone_invalid")).first.wait_for(state="attached")
    assert page.get_by_role("button", name=t("import.confirm", count=2)).count() == 0
    screenshot(page, "26-import-preview-errors")
    assert count() == before

    fixed = [*bad[:4], "0578-2123456", *bad[5:]]
    uploader.set_input_files(files=[{"name": "申请.csv", "mimeType": "text/csv", "buffer": _csv([good, fixed])}])
    wait_for_app(page)
    page.get_by_text(t("import.ready", count=2)).wait_for()
    click_and_wait(page, page.get_by_role("button", name=t("import.confirm", count=2)))
    page.get_by_text(t("import.done", count=2)).wait_for()
    assert_no_exception(page)
    screenshot(page, "27-import-done")
    assert count() == before + 2


def test_the_filtered_list_downloads_as_xlsx_and_csv_with_every_row_and_no_formula(page, start_server, demo_database):
    import csv
    import io
    import re

    import openpyxl

    server = start_server(demo_database)
    page.goto(f"{server.url}/applications")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    _choose(page, t("field.status"), enum_label("app_status", "approved"))
    wait_for_app(page)
    caption = page.get_by_text(re.compile(r"共 \d+ 份申请")).inner_text()
    total = int(re.search(r"\d+", caption).group())
    assert total > 50, "more than one page: the export holds all of them"
    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name=t("export.xlsx")).click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    rows = list(workbook.active.iter_rows(values_only=False))
    assert len(rows) == total + 1
    assert all(cell.data_type != "f" for row in rows for cell in row)
    status_column = [c.value for c in rows[0]].index(t("field.status"))
    assert {row[status_column].value for row in rows[1:]} == {enum_label("app_status", "approved")}
    with page.expect_download() as csv_download:
        page.get_by_role("button", name=t("export.csv")).click()
    with open(csv_download.value.path(), encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(io.StringIO(handle.read())))
    assert len(records) == total + 1 and records[0][0] == t("applications.reference")
    assert_no_exception(page)
    screenshot(page, "28-export")


def test_a_record_opened_from_the_table_returns_to_the_list(page, start_server, demo_database):
    server = start_server(demo_database)
    page.goto(f"{server.url}/members")
    wait_for_app(page)
    login(page, "demo_secretariat", DEMO_PASSWORD)
    grid = page.locator("[data-testid=stDataFrame]")
    grid.wait_for()
    box_ = grid.bounding_box()
    assert box_ is not None
    # The grid draws on a canvas: click the selection box of the first data row (below the 35 px header).
    page.mouse.click(box_["x"] + 18, box_["y"] + 35 + 17)
    wait_for_app(page)
    page.get_by_role("button", name=t("members.back")).wait_for()
    assert "id=" in page.url
    click_and_wait(page, page.get_by_role("button", name=t("members.back")))
    page.get_by_role("heading", name=t("page.members")).wait_for()
    page.wait_for_timeout(1500)
    wait_for_app(page)
    assert page.get_by_role("button", name=t("members.back")).count() == 0, "the list stays; the record is closed"
    assert "id=" not in page.url
    assert_no_exception(page)
