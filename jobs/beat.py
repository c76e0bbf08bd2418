"""The one registry of periodic tasks, written to django-celery-beat's tables after migrate.

Each app declares its entries in AppConfig.ready with `register(provider)`; a provider is a
function returning `Periodic` entries (a function, so schedules follow the settings when the
sync runs). `sync_periodic_tasks()` runs once per migrate (and flush).

The rule for an entry an operator changed in the admin:
- the registry owns what runs and when: the task, the schedule (interval or crontab), the
  arguments and the description. An entry that differs is updated to the registry's;
- the operator owns everything else, `enabled` first: a disabled entry stays disabled;
- an entry is saved only when something it owns differs, so an unchanged deployment does not
  bump beat's change marker (every PeriodicTask save does, and beat then reloads its schedule);
- entries the registry does not name (e.g. schedules users set, or retired entries) are left alone.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every: int | None = None  # seconds, or:
    crontab: dict = field(default_factory=dict)  # crontab fields in local time; unset fields are "*"
    kwargs: dict = field(default_factory=dict)
    description: str = ""


Provider = Callable[[], Iterable[Periodic]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Declare an app's entries (idempotent by name)."""
    _PROVIDERS[name] = provider


def periodic_tasks() -> dict[str, Periodic]:
    return {p.name: p for provider in _PROVIDERS.values() for p in provider()}


def jobs_periodic_tasks() -> list[Periodic]:
    return [Periodic("jobs: publish the outbox", "jobs.flush_outbox", every=60),
            Periodic("jobs: fail abandoned jobs", "jobs.sweep_stale", every=300)]


def _schedule(entry: Periodic) -> dict:
    """The PeriodicTask fields of the entry's schedule, creating the schedule row if needed."""
    if entry.every is not None:
        wanted = {"every": entry.every, "period": IntervalSchedule.SECONDS}
        interval = (IntervalSchedule.objects.filter(**wanted).order_by("id").first()
                    or IntervalSchedule.objects.create(**wanted))
        return {"interval_id": interval.id, "crontab_id": None}
    wanted = {f: str(entry.crontab.get(f, "*")) for f in CRONTAB_FIELDS}
    crontab = (CrontabSchedule.objects.filter(timezone=settings.TIME_ZONE, **wanted).order_by("id").first()
               or CrontabSchedule.objects.create(timezone=settings.TIME_ZONE, **wanted))
    return {"interval_id": None, "crontab_id": crontab.id}


def _differs(row, owned: dict) -> bool:
    return any(json.loads(getattr(row, f) or "{}") != v if f == "kwargs" else getattr(row, f) != v
               for f, v in owned.items())


def sync_periodic_tasks() -> list:
    """Write every registered entry by the rule above. Returns the PeriodicTask rows."""
    out = []
    for entry in periodic_tasks().values():
        owned = {"task": entry.task, **_schedule(entry), "solar_id": None, "clocked_id": None,
                 "kwargs": entry.kwargs, "description": entry.description}
        row = PeriodicTask.objects.filter(name=entry.name).first()
        if row is None:
            row = PeriodicTask(name=entry.name)
        elif not _differs(row, owned):
            out.append(row)
            continue
        for f, v in owned.items():
            setattr(row, f, json.dumps(v) if f == "kwargs" else v)
        row.save()
        out.append(row)
    return out
