"""The district's academic calendar, as read by every app."""
from __future__ import annotations

import datetime as dt

from tenancy.models import Membership
from tenancy.roles import Role

from ..models import Semester
from ._common import _today


# ---------------------------------------------------------------- calendar
def semester_for_date(district_id: int, day: dt.date) -> Semester | None:
    return Semester.objects.filter(district_id=district_id, start__lte=day, end__gte=day).first()


def semester_current(district_id: int, today: dt.date | None = None) -> Semester | None:
    """The semester containing today, else the most recent one that has started."""
    today = today or _today()
    return (semester_for_date(district_id, today)
            or Semester.objects.filter(district_id=district_id, start__lte=today).order_by("-start").first())


def semesters_of(district_id: int):
    return Semester.objects.filter(district_id=district_id).order_by("-start")


def may_set_calendar(user, district) -> bool:
    """Whether the user sets the district's semesters: its bureau admin only (pages and services)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, role=Role.BUREAU_ADMIN, district_id=district.id).exists()
