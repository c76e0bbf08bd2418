"""Celery tasks of the care app. Idempotent through the data: a child never gets a second open case."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="care.open_cases", acks_late=True, time_limit=30 * 60, max_retries=0)
def open_cases() -> int:
    """The daily risk check over every district, one district at a time."""
    from tenancy.models import District, School
    from tenancy.scoping import system_scope

    from .services import cases_open_from_risk

    total = 0
    with system_scope("the daily risk check lists the districts"):
        district_ids = list(District.objects.values_list("pk", flat=True))
    for district_id in district_ids:
        with system_scope("the daily risk check opens cases in every school of a district",
                          district_ids=[district_id]):
            schools = list(School.objects.filter(district_id=district_id))
        if not schools:
            continue
        with system_scope("the daily risk check opens cases in every school of a district",
                          school_ids=[s.pk for s in schools], district_ids=[district_id]):
            total += len(cases_open_from_risk(schools))
    return total
