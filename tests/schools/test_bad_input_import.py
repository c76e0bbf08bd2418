"""Bad input, the children's archive: what Excel and clerks really produce, through the
real import paths (API preview + commit, the web import page + confirm) and the child endpoints.

Each case: the exact outcome, the row and column named where a row is wrong, and the archive
unchanged on error (all rows or none).
"""
from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from schools import crypto, importing
from schools.models import Child
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "badinput"
sys.path.insert(0, str(CORPUS))
import build  # noqa: E402  (the corpus builder: tests/fixtures/badinput/build.py)

PREVIEW = reverse("api:v1:children-import-preview")
COMMIT = reverse("api:v1:children-import-commit")
CHILDREN = reverse("api:v1:children-list")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def children() -> int:
    with tenant_scope(system_school_ids()):
        return Child.objects.count()


def preview(admin, school, name: str, data: bytes, lang=EN) -> dict:
    response = client_for(admin).post(PREVIEW, {"school": school.id, "file": SimpleUploadedFile(name, data)}, **lang)
    assert response.status_code == 200, response.content
    return response.json()


def commit(admin, school, name: str, data: bytes, token: str, lang=EN):
    return client_for(admin).post(COMMIT, {"school": school.id, "file": SimpleUploadedFile(name, data),
                                           "token": token}, **lang)


def import_ok(tree, name: str, data: bytes) -> list[Child]:
    """Preview (nothing written), then commit; returns the children written, in row order."""
    before = children()
    shown = preview(tree.gupei_admin, tree.gupei, name, data)
    assert shown["ok"] and shown["errors"] == [], shown["errors"]
    assert children() == before
    response = commit(tree.gupei_admin, tree.gupei, name, data, shown["token"])
    assert response.status_code == 201, response.content
    ids = response.json()["ids"]
    assert children() == before + len(ids) == before + len(shown["rows"])
    with tenant_scope([tree.gupei.id]):
        by_id = Child.objects.in_bulk(ids)
        return [by_id[i] for i in ids]


def import_refused(tree, name: str, data: bytes, lang=EN) -> list[dict]:
    """Preview shows the errors; a commit anyway writes nothing. Returns the preview's errors."""
    before = children()
    shown = preview(tree.gupei_admin, tree.gupei, name, data, lang)
    assert shown["ok"] is False and shown["errors"]
    response = commit(tree.gupei_admin, tree.gupei, name, data, shown["token"], lang)
    assert response.status_code == 400
    assert children() == before
    return shown["errors"]


# --- files Excel writes ---------------------------------------------------------------------------

def test_gbk_csv_without_a_bom(tree):
    data = corpus("children_gbk_no_bom.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # precondition: GBK bytes, no BOM, Chinese header
    assert preview(tree.gupei_admin, tree.gupei, "名单.csv", data)["encoding"] == "gb18030"
    written = import_ok(tree, "名单.csv", data)
    assert [c.name for c in written] == ["王小红", "欧阳娜娜"]
    assert [c.guardian_name for c in written] == ["王奶奶", "王奶奶"]


def test_xlsx_with_merged_header_cells_and_trailing_empty_rows_through_the_web_page(client, tree):
    data = corpus("children_merged_header_trailing_rows.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.merged_cells.ranges and sheet.max_row == 2 + 2 + 300  # precondition
    client.force_login(tree.gupei_admin)
    response = client.post(reverse("children_import", args=[tree.gupei.pk]),
                           {"file": SimpleUploadedFile("名单.xlsx", data)}, **EN)
    assert response.status_code == 200
    shown = response.context["preview"]
    assert shown.ok and [(r.row_number, r.name) for r in shown.rows] == [(3, "张小燕"), (4, "李思思")]
    assert children() == 0
    response = client.post(reverse("children_import_confirm", args=[tree.gupei.pk]), **EN)
    assert response.status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert sorted(Child.objects.values_list("name", flat=True)) == ["张小燕", "李思思"]


def test_dates_with_dots_slashes_and_chinese_characters(tree):
    written = import_ok(tree, "dates.csv", corpus("children_dates.csv"))
    assert [c.name for c in written] == ["日期甲", "日期乙", "日期丙"]
    assert {c.birth_date for c in written} == {dt.date(2016, 3, 5)}
    assert {c.consent_date for c in written} == {dt.date(2026, 3, 5)}


@pytest.mark.parametrize("text", ["2026.3.5", "2026/03/05", "2026年3月5日", "２０２６年３月５日", " 2026.03.05 "])
def test_date_spellings(text):
    assert importing.parse_date(text) == dt.date(2026, 3, 5)


# --- ID numbers ------------------------------------------------------------------------------------

def test_lowercase_x_check_digit_is_normalised_and_accepted(tree):
    data = corpus("children_id_lowercase_x.csv")
    number = build.id_number_ending_in_x(build.BIRTH)
    assert number.lower().encode() in data and number.encode() not in data  # precondition: a lowercase x
    child, = import_ok(tree, "x.csv", data)
    assert crypto.decrypt(child.id_number_ciphertext) == number and child.id_number_masked.endswith("X")


def test_lowercase_and_full_width_x_over_the_child_api(tree):
    number = build.id_number_ending_in_x(build.BIRTH)
    client = client_for(tree.gupei_admin)
    base = {"school": tree.gupei.id, "gender": "female", "birth_date": "2016-03-05", "grade": 3,
            "class_name": "三(1)班", "left_behind_kind": "both"}
    full_width = number[:-1].translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}) + "ｘ"
    for i, typed in enumerate([number.lower(), full_width]):
        response = client.post(CHILDREN, {**base, "name": f"小写{i}", "id_number": typed}, format="json", **EN)
        assert response.status_code == 201, response.content
        with tenant_scope([tree.gupei.id]):
            assert crypto.decrypt(Child.objects.get(pk=response.json()["id"]).id_number_ciphertext) == number
        with tenant_scope([tree.gupei.id]):
            Child.objects.filter(pk=response.json()["id"]).delete()  # the next spelling is the same child


