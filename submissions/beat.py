"""The submissions app's periodic tasks (the registry and its rule: jobs/beat.py).

SUBMISSIONS_BEAT_SCHEDULES (settings): {name: (task, crontab fields in local time)}.
"""
from __future__ import annotations

from django.conf import settings

from jobs.beat import Periodic


def periodic_tasks() -> list[Periodic]:
    return [Periodic(name, task, crontab=cron) for name, (task, cron) in settings.SUBMISSIONS_BEAT_SCHEDULES.items()]
