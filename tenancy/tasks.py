"""Celery tasks of the tenancy app."""
from celery import shared_task


@shared_task(name="tenancy.ping")
def ping() -> str:
    """Round trip used by /healthz checks and the worker smoke test."""
    return "pong"


@shared_task(name="jobs.flush_outbox", acks_late=True, soft_time_limit=120, time_limit=180)
def flush_outbox() -> int:
    """Beat: publish the messages that could not be sent when their request committed."""
    from .jobs import outbox_flush

    return outbox_flush()


@shared_task(name="jobs.sweep_stale", acks_late=True, soft_time_limit=240, time_limit=300)
def sweep_stale() -> dict:
    """Beat: mark failed the jobs abandoned past their time limit (every app's sweeper)."""
    from .jobs import stale_jobs_fail

    return stale_jobs_fail()
