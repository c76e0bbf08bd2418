"""Celery tasks of the school's home. Each takes ids, enters an explicit tenant scope per school,
calls a service and is idempotent (purged rows carry purged_at; permission sync is a mirror)."""
from __future__ import annotations

from contextlib import contextmanager

from celery import shared_task

PURGE_TASK = "schools.purge_expired_children"
SYNC_TASK = "schools.sync_proxy_assignments"
ORPHANS_TASK = "schools.sweep_orphan_evidence_files"


@contextmanager
def _every_school(school_ids, reason: str):
    """The schools a nightly job acts on (every school by default), under a system scope that
    names the job; the caller then narrows to one school at a time (never a bypass)."""
    from tenancy.models import School
    from tenancy.scoping import system_scope

    with system_scope(reason, school_ids=None if school_ids is None else list(school_ids)) as ids:
        yield list(School.objects.filter(id__in=ids).order_by("id"))


def _per_school(school_ids, service, reason: str) -> dict:
    """{school id: service(school=...)}, each call inside that school's own explicit scope."""
    from tenancy.scoping import tenant_scope

    results = {}
    with _every_school(school_ids, reason) as schools:
        for school in schools:
            with tenant_scope([school.id]):
                results[school.id] = service(school=school)
    return results


@shared_task(name=PURGE_TASK, acks_late=True, max_retries=3)
def purge_expired_children(school_ids=None) -> dict:
    from .services import children_purge_expired

    return _per_school(school_ids, children_purge_expired, "nightly purge of expired children's data")


@shared_task(name=SYNC_TASK, acks_late=True, max_retries=3)
def sync_proxy_assignments(school_ids=None) -> int:
    """Assignments that start or end by date take effect in django-guardian."""
    from tenancy.scoping import tenant_scope

    from .services import proxy_assignments_sync

    n = 0
    with _every_school(school_ids, "nightly sync of proxy-parent assignments") as schools:
        for school in schools:
            with tenant_scope([school.id]):
                proxy_assignments_sync(school=school)
                n += 1
    return n


@shared_task(name=ORPHANS_TASK, acks_late=True, max_retries=3)
def sweep_orphan_evidence_files(school_ids=None) -> dict:
    """Evidence files no row names (an upload whose transaction rolled back) are deleted."""
    from .services import evidence_orphans_sweep

    return _per_school(school_ids, evidence_orphans_sweep, "nightly sweep of orphan evidence files")
