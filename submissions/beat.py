"""The submissions app's beat schedule, registered idempotently in django_celery_beat.

Run from a post_migrate handler (apps.py), so every deployment has exactly these entries after
`migrate`; an operator may disable an entry in the admin and it stays disabled.
"""
from __future__ import annotations

from django.conf import settings

DEFAULT_SCHEDULES = {
    # name: (task, crontab fields)
    "submissions: open periods": ("submissions.open_periods", {"minute": "10", "hour": "0"}),
    "submissions: reminders": ("submissions.send_reminders", {"minute": "0", "hour": "8"}),
    "submissions: district exports": ("submissions.scheduled_district_exports", {"minute": "40", "hour": "1"}),
}


def schedules() -> dict:
    return getattr(settings, "SUBMISSIONS_BEAT_SCHEDULES", DEFAULT_SCHEDULES)


def ensure_periodic_tasks() -> list:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    out = []
    tz = settings.TIME_ZONE
    for name, (task, cron) in schedules().items():
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **cron}
        crontab = CrontabSchedule.objects.filter(timezone=tz, **fields).order_by("id").first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(timezone=tz, **fields)
        periodic, created = PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})
        if not created and (periodic.task != task or periodic.crontab_id != crontab.id):
            periodic.task, periodic.crontab = task, crontab
            periodic.interval = periodic.solar = periodic.clocked = None
            periodic.save()
        out.append(periodic)
    return out
