"""Celery tasks of the compliance app. Each takes ids, and is idempotent through the data."""
from __future__ import annotations

import logging

from celery import shared_task
from django.core.exceptions import ValidationError

log = logging.getLogger(__name__)


@shared_task(name="compliance.run_export", acks_late=True, time_limit=30 * 60, soft_time_limit=25 * 60,
             max_retries=0)
def run_compliance_export(job_id: int) -> str:
    """Write one ComplianceExport's workbook. A redelivered message finds the job claimed or done
    (status compare-and-set) and does nothing."""
    from .exports import run_export

    return run_export(job_id)


@shared_task(name="compliance.scheduled_export", acks_late=True, time_limit=60, max_retries=0)
def scheduled_export(assessment_id: int, requested_by_id: int | None = None) -> int | None:
    """Beat entry of an export schedule: queue a job (as the admin who set the schedule)."""
    from tenancy.models import User

    from .models import Assessment
    from .services import export_request

    assessment = Assessment.objects.filter(pk=assessment_id).first()
    if assessment is None:
        log.warning("scheduled export of missing assessment %s skipped", assessment_id)
        return None
    actor = User.objects.filter(pk=requested_by_id, is_active=True).first() if requested_by_id else None
    if requested_by_id and actor is None:
        log.warning("scheduled export of assessment %s skipped: its owner is gone", assessment_id)
        return None
    job = export_request(assessment=assessment, actor=actor, scheduled=True)
    return job.id


@shared_task(name="compliance.snapshot_open_assessments", acks_late=True, time_limit=30 * 60, max_retries=0)
def snapshot_open_assessments() -> list[int]:
    """Nightly: one snapshot per open assessment (a locked one is refused, and skipped)."""
    from .models import Assessment
    from .services import snapshot_take

    taken = []
    for assessment in Assessment.objects.filter(status=Assessment.Status.OPEN).order_by("id"):
        try:
            taken.append(snapshot_take(assessment=assessment, kind="nightly").id)
        except ValidationError:
            log.info("assessment %s locked meanwhile; no nightly snapshot", assessment.id)
    return taken
