"""Spreadsheet import and export: encodings, delimiters, row numbers, hostile files and formula injection."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pytest

from domain import spreadsheets
from domain.errors import ValidationError
from domain.spreadsheets import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    neutralise,
    read_table,
    template_xlsx,
    to_csv,
    to_xlsx,
)

CSV_TEXT = "名称,省份,电话\r\n杭州市环保志愿者协会,浙江,13800138000\r\n绿色江苏,江苏,\r\n"
EXPECTED_HEADERS = ["名称", "省份", "电话"]
EXPECTED_ROWS = [
    {"名称": "杭州市环保志愿者协会", "省份": "浙江", "电话": "13800138000", "__row__": "2"},
    {"名称": "绿色江苏", "省份": "江苏", "电话": "", "__row__": "3"},
]
HOSTILE = ["=1+1", "+86 138", "-3", "@SUM(A1)", "\tx", "\rx"]


def workbook_bytes(cells: dict[tuple[int, int], object], *, title: str = "Sheet") -> bytes:
    """An .xlsx written by openpyxl itself, with values at (row, column)."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = title
    for (row, column), value in cells.items():
        worksheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refusal(data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        read_table(data)
    assert err.value.field == "file"
    return err.value


def load(data: bytes) -> openpyxl.Workbook:
    """Read back an export as Excel would see it: formulas as formulas (no data_only)."""
    return openpyxl.load_workbook(io.BytesIO(data))


# --- reading CSV ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_a_csv_reads_the_same_in_every_encoding_chinese_excel_saves(encoding):
    data = CSV_TEXT.encode(encoding)
    if encoding == "gb18030":
        # Only a meaningful case if the bytes are not UTF-8 as well.
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    assert read_table(data) == (EXPECTED_HEADERS, EXPECTED_ROWS)


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_the_delimiter_is_recognised_from_the_header_row(delimiter):
    data = CSV_TEXT.replace(",", delimiter).encode("utf-8")
    assert read_table(data) == (EXPECTED_HEADERS, EXPECTED_ROWS)


def test_a_tab_delimited_csv_keeps_commas_inside_cells():
    data = "名称\t地址\r\n杭州市环保志愿者协会\t浙江省杭州市,西湖区\r\n".encode()
    _, rows = read_table(data)
    assert rows == [{"名称": "杭州市环保志愿者协会", "地址": "浙江省杭州市,西湖区", "__row__": "2"}]


def test_a_quoted_comma_does_not_split_a_cell():
    data = '名称,地址\r\n"杭州,环保",西湖区\r\n'.encode()
    assert read_table(data)[1] == [{"名称": "杭州,环保", "地址": "西湖区", "__row__": "2"}]


def test_a_one_column_csv_reads_as_one_column():
    assert read_table("名称\n杭州\n".encode()) == (["名称"], [{"名称": "杭州", "__row__": "2"}])


def test_cells_are_stripped_and_short_rows_are_filled_with_empty_text():
    data = " 名称 , 省份 \n  杭州  \n".encode()
    assert read_table(data) == (["名称", "省份"], [{"名称": "杭州", "省份": "", "__row__": "2"}])


# --- reading: rows, headers, numbering -------------------------------------------------------------------------------


def test_empty_csv_lines_are_skipped_and_rows_keep_their_numbers_in_the_file():
    data = "\n,,\n名称,省份\n杭州,浙江\n\n , \n南京,江苏\n".encode()
    headers, rows = read_table(data)
    assert headers == ["名称", "省份"]
    assert [(row["名称"], row["__row__"]) for row in rows] == [("杭州", "4"), ("南京", "7")]


def test_empty_xlsx_rows_are_skipped_and_rows_keep_their_numbers_in_the_sheet():
    data = workbook_bytes({(3, 1): "名称", (3, 2): "省份", (4, 1): "杭州", (5, 2): "  ", (7, 2): "江苏"})
    headers, rows = read_table(data)
    assert headers == ["名称", "省份"]
    assert rows == [
        {"名称": "杭州", "省份": "", "__row__": "4"},
        {"名称": "", "省份": "江苏", "__row__": "7"},
    ]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("名称,省份\r\n\r\n".encode(), id="csv"),
        pytest.param(workbook_bytes({(1, 1): "名称", (1, 2): "省份"}), id="xlsx"),
    ],
)
def test_a_file_with_only_a_header_gives_zero_rows(data):
    assert read_table(data) == (["名称", "省份"], [])


