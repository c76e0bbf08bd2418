"""How every background job is dispatched, and how abandoned ones end (issue #7, "Faults").

One rule for all the platform's enqueues (compile, similarity at submit, district export,
compliance export):

1. **Transactional outbox.** `job_enqueue()` writes a TaskOutbox row in the caller's transaction,
   next to the job's own row. Nothing is published before commit, so a rolled-back request leaves
   no message behind, and a committed one always leaves either a published message or an unsent
   row.
2. **Publish after commit, without hanging the request.** The row is published right after commit
   with the short broker timeouts of settings ("Broker faults" block). If the broker is down the
   request still succeeds: the job shows "waiting" and the row stays unsent.
3. **Re-publish from the database.** The beat job `jobs.flush_outbox` (every minute) publishes
   unsent rows once the broker answers again. Rows are locked with SKIP LOCKED, so the
   after-commit publish and the beat job never send the same row twice; tasks are idempotent
   anyway (the rare crash between "published" and "marked sent" re-sends a message).

Abandoned jobs: `jobs.sweep_stale` (beat, every 5 minutes) asks each registered sweeper (apps
register theirs in AppConfig.ready) to mark failed the jobs still "running" after their time limit
(a worker killed by the hard time limit or lost for good) or still waiting long after they were
queued (a broker restarted without its data), with a message saying what to do.

These are the services of the outbox (writes, one transaction each); the tasks are in tasks.py.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import TaskOutbox

log = logging.getLogger(__name__)

FLUSH_BATCH = 100


def job_enqueue(task_name: str, *args, on_sent: Callable[[str], None] | None = None,
                on_refused: Callable[[], None] | None = None) -> TaskOutbox:
    """Record a message for `task_name(*args)` in the current transaction; publish it after commit.

    `on_sent(task_id)` runs after a successful immediate publish (e.g. to note the task id on the
    job row), `on_refused()` when the broker refused it (e.g. to tell the user the job waits for
    the queue). Both are best effort and only for the immediate publish, not the beat job's.
    """
    row = TaskOutbox.objects.create(task=task_name, args=list(args))
    row_id = row.pk

    def publish():
        status, task_id = _publish(row_id)
        hook = (lambda: on_sent(task_id)) if status == "sent" and on_sent else (
            on_refused if status == "refused" else None)
        if hook is not None:
            try:
                hook()
            except Exception:  # informational only; never fail a committed request for it
                log.exception("after-publish hook of %s failed", task_name)

    transaction.on_commit(publish)
    return row


def _send(row: TaskOutbox) -> str:
    from config.celery_app import app

    # send_task by name: the outbox does not import the apps' task modules. The retry policy and
    # connect timeout come from settings; the read timeout is set on this connection only (see
    # JOBS_PUBLISH_SOCKET_TIMEOUT), so a dead or silent broker fails fast.
    timeout = getattr(settings, "JOBS_PUBLISH_SOCKET_TIMEOUT", 5)
    with app.connection_for_write(transport_options={"socket_timeout": timeout}) as conn:
        result = app.send_task(row.task, args=row.args, connection=conn)
    return result.id or ""


def outbox_publish(*, outbox_id: int) -> str | None:
    """Publish one unsent row. Returns the task id, or None (already sent, being sent, or the
    broker refused: then the row records the attempt and stays unsent)."""
    status, task_id = _publish(outbox_id)
    return task_id if status == "sent" else None


def _publish(outbox_id: int) -> tuple[str, str | None]:
    """("sent", task id) | ("skipped", None): sent already or locked by another publisher |
    ("refused", None): the broker failed."""
    with transaction.atomic():
        row = (TaskOutbox.objects.select_for_update(skip_locked=True)
               .filter(pk=outbox_id, sent_at__isnull=True).first())
        if row is None:
            return "skipped", None
        try:
            task_id = _send(row)
        except Exception as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:300]
            row.save(update_fields=["attempts", "last_error"])
            log.warning("broker unavailable: %s%s stays in the outbox (%s)", row.task, tuple(row.args),
                        row.last_error)
            return "refused", None
        row.sent_at, row.task_id = timezone.now(), task_id
        row.attempts += 1
        row.save(update_fields=["sent_at", "task_id", "attempts"])
        return "sent", task_id


def outbox_flush(*, limit: int = 1000, keep_sent: timedelta = timedelta(days=7)) -> int:
    """Publish unsent rows, oldest first, and stop at the first broker failure (the next beat
    tries again). Returns how many were published. Also deletes rows sent more than `keep_sent`
    ago."""
    sent = 0
    last_id = 0
    while sent < limit:
        ids = list(TaskOutbox.objects.filter(sent_at__isnull=True, id__gt=last_id).order_by("id")
                   .values_list("id", flat=True)[:FLUSH_BATCH])
        if not ids:
            break
        for outbox_id in ids:
            status, _task_id = _publish(outbox_id)
            if status == "refused":
                return sent
            sent += status == "sent"
        last_id = ids[-1]
    TaskOutbox.objects.filter(sent_at__lt=timezone.now() - keep_sent).delete()
    return sent


# ---------------------------------------------------------------- stale jobs
Sweeper = Callable[..., int]  # sweeper(*, now) -> number of jobs failed
_SWEEPERS: dict[str, Sweeper] = {}


def register_sweeper(name: str, sweeper: Sweeper) -> None:
    """An app's `sweeper(*, now) -> number of jobs failed`. Idempotent by name."""
    _SWEEPERS[name] = sweeper


def sweepers() -> dict[str, Sweeper]:
    return dict(_SWEEPERS)


def stale_before(time_limit_seconds: float, now: datetime) -> datetime:
    """A job running since before this instant outlived its hard time limit plus a grace period
    (retry back-off, a busy queue): no live worker can still be on it."""
    grace = getattr(settings, "JOBS_STALE_GRACE_SECONDS", 600)
    return now - timedelta(seconds=time_limit_seconds + grace)


def queued_before(now: datetime) -> datetime:
    """A job still waiting since before this instant lost its message (e.g. a broker restarted
    without its data) or waited too long to be of use."""
    return now - timedelta(hours=getattr(settings, "JOBS_QUEUED_MAX_HOURS", 12))


def stale_jobs_fail(*, now: datetime | None = None) -> dict[str, int]:
    """Run every registered sweeper; one failing sweeper does not stop the others."""
    now = now or timezone.now()
    out = {}
    for name, sweeper in sorted(_SWEEPERS.items()):
        try:
            out[name] = sweeper(now=now)
        except Exception:
            log.exception("stale-job sweeper %s failed", name)
            out[name] = -1
    return out


# ---------------------------------------------------------------- beat registration
BEAT_SCHEDULES = {
    # name: (task, interval in seconds)
    "jobs: publish the outbox": ("jobs.flush_outbox", 60),
    "jobs: fail abandoned jobs": ("jobs.sweep_stale", 300),
}


def ensure_periodic_tasks() -> None:
    """post_migrate: register the two jobs with django-celery-beat, idempotently."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, (task, seconds) in BEAT_SCHEDULES.items():
        interval, _c = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": interval, "crontab": None})
