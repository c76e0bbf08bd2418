"""The care app's periodic task (the registry and its rule: jobs/beat.py)."""
from __future__ import annotations

from jobs.beat import Periodic


def periodic_tasks() -> list[Periodic]:
    return [Periodic("care: open follow-up cases", "care.open_cases", crontab={"minute": 15, "hour": 5},
                     description="Open a follow-up case for every child at high risk or without care")]
