"""District pages of the academic calendar, for tests/web/test_district_page_isolation.py."""
from __future__ import annotations

import datetime as dt
import itertools

from schools import services
from schools.models import Semester
from tests.support.access_log import district_school_ids, logged_per_school

from .pages import DistrictPage, register_district

_seq = itertools.count()
READERS = ("bureau_admin", "bureau_inspector", "gupei_township", "gupei_admin", "gupei_teacher")


def _district(t, district):
    return {"pk": district.pk}


def _semester(t, district):
    n = next(_seq)
    # Ten-day slots from 2000 on (inside tenancy.dates' range), clear of each other and of this year.
    start = dt.date(2000, 1, 1) + dt.timedelta(days=10 * n)
    semester = services.semester_create(actor=None, district=district, name=f"隔离学期{n}",
                                        start=start, end=start + dt.timedelta(days=8))
    return {"pk": district.pk, "semester_pk": semester.pk}


def _new(t, district):
    n = next(_seq)
    start = dt.date(2010, 1, 1) + dt.timedelta(days=10 * n)
    return {"name": f"新学期{n}", "start": start.isoformat(), "end": (start + dt.timedelta(days=8)).isoformat()}


def _reads(**over):
    return {u: 200 for u in READERS} | over


def _writes():
    return {u: 403 for u in READERS} | {"bureau_admin": 302}


def _calendar_logged(action):
    """The calendar is every school's: one row per school of the district (schools.services._log_calendar)."""
    def rows(t, district, kwargs, data, user):
        semester_pk = kwargs.get("semester_pk") or Semester.objects.get(district=district, name=data["name"]).pk
        return logged_per_school(district_school_ids(district.pk), action, user, "schools.semester", semester_pk)
    return rows


for page in [
    DistrictPage("district_semesters", _district, _reads()),
    DistrictPage("district_semesters", _district, _writes(), method="post", data=_new, logs=_calendar_logged("create")),
    DistrictPage("district_semester_edit", _semester, _reads()),
    DistrictPage("district_semester_edit", _semester, _writes(), method="post", data=_new,
                 logs=_calendar_logged("update")),
    DistrictPage("district_semester_delete", _semester, _writes(), method="post", logs=_calendar_logged("delete")),
]:
    register_district(page)
