"""Reading a school's children register from XLSX or CSV into a checked preview.

Pure: nothing is written here. read_children_file() turns a file into ChildRow objects plus one
RowError per problem; the caller shows the preview and writes all rows in one transaction only when
preview.ok.

Row numbers are the ones the user sees in Excel (the first line of the file is row 1), and an error's
column is the column title as written in the file, so the user can find the cell.

A RowError with row_number 0 is about the file as a whole (unreadable, no header row, too many rows).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from schools import evidence
from tenancy.dates import in_range, past_date

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000  # the largest school in a district has a few hundred left-behind children
HEADER_SEARCH_ROWS = 20  # a title row (often merged) or a note may sit above the header
MAX_COLUMNS = 64  # the template has 17; cells further right are not read
MAX_SHEET_ROWS = 50_000  # rows past this are not read; data there is an error, not silently dropped
MAX_NAME = 50
MAX_NOTES = 2000
MAX_TEXT = 200
MAX_SHORT = 50


@dataclass
class ChildRow:
    row_number: int
    name: str
    gender: str  # "male" / "female"
    birth_date: dt.date
    id_number: str  # 18 characters, check digit verified, "X" upper-case
    grade: int  # 1..6
    class_name: str
    left_behind_kind: str  # "both" / "father" / "mother"
    parents_work_place: str
    guardian_name: str
    guardian_relation: str
    guardian_phone: str
    second_contact_name: str
    second_contact_phone: str
    home_village: str
    health_notes: str
    consent_date: dt.date | None
    consent_method: str


@dataclass
class RowError:
    row_number: int  # as in Excel (header = row 1 in the template); 0 = the whole file
    column: str  # the column title as written in the file ("" for a whole-file problem)
    reason: str  # translated, user-facing


@dataclass
class ImportPreview:
    rows: list[ChildRow] = field(default_factory=list)  # only rows without any error
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None  # CSV: "utf-8", "utf-8-sig", "gb18030" or "utf-16"; XLSX: None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass(frozen=True)
class Column:
    field: str
    title: str  # the template's (Chinese) title
    english: str
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", ("学生姓名", "儿童姓名", "child name"), True),
    Column("gender", "性别", "Gender", ("sex",), True),
    Column("birth_date", "出生日期", "Birth date", ("出生年月日", "出生年月", "生日", "date of birth"), True),
    Column("id_number", "身份证号", "ID number", ("身份证号码", "身份证", "公民身份号码", "id"), True),
    Column("grade", "年级", "Grade", (), True),
    Column("class_name", "班级", "Class", ("班别", "class name"), True),
    Column("left_behind_kind", "留守类型", "Left-behind kind", ("留守情况", "留守类别", "kind"), True),
    Column("parents_work_place", "父母务工地", "Parents' work place",
           ("父母务工地点", "务工地点", "务工地", "parents work place"), False),
    Column("guardian_name", "监护人姓名", "Guardian name", ("监护人", "guardian"), True),
    Column("guardian_relation", "监护人关系", "Guardian relation",
           ("与监护人关系", "监护人与学生关系", "与学生关系", "relation"), False),
    Column("guardian_phone", "监护人电话", "Guardian phone",
           ("监护人联系电话", "监护人手机", "联系电话", "guardian phone number"), True),
    Column("second_contact_name", "第二联系人", "Second contact",
           ("第二联系人姓名", "second contact name"), False),
    Column("second_contact_phone", "第二联系人电话", "Second contact phone",
           ("第二联系人联系电话", "第二联系人手机"), False),
    Column("home_village", "家庭住址（村）", "Home village",
           ("家庭住址", "家庭住址(村)", "住址", "所在村", "村", "village"), False),
    Column("health_notes", "健康状况", "Health notes", ("健康情况", "health"), False),
    Column("consent_date", "监护人同意日期", "Consent date", ("同意日期", "guardian consent date"), False),
    Column("consent_method", "同意方式", "Consent method", ("监护人同意方式",), False),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female",
           "男生": "male", "女生": "female"}
LEFT_BEHIND_KINDS = {
    "双亲外出": "both", "父母双方外出": "both", "父母均外出": "both", "父母外出": "both", "双亲": "both",
    "父母双方": "both", "both": "both",
    "父亲外出": "father", "父亲": "father", "父": "father", "father": "father",
    "母亲外出": "mother", "母亲": "mother", "母": "mother", "mother": "mother",
}
KIND_TITLES = {"both": "双亲外出", "father": "父亲外出", "mother": "母亲外出"}
GENDER_TITLES = {"male": "男", "female": "女"}
CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}

# ISO 7064 MOD 11-2 as used by GB 11643 (resident identity card numbers).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class _CellError(Exception):
    pass


class _SheetTooLong(Exception):
    pass


# --- identity numbers ---------------------------------------------------------------------------

def id_check_digit(first17: str) -> str:
    """The 18th character of a resident ID number for its first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def make_id_number(birth_date: dt.date, gender: str, *, region: str = "341182", sequence: int = 1) -> str:
    """A well-formed ID number (for demo data and tests): region + birth date + sequence + check.

    The sequence's last digit carries the gender (odd = male), as in GB 11643.
    region 341182 is 明光市 (Mingguang, Anhui).
    """
    seq = sequence % 1000
    if (seq % 2 == 1) != (gender == "male"):
        seq = (seq + 1) % 1000
    first17 = f"{region}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


