"""Celery queues (platform/config/queues.py): export tasks go to their own queue, and every way
of running workers (make run, docker-compose.yml, the scale layout, the test worker) consumes
every queue, so no routed task is stranded."""
from __future__ import annotations

from config.celery_app import app
from config.queues import EXPORT_TASKS, exports_queue, queues, route_task
from ops.management.commands.run_platform import worker_command
from tests.support.celery_worker import worker_queues

from . import compose_check
from .support import ROOT


def _routed(name: str) -> str:
    return app.amqp.router.route({}, name, (), {})["queue"].name


def test_export_tasks_exist_and_go_to_the_exports_queue():
    app.loader.import_default_modules()  # autodiscovery: every app's tasks.py
    assert EXPORT_TASKS <= set(app.tasks), EXPORT_TASKS - set(app.tasks)  # a renamed task would escape routing
    default = app.conf.task_default_queue
    for name in EXPORT_TASKS:
        assert _routed(name) == exports_queue(default)
    assert _routed("tenancy.ping") == default
    assert route_task("tenancy.ping", (), {}, {}) is None


def test_routing_follows_the_default_queue_in_force():
    # As tests/support/celery_worker.configured_app points the test process at a private queue.
    saved = app.conf.get("CELERY_TASK_DEFAULT_QUEUE")
    app.conf.update(CELERY_TASK_DEFAULT_QUEUE="private-q")
    try:
        assert route_task("compliance.run_export", (), {}, {}) == {"queue": "private-q-exports"}
    finally:
        app.conf.update(CELERY_TASK_DEFAULT_QUEUE=saved)


def test_make_run_worker_consumes_every_queue(settings):
    cmd = worker_command(["celery", "-A", "config.celery_app"])
    assert compose_check.worker_queues({"command": cmd}) == set(queues(settings.CELERY_TASK_DEFAULT_QUEUE))


def test_test_worker_consumes_every_queue():
    assert set(worker_queues("test-abc").split(",")) == set(queues("test-abc"))


def test_compose_workers_consume_every_queue():
    for layout in (compose_check.load(ROOT / "docker-compose.yml"),
                   compose_check.merged(ROOT / "docker-compose.yml", ROOT / "deploy" / "docker-compose.scale.yml")):
        consumed = set().union(*(compose_check.worker_queues(s) for s in layout["services"].values()))
        assert set(queues("celery")) <= consumed
