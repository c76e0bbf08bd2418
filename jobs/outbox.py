"""How every background job is dispatched: the transactional outbox.

1. `job_enqueue()` writes a TaskOutbox row in the caller's transaction, next to the job's own
   row. Nothing is published before commit, so a rolled-back request leaves no message behind,
   and a committed one always leaves either a published message or an unsent row.
2. The row is published right after commit with the short broker timeouts of settings ("Broker
   faults" block). If the broker is down the request still succeeds: the job shows "waiting" and
   the row stays unsent.
3. The beat job `jobs.flush_outbox` (every minute) publishes unsent rows once the broker answers
   again. Rows are locked with SKIP LOCKED, so the after-commit publish and the beat job never
   send the same row twice; tasks are idempotent anyway (the rare crash between "published" and
   "marked sent" re-sends a message).

Abandoned jobs are failed by the stale-job sweeper (jobs/stale.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenancy.models import TaskOutbox

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
        hook = (lambda: on_sent(task_id or "")) if status == "sent" and on_sent else (
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
