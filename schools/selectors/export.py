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