def test_unnamed_and_repeated_columns_are_ignored_and_the_first_of_a_name_wins():
    data = "名称,,省份,名称,,\n杭州,备注,浙江,重复,x,y\n".encode()
    headers, rows = read_table(data)
    assert headers == ["名称", "", "省份", "名称"]
    assert rows == [{"名称": "杭州", "省份": "浙江", "__row__": "2"}]


def test_only_the_first_worksheet_is_read():
    workbook = openpyxl.Workbook()
    workbook.active.append(["名称"])
    workbook.active.append(["第一张"])
    workbook.create_sheet("其他").append(["别的"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_table(buffer.getvalue())[1] == [{"名称": "第一张", "__row__": "2"}]


def rewrite_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    """The workbook with the first sheet's XML edited, as other programs write it."""
    target = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(target, "w") as rewritten:
        for entry in original.infolist():
            content = original.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                assert old in content
                content = content.replace(old, new)
            rewritten.writestr(entry, content)
    return target.getvalue()


def test_an_xlsx_that_understates_its_size_is_still_read_in_full():
    data = workbook_bytes({(row, 1): f"行{row}" for row in range(1, 6)})
    data = rewrite_sheet(data, b'<dimension ref="A1:A5"', b'<dimension ref="A1:A2"')
    assert [row["行1"] for row in read_table(data)[1]] == ["行2", "行3", "行4", "行5"]


@pytest.mark.parametrize("stored", [b"1.3800138E10", b"13800138000.0"])
def test_a_whole_number_stored_as_a_float_reads_without_a_decimal_point(stored):
    data = workbook_bytes({(1, 1): "电话", (2, 1): 13800138000})
    data = rewrite_sheet(data, b"<v>13800138000</v>", b"<v>" + stored + b"</v>")
    assert read_table(data)[1] == [{"电话": "13800138000", "__row__": "2"}]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (13800138000, "13800138000"),
        (12.0, "12"),
        (1.5, "1.5"),
        (-3, "-3"),
        (date(2026, 11, 28), "2026-11-28"),
        (datetime(2026, 11, 28, 9, 30), "2026-11-28"),
        (True, "TRUE"),
        (False, "FALSE"),
        ("  杭州  ", "杭州"),
        (None, ""),
    ],
)
def test_xlsx_cells_read_as_the_text_a_person_sees(value, text):
    data = workbook_bytes({(1, 1): "值", (1, 2): "名称", (2, 1): value, (2, 2): "x"})
    assert read_table(data)[1] == [{"值": text, "名称": "x", "__row__": "2"}]


def test_an_exported_xlsx_reads_back_as_the_values_written():
    data = to_xlsx(
        ["名称", "省份", "电话", "成立日期", "人数", "备注"],
        [["杭州市环保志愿者协会", "浙江", 13800138000, date(2026, 11, 28), 12.0, None]],
        sheet="成员",
    )
    assert read_table(data) == (
        ["名称", "省份", "电话", "成立日期", "人数", "备注"],
        [
            {
                "名称": "杭州市环保志愿者协会",
                "省份": "浙江",
                "电话": "13800138000",
                "成立日期": "2026-11-28",
                "人数": "12",
                "备注": "",
                "__row__": "2",
            }
        ],
    )


# --- reading: refusals -----------------------------------------------------------------------------------------------


def real_xlsx() -> bytes:
    return to_xlsx(["名称"], [["杭州"]])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\n\r\n ,, \n", id="blank-lines-only"),
        pytest.param(bytes(range(256)) * 4, id="garbage"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, id="old-xls"),
        pytest.param(real_xlsx()[:100], id="truncated-xlsx"),
        pytest.param(b"PK\x03\x04" + b"not really a zip" * 10, id="fake-zip"),
        pytest.param(b'"unterminated\n' + b"x" * 200_000, id="field-beyond-csv-limit"),
    ],
)
def test_files_that_are_no_table_are_refused_as_unreadable(data):
    assert refusal(data).key == "import.unreadable"


