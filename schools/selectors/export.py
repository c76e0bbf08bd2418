"""The children's archive as export rows, masked unless the school admin asks otherwise."""
from __future__ import annotations

from django.utils.translation import gettext as _

from tenancy.models import School

from .. import crypto
from ..masking import mask_phone
from ..models import Child

EXPORT_MASKED_COLUMNS = (
    "name", "gender", "birth_date", "id_number", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "consent", "consent_date", "status", "status_since",
)
EXPORT_FULL_COLUMNS = EXPORT_MASKED_COLUMNS[:13] + (
    "home_village", "health_notes", "wellbeing_notes", "consent", "consent_date", "consent_method", "status",
    "status_since",
)


def children_export_rows(school: School, *, unmasked: bool = False) -> tuple[list[tuple[str, str]], list[dict]]:
    """(columns, rows) of the school's archive for an export. Masked by default: the ID number and
    phones masked, the birth date as year only, village and notes left out. One query."""
    names = EXPORT_FULL_COLUMNS if unmasked else EXPORT_MASKED_COLUMNS
    columns = []
    for name in names:
        field = Child._meta.get_field("id_number_masked" if name == "id_number" else name)
        columns.append((name, str(field.verbose_name)))
    rows = []
    for child in Child.objects.filter(school=school).order_by("status", "grade", "class_name", "name", "id"):
        row = {"id": child.id}
        for name in names:
            if name == "id_number":
                value = (crypto.decrypt(child.id_number_ciphertext) if unmasked and child.id_number_ciphertext
                         else child.id_number_masked)
            else:
                value = getattr(child, name)
                field = Child._meta.get_field(name)
                if field.choices and value:
                    value = str(dict(field.choices).get(value, value))
            if not unmasked:
                if name in ("guardian_phone", "second_contact_phone"):
                    value = mask_phone(value)
                elif name == "birth_date" and value:
                    value = str(value.year)
            row[name] = value
        if child.is_purged:
            row["name"] = _("(record purged)")
        rows.append(row)
    return columns, rows


# ---------------------------------------------------------------- the civil-affairs register's layout
# (field, title) in the order of the register's own sheet (农村留守儿童信息管理系统), so a clerk can
# paste the rows into it. "_index" and "_school" are the row number and the school's name.
REGISTER_COLUMNS = (
    ("_index", "序号"), ("name", "姓名"), ("gender", "性别"), ("birth_date", "出生日期"), ("id_number", "身份证号"),
    ("household_registration", "户籍所在地"), ("_school", "就读学校"), ("grade", "年级"), ("class_name", "班级"),
    ("custody_type", "留守类型/监护类型"), ("left_behind_kind", "父母外出情况"), ("parents_work_place", "父母务工地"),
    ("guardian_name", "受委托监护人姓名"), ("guardian_relation", "受委托监护人关系"),
    ("guardian_phone", "受委托监护人电话"), ("guardian_since", "受委托监护起始日期"),
    ("guardianship_assessment", "监护情况评估"), ("income_source", "家庭主要收入来源"),
    ("assistance", "享受救助情况"), ("health_status", "健康状况"), ("disability", "残疾情况"),
    ("illness", "患病情况"), ("parents_last_contact_on", "父母最近联系日期"),
)


def register_export_rows(school: School, *, unmasked: bool = False) -> list[dict]:
    """The school's children on the archive (active) in the register's columns, values in the
    register's words. Masked by default: ID number and phone masked, birth date as year and month,
    and the family's means, health and care (schools.register.SENSITIVE_REGISTER_FIELDS) left empty.
    One query."""
    from ..importing import (
        ASSESSMENT_TITLES,
        ASSISTANCE_TITLES,
        CUSTODY_TITLES,
        GENDER_TITLES,
        HEALTH_TITLES,
        INCOME_TITLES,
        KIND_TITLES,
    )
    from ..register import SENSITIVE_REGISTER_FIELDS

    words = {"gender": GENDER_TITLES, "custody_type": CUSTODY_TITLES, "left_behind_kind": KIND_TITLES,
             "guardianship_assessment": ASSESSMENT_TITLES, "income_source": INCOME_TITLES,
             "health_status": HEALTH_TITLES}
    rows = []
    children = Child.objects.filter(school=school, status=Child.Status.ACTIVE).order_by("grade", "class_name",
                                                                                        "name", "id")
    for index, child in enumerate(children, start=1):
        row: dict = {"id": child.id, "_index": index, "_school": school.name}
        for name, _title in REGISTER_COLUMNS[1:]:
            if name.startswith("_"):
                continue
            if name == "id_number":
                value = (crypto.decrypt(child.id_number_ciphertext) if unmasked and child.id_number_ciphertext
                         else child.id_number_masked)
            elif not unmasked and name in SENSITIVE_REGISTER_FIELDS:
                value = ""
            elif name == "assistance":
                value = "、".join(ASSISTANCE_TITLES.get(v, v) for v in child.assistance)
            elif name in words:
                value = words[name].get(getattr(child, name), "")
            elif name == "grade":
                value = "一二三四五六七八九"[child.grade - 1] + "年级" if 1 <= child.grade <= 9 else str(child.grade)
            else:
                value = getattr(child, name)
            if not unmasked and name == "guardian_phone":
                value = mask_phone(value)
            elif not unmasked and name == "birth_date" and value:
                value = f"{value:%Y-%m}"
            row[name] = value
        rows.append(row)
    return rows
