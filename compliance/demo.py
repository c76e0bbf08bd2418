"""Demo: the default checklist and an assessment of the current semester. Idempotent."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Assessment
from .services import assessment_create, checklist_load_default


def current_semester(today: dt.date) -> tuple[str, dt.date, dt.date]:
    """Chinese school semesters: spring Feb-Jul, autumn Sep-Jan."""
    if 2 <= today.month <= 7:
        return f"{today.year}年春季学期", dt.date(today.year, 2, 1), dt.date(today.year, 7, 15)
    year = today.year if today.month >= 8 else today.year - 1
    return f"{year}年秋季学期", dt.date(year, 9, 1), dt.date(year + 1, 1, 31)


def seed(ctx: dict) -> None:
    district = ctx["district"]
    version = checklist_load_default(district=district)
    label, start, end = current_semester(timezone.localdate())
    assessment = Assessment.objects.filter(district=district, semester_label=label, root_school=None).first()
    if assessment is None:
        assessment = assessment_create(district=district, checklist_version=version, title="留守儿童之家建设考核",
                                       semester_label=label, semester_start=start, semester_end=end)
    ctx["assessment"] = assessment