def test_a_zip_that_is_not_a_workbook_is_refused_as_unreadable():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert refusal(buffer.getvalue()).key == "import.unreadable"


def test_an_xlsx_that_would_inflate_too_far_is_refused_before_it_is_opened(monkeypatch):
    data = to_xlsx(["名称"], [["杭州" * 1000]])
    monkeypatch.setattr(spreadsheets, "MAX_XLSX_UNPACKED_BYTES", 2000)
    assert refusal(data).key == "import.unreadable"


def test_a_file_over_the_size_limit_is_refused_whatever_it_holds():
    err = refusal(b"a" * (MAX_IMPORT_BYTES + 1))
    assert err.key == "import.too_large"
    assert err.params == {"max_mb": 5}


def test_a_file_of_exactly_the_size_limit_is_read():
    header = b"name\n"
    body = (b"x" * 1091 + b"\n") * 4800
    # The last row pads to the limit and stays within the csv module's field size limit.
    tail = b"y" * (MAX_IMPORT_BYTES - len(header) - len(body))
    assert 0 < len(tail) < 100_000
    data = header + body + tail
    assert len(data) == MAX_IMPORT_BYTES
    assert len(read_table(data)[1]) == 4801


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: ("名称\n" + "杭州\n" * n).encode(), id="csv"),
        pytest.param(lambda n: to_xlsx(["名称"], [["杭州"]] * n), id="xlsx"),
        # Blank lines are not rows, so they do not count towards the limit.
        pytest.param(lambda n: ("名称\n" + "杭州\n\n" * n).encode(), id="csv-with-blank-lines"),
    ],
)
def test_more_rows_than_the_limit_are_refused_but_the_limit_itself_is_read(make):
    assert len(read_table(make(MAX_IMPORT_ROWS))[1]) == MAX_IMPORT_ROWS
    err = refusal(make(MAX_IMPORT_ROWS + 1))
    assert err.key == "import.too_many_rows"
    assert err.params == {"max": MAX_IMPORT_ROWS}


# --- neutralising ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(hostile, "'" + hostile) for hostile in HOSTILE],
        ("杭州", "杭州"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=1", "'=1"),
        (12, 12),
        (-3, -3),
        (date(2026, 11, 28), date(2026, 11, 28)),
        (None, None),
    ],
)
def test_only_text_a_spreadsheet_would_run_is_neutralised(value, expected):
    assert neutralise(value) == expected


def test_an_xlsx_export_never_holds_a_formula():
    data = to_xlsx(["=HEADER()", *HOSTILE[1:]], [HOSTILE, ["#N/A", *HOSTILE[1:]]])
    cells = [cell for row in load(data).active.iter_rows() for cell in row]
    assert len(cells) == 3 * len(HOSTILE)
    assert [cell.data_type for cell in cells] == ["s"] * len(cells)
    # XML parsers turn a stored carriage return into a line feed, so "\rx" comes back as "\nx" (still text).
    expected = [value.replace("\r", "\n") for value in HOSTILE]
    assert [cell.value for cell in cells[len(HOSTILE) : 2 * len(HOSTILE)]] == expected
    # Marked the way Excel marks a typed '=1+1: a quote prefix, so the cell shows the text and never runs it.
    assert all(cell.quotePrefix for cell in cells[: 2 * len(HOSTILE)])
    assert cells[0].value == "=HEADER()"
    assert cells[2 * len(HOSTILE)].value == "#N/A" and not cells[2 * len(HOSTILE)].quotePrefix


def test_a_csv_export_neutralises_every_text_cell():
    data = to_csv(["=HEADER()", "名称"], [[value, "杭州"] for value in HOSTILE])
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert records[0] == ["'=HEADER()", "名称"]
    assert [record[0] for record in records[1:]] == ["'" + value for value in HOSTILE]


def test_plain_values_are_exported_unchanged():
    row: list[object] = ["杭州", 12, date(2026, 11, 28), 13800138000, 1.5, True, None]
    worksheet = load(to_xlsx(["a", "b", "c", "d", "e", "f", "g"], [row])).active
    values = [cell.value for cell in next(worksheet.iter_rows(min_row=2))]
    assert values == ["杭州", 12, datetime(2026, 11, 28), 13800138000, 1.5, True, None]
    assert worksheet["C2"].number_format == "yyyy-mm-dd"
    records = list(csv.reader(io.StringIO(to_csv(["a"] * 7, [row]).decode("utf-8-sig"), newline="")))
    assert records[1] == ["杭州", "12", "2026-11-28", "13800138000", "1.5", "TRUE", ""]


