"""Celery tasks of the compliance app. Each takes ids, and is idempotent through the data."""
from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ValidationError

from .models import ComplianceExport

log = logging.getLogger(__name__)


@shared_task(name="compliance.run_export", bind=True, time_limit=ComplianceExport.time_limit(),
             soft_time_limit=ComplianceExport.time_limit() - 5 * 60, max_retries=0,
             # A worker killed mid-export (kill -9, OOM): the message goes back to the queue and its
             # redelivery takes the job over (same task id) and finishes it; the file name is fixed
             # per job, so there is never a second file.
             acks_late=True, reject_on_worker_lost=True)
def run_compliance_export(self, job_id: int) -> str:
    """Write one ComplianceExport's workbook. Any other message for the job finds it claimed or
    done (status compare-and-set) and does nothing."""
    from django.conf import settings
    from django.utils import translation

    from .exports import run_export

    with translation.override(settings.LANGUAGE_CODE):
        return run_export(job_id, task_id=self.request.id or "")


@shared_task(name="compliance.scheduled_export", acks_late=True, time_limit=60, max_retries=0)
def scheduled_export(assessment_id: int, requested_by_id: int | None = None) -> int | None:
    """Beat entry of an export schedule: queue a job (as the admin who set the schedule)."""
    from tenancy.models import User
    from tenancy.scoping import district_id_of_row, district_scope

    from .models import Assessment
    from .services import export_request

    district_id = district_id_of_row(Assessment, assessment_id)
    if district_id is None:
        log.warning("scheduled export of missing assessment %s skipped", assessment_id)
        return None
    with district_scope(district_id):
        assessment = Assessment.objects.get(pk=assessment_id)
        actor = User.objects.filter(pk=requested_by_id, is_active=True).first() if requested_by_id else None
        if requested_by_id and actor is None:
            log.warning("scheduled export of assessment %s skipped: its owner is gone", assessment_id)
            return None
        job = export_request(assessment=assessment, actor=actor, scheduled=True)
    return job.id


@shared_task(name="compliance.snapshot_open_assessments", acks_late=True, time_limit=30 * 60, max_retries=0)
def snapshot_open_assessments() -> list[int]:
    """Nightly: one snapshot per open assessment (a locked one is refused, and skipped)."""
    from tenancy.scoping import district_scope, system_scope

    from .models import Assessment
    from .services import snapshot_take

    with system_scope("the nightly snapshots list the open assessments of every district"):
        open_ones = list(Assessment.objects.filter(status=Assessment.Status.OPEN).order_by("id"))
    taken = []
    for assessment in open_ones:
        try:
            # One district at a time, each snapshot in its own transaction.
            with district_scope(assessment.district_id):
                taken.append(snapshot_take(assessment=assessment, kind="nightly").id)
        except ValidationError:
            log.info("assessment %s locked meanwhile; no nightly snapshot", assessment.id)
    return taken
