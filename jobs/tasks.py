"""The beat tasks of the job framework: the outbox flush and the stale-job sweeper."""
from celery import shared_task

from .outbox import outbox_flush
from .stale import stale_jobs_fail


@shared_task(name="jobs.flush_outbox", acks_late=True, soft_time_limit=120, time_limit=180)
def flush_outbox() -> int:
    """Beat: publish the messages that could not be sent when their request committed."""
    return outbox_flush()


@shared_task(name="jobs.sweep_stale", acks_late=True, soft_time_limit=240, time_limit=300)
def sweep_stale() -> dict:
    """Beat: mark failed the jobs abandoned past their time limit (every job type)."""
    return stale_jobs_fail()
