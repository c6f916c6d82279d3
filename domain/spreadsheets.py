"""Spreadsheets in and out: read uploaded .xlsx/.csv tables as text, write .xlsx/.csv that cannot run formulas."""

import csv
import io
import math
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from domain.errors import ValidationError

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# A 5 MB .xlsx is a zip: refuse one that would inflate past this, since openpyxl holds every shared string in memory
# even in read-only mode (zipfile never returns more than the size an entry declares, so the declared sizes bound it).
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
# openpyxl keeps all shared strings in memory even in read-only mode (several times their XML size), and a
# file may declare thousands of columns: both are capped so one upload cannot exhaust the process's memory.
MAX_XLSX_SHARED_STRINGS_BYTES = 20 * 1024 * 1024
MAX_IMPORT_COLUMNS = 100
# The key of each imported row that holds its row number in the file, so a preview can say "第 7 行".
ROW_NUMBER_KEY = "__row__"

_ZIP_MAGIC = b"PK\x03\x04"
_DELIMITERS = (",", "\t", ";")
# Excel, LibreOffice and Google Sheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in sheet titles and caps titles at 31 characters.
_TITLE_FORBIDDEN = str.maketrans("", "", "[]:*?/\\")
_TITLE_MAX = 31
# Excel's limit for one cell; a longer text makes Excel "repair" the file and drop it.
_CELL_MAX_CHARS = 32767
# Excel keeps 15 significant digits: a longer integer (an ID card number typed as a number) would come back altered.
_EXCEL_EXACT_INT = 10**15
# Aware datetimes (audit times in UTC) are shown in the network's time zone; Excel cells cannot hold a zone.
_LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Widths from the first rows only: exports can be long and the widths are cosmetic.
_WIDTH_SAMPLE_ROWS = 500
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_NOTES_SHEET = "说明"


def read_table(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Headers and non-empty rows (header -> stripped text, plus "__row__") of an uploaded .xlsx or .csv."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError("import.too_large", field="file", max_mb=MAX_IMPORT_BYTES // (1024 * 1024))
    # Judged by content, not by file name: people rename files, and a ".xlsx" may really be a CSV or the reverse.
    rows = _xlsx_rows(data) if data.startswith(_ZIP_MAGIC) else _csv_rows(data)
    return _tabulate(rows)


def neutralise(value: object) -> object:
    """A text that a spreadsheet would run as a formula, prefixed with "'" so it stays text; other values as given."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_xlsx(headers: list[str], rows: list[list[object]], *, sheet: str = "Sheet1") -> bytes:
    """An .xlsx of the table: bold frozen header, fitted columns, every text neutralised and stored as text."""
    # Write-only mode streams rows to the file, so a large export stays within the per-process memory budget.
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(_sheet_title(sheet))
    _write_table(worksheet, headers, rows, text=_neutral_text)
    return _saved(workbook)


def to_csv(headers: list[str], rows: list[list[object]]) -> bytes:
    """A CSV of the table in UTF-8 with BOM and CRLF line ends, every text neutralised, dates in ISO form."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(value) for value in headers])
    writer.writerows([_csv_text(value) for value in row] for row in rows)
    # Without the BOM, Chinese Excel reads UTF-8 as GBK and shows mojibake.
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(headers: list[str], example: list[object], notes: list[str], *, sheet: str) -> bytes:
    """An import template: header row and one example row on the first sheet, the notes one per row on "说明"."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(_sheet_title(sheet))
    # The template's words are the app's own, not user data, so they are written as typed (a note may start with
    # "-"); they are still stored as text, so nothing in them can run as a formula.
    _write_table(worksheet, headers, [example], text=_plain_text, body_font=Font(italic=True, color="808080"))
    notes_sheet = workbook.create_sheet(_NOTES_SHEET)
    notes_sheet.column_dimensions["A"].width = 100
    wrap = Alignment(wrap_text=True, vertical="top")
    for note in notes:
        cell = _text_cell(notes_sheet, _plain_text(note))
        cell.alignment = wrap
        notes_sheet.append([cell])
    return _saved(workbook)


# --- reading ---------------------------------------------------------------------------------------------------------


def _unreadable() -> ValidationError:
    return ValidationError("import.unreadable", field="file")


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    """The first worksheet's rows as text, one list per row of the sheet (empty rows included, to keep numbering)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
            shared = sum(e.file_size for e in archive.infolist() if e.filename.lower().endswith("sharedstrings.xml"))
        if unpacked > MAX_XLSX_UNPACKED_BYTES or shared > MAX_XLSX_SHARED_STRINGS_BYTES:
            raise _unreadable()
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationError:
        raise
    except Exception as exc:
        # A damaged zip or workbook fails in many ways (BadZipFile, KeyError, XML and value errors); all mean the same.
        raise _unreadable() from exc
    try:
        if not workbook.worksheets:
            raise _unreadable()
        worksheet = workbook.worksheets[0]
        # Read-only mode trusts the size the file declares; some exporters write a wrong one and rows would go missing.
        worksheet.reset_dimensions()
        try:
            for values in worksheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in values]
        except Exception as exc:
            raise _unreadable() from exc
    finally:
        # Read-only workbooks keep the archive open until closed.
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    """The CSV's records as stripped text, one list per record (blank lines included, to keep numbering)."""
    text = _decode(data)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        for record in reader:
            yield [cell.strip() for cell in record]
    except csv.Error as exc:
        # Malformed quoting, or a field beyond the csv module's size limit.
        raise _unreadable() from exc


