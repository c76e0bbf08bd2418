"""The audit app's periodic task (the registry and its rule: jobs/beat.py): in January, last
year's audit pack of every district. It runs daily through the month, so a district added or a
day missed is still covered; a district that has a pack for the year is skipped."""
from __future__ import annotations

from jobs.beat import Periodic

from .tasks import SCHEDULE_TASK


def periodic_tasks() -> list[Periodic]:
    return [Periodic("privacyaudit: last year's audit packs", SCHEDULE_TASK,
                     crontab={"minute": "40", "hour": "3", "month_of_year": "1"},
                     description="Build last year's minors'-data audit pack of every district (January)")]
