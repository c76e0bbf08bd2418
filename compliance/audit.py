"""Access-log rows for compliance's district-level objects. The log is school-owned, so a write on
something a district's schools share (a checklist, an assessment, its snapshots and exports) is
logged once per school it concerns, in one INSERT, like the reporting calendar's objects
(submissions.services._log_district)."""
from __future__ import annotations

from tenancy.models import School
from tenancy.scoping import tenant_scope
from tenancy.services import access_log_record_many

from .scoring import assessment_schools

# The object type of every row about an export job: its request, its run and each download.
EXPORT_TYPE = "compliance.export"


def log_on_schools(actor, school_ids, action: str, *, object_type: str, object_id, detail: dict | None = None,
                   request=None) -> None:
    ids = list(school_ids)
    with tenant_scope(ids):
        access_log_record_many(user=actor, school_ids=ids, action=action, object_type=object_type,
                               object_id=object_id, detail=detail, request=request)


def log_district(actor, district_id: int, action: str, obj, *, detail: dict | None = None) -> None:
    """A checklist version: every school of the district is assessed on it."""
    ids = School.objects.filter(district_id=district_id).values_list("id", flat=True)
    log_on_schools(actor, ids, action, object_type=obj._meta.label_lower, object_id=obj.pk, detail=detail)


def log_assessed(actor, assessment, action: str, obj=None, *, object_type: str | None = None,
                 detail: dict | None = None, request=None) -> None:
    """An assessment, or something of it (a snapshot, an export): on each school it assesses."""
    obj = obj if obj is not None else assessment
    log_on_schools(actor, assessment_schools(assessment).values_list("id", flat=True), action,
                   object_type=object_type or obj._meta.label_lower, object_id=obj.pk, detail=detail,
                   request=request)
