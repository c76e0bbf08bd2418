"""The compliance app's periodic tasks (the registry and its rule: jobs/beat.py)."""
from __future__ import annotations

from django.conf import settings

from jobs.beat import Periodic


def periodic_tasks() -> list[Periodic]:
    minute, hour = getattr(settings, "COMPLIANCE_NIGHTLY_SNAPSHOT_AT", (30, 2))
    return [Periodic("compliance: nightly snapshots", "compliance.snapshot_open_assessments",
                     crontab={"minute": minute, "hour": hour},
                     description="Snapshot every open compliance assessment")]