def _decode(data: bytes) -> str:
    """The text of a CSV: UTF-16 when it has that BOM, else UTF-8 (BOM or not), else GB18030 as Chinese Excel saves."""
    # Excel's "Unicode text" export is UTF-16 with a BOM.
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes most byte soups: control characters show that the "text" is really a binary file.
        if any(ch < " " and ch not in "\t\n\r" for ch in text):
            break
        return text
    raise _unreadable()


def _delimiter(text: str) -> str:
    """The delimiter that splits the header row into the most cells (comma on a tie or a single column)."""
    # Judged on the header alone: csv.Sniffer guesses from a sample's consistency and fails on one-column files and on
    # samples cut mid-row, while the header is what defines the columns.
    header = next((line for line in text.splitlines() if line.strip(" ,\t;")), "")
    return max(_DELIMITERS, key=lambda d: len(next(csv.reader([header], delimiter=d), [])))


def _cell_text(value: object) -> str:
    """A cell's value as the text a person sees: integral floats without ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    # Excel stores every number as a float: a phone number 13800138000 must not come back as "13800138000.0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _tabulate(rows: Iterable[list[str]]) -> tuple[list[str], list[dict[str, str]]]:
    """The first non-empty row as headers, the later non-empty rows as dicts keyed by header."""
    headers: list[str] | None = None
    columns: list[tuple[int, str]] = []
    records: list[dict[str, str]] = []
    for number, cells in enumerate(rows, start=1):
        if not any(cells):
            continue
        if headers is None:
            headers = _trim_end(cells)
            if len(headers) > MAX_IMPORT_COLUMNS:
                raise ValidationError("import.too_many_columns", field="file", max=MAX_IMPORT_COLUMNS)
            seen: set[str] = set()
            for index, name in enumerate(headers):
                # Unnamed columns carry nothing we can map; of two columns with one name the first wins.
                if name and name != ROW_NUMBER_KEY and name not in seen:
                    seen.add(name)
                    columns.append((index, name))
            continue
        if len(records) >= MAX_IMPORT_ROWS:
            # Stop at once: reading the rest of a huge file would only waste memory.
            raise ValidationError("import.too_many_rows", field="file", max=MAX_IMPORT_ROWS)
        record = {name: cells[index] if index < len(cells) else "" for index, name in columns}
        record[ROW_NUMBER_KEY] = str(number)
        records.append(record)
    if headers is None:
        raise _unreadable()
    return headers, records


def _trim_end(cells: list[str]) -> list[str]:
    """The cells without trailing empty ones (formatted but unused columns of a worksheet)."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


# --- writing ---------------------------------------------------------------------------------------------------------


