"""schools.importing: XLSX/CSV children registers into a checked preview (nothing is written)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import xlsxwriter

from schools.importing import (
    COLUMNS,
    ChildRow,
    ImportPreview,
    RowError,
    _CellError,
    children_template_xlsx,
    id_check_digit,
    make_id_number,
    parse_date,
    parse_grade,
    parse_id_number,
    parse_phone,
    read_children_file,
)

HEADER = [c.title for c in COLUMNS]


def child(name="王小红", gender="女", birth=dt.date(2017, 4, 12), seq=2, **overrides) -> list:
    g = "male" if gender == "男" else "female"
    values = {
        "name": name, "gender": gender, "birth_date": birth.isoformat(),
        "id_number": make_id_number(birth, g, sequence=seq), "grade": "2", "class_name": "1",
        "left_behind_kind": "父亲外出", "parents_work_place": "浙江省宁波市", "guardian_name": "王奶奶",
        "guardian_relation": "祖母", "guardian_phone": "13955001234", "second_contact_name": "",
        "second_contact_phone": "", "home_village": "门庄村", "health_notes": "",
        "consent_date": "2026-03-01", "consent_method": "书面签字",
    }
    values.update(overrides)
    return [values.get(c.field, "") for c in COLUMNS]


ROWS = [
    child(),
    child(name="李明", gender="男", birth=dt.date(2015, 11, 3), seq=7, grade="四年级",
          left_behind_kind="双亲外出", guardian_phone="0550-8123456", health_notes="哮喘，避免剧烈运动"),
    child(name="赵 雨", birth=dt.date(2019, 1, 30), seq=24, grade="一", left_behind_kind="母亲外出",
          consent_date="", consent_method=""),
]


def csv_text(rows, header=HEADER) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def xlsx_bytes(rows, *, header=HEADER, title_row: str | None = None, trailing_blank=0, merge_header=False) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("名单")
    r = 0
    if title_row:
        sheet.merge_range(0, 0, 0, len(header) - 1, title_row)
        r = 1
    for col, title in enumerate(header):
        sheet.write_string(r, col, title)
    if merge_header:
        # A header cell merged over two columns: only the first carries the title.
        sheet.merge_range(r, 0, r, 1, header[0])
    for i, row in enumerate(rows, start=r + 1):
        for col, value in enumerate(row):
            if isinstance(value, (dt.date, dt.datetime)):
                sheet.write_datetime(i, col, value, book.add_format({"num_format": "yyyy-mm-dd"}))
            elif value is not None:
                sheet.write(i, col, value)
    # Trailing rows that Excel left "used" (formatting only, no value).
    blank = book.add_format({"bg_color": "#FFFF00"})
    for i in range(trailing_blank):
        sheet.write_blank(r + len(rows) + 1 + i, 0, None, blank)
    book.close()
    return out.getvalue()


# --- CSV encodings ------------------------------------------------------------------------------

def test_csv_utf8_bom_and_gb18030_read_identically():
    text = csv_text(ROWS)
    plain = read_children_file(io.BytesIO(text.encode("utf-8")), "children.csv")
    bom = read_children_file(io.BytesIO(text.encode("utf-8-sig")), "children.csv")
    gb = read_children_file(io.BytesIO(text.encode("gb18030")), "children.csv")
    gbk = read_children_file(io.BytesIO(text.encode("gbk")), "children.csv")

    assert plain.errors == [] and plain.ok
    assert (plain.encoding, bom.encoding, gb.encoding, gbk.encoding) == ("utf-8", "utf-8-sig", "gb18030", "gb18030")
    assert plain.rows == bom.rows == gb.rows == gbk.rows
    assert [r.name for r in plain.rows] == ["王小红", "李明", "赵雨"]  # alignment space removed
    first, second, third = plain.rows
    assert first == ChildRow(
        row_number=2, name="王小红", gender="female", birth_date=dt.date(2017, 4, 12),
        id_number=make_id_number(dt.date(2017, 4, 12), "female", sequence=2), grade=2, class_name="1",
        left_behind_kind="father", parents_work_place="浙江省宁波市", guardian_name="王奶奶",
        guardian_relation="祖母", guardian_phone="13955001234", second_contact_name="",
        second_contact_phone="", home_village="门庄村", health_notes="", consent_date=dt.date(2026, 3, 1),
        consent_method="书面签字",
    )
    assert (second.grade, second.left_behind_kind, second.guardian_phone) == (4, "both", "0550-8123456")
    assert second.health_notes == "哮喘，避免剧烈运动"
    assert (third.row_number, third.grade, third.left_behind_kind, third.consent_date) == (4, 1, "mother", None)


def test_utf16_tab_separated_unicode_text_export():
    text = "\n".join("\t".join(row) for row in [HEADER, *ROWS[:1]])
    preview = read_children_file(io.BytesIO(text.encode("utf-16")), "children.txt")
    assert preview.ok and preview.encoding == "utf-16" and preview.rows[0].name == "王小红"


def test_gb18030_is_not_mistaken_for_utf8():
    data = csv_text(ROWS).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert read_children_file(io.BytesIO(data), "x.csv").rows[0].guardian_name == "王奶奶"


def test_english_headers_accepted():
    header = [c.english for c in COLUMNS]
    rows = [child(gender="female", left_behind_kind="father")]
    rows[0][1] = "female"
    preview = read_children_file(io.BytesIO(csv_text(rows, header).encode()), "x.csv")
    assert preview.ok, preview.errors
    assert preview.rows[0].gender == "female" and preview.rows[0].left_behind_kind == "father"


# --- XLSX ---------------------------------------------------------------------------------------

def test_xlsx_with_merged_title_row_and_trailing_empty_rows():
    rows = [list(r) for r in ROWS]
    rows[0][2] = dt.date(2017, 4, 12)  # a real Excel date cell
    rows[1][4] = 4  # a number cell for the grade
    rows[0][HEADER.index("监护人电话")] = 13955001234  # a number cell: the phone survives as digits
    data = xlsx_bytes(rows, title_row="古沛中心小学留守儿童花名册（2026年春）", trailing_blank=30)
    preview = read_children_file(io.BytesIO(data), "名单.xlsx")

    assert preview.errors == [] and preview.ok and preview.encoding is None
    assert [r.row_number for r in preview.rows] == [3, 4, 5]  # title = row 1, header = row 2
    assert preview.rows[0].birth_date == dt.date(2017, 4, 12)
    assert preview.rows[1].grade == 4
    assert preview.rows[0].guardian_phone == "13955001234"


def test_xlsx_with_a_header_cell_merged_over_two_columns():
    header = ["姓名", "", *HEADER[1:]]
    rows = [[r[0], None, *r[1:]] for r in ROWS]
    preview = read_children_file(io.BytesIO(xlsx_bytes(rows, header=header, merge_header=True)), "a.xlsx")
    assert preview.ok, preview.errors
    assert [r.name for r in preview.rows] == ["王小红", "李明", "赵雨"]


def test_xlsx_written_by_openpyxl_with_gaps_and_offset_rows():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["说明：请勿修改表头"])
    sheet.append([])
    sheet.append(HEADER)
    sheet.append(ROWS[0])
    sheet.append([])  # a blank line between children is skipped, not an error
    sheet.append(ROWS[1])
    sheet.cell(row=40, column=3).value = None
    out = io.BytesIO()
    book.save(out)
    preview = read_children_file(io.BytesIO(out.getvalue()), "x.xlsx")
    assert preview.ok, preview.errors
    assert [r.row_number for r in preview.rows] == [4, 6]


def test_id_stored_as_a_number_in_excel_is_explained():
    rows = [list(ROWS[0])]
    rows[0][3] = float(rows[0][3][:17] + "0")  # what Excel does to an 18-digit number
    preview = read_children_file(io.BytesIO(xlsx_bytes(rows)), "x.xlsx")
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "身份证号")]
    assert "as a number" in preview.errors[0].reason


def test_template_round_trips():
    template = children_template_xlsx()
    preview = read_children_file(io.BytesIO(template), "儿童导入模板.xlsx")
    assert preview.errors == [] and preview.ok
    assert len(preview.rows) == 1
    example = preview.rows[0]
    assert example.row_number == 2 and example.name == "张小明" and example.gender == "male"
    assert example.grade == 3 and example.left_behind_kind == "both"
    assert example.consent_date == dt.date(2026, 3, 2)


def test_template_has_dropdowns_widths_and_text_columns():
    book = openpyxl.load_workbook(io.BytesIO(children_template_xlsx()))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    lists = {re.match(r"[A-Z]+", str(dv.sqref)).group(): dv.formula1
             for dv in sheet.data_validations.dataValidation if dv.type == "list"}
    gender_col = openpyxl.utils.get_column_letter(HEADER.index("性别") + 1)
    kind_col = openpyxl.utils.get_column_letter(HEADER.index("留守类型") + 1)
    assert lists[gender_col] == '"男,女"'
    assert lists[kind_col] == '"双亲外出,父亲外出,母亲外出"'
    id_col = openpyxl.utils.get_column_letter(HEADER.index("身份证号") + 1)
    assert sheet.column_dimensions[id_col].width >= 20
    assert sheet[f"{id_col}2"].number_format == "@"


# --- row errors ---------------------------------------------------------------------------------

def test_one_bad_row_gives_exactly_that_error():
    rows = [list(r) for r in ROWS]
    rows[1][HEADER.index("监护人电话")] = "12345"
    preview = read_children_file(io.BytesIO(csv_text(rows).encode("gb18030")), "x.csv")
    assert not preview.ok
    assert len(preview.errors) == 1
    error = preview.errors[0]
    assert (error.row_number, error.column) == (3, "监护人电话")
    assert "phone" in error.reason
    assert [r.row_number for r in preview.rows] == [2, 4]  # the good rows are still previewed


def test_error_names_the_column_as_written_in_the_file():
    header = list(HEADER)
    header[HEADER.index("身份证号")] = "公民身份号码"
    rows = [list(ROWS[0])]
    rows[0][3] = rows[0][3][:-1] + ("0" if rows[0][3][-1] != "0" else "1")
    preview = read_children_file(io.BytesIO(csv_text(rows, header).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "公民身份号码")]
    assert "check digit" in preview.errors[0].reason


def test_required_cells_and_columns():
    rows = [list(ROWS[0])]
    rows[0][0] = "  "
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "姓名")]

    header = [h for h in HEADER if h != "监护人电话"]
    rows = [[v for h, v in zip(HEADER, ROWS[0]) if h != "监护人电话"]]
    preview = read_children_file(io.BytesIO(csv_text(rows, header).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(1, "监护人电话")]
    assert "missing" in preview.errors[0].reason and preview.rows == []


def test_duplicate_id_in_the_file():
    rows = [ROWS[0], ROWS[1], list(ROWS[0])]
    rows[2][0] = "王小红二"
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(4, "身份证号")]
    assert "row 2" in preview.errors[0].reason


def test_birth_date_must_match_the_id_and_gender_too():
    rows = [list(ROWS[0])]
    rows[0][2] = "2017-04-13"
    rows[0][1] = "男"
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert sorted((e.row_number, e.column) for e in preview.errors) == [(2, "性别"), (2, "身份证号")]
    assert any("2017-04-12" in e.reason for e in preview.errors)


def test_long_text_is_an_error_not_a_crash():
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[0][HEADER.index("健康状况")] = "很" * 2001
    rows[1][0] = "名" * 51
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "健康状况"), (3, "姓名")]
    assert "2000" in preview.errors[0].reason and "50" in preview.errors[1].reason


def test_many_bad_values_each_become_a_row_error():
    rows = [child(gender="未知", grade="七年级", left_behind_kind="单亲", birth_date="2017-02-30",
                  consent_date="明天", guardian_phone="")]
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert sorted(e.column for e in preview.errors) == sorted(
        ["性别", "年级", "留守类型", "出生日期", "监护人同意日期", "监护人电话"])
    assert all(e.row_number == 2 and e.reason for e in preview.errors)


def test_future_dates_are_errors():
    future = dt.date.today() + dt.timedelta(days=30)
    rows = [child(consent_date=future.isoformat())]
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert [(e.row_number, e.column) for e in preview.errors] == [(2, "监护人同意日期")]


# --- whole-file problems ------------------------------------------------------------------------

@pytest.mark.parametrize("data,fragment", [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
    (b"%PDF-1.4 ...", "not an Excel"),
    (b"just,some,words\n1,2,3\n", "No header row"),
    ("姓名,性别,出生日期,身份证号,年级,班级,留守类型,监护人姓名,监护人电话\n".encode(), "no children"),
])
def test_file_level_errors(data, fragment):
    preview = read_children_file(io.BytesIO(data), "x.csv")
    assert not preview.ok and preview.rows == []
    assert len(preview.errors) == 1 and preview.errors[0].row_number == 0
    assert fragment in preview.errors[0].reason


def test_docx_is_not_an_import_file():
    from tests.schools.test_evidence import ooxml

    preview = read_children_file(io.BytesIO(ooxml("docx")), "children.xlsx")
    assert preview.errors[0].row_number == 0 and "not an Excel" in preview.errors[0].reason


def test_reasons_go_through_gettext(monkeypatch):
    from schools.importing import cells

    monkeypatch.setattr(cells, "_", lambda text: f"<{text}>")
    rows = [list(ROWS[0])]
    rows[0][HEADER.index("性别")] = "?"
    preview = read_children_file(io.BytesIO(csv_text(rows).encode()), "x.csv")
    assert [e.reason for e in preview.errors] == ["<Gender must be 男 or 女.>"]


def test_preview_ok_property():
    assert not ImportPreview(rows=[], errors=[], encoding=None).ok
    row = read_children_file(io.BytesIO(csv_text(ROWS[:1]).encode()), "x.csv").rows[0]
    assert ImportPreview(rows=[row], errors=[], encoding="utf-8").ok
    assert not ImportPreview(rows=[row], errors=[RowError(3, "姓名", "x")], encoding="utf-8").ok


# --- value parsers ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "2026-03-05", "2026.3.5", "2026/03/05", "2026/3/5", "2026年3月5日", "２０２６年３月５日", "2026 年 3 月 5 日",
    "20260305", 20260305, "2026-03-05 00:00:00", dt.date(2026, 3, 5), dt.datetime(2026, 3, 5, 0, 0), 46086,
])
def test_date_formats(value):
    assert parse_date(value) == dt.date(2026, 3, 5)


@pytest.mark.parametrize("value", ["2026-02-30", "3/5/2026", "明天", "2026-13-01", 1e9, 2016, "2016.9"])
def test_bad_dates(value):
    with pytest.raises(_CellError):
        parse_date(value)


def test_id_check_digits():
    # The standard's own example and two ordinary ones, computed by hand with the weights.
    assert id_check_digit("11010519491231002") == "X"
    assert parse_id_number("11010519491231002x") == "11010519491231002X"  # lowercase x normalised
    assert parse_id_number(" 110105 19491231 002X ") == "11010519491231002X"
    assert id_check_digit("44052418800101001") == "4"
    assert parse_id_number("440524188001010014") == "440524188001010014"
    with pytest.raises(_CellError, match="check digit"):
        parse_id_number("440524188001010015")
    with pytest.raises(_CellError, match="check digit"):
        parse_id_number("110105194912310021")
    with pytest.raises(_CellError, match="18 characters"):
        parse_id_number("44052418800101001")
    with pytest.raises(_CellError, match="15-digit"):
        parse_id_number("440524800101001")
    bad_date = "34118220170230001"
    with pytest.raises(_CellError, match="birth date"):
        parse_id_number(bad_date + id_check_digit(bad_date))


def test_make_id_number_carries_birth_date_and_gender():
    number = make_id_number(dt.date(2016, 9, 1), "female", sequence=13)
    assert number[6:14] == "20160901" and int(number[16]) % 2 == 0
    assert parse_id_number(number) == number


@pytest.mark.parametrize("value,expected", [
    ("13812345678", "13812345678"), (13812345678, "13812345678"), (13812345678.0, "13812345678"),
    ("138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"), ("+86 13812345678", "13812345678"),
    ("0550-8123456", "0550-8123456"), ("05508123456", "0550-8123456"), ("（0550）8123456", "0550-8123456"),
    ("010-12345678-123", "010-12345678-123"),
])
def test_phones(value, expected):
    assert parse_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "1381234567", "23812345678", "8123456", "电话"])
def test_bad_phones(value):
    with pytest.raises(_CellError):
        parse_phone(value)


@pytest.mark.parametrize("value,expected", [
    (1, 1), (6.0, 6), ("3", 3), ("3年级", 3), ("三年级", 3), ("六", 6), ("５年级", 5),
])
def test_grades(value, expected):
    assert parse_grade(value) == expected


@pytest.mark.parametrize("value", [0, 7, "七年级", "初一", 2.5, "abc"])
def test_bad_grades(value):
    with pytest.raises(_CellError):
        parse_grade(value)


# --- committed sample files (tests/fixtures/ingest, for the import views' tests) ----------------

FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def test_fixture_gb18030_csv():
    with (FIXTURES / "children_gb18030.csv").open("rb") as upload:
        preview = read_children_file(upload, "children_gb18030.csv")
    assert preview.ok and preview.encoding == "gb18030" and len(preview.rows) == 3


def test_fixture_xlsx_with_one_bad_row():
    with (FIXTURES / "children_one_bad_row.xlsx").open("rb") as upload:
        preview = read_children_file(upload, "children_one_bad_row.xlsx")
    assert not preview.ok
    assert [(e.row_number, e.column) for e in preview.errors] == [(3, "监护人电话")]
    assert len(preview.rows) == 2
