"""Celery queues: interactive work on the default queue, heavy file-building jobs on their own.

A compiled package or a district export can run for minutes; on the default queue it would hold
a worker slot while a reminder or a score snapshot waits. Routed to `<default>-exports`, they get
their own worker pool in a larger deployment (deploy/docker-compose.scale.yml), while `make run`,
docker-compose.yml and the test worker consume both queues with one worker.

Every layout must consume every queue in `queues()`; tests/deploy/test_queues.py checks each.
"""
from __future__ import annotations

from config.celery_app import app

# Task names (the `name=` of each @shared_task) that build files.
EXPORT_TASKS = frozenset({
    "compliance.run_export",
    "privacyaudit.build_pack",
    "submissions.run_district_export",
    "submissions.compile_package",
    "submissions.compile_township_package",
})


def exports_queue(default: str) -> str:
    return f"{default}-exports"


def queues(default: str) -> list[str]:
    """Every queue a task can be routed to, given the default queue's name."""
    return [default, exports_queue(default)]


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES entry. Follows the default queue in force (the test worker uses a private
    one), so the exports queue is always `<default>-exports`."""
    if name in EXPORT_TASKS:
        return {"queue": exports_queue(app.conf.task_default_queue)}
    return None
