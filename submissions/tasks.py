"""Celery tasks of the submissions app. Each takes ids, enters the tenant scope inside the
service it calls, and is idempotent (unique constraints / compare-and-set), so acks_late is safe.
"""
from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from tenancy.scoping import district_id_of_row, district_scope, tenant_scope

from . import exports, services
from .models import DistrictExport, PackageVersion, TownshipPackage

log = logging.getLogger(__name__)

# Transient database trouble is retried with exponential backoff; anything else fails the version.
RETRYABLE = (OperationalError, InterfaceError)


@shared_task(name="submissions.open_periods", acks_late=True, soft_time_limit=600, time_limit=900)
def open_periods() -> int:
    """Beat: open the periods whose open date has come (one submission per school and period)."""
    return services.periods_open()


@shared_task(name="submissions.send_reminders", acks_late=True, soft_time_limit=600, time_limit=900)
def send_reminders() -> int:
    """Beat: due-soon and overdue reminders, each sent once per submission and kind."""
    return services.reminders_send()


@shared_task(name="submissions.compute_similarity", bind=True, acks_late=True, max_retries=3,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300,
             soft_time_limit=120, time_limit=180)
def compute_similarity(self, school_id: int, submission_id: int) -> int:
    """At submit time: compare the narrative with the other schools' narratives (LSH + Jaccard)."""
    return len(services.submission_similarity_compute(school_id=school_id, submission_id=submission_id))


def _fail_version(school_id: int, version_id: int, error: str) -> None:
    try:
        with tenant_scope([school_id]):
            version = PackageVersion.objects.filter(pk=version_id).first()
            if version is not None:
                services.package_version_fail(version=version, error=error)
    except Exception:  # the database itself may be what failed; the version then looks stale later
        log.exception("could not mark package version %s failed", version_id)


@shared_task(
    name="submissions.compile_package", bind=True,
    # Redelivered if the worker dies mid-job (kill -9, OOM): the job resumes the same version row.
    acks_late=True, reject_on_worker_lost=True,
    autoretry_for=RETRYABLE, retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=5,
    # Both below the broker's visibility timeout (settings): Redis must not redeliver a live job.
    soft_time_limit=settings.SUBMISSIONS_COMPILE_SOFT_TIME_LIMIT, time_limit=PackageVersion.time_limit(),
)
def compile_package(self, school_id: int, version_id: int) -> str:
    """Build a reserved package version's XLSX (and DOCX for work summaries) and complete it."""
    from . import compile as compiler

    try:
        version = compiler.compile_package(school_id=school_id, version_id=version_id)
    except SoftTimeLimitExceeded:
        _fail_version(school_id, version_id, "The compile took too long and was stopped.")
        return "failed"
    except RETRYABLE:
        if self.request.retries >= self.max_retries:
            _fail_version(school_id, version_id, "The database was unavailable; compile again.")
        raise
    except Exception as exc:
        _fail_version(school_id, version_id, f"{type(exc).__name__}: {exc}")
        raise
    return version.status if version is not None else "missing"


def _fail_township(school_id: int, package_id: int, error: str) -> None:
    try:
        with tenant_scope([school_id]):
            package = TownshipPackage.objects.filter(pk=package_id).first()
            if package is not None:
                services.township_package_fail(package=package, error=error)
    except Exception:  # as _fail_version: the stale rule catches it later
        log.exception("could not mark township package %s failed", package_id)


@shared_task(
    name="submissions.compile_township_package", bind=True,
    # The same delivery and time rules as the school's compile (redelivered if the worker dies).
    acks_late=True, reject_on_worker_lost=True,
    autoretry_for=RETRYABLE, retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=5,
    soft_time_limit=settings.SUBMISSIONS_COMPILE_SOFT_TIME_LIMIT, time_limit=TownshipPackage.time_limit(),
)
def compile_township_package(self, school_id: int, package_id: int) -> str:
    """Build a reserved township package's XLSX and DOCX and complete it."""
    from .compile.township import compile_township

    try:
        package = compile_township(school_id=school_id, package_id=package_id)
    except SoftTimeLimitExceeded:
        _fail_township(school_id, package_id, "The compile took too long and was stopped.")
        return "failed"
    except RETRYABLE:
        if self.request.retries >= self.max_retries:
            _fail_township(school_id, package_id, "The database was unavailable; compile again.")
        raise
    except Exception as exc:
        _fail_township(school_id, package_id, f"{type(exc).__name__}: {exc}")
        raise
    return package.status if package is not None else "missing"


@shared_task(name="submissions.run_district_export", bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=RETRYABLE, retry_backoff=5, retry_backoff_max=300, max_retries=5,
             soft_time_limit=DistrictExport.time_limit() - 5 * 60, time_limit=DistrictExport.time_limit())
def run_district_export(self, export_id: int) -> str:
    try:
        export = exports.run_export(export_id)
    except RETRYABLE:
        raise
    except Exception as exc:
        district_id = district_id_of_row(DistrictExport, export_id)
        if district_id is not None:
            with district_scope(district_id):
                DistrictExport.fail(export_id, f"{type(exc).__name__}: {exc}")
        raise
    return export.status if export is not None else "missing"


@shared_task(name="submissions.scheduled_district_exports", acks_late=True, soft_time_limit=600, time_limit=900)
def scheduled_district_exports() -> int:
    """Beat: one consolidated export of each period once its due date has passed."""
    return len(services.district_exports_schedule())
