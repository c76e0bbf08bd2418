"""Beat entries of the job framework, registered after migrate."""
from __future__ import annotations

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