def test_a_csv_export_has_a_bom_and_crlf_line_ends():
    data = to_csv(["名称"], [["杭州"]])
    assert data == "\ufeff名称\r\n杭州\r\n".encode()


def test_an_aware_time_is_exported_in_shanghai_time():
    moment = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    assert load(to_xlsx(["时间"], [[moment]])).active["A2"].value == datetime(2026, 11, 28, 9, 30)
    assert to_csv(["时间"], [[moment]]).endswith(b"2026-11-28 09:30:00\r\n")


def test_values_excel_cannot_hold_exactly_are_exported_as_text():
    worksheet = load(to_xlsx(["身份证", "控制字符", "非数"], [[110101199003077777, "杭\x01州", float("nan")]])).active
    assert [cell.value for cell in worksheet[2]] == ["110101199003077777", "杭州", "nan"]


def test_the_export_has_a_bold_frozen_header_and_wider_columns_for_chinese():
    worksheet = load(to_xlsx(["名称", "code"], [["杭州市环保志愿者协会", "abcdefghij"]])).active
    assert worksheet.freeze_panes == "A2"
    assert worksheet["A1"].font.bold and worksheet["B1"].font.bold
    assert not worksheet["A2"].font.bold
    # Ten CJK characters fill twenty columns, ten Latin letters ten.
    assert worksheet.column_dimensions["A"].width == 22
    assert worksheet.column_dimensions["B"].width == 12


@pytest.mark.parametrize(
    ("asked", "title"),
    [
        ("成员/名单[2026]", "成员名单2026"),
        ("a:b*c?d\\e", "abcde"),
        ("x" * 40, "x" * 31),
        ("'引号'", "引号"),
        ("", "Sheet1"),
        ("[]", "Sheet1"),
    ],
)
def test_sheet_titles_are_made_acceptable_to_excel(asked, title):
    assert load(to_xlsx(["a"], [], sheet=asked)).sheetnames == [title]


# --- templates -------------------------------------------------------------------------------------------------------


def test_a_template_has_the_table_sheet_and_a_notes_sheet():
    data = template_xlsx(
        ["名称", "省份", "人数"],
        ["杭州市环保志愿者协会", "浙江", 12],
        ["带 * 的列必须填写", "- 省份写全称"],
        sheet="成员导入",
    )
    workbook = load(data)
    assert workbook.sheetnames == ["成员导入", "说明"]
    table = [[cell.value for cell in row] for row in workbook["成员导入"].iter_rows()]
    assert table == [["名称", "省份", "人数"], ["杭州市环保志愿者协会", "浙江", 12]]
    notes = [[cell.value for cell in row] for row in workbook["说明"].iter_rows()]
    assert notes == [["带 * 的列必须填写"], ["- 省份写全称"]]
    assert all(cell.data_type == "s" for cell in workbook["说明"]["A"])
    assert workbook["成员导入"]["A1"].font.bold


def test_a_filled_in_template_reads_back_through_the_importer():
    data = template_xlsx(["名称", "电话"], ["杭州市环保志愿者协会", 13800138000], ["说明"], sheet="导入")
    assert read_table(data) == (
        ["名称", "电话"],
        [{"名称": "杭州市环保志愿者协会", "电话": "13800138000", "__row__": "2"}],
    )


def test_a_file_with_thousands_of_columns_is_refused_before_its_rows_are_read():
    header = ",".join(f"c{i}" for i in range(18_000))
    data = (header + "\n" + "\n".join("," * 17_999 for _ in range(50))).encode()
    with pytest.raises(ValidationError) as refused:
        read_table(data)
    assert refused.value.key == "import.too_many_columns"


def test_a_header_beyond_the_csv_modules_field_limit_is_unreadable_not_a_crash():
    data = ('"' + "x" * 200_000 + '"\n1\n').encode()
    with pytest.raises(ValidationError) as refused:
        read_table(data)
    assert refused.value.key == "import.unreadable"
