"""The children import over the API: preview (nothing written), commit (all or nothing), template."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from schools.importing import make_id_number
from schools.models import Child
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for

PREVIEW = reverse("api:v1:children-import-preview")
COMMIT = reverse("api:v1:children-import-commit")
TEMPLATE = reverse("api:v1:children-import-template")
HEADER = "姓名,性别,出生日期,身份证号,年级,班级,留守类型,监护人姓名,监护人电话"


def csv_file(rows, encoding="gb18030") -> SimpleUploadedFile:
    import datetime as dt

    lines = [HEADER]
    for i, (name, bad) in enumerate(rows, start=1):
        birth = dt.date(2016, 3, i)
        id_number = make_id_number(birth, "female", sequence=i)
        if bad:
            id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")  # wrong check digit
        lines.append(f"{name},女,{birth:%Y-%m-%d},{id_number},4,四(1)班,双亲外出,王奶奶,13800001111")
    return SimpleUploadedFile("children.csv", ("\n".join(lines) + "\n").encode(encoding), content_type="text/csv")


def children_count() -> int:
    with tenant_scope(system_school_ids()):
        return Child.objects.count()


def test_preview_names_the_bad_row_and_writes_nothing_then_commit_writes_all(tree):
    client = client_for(tree.gupei_admin)
    response = client.post(PREVIEW, {"school": tree.gupei.id, "file": csv_file([("张一", False), ("张二", True),
                                                                                 ("张三", False)])})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["encoding"] == "gb18030" and body["ok"] is False
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "身份证号")]
    assert body["errors"][0]["reason"]
    assert children_count() == 0

    # Committing the bad file writes nothing and names the row again.
    bad = csv_file([("张一", False), ("张二", True), ("张三", False)])
    response = client.post(COMMIT, {"school": tree.gupei.id, "file": bad, "token": body["token"]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["row"] == 3
    assert children_count() == 0

    good_rows = [("张一", False), ("张二", False), ("张三", False)]
    preview = client.post(PREVIEW, {"school": tree.gupei.id, "file": csv_file(good_rows, "utf-8-sig")}).json()
    assert preview["ok"] and len(preview["rows"]) == 3 and preview["encoding"] in ("utf-8-sig", "utf-8")
    assert children_count() == 0
    response = client.post(COMMIT, {"school": tree.gupei.id, "file": csv_file(good_rows, "utf-8-sig"),
                                    "token": preview["token"]})
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    with tenant_scope([tree.gupei.id]):
        assert sorted(Child.objects.values_list("name", flat=True)) == ["张一", "张三", "张二"]


def test_commit_refuses_a_file_other_than_the_previewed_one(tree):
    client = client_for(tree.gupei_admin)
    token = client.post(PREVIEW, {"school": tree.gupei.id, "file": csv_file([("张一", False)])}).json()["token"]
    response = client.post(COMMIT, {"school": tree.gupei.id, "file": csv_file([("李四", False)]), "token": token})
    assert response.status_code == 400 and "token" in response.json()
    assert children_count() == 0


@pytest.mark.parametrize("role,school,want", [
    ("gupei_admin", "gupei", 200),
    ("gupei_teacher", "gupei", 403),
    ("gupei_clerk", "gupei", 403),
    ("bureau_admin", "gupei", 403),  # the bureau sees the school but does not keep its archive
    ("bureau_inspector", "gupei", 403),  # read-only
    ("gupei_township", "gupei", 403),
    ("menzhuang_admin", "gupei", 400),  # another school: the same "does not exist" as a missing id
    ("nobody", "gupei", 400),
    ("anonymous", "gupei", 401),
])
def test_import_isolation(tree, api_as, role, school, want):
    client = api_as(role)
    for url in (PREVIEW, COMMIT):
        body = {"school": getattr(tree, school).id, "file": csv_file([("张一", False)]), "token": "x" * 64}
        response = client.post(url, body)
        expected = want if not (url == COMMIT and want == 200) else 400  # wrong token
        assert response.status_code == expected, (url, response.content)
    assert children_count() == 0


def test_template_is_an_xlsx_with_the_columns(tree, api_as):
    assert api_as("anonymous").get(TEMPLATE).status_code == 401
    response = api_as("gupei_clerk").get(TEMPLATE)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    assert [c.value for c in sheet[1]][:4] == ["姓名", "性别", "出生日期", "身份证号"]
