"""Counts for the start page's work lists, batched over many schools (one query each).

The coverage rules themselves (which child lacks which contact, which activity lacks evidence,
which record is incomplete) live once in compliance's gap providers; these are the school-side
counts that have no checklist metric.
"""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef

from tenancy.models import Membership
from tenancy.roles import Role

from ..models import Activity, Child, StaffProfile


def _by_school(rows) -> dict[int, int]:
    return {r["school_id"]: r["n"] for r in rows}


def activities_on(school_ids: list[int], day: dt.date) -> dict[int, int]:
    """{school id: activities held on `day`}."""
    return _by_school(Activity.objects.filter(school_id__in=school_ids, date=day)
                      .values("school_id").annotate(n=Count("id")).order_by())


def children_without_consent(school_ids: list[int]) -> dict[int, int]:
    """{school id: children on the archive whose guardian's consent is not recorded as given}
    (not yet asked, or refused: the archive may then hold the minimum only)."""
    return _by_school(Child.objects.filter(school_id__in=school_ids, status=Child.Status.ACTIVE)
                      .exclude(consent=Child.Consent.GIVEN)
                      .values("school_id").annotate(n=Count("id")).order_by())


def teachers_without_home_role(school_ids: list[int]) -> dict[int, int]:
    """{school id: teachers of the school who are not (yet) one of its home's proxy parents}."""
    proxy = StaffProfile.objects.filter(school_id=OuterRef("school_id"), user_id=OuterRef("user_id"),
                                        is_proxy_parent=True)
    return _by_school(Membership.objects.filter(school_id__in=school_ids, role=Role.TEACHER)
                      .filter(~Exists(proxy)).values("school_id").annotate(n=Count("user_id", distinct=True))
                      .order_by())