def _sheet_title(title: str) -> str:
    """A title Excel accepts: no []:*?/\\, at most 31 characters, no apostrophe at either end, never empty."""
    cleaned = title.translate(_TITLE_FORBIDDEN).strip().strip("'")[:_TITLE_MAX].strip().rstrip("'")
    return cleaned or "Sheet1"


def _local(value: datetime) -> datetime:
    """A naive datetime in the network's time zone (openpyxl refuses aware ones)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(_LOCAL_ZONE).replace(tzinfo=None)


def _clean(value: str) -> str:
    """Text openpyxl can store: without the control characters it refuses, cut to Excel's cell limit."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:_CELL_MAX_CHARS]


def _neutral_text(value: str) -> str:
    """User text for an export: cleaned (the cell itself is marked as text, see _text_cell)."""
    return _clean(value)


def _plain_text(value: str) -> str:
    """The app's own text for a template: cleaned only."""
    return _clean(value)


def _text_cell(worksheet: Any, text: str) -> Any:
    """A cell that holds text whatever it looks like."""
    cell = WriteOnlyCell(worksheet, value=text)
    # openpyxl types a str by its content: "=…" becomes a formula and "#N/A" an error; force plain text.
    cell.data_type = "s"
    if text[:1] in _FORMULA_STARTS:
        # What Excel records when a user types '=1+1: the apostrophe as the cell's "quote prefix", not as a
        # character, so the cell shows =1+1 as text (a literal ' would show as part of a phone number +86…).
        cell.quotePrefix = True
    return cell


def _xlsx_cell(worksheet: Any, value: object, text: Callable[[str], str]) -> Any:
    """A write-only cell for one value: text as text, dates as dates, numbers Excel can keep exactly as numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        cell = WriteOnlyCell(worksheet, value=_local(value))
        cell.number_format = _DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = _DATE_FORMAT
        return cell
    if isinstance(value, int) and abs(value) < _EXCEL_EXACT_INT:
        return value
    if isinstance(value, float | Decimal) and math.isfinite(value):
        return value
    # Strings, integers too long for Excel, NaN/infinity (which Excel cannot read back) and any other object.
    return _text_cell(worksheet, text(value if isinstance(value, str) else str(value)))


def _csv_text(value: object) -> str:
    """A value as CSV text: dates ISO, aware times local, integral floats without ".0", text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    return str(neutralise(value if isinstance(value, str) else str(value)))


def _display_width(value: object) -> int:
    """Columns a value takes on screen: CJK and other wide characters count two, the longest line counts."""
    if isinstance(value, datetime):
        return len("2026-11-28 09:30:00")
    if isinstance(value, date):
        return len("2026-11-28")
    text = "" if value is None else str(value)
    return max(
        (sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.splitlines()),
        default=0,
    )


def _write_table(
    worksheet: Any,
    headers: list[str],
    rows: list[list[object]],
    *,
    text: Callable[[str], str],
    body_font: Font | None = None,
) -> None:
    """Header and rows into a write-only worksheet, with widths and frozen header set first as write-only needs."""
    for index, header in enumerate(headers, start=1):
        sample = [row[index - 1] for row in rows[:_WIDTH_SAMPLE_ROWS] if index <= len(row)]
        width = max([_display_width(header), *map(_display_width, sample)]) + 2
        worksheet.column_dimensions[get_column_letter(index)].width = min(max(width, _MIN_WIDTH), _MAX_WIDTH)
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = _text_cell(worksheet, text(header))
        cell.font = bold
        header_cells.append(cell)
    worksheet.append(header_cells)
    for row in rows:
        cells = [_xlsx_cell(worksheet, value, text) for value in row]
        if body_font is not None:
            # Plain values carry no style: wrap them so the whole example row looks like an example.
            cells = [cell if hasattr(cell, "font") else WriteOnlyCell(worksheet, value=cell) for cell in cells]
            for cell in cells:
                cell.font = body_font
        worksheet.append(cells)


def _saved(workbook: Workbook) -> bytes:
    """The workbook as .xlsx bytes."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
