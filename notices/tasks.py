"""Celery tasks of notices: send one event's deliveries (retried with backoff), and the beat job
that sends again what is still pending."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from tenancy.scoping import system_scope, tenant_scope

from . import services

TASK_RETRIES = 6  # the task's own retries (backoff 1, 2, 4… × base); then the beat job takes over


@shared_task(name="notices.deliver", bind=True, acks_late=True, max_retries=TASK_RETRIES, soft_time_limit=120,
             time_limit=180)
def deliver(self, district_id: int, event_key: str) -> int:
    """Send the event's pending deliveries. The attempts are committed before a retry is asked for,
    so a receiver that is down or answers 500 leaves the delivery pending, never lost."""
    with tenant_scope(district_ids=[district_id]):
        sent, pending = services.deliveries_send(event_key=event_key)
    if pending and self.request.retries < TASK_RETRIES:
        base = getattr(settings, "NOTICES_RETRY_BASE_SECONDS", 30)
        raise self.retry(countdown=base * 2 ** self.request.retries)
    return sent


@shared_task(name="notices.retry_pending", acks_late=True, soft_time_limit=120, time_limit=180)
def retry_pending() -> int:
    """Beat: queue again every event whose pending deliveries are due (after the task's retries ran
    out, or a worker lost the retry)."""
    with system_scope("the beat job sends again the pending notices of every district"):
        return services.deliveries_requeue(events=services.deliveries_due())
