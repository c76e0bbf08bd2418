"""The schools app's nightly tasks (the registry and its rule: jobs/beat.py).

SCHOOLS_NIGHTLY_HOUR (settings, local time) is when they run, at a quarter past.
"""
from __future__ import annotations

from django.conf import settings

from jobs.beat import Periodic

from .tasks import ORPHANS_TASK, PURGE_TASK, SYNC_TASK


def periodic_tasks() -> list[Periodic]:
    nightly = {"minute": "15", "hour": str(getattr(settings, "SCHOOLS_NIGHTLY_HOUR", 2))}
    return [Periodic("schools: purge expired children's data", PURGE_TASK, crontab=nightly),
            Periodic("schools: sync proxy-parent assignments", SYNC_TASK, crontab=nightly),
            Periodic("schools: sweep orphan evidence files", ORPHANS_TASK, crontab=nightly)]
