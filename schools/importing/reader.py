"""Reading the file (XLSX or CSV) into rows and checking every row: the preview."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata

from django.utils.translation import gettext as _

from schools import evidence
from tenancy.dates import in_range, past_date

from ..register import register_errors
from .cells import (
    _as_text,
    _blank,
    id_birth_date,
    id_gender,
    parse_assessment,
    parse_assistance,
    parse_custody_type,
    parse_date,
    parse_gender,
    parse_grade,
    parse_health_status,
    parse_id_number,
    parse_income_source,
    parse_left_behind_kind,
    parse_name,
    parse_phone,
    parse_text,
)
from .columns import (
    COLUMN_BY_FIELD,
    COLUMNS,
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_NOTES,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_SHORT,
    MAX_TEXT,
    ChildRow,
    ImportPreview,
    RowError,
    _CellError,
    _SheetTooLong,
)


def _header_key(value) -> str:
    text = unicodedata.normalize("NFKC", _as_text(value)).lower()
    return re.sub(r"[\s*＊:：_\-]", "", text)


_HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _title in (_column.title, _column.english, _column.field, *_column.aliases):
        _HEADER_INDEX.setdefault(_header_key(_title), _column.field)


def _file_error(reason: str, encoding: str | None = None) -> ImportPreview:
    return ImportPreview(rows=[], errors=[RowError(0, "", reason)], encoding=encoding)


def _read_bytes(fileobj) -> bytes:
    return evidence._read_all(
        fileobj, MAX_FILE_BYTES,
        _("The file is larger than %(mb)s MB.") % {"mb": evidence._mb(MAX_FILE_BYTES)},
    )


def _decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return data.decode("utf-16"), "utf-16"
    try:
        text = data.decode("utf-8-sig")  # strict: GBK bytes almost never form valid UTF-8
        return text, ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        pass
    # GB18030 is a superset of GBK and GB2312: what Excel in China writes for "CSV (逗号分隔)".
    return data.decode("gb18030"), "gb18030"


def _csv_grid(text: str) -> list[tuple[int, list]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # The record number is the row number Excel shows when it opens the CSV.
    return [(number, row) for number, row in enumerate(reader, start=1)]


# A cell element that is not self-closing (<c r="A60000" t="s"><v>3</v></c>) holds a value; a
# formatted empty cell is <c r="A60000" s="1"/>. Only rows with 5+ digits can be past the limit.
_CELL_WITH_CONTENT = re.compile(rb'<c\s+r="[A-Z]{1,3}(\d{5,7})"[^>]*?(?<!/)>')


def _has_values_below(workbook, sheet) -> bool:
    """Whether any cell below MAX_SHEET_ROWS holds something: a regex pass over the sheet's XML
    (C speed, bounded by evidence._check_zip's size limits) instead of parsing every row."""
    tail = b""
    with workbook._archive.open(sheet._worksheet_path) as source:
        while chunk := source.read(1 << 20):
            text = tail + chunk
            for match in _CELL_WITH_CONTENT.finditer(text):
                if int(match.group(1)) > MAX_SHEET_ROWS:
                    return True
            tail = text[-200:]  # a tag cut at the chunk boundary is matched in the next round
    return False


def _xlsx_grids(data: bytes):
    """Yield (sheet title, rows) per worksheet; rows are (row number, values)."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue
            # Some programs write a wrong <dimension>; read what is really there.
            sheet.reset_dimensions()
            rows = []
            # read_only iteration yields every row from row 1 on, empty ones included, each padded
            # from column A: the position is the row number Excel shows. Bounded in both directions:
            # a 30 KB file with one formatted cell in column XFD on each of 5,000 rows would otherwise
            # be padded to 80 million cells (minutes of CPU), and formatted empty rows down to row
            # 1,048,576 would all be walked.
            number = 0
            for number, cells in enumerate(
                    sheet.iter_rows(max_row=MAX_SHEET_ROWS + 1, max_col=MAX_COLUMNS, values_only=True), start=1):
                if cells.count(None) == len(cells):
                    continue  # an empty (perhaps formatted) row: the common case, checked at C speed
                if any(not _blank(v) for v in cells):
                    if number > MAX_SHEET_ROWS:
                        raise _SheetTooLong
                    rows.append((number, list(cells)))
                    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 1000:
                        break  # enough to report "too many rows" without reading a huge sheet
            if number > MAX_SHEET_ROWS and _has_values_below(workbook, sheet):
                raise _SheetTooLong  # never drop data silently
            yield sheet.title, rows
    finally:
        workbook.close()


def _find_header(grid: list[tuple[int, list]]) -> tuple[int, dict[int, str], dict[int, str]] | None:
    """Return (index in grid, {col: field}, {col: title as written}) of the first row that names
    at least three known columns."""
    for index, (_number, values) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        fields: dict[int, str] = {}
        titles: dict[int, str] = {}
        for col, value in enumerate(values):
            key = _header_key(value)
            if key in _HEADER_INDEX:
                fields[col] = _HEADER_INDEX[key]
                titles[col] = _as_text(value)
        if len(set(fields.values())) >= 3:
            return index, fields, titles
    return None


def read_children_file(fileobj, filename: str) -> ImportPreview:
    """Read an XLSX or CSV children register (judged by content; filename only words messages)."""
    try:
        data = _read_bytes(fileobj)
    except evidence.EvidenceError as error:
        return _file_error(str(error))

    encoding = None
    if data.startswith(b"PK\x03\x04"):
        try:
            kind = evidence._check_zip(data)
        except evidence.EvidenceError as error:
            return _file_error(str(error))
        if kind != "xlsx":
            return _file_error(_("The file is not an Excel (.xlsx) or CSV file."))
        try:
            grids = list(_xlsx_grids(data))
        except _SheetTooLong:
            return _file_error(_("The sheet has data below row %(max)d. A register has at most %(rows)d "
                                 "children: delete the rows below it or split the file.")
                               % {"max": MAX_SHEET_ROWS, "rows": MAX_ROWS})
        except Exception:
            return _file_error(_("The Excel file is damaged and cannot be read."))
    elif data.startswith(evidence._OLE_MAGIC):
        return _file_error(_("Old Excel files (.xls) cannot be read. In Excel, choose “Save as” and "
                             "pick “Excel workbook (.xlsx)” or “CSV”."))
    elif data.startswith(b"%PDF-") or evidence._sniff_image_kind(data[:32]):
        return _file_error(_("The file is not an Excel (.xlsx) or CSV file."))
    else:
        try:
            text, encoding = _decode_csv(data)
        except UnicodeDecodeError:
            return _file_error(_("The CSV file's text encoding could not be recognised. "
                                 "Save it from Excel as “CSV UTF-8” or use the .xlsx template."))
        if "\x00" in text:
            return _file_error(_("The file is not an Excel (.xlsx) or CSV file."), encoding)
        try:
            grids = [("", _csv_grid(text))]
        except csv.Error:
            return _file_error(_("The CSV file is malformed and cannot be read."), encoding)

    for _title, grid in grids:
        found = _find_header(grid)
        if found is not None:
            return _check_rows(grid, *found, encoding=encoding)
    return _file_error(
        _("No header row was found. The first rows must contain the column titles of the template "
          "(姓名, 性别, 出生日期, 身份证号, ...)."), encoding)


_PARSERS = {
    "name": parse_name,
    "gender": parse_gender,
    "birth_date": parse_date,
    "id_number": parse_id_number,
    "grade": parse_grade,
    "class_name": lambda v: parse_text(unicodedata.normalize("NFKC", _as_text(v)), max_length=MAX_SHORT),
    "left_behind_kind": parse_left_behind_kind,
    "parents_work_place": lambda v: parse_text(v, max_length=MAX_TEXT),
    "guardian_name": parse_name,
    "guardian_relation": lambda v: parse_text(v, max_length=MAX_SHORT),
    "guardian_phone": parse_phone,
    "second_contact_name": parse_name,
    "second_contact_phone": parse_phone,
    "home_village": lambda v: parse_text(v, max_length=MAX_TEXT),
    "health_notes": lambda v: parse_text(v, max_length=MAX_NOTES),
    "consent_date": parse_date,
    "consent_method": lambda v: parse_text(v, max_length=MAX_SHORT),
    "custody_type": parse_custody_type,
    "guardianship_assessment": parse_assessment,
    "guardian_since": parse_date,
    "parents_last_contact_on": parse_date,
    "income_source": parse_income_source,
    "assistance": parse_assistance,
    "health_status": parse_health_status,
    "disability": lambda v: parse_text(v, max_length=100),
    "illness": lambda v: parse_text(v, max_length=100),
    "household_registration": lambda v: parse_text(v, max_length=100),
}
_EMPTY = {"birth_date": None, "consent_date": None, "grade": None, "guardian_since": None,
          "parents_last_contact_on": None, "assistance": []}
_PAST_DATES = ("consent_date", "guardian_since", "parents_last_contact_on")


def _check_rows(grid, header_index: int, fields: dict[int, str], titles: dict[int, str], *,
                encoding: str | None) -> ImportPreview:
    preview = ImportPreview(encoding=encoding)
    header_number = grid[header_index][0]

    seen_fields: dict[str, int] = {}
    for col, name in fields.items():
        if name in seen_fields:
            preview.errors.append(RowError(header_number, titles[col],
                                           _("This column appears twice in the header row.")))
        else:
            seen_fields[name] = col
    for column in COLUMNS:
        if column.required and column.field not in seen_fields:
            preview.errors.append(RowError(header_number, column.title, _("This required column is missing.")))
    if preview.errors:
        return preview

    data_rows = [(n, v) for n, v in grid[header_index + 1:] if any(not _blank(x) for x in v)]
    if len(data_rows) > MAX_ROWS:
        preview.errors.append(RowError(0, "", _("The file has more than %(max)d children; split it into "
                                                "several files.") % {"max": MAX_ROWS}))
        return preview

    today = dt.date.today()
    first_row_of_id: dict[str, int] = {}
    for number, values in data_rows:
        parsed: dict[str, object] = {}
        row_errors: list[RowError] = []

        def fail(field_name: str, reason: str) -> None:
            col = seen_fields.get(field_name)
            title = titles[col] if col is not None else COLUMN_BY_FIELD[field_name].title
            row_errors.append(RowError(number, title, reason))  # noqa: B023 - called within this row only

        for column in COLUMNS:
            col = seen_fields.get(column.field)
            value = values[col] if col is not None and col < len(values) else None
            if _blank(value):
                if column.required:
                    fail(column.field, _("This cell must be filled in."))
                parsed[column.field] = _EMPTY.get(column.field, "")
                continue
            try:
                parsed[column.field] = _PARSERS[column.field](value)
            except _CellError as error:
                fail(column.field, str(error))
                parsed[column.field] = None

        birth = parsed.get("birth_date")
        if isinstance(birth, dt.date):
            if birth > today:
                fail("birth_date", _("The birth date is in the future."))
            elif birth.year < today.year - 25:
                fail("birth_date", _("The birth date is too long ago for a pupil."))
        consent = parsed.get("consent_date")
        if isinstance(consent, dt.date) and consent > today:
            fail("consent_date", _("The consent date is in the future."))
        for name in _PAST_DATES:
            day = parsed.get(name)
            if name != "consent_date" and isinstance(day, dt.date) and day > today:
                fail(name, _("%(column)s: the date is in the future.") % {"column": COLUMN_BY_FIELD[name].title})
            elif isinstance(day, dt.date) and day <= today and not in_range(day, past_date):
                earliest, latest = past_date.bounds(today)
                fail(name, str(past_date.message) % {"earliest": earliest, "latest": latest})

        id_number = parsed.get("id_number")
        if isinstance(id_number, str) and id_number:
            if isinstance(birth, dt.date) and id_birth_date(id_number) != birth:
                fail("id_number", _("The birth date in the ID number (%(id_date)s) differs from the "
                                    "birth date column.") % {"id_date": id_birth_date(id_number).isoformat()})
            gender = parsed.get("gender")
            if gender in ("male", "female") and id_gender(id_number) != gender:
                fail("gender", _("The gender does not match the ID number."))
            if id_number in first_row_of_id:
                fail("id_number", _("The same ID number is already in row %(row)d.")
                     % {"row": first_row_of_id[id_number]})
            else:
                first_row_of_id[id_number] = number

        if not row_errors:
            # The register's cross-field rules, the same the commit applies (schools.register).
            for name, messages in register_errors(ChildRow(row_number=number, **parsed)).items():
                for message in messages:
                    fail(name, message)
        if row_errors:
            preview.errors.extend(row_errors)
        else:
            preview.rows.append(ChildRow(row_number=number, **parsed))

    if not data_rows:
        preview.errors.append(RowError(0, "", _("The file contains no children below the header row.")))
    return preview
