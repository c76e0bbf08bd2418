"""What the audit services share: the access-log rows of district-level records."""
from __future__ import annotations

from tenancy.models import School
from tenancy.services import access_log_record_many


def log_on_district(actor, district_id: int, action: str, obj, detail: dict | None = None, request=None) -> None:
    """A district-level record touches every school of the district: one row per school (the log is
    school-owned), so each school admin's log shows it."""
    ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
    access_log_record_many(user=actor, school_ids=ids, action=action, object_type=obj._meta.label_lower,
                           object_id=obj.pk, detail=detail, request=request)


def log_on_schools(actor, school_ids, action: str, obj, detail: dict | None = None, request=None) -> None:
    access_log_record_many(user=actor, school_ids=sorted(set(school_ids)), action=action,
                           object_type=obj._meta.label_lower, object_id=obj.pk, detail=detail, request=request)
