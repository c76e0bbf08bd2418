"""Children crafted for the risk index: a `calm` child fires no signal (all four contacts this
semester, a good guardian of long standing, parents in touch); each test changes one thing."""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from schools import services as ss
from schools.models import CareContact, Child, Semester
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope

_n = itertools.count(1)


def today() -> dt.date:
    return timezone.localdate()


def semester(district) -> Semester:
    with district_scope(district):
        found = Semester.objects.filter(district=district, start__lte=today(), end__gte=today()).first()
        if found:
            return found
    return ss.semester_create(actor=None, district=district, name=f"本学期{district.pk}",
                              start=today() - dt.timedelta(days=60), end=today() + dt.timedelta(days=60))


def calm_child(school, *, contacts=tuple(CareContact.Kind.values), **register) -> Child:
    """A child with every contact this semester and a settled family; `register` overrides."""
    n = next(_n)
    with tenant_scope([school.pk]):
        child = ss.child_create(actor=None, school=school, name=f"测试{n}", gender="female", grade=3,
                                class_name="三(1)班", left_behind_kind="both",
                                status_since=today() - dt.timedelta(days=400))
        values = {"guardianship_assessment": "good", "guardian_since": today() - dt.timedelta(days=700),
                  "parents_last_contact_on": today() - dt.timedelta(days=5), **register}
        Child.objects.filter(pk=child.pk).update(**values)
        admin = Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user
        for kind in contacts:
            ss.care_contact_record(actor=None, made_by=admin, child_id=child.pk, kind=kind,
                                   happened_on=today() - dt.timedelta(days=3))
        child.refresh_from_db()
    return child
