"""The stale-job sweeper (beat task `jobs.sweep_stale`, every 5 minutes): every concrete Job
model's stale rule (jobs/models.py), each in its own transaction, in the platform's language
(the messages are stored and shown to users)."""
from __future__ import annotations

import logging
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from tenancy.scoping import system_scope

from .models import Job

log = logging.getLogger(__name__)


def job_models() -> dict[str, type[Job]]:
    """Every concrete job type, by its job_name."""
    return {m.job_name: m for m in apps.get_models() if issubclass(m, Job)}


def stale_jobs_fail(*, now: datetime | None = None) -> dict[str, int]:
    """Fail every job type's abandoned jobs; one failing type does not stop the others."""
    now = now or timezone.now()
    out = {}
    for name, model in sorted(job_models().items()):
        try:
            with transaction.atomic(), translation.override(settings.LANGUAGE_CODE), \
                    system_scope(model.stale_scope_reason):
                out[name] = model.fail_stale(now)
        except Exception:
            log.exception("stale-job sweep of %s failed", name)
            out[name] = -1
    return out
