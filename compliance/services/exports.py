"""Compliance exports: run one now (through the job outbox) or on a beat schedule."""
from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from jobs.outbox import job_enqueue
from tenancy.scoping import in_district_scope

from .. import audit
from ..models import Assessment, ComplianceExport
from ._common import _require_district_perm


def _export_task_name(assessment_id: int) -> str:
    return f"compliance-export-assessment-{assessment_id}"


@in_district_scope("assessment")
@transaction.atomic
def export_request(*, assessment: Assessment, actor=None, scheduled: bool = False) -> ComplianceExport:
    """Queue one export now; the worker picks it up after the transaction commits."""
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can export compliance scores."))
    job = ComplianceExport.objects.create(assessment=assessment, requested_by=actor, scheduled=scheduled)
    audit.log_assessed(actor, assessment, "create", job, object_type=audit.EXPORT_TYPE, detail={"scheduled": scheduled})
    # Through the outbox (jobs/outbox.py): with the broker down the job stays "queued" and is
    # published by the beat job once the broker is back; the request never fails for it.
    job_enqueue("compliance.run_export", job.id)
    return job


@transaction.atomic
def export_schedule_set(*, assessment: Assessment, actor, minute: str = "0", hour: str = "7",
                        day_of_week: str = "1", day_of_month: str = "*", month_of_year: str = "*",
                        enabled: bool = True):
    """Create or update the beat schedule of an assessment's export (default: Mondays 07:00)."""
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can schedule compliance exports."))
    try:
        crontab, _c = CrontabSchedule.objects.get_or_create(
            minute=str(minute), hour=str(hour), day_of_week=str(day_of_week), day_of_month=str(day_of_month),
            month_of_year=str(month_of_year), timezone=settings.TIME_ZONE)
        crontab.full_clean()
    except ValidationError as exc:
        raise ValidationError(_("The schedule is not a valid crontab: %(e)s") % {"e": "; ".join(exc.messages)}) from exc
    task, _c = PeriodicTask.objects.update_or_create(
        name=_export_task_name(assessment.id),
        defaults={"task": "compliance.scheduled_export", "crontab": crontab, "interval": None,
                  "kwargs": json.dumps({"assessment_id": assessment.id,
                                        "requested_by_id": getattr(actor, "pk", None)}),
                  "enabled": enabled, "description": f"Compliance export of {assessment}"},
    )
    return task


@transaction.atomic
def export_schedule_remove(*, assessment: Assessment, actor) -> None:
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can schedule compliance exports."))
    PeriodicTask.objects.filter(name=_export_task_name(assessment.id)).delete()