def test_wrong_check_digit_names_the_row_and_writes_nothing(tree):
    errors = import_refused(tree, "ids.csv", corpus("children_id_wrong_check_digit.csv"))
    assert errors == [{"row": 3, "column": "身份证号",
                       "reason": "The ID number's check digit is wrong; please check the number."}]


def test_wrong_check_digit_in_the_users_language(tree):
    errors = import_refused(tree, "ids.csv", corpus("children_id_wrong_check_digit.csv"), lang=ZH)
    with translation.override("zh-hans"):
        reason = gettext("The ID number's check digit is wrong; please check the number.")
    assert reason != "The ID number's check digit is wrong; please check the number."
    assert errors == [{"row": 3, "column": "身份证号", "reason": reason}]


def test_wrong_check_digit_over_the_child_api(tree):
    good = build.id_number(build.BIRTH, 9)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client_for(tree.gupei_admin).post(CHILDREN, {
        "school": tree.gupei.id, "name": "错号", "gender": "female", "grade": 3, "class_name": "三(1)班",
        "left_behind_kind": "both", "id_number": wrong}, format="json", **EN)
    assert response.status_code == 400
    assert response.json() == {"id_number": ["This is not a valid 18-character ID number."]}
    assert children() == 0


# --- long text and unusual characters -------------------------------------------------------------

def test_a_cell_of_100000_characters_is_a_row_error_not_a_crash(tree):
    data = build.generated_files()["children_long_text.csv"]
    errors = import_refused(tree, "long.csv", data)
    assert errors == [{"row": 2, "column": "健康状况",
                       "reason": "Too long: at most 2000 characters (this cell has 100000)."}]


@pytest.mark.parametrize("field,limit", [("name", 64), ("health_notes", 2000), ("wellbeing_notes", 2000)])
def test_100000_characters_over_the_child_api_are_refused_not_cut(tree, field, limit):
    fields = {"school": tree.gupei.id, "name": "长文", "gender": "female", "grade": 3, "class_name": "三(1)班",
              "left_behind_kind": "both", field: "很" * 100_000}
    response = client_for(tree.gupei_admin).post(CHILDREN, fields, format="json", **EN)
    assert response.status_code == 400, response.content
    message, = response.json()[field]
    assert str(limit) in message
    assert children() == 0