# --- cell parsers (each raises _CellError with a translated reason) -----------------------------

def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _normalised(value) -> str:
    """Full-width digits/letters/brackets → ASCII, spaces removed: for structured values only."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _as_text(value)))


def parse_text(value, *, max_length: int) -> str:
    text = _as_text(value)
    if len(text) > max_length:
        raise _CellError(_("Too long: at most %(max)d characters (this cell has %(len)d).")
                         % {"max": max_length, "len": len(text)})
    return text


def _is_han(ch: str) -> bool:
    """A CJK ideograph, the rare ones too: Extension A, the basic block, compatibility ideographs,
    and Extensions B–H in planes 2 and 3 (𠮷 U+20BB7, 𪚥 U+2A6A5 are in real registers)."""
    code = ord(ch)
    return (0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x323AF)


def parse_name(value) -> str:
    text = parse_text(value, max_length=MAX_NAME)
    # Registers pad two-character names for alignment ("张　三"); a Chinese name has no spaces.
    compact = re.sub(r"\s+", "", text)
    if compact and all(_is_han(ch) or ch == "·" for ch in compact):
        return compact
    return re.sub(r"\s+", " ", text)


def parse_gender(value) -> str:
    key = _normalised(value).lower()
    if key in GENDERS:
        return GENDERS[key]
    raise _CellError(_("Gender must be 男 or 女."))


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if value == number and _COMPACT_DATE_RE.match(str(number)):
            text = str(number)
        elif 20000 <= value < 80000:  # 1954 to 2119; a bare year such as 2016 is not a date
            # A date cell that lost its date format shows Excel's serial day number.
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        else:
            raise _CellError(_("Not a date. Write dates like 2026-03-05."))
    else:
        text = unicodedata.normalize("NFKC", _as_text(value)).strip()
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        raise _CellError(_("Not a date. Write dates like 2026-03-05."))
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _CellError(_("%(text)s is not a valid date.") % {"text": text}) from None


def parse_id_number(value) -> str:
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an ID typed into a number cell has lost its last digits.
        raise _CellError(_("Excel stored the ID number as a number and lost digits. "
                           "Format the column as text and type the number again."))
    text = _normalised(value).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", text):
        raise _CellError(_("Excel stored the ID number as a number and lost digits. "
                           "Format the column as text and type the number again."))
    if len(text) == 15 and text.isdigit():
        raise _CellError(_("This is an old 15-digit ID number. Enter the 18-digit number."))
    if not _ID_RE.match(text):
        raise _CellError(_("An ID number has 18 characters: 17 digits, then a digit or X."))
    if id_check_digit(text[:17]) != text[17]:
        raise _CellError(_("The ID number's check digit is wrong; please check the number."))
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise _CellError(_("The ID number does not contain a valid birth date.")) from None
    return text


def id_birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def id_gender(id_number: str) -> str:
    return "male" if int(id_number[16]) % 2 else "female"


def parse_grade(value) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value) if float(value).is_integer() else None
    else:
        text = _normalised(value)
        text = text.removesuffix("年级").removesuffix("年")
        if text in CN_DIGITS:
            number = CN_DIGITS[text]
        elif text.isdigit():
            number = int(text)
        else:
            number = None
    if number is None or not 1 <= number <= 6:
        raise _CellError(_("Grade must be 1 to 6 (for example 3 or 三年级)."))
    return number


def parse_left_behind_kind(value) -> str:
    key = _normalised(value).lower()
    if key in LEFT_BEHIND_KINDS:
        return LEFT_BEHIND_KINDS[key]
    raise _CellError(_("Left-behind kind must be 双亲外出, 父亲外出 or 母亲外出."))


def parse_phone(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _normalised(value)
    digits = re.sub(r"[-()（）]", "", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and _MOBILE_RE.match(digits[len(prefix):]):
            digits = digits[len(prefix):]
            break
    if _MOBILE_RE.match(digits):
        return digits
    landline = _LANDLINE_RE.match(text.replace("(", "").replace(")", "-").replace("--", "-"))
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    raise _CellError(_("Not a phone number: write an 11-digit mobile number or a landline with its "
                       "area code, such as 0550-1234567."))


# --- reading the file ---------------------------------------------------------------------------

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
}
_EMPTY = {"birth_date": None, "consent_date": None, "grade": None}


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
        elif isinstance(consent, dt.date) and not in_range(consent, past_date):
            earliest, latest = past_date.bounds(today)
            fail("consent_date", str(past_date.message) % {"earliest": earliest, "latest": latest})

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

        if row_errors:
            preview.errors.extend(row_errors)
        else:
            preview.rows.append(ChildRow(row_number=number, **parsed))

    if not data_rows:
        preview.errors.append(RowError(0, "", _("The file contains no children below the header row.")))
    return preview


# --- the template -------------------------------------------------------------------------------

def children_template_xlsx() -> bytes:
    """The import template: header row, dropdowns, text-formatted ID/phone columns, an example row."""
    from documents.workbook import safe_workbook

    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    sheet = book.add_worksheet("儿童名单")
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
    optional = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
    as_text = book.add_format({"num_format": "@"})
    as_date = book.add_format({"num_format": "yyyy-mm-dd"})
    widths = {"name": 10, "gender": 6, "birth_date": 12, "id_number": 22, "grade": 8, "class_name": 8,
              "left_behind_kind": 11, "parents_work_place": 16, "guardian_name": 11, "guardian_relation": 11,
              "guardian_phone": 14, "second_contact_name": 11, "second_contact_phone": 14,
              "home_village": 16, "health_notes": 24, "consent_date": 14, "consent_method": 11}
    last_row = 2000
    for col, column in enumerate(COLUMNS):
        fmt = None
        if column.field in ("id_number", "guardian_phone", "second_contact_phone", "class_name"):
            fmt = as_text  # so Excel keeps all 18 digits and leading zeros
        elif column.field in ("birth_date", "consent_date"):
            fmt = as_date
        sheet.set_column(col, col, widths[column.field], fmt)
        sheet.write(0, col, column.title, required if column.required else optional)
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 0)

    def dropdown(field_name: str, choices: list[str]) -> None:
        col = [c.field for c in COLUMNS].index(field_name)
        sheet.data_validation(1, col, last_row, col, {
            "validate": "list", "source": choices,
            "error_title": COLUMN_BY_FIELD[field_name].title,
            "error_message": "、".join(choices),
        })

    dropdown("gender", ["男", "女"])
    dropdown("left_behind_kind", list(KIND_TITLES.values()))
    dropdown("grade", ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"])

    example_birth = dt.date(2016, 9, 1)
    example = {
        "name": "张小明", "gender": "男", "birth_date": example_birth,
        "id_number": make_id_number(example_birth, "male", sequence=13),
        "grade": "三年级", "class_name": "2", "left_behind_kind": "双亲外出",
        "parents_work_place": "江苏省南京市", "guardian_name": "张大山", "guardian_relation": "祖父",
        "guardian_phone": "13812345678", "second_contact_name": "李秀英", "second_contact_phone": "0550-8123456",
        "home_village": "古沛镇小王村", "health_notes": "健康", "consent_date": dt.date(2026, 3, 2),
        "consent_method": "书面签字",
    }
    for col, column in enumerate(COLUMNS):
        value = example[column.field]
        if isinstance(value, dt.date):
            sheet.write_datetime(1, col, dt.datetime.combine(value, dt.time()), as_date)
        else:
            sheet.write_string(1, col, value)

    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 100)
    lines = [
        _("Fill in one child per row on the first sheet, below the header row. Row 2 is an example: "
          "replace or delete it."),
        _("Orange columns are required; blue columns are optional."),
        _("Dates: 2026-03-05, 2026/3/5, 2026.3.5 or 2026年3月5日."),
        _("ID number: 18 characters; type it into the ID column, which is formatted as text."),
        _("Grade: 1 to 6 or 一年级 to 六年级. Left-behind kind: 双亲外出, 父亲外出 or 母亲外出."),
        _("Phone: an 11-digit mobile number, or a landline with its area code (0550-1234567)."),
        _("CSV files are also accepted (UTF-8 or the GBK/GB18030 that Excel saves)."),
    ]
    for row, line in enumerate(lines):
        notes.write_string(row, 0, line)
    book.close()
    return out.getvalue()
