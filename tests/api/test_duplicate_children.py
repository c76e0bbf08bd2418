"""Duplicate children over the API: an ID number another school of the district still holds is
refused with a pointer to the transfer (and nothing about that child); the same name and birth
date in the school is a 409 until confirm_duplicate; the import preview shows both, and the commit
needs confirm_duplicates for the warnings."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools import services
from schools.importing import make_id_number
from schools.models import Child
from tenancy.scoping import tenant_scope
from tests.support.api import client_for

from .cases_schools import child

CHILDREN = reverse("api:v1:children-list")
PREVIEW = reverse("api:v1:children-import-preview")
COMMIT = reverse("api:v1:children-import-commit")
BORN = dt.date(2016, 3, 1)


def body(tree, school=None, **extra):
    return {"school": (school or tree.gupei).id, "name": "刘小花", "gender": "female", "birth_date": BORN.isoformat(),
            "grade": 4, "class_name": "四(1)班", "left_behind_kind": "both", **extra}


def names(school):
    with tenant_scope([school.id]):
        return sorted(Child.objects.filter(school=school).values_list("name", flat=True))


def test_same_name_and_birth_date_is_a_409_until_confirmed(tree):
    client = client_for(tree.gupei_admin)
    assert client.post(CHILDREN, body(tree), format="json").status_code == 201
    again = client.post(CHILDREN, body(tree), format="json")
    assert again.status_code == 409, again.json()
    assert again.json()["code"] == "possible_duplicate" and again.json()["confirm_with"] == "confirm_duplicate"
    assert names(tree.gupei) == ["刘小花"]
    confirmed = client.post(CHILDREN, body(tree, confirm_duplicate=True), format="json")
    assert confirmed.status_code == 201, confirmed.json()
    assert names(tree.gupei) == ["刘小花", "刘小花"]


def test_an_id_number_of_another_school_of_the_district_points_to_the_transfer(tree):
    theirs = child(tree.menzhuang)
    number = make_id_number(BORN, "female", sequence=7)
    with tenant_scope([tree.menzhuang.id]):
        services.child_update(actor=None, child=theirs, id_number=number)
    response = client_for(tree.gupei_admin).post(CHILDREN, body(tree, id_number=number), format="json")
    assert response.status_code == 400, response.json()
    text = str(response.json())
    assert "id_number" in response.json()
    assert theirs.name not in text and tree.menzhuang.name not in text and str(theirs.pk) not in text
    assert names(tree.gupei) == []
    # Another district's school may hold the same number: that is not this district's child.
    other = client_for(tree.other_admin).post(CHILDREN, body(tree, school=tree.far_centre, id_number=number),
                                             format="json")
    assert other.status_code == 201, other.json()


def csv(rows) -> SimpleUploadedFile:
    lines = ["姓名,性别,出生日期,身份证号,年级,班级,留守类型,监护人姓名,监护人电话"]
    for name, born, number in rows:
        lines.append(f"{name},女,{born:%Y-%m-%d},{number},4,四(1)班,双亲外出,王奶奶,13800001111")
    return SimpleUploadedFile("children.csv", ("\n".join(lines) + "\n").encode("utf-8"), content_type="text/csv")


def test_the_import_preview_warns_and_the_commit_needs_the_confirmation(tree):
    client = client_for(tree.gupei_admin)
    assert client.post(CHILDREN, body(tree), format="json").status_code == 201
    rows = [("刘小花", BORN, make_id_number(BORN, "female", sequence=12)),
            ("陈小兰", BORN, make_id_number(BORN, "female", sequence=24))]
    preview = client.post(PREVIEW, {"school": tree.gupei.id, "file": csv(rows)}).json()
    assert preview["ok"] is True and preview["errors"] == [], preview["errors"]
    assert [(w["row"], w["column"]) for w in preview["warnings"]] == [(2, "姓名")]
    refused = client.post(COMMIT, {"school": tree.gupei.id, "file": csv(rows), "token": preview["token"]})
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "possible_duplicate" and refused.json()["warnings"][0]["row"] == 2
    assert names(tree.gupei) == ["刘小花"]
    done = client.post(COMMIT, {"school": tree.gupei.id, "file": csv(rows), "token": preview["token"],
                                "confirm_duplicates": "true"})
    assert done.status_code == 201, done.json()
    assert names(tree.gupei) == ["刘小花", "刘小花", "陈小兰"]


def test_the_import_preview_refuses_an_id_number_held_elsewhere_in_the_district(tree):
    number = make_id_number(BORN, "female", sequence=9)
    theirs = child(tree.menzhuang)
    with tenant_scope([tree.menzhuang.id]):
        services.child_update(actor=None, child=theirs, id_number=number)
    client = client_for(tree.gupei_admin)
    rows = [("王一", BORN, number)]
    preview = client.post(PREVIEW, {"school": tree.gupei.id, "file": csv(rows)}).json()
    assert preview["ok"] is False and [(e["row"], e["column"]) for e in preview["errors"]] == [(2, "身份证号")]
    commit = client.post(COMMIT, {"school": tree.gupei.id, "file": csv(rows), "token": preview["token"],
                                  "confirm_duplicates": "true"})
    assert commit.status_code == 400 and names(tree.gupei) == []
