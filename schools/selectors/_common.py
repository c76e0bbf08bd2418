"""Small helpers the reads share: today, week bounds, class ordering, contact-kind flags."""
from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..models import CareContact, Semester


def _today() -> dt.date:
    return timezone.localdate()

# ---------------------------------------------------------------- four contacts
def _kind_exists(kind: str, semester: Semester):
    return Exists(CareContact.objects.filter(child=OuterRef("pk"), semester=semester, kind=kind))


def _week_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def _ordered_classes(pairs) -> list[str]:
    """Class names ordered by grade, then name (四(1)班 before 五(2)班)."""
    out = []
    for _grade, name in sorted(set(pairs)):
        if name not in out:
            out.append(name)
    return out