def test_100000_characters_in_the_web_child_form_are_refused(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.post(reverse("child_create", args=[tree.gupei.pk]), {
        "name": "长文", "gender": "female", "grade": 3, "class_name": "三(1)班", "left_behind_kind": "both",
        "health_notes": "很" * 100_000}, **EN)
    assert response.status_code == 200  # the form again, with the reason
    assert "at most 2000 characters" in response.content.decode()
    assert children() == 0


def test_rare_characters_and_emoji_in_names_are_stored_and_read_back_exactly(client, tree):
    data = corpus("children_rare_names_gb18030.csv")
    assert "𠮷".encode("gb18030") in data  # precondition: a four-byte GB18030 sequence
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    written = import_ok(tree, "rare.csv", data)
    assert [c.name for c in written] == build.RARE_NAMES
    # Read back through the API...
    api = client_for(tree.gupei_admin)
    for child in written:
        assert api.get(reverse("api:v1:children-detail", args=[child.id]), **EN).json()["name"] == child.name
    # ...and the XLSX export.
    client.force_login(tree.gupei_admin)
    response = client.get(reverse("children_export", args=[tree.gupei.pk]), **EN)
    assert response.status_code == 200
    cells = {c for row in openpyxl.load_workbook(io.BytesIO(response.getvalue())).active.iter_rows(values_only=True)
             for c in row}
    assert set(build.RARE_NAMES) <= cells


def test_rare_characters_through_the_child_api(tree):
    response = client_for(tree.gupei_admin).post(CHILDREN, {
        "school": tree.gupei.id, "name": "𪚥𠮷😀", "gender": "female", "grade": 3, "class_name": "三(1)班",
        "left_behind_kind": "both", "guardian_name": "吉𠮷", "health_notes": "🌸 good"}, format="json", **EN)
    assert response.status_code == 201, response.content
    with tenant_scope([tree.gupei.id]):
        child = Child.objects.get(pk=response.json()["id"])
    assert (child.name, child.guardian_name, child.health_notes) == ("𪚥𠮷😀", "吉𠮷", "🌸 good")


def test_alignment_space_in_a_rare_character_name_is_removed():
    assert importing.parse_name("吉　𠮷") == "吉𠮷"
    assert importing.parse_name("Li 🌸") == "Li 🌸"


# --- files that are not registers ------------------------------------------------------------------

@pytest.mark.parametrize("name,data,reason", [
    ("bomb.xlsx", None, "The document is compressed suspiciously and was refused."),
    ("empty.csv", b"", "The file is empty."),
    ("名单.xlsx", build.PDF, "The file is not an Excel (.xlsx) or CSV file."),
    ("名单.csv", None, "The file is not an Excel (.xlsx) or CSV file."),
])
def test_not_a_register_is_one_file_level_error(tree, name, data, reason):
    if data is None:
        data = build.generated_files()["xlsx_zip_bomb.xlsx"] if name == "bomb.xlsx" else corpus("photo_truncated.jpg")
    if not data:  # DRF refuses an empty upload before the import reads it
        response = client_for(tree.gupei_admin).post(PREVIEW, {"school": tree.gupei.id,
                                                               "file": SimpleUploadedFile(name, data)}, **EN)
        assert response.status_code == 400 and response.json() == {"file": ["The submitted file is empty."]}
        assert importing.read_children_file(io.BytesIO(data), name).errors[0].reason == reason
        return
    errors = import_refused(tree, name, data)
    assert errors == [{"row": 0, "column": "", "reason": reason}]


# --- sheets whose used range is far bigger than the register ---------------------------------------

@pytest.mark.parametrize("name", ["children_far_column_cells.xlsx", "children_formatted_to_the_last_row.xlsx"])
def test_formatted_cells_far_right_or_far_down_are_read_with_bounded_work(tree, monkeypatch, name):
    data = build.generated_files()[name]
    assert len(data) < 40_000
    calls = 0
    blank = importing._blank

    def counting(value):
        nonlocal calls
        calls += 1
        return blank(value)

    monkeypatch.setattr(importing, "_blank", counting)
    shown = importing.read_children_file(io.BytesIO(data), name)
    assert shown.ok and [r.name for r in shown.rows] == ["王小红"]
    # Before the bound, the far-column file cost 5,000 × 16,384 cell checks (minutes of CPU).
    assert calls < 10_000
    monkeypatch.undo()
    assert [c.name for c in import_ok(tree, name, data)] == ["王小红"]


def test_data_far_below_the_register_is_an_error_not_dropped(tree):
    errors = import_refused(tree, "名单.xlsx", build.generated_files()["children_data_far_below.xlsx"])
    assert errors == [{"row": 0, "column": "", "reason": (
        "The sheet has data below row 50000. A register has at most 5000 children: delete the rows below it "
        "or split the file.")}]
