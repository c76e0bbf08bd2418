"""The notices app's periodic tasks (the registry and its rule: jobs/beat.py)."""
from __future__ import annotations

from jobs.beat import Periodic


def periodic_tasks() -> list[Periodic]:
    return [Periodic("notices: send pending", "notices.retry_pending", every=300,
                     description="Send again the notices a receiver did not take")]
