"""Celery tasks of the submissions app. Each takes ids, enters the tenant scope inside the
service it calls, and is idempotent (unique constraints / compare-and-set), so acks_late is safe.
"""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(name="submissions.open_periods", acks_late=True, soft_time_limit=600, time_limit=900)
def open_periods() -> int:
    """Beat: open the periods whose open date has come (one submission per school and period)."""
    return services.periods_open()


@shared_task(name="submissions.send_reminders", acks_late=True, soft_time_limit=600, time_limit=900)
def send_reminders() -> int:
    """Beat: due-soon and overdue reminders, each sent once per submission and kind."""
    return services.reminders_send()


@shared_task(name="submissions.compute_similarity", bind=True, acks_late=True, max_retries=3,
             autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300,
             soft_time_limit=120, time_limit=180)
def compute_similarity(self, school_id: int, submission_id: int) -> int:
    """At submit time: compare the narrative with the other schools' narratives (LSH + Jaccard)."""
    return len(services.submission_similarity_compute(school_id=school_id, submission_id=submission_id))
