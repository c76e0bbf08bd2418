"""Celery tasks of the audit app: each takes ids, enters the scope inside what it calls, and is
idempotent (compare-and-set claim, files named by the row), so acks_late is safe."""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tenancy.scoping import district_id_of_row, district_scope

from . import build, services
from .models import AuditPack
from .services.packs import BUILD_TASK

RETRYABLE = (OperationalError, InterfaceError)
SCHEDULE_TASK = "privacyaudit.schedule_annual_packs"


@shared_task(name=BUILD_TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=RETRYABLE, retry_backoff=5, retry_backoff_max=300, max_retries=5,
             soft_time_limit=AuditPack.time_limit() - 5 * 60, time_limit=AuditPack.time_limit())
def build_pack(self, pack_id: int) -> str:
    try:
        pack = build.build_pack(pack_id)
    except RETRYABLE:
        raise
    except Exception as exc:
        district_id = district_id_of_row(AuditPack, pack_id)
        if district_id is not None:
            with district_scope(district_id):
                AuditPack.fail(pack_id, f"{type(exc).__name__}: {exc}")
        raise
    return pack.status if pack is not None else "missing"


@shared_task(name=SCHEDULE_TASK, acks_late=True, soft_time_limit=600, time_limit=900)
def schedule_annual_packs() -> int:
    """Beat, each January: last year's pack of every district that has none yet."""
    return len(services.audit_packs_schedule())
