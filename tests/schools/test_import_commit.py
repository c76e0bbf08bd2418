"""The write step of the children import: all rows or nothing."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied

from schools import services
from schools.models import Child
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.schools import make_id_number


def row(n, **over):
    """A row as schools.importing.ChildRow presents it (only the interface is used)."""
    data = dict(
        row_number=n + 2, name=f"导入{n}", gender="male", birth_date=dt.date(2017, 3, 4),
        id_number=make_id_number(500 + n, dt.date(2017, 3, 4)), grade=3, class_name="三(2)班",
        left_behind_kind="father", parents_work_place="浙江宁波", guardian_name="李爷爷", guardian_relation="祖父",
        guardian_phone="13700000000", second_contact_name="", second_contact_phone="", home_village="门庄村",
        health_notes="", consent_date=dt.date(2026, 9, 5), consent_method="家长会签字",
    )
    data.update(over)
    return SimpleNamespace(**data)


def preview(rows, errors=()):
    return SimpleNamespace(rows=list(rows), errors=list(errors), encoding="gb18030")


def test_commit_writes_all_rows(tree):
    with tenant_scope([tree.menzhuang.id]):
        created = services.children_import_commit(actor=tree.menzhuang_admin, school=tree.menzhuang,
                                                  preview=preview(row(i) for i in range(5)))
        assert len(created) == 5 == Child.objects.count()
        child = Child.objects.get(name="导入0")
        assert child.consent == "given" and child.id_number_masked.endswith(make_id_number(500)[-4:])
        assert AccessLog.objects.filter(action="create", object_type="schools.child").count() == 5
        assert child.status_history.count() == 1


def test_preview_with_errors_is_refused(tree):
    err = SimpleNamespace(row_number=4, column="birth_date", reason="not a date")
    with tenant_scope([tree.menzhuang.id]):
        with pytest.raises(services.ImportRejected) as exc:
            services.children_import_commit(actor=tree.menzhuang_admin, school=tree.menzhuang,
                                            preview=preview([row(0)], [err]))
        assert exc.value.row_errors == [{"row_number": 4, "column": "birth_date", "reason": "not a date"}]
        assert Child.objects.count() == 0


def test_one_bad_row_writes_nothing_and_names_the_row(tree):
    rows = [row(0), row(1), row(2, id_number=make_id_number(500, dt.date(2017, 3, 4)))]  # duplicate of row 0
    with tenant_scope([tree.menzhuang.id]):
        with pytest.raises(services.ImportRejected) as exc:
            services.children_import_commit(actor=tree.menzhuang_admin, school=tree.menzhuang, preview=preview(rows))
        assert [(e["row_number"], e["column"]) for e in exc.value.row_errors] == [(4, "id_number")]
        assert "row 2" in exc.value.row_errors[0]["reason"]
        assert Child.objects.count() == 0
        assert AccessLog.objects.filter(object_type="schools.child").count() == 0


def test_existing_child_in_school_is_a_row_error(tree):
    with tenant_scope([tree.menzhuang.id]):
        services.children_import_commit(actor=None, school=tree.menzhuang, preview=preview([row(0)]))
        with pytest.raises(services.ImportRejected):
            services.children_import_commit(actor=None, school=tree.menzhuang, preview=preview([row(1), row(0)]))
        assert Child.objects.count() == 1


def test_teacher_cannot_import(tree):
    with tenant_scope([tree.menzhuang.id]), pytest.raises(PermissionDenied):
        services.children_import_commit(actor=tree.menzhuang_teacher, school=tree.menzhuang, preview=preview([row(0)]))
