"""Isolation cases of the archive pages (schools/urls.py) for tests/web/test_page_isolation.py,
plus small builders shared by tests/web/test_archive_*.py.

Child pages answer 404 to a teacher of the same school who is not the child's proxy parent (the
generic test's teacher has no assigned child), and to bureau/township users without an explicit
identity grant. `overseer_status` records what those overseers get; see test_archive_pages.py.
"""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from schools import crypto
from schools import services as school_services
from schools.models import Semester
from tenancy.scoping import district_scope, tenant_scope
from tests.support.access_log import Logged, logged

from .pages import Page, register

# Page carries overseer_status itself now; the alias keeps the registrations below readable.
ArchivePage = Page


_seq = itertools.count(1)

CHILD = dict(
    gender="female", birth_date=dt.date(2016, 5, 1), grade=4, class_name="四(1)班", left_behind_kind="both",
    parents_work_place="江苏南京", guardian_name="王奶奶", guardian_relation="祖母", guardian_phone="13800001111",
    home_village="古沛镇小王庄", health_notes="无", wellbeing_notes="想念妈妈",
    consent_date=dt.date(2026, 1, 2), consent_method="纸质签字",
)


def id_number(n: int, birth=dt.date(2016, 5, 1)) -> str:
    return crypto.with_checksum(f"341182{birth:%Y%m%d}{n % 1000:03d}")


def make_child(school, n: int | None = None, **overrides):
    n = next(_seq) if n is None else n
    fields = {**CHILD, "name": f"孩子{n}", "id_number": id_number(n), **overrides}
    with tenant_scope([school.id]):
        return school_services.child_create(actor=None, school=school, **fields)


def ensure_semester(district):
    """A semester around today for the district (created once)."""
    today = timezone.localdate()
    with district_scope(district):
        found = Semester.objects.filter(district=district, start__lte=today, end__gte=today).first()
    return found or school_services.semester_create(
        actor=None, district=district, name="本学期", start=today - dt.timedelta(days=60),
        end=today + dt.timedelta(days=60))


def _school(t, school):
    return {"school_pk": school.pk}


def _child(t, school):
    return {"school_pk": school.pk, "pk": make_child(school).pk}


def _record_data(t, school):
    ensure_semester(school.district)
    child = make_child(school)
    return {"cell": f"{child.pk}:home_visit", "happened_on": timezone.localdate().isoformat()}


def _record_kwargs(t, school):
    return {"school_pk": school.pk}


def make_contact(school, child=None, *, actor=None, kind="home_visit", notes="家访记录", day=None):
    """A contact in `school` (a semester around today is made if needed); made by `actor`, else the
    system (made_by then falls back to the school's first admin)."""
    from tenancy.models import Membership
    from tenancy.roles import Role

    ensure_semester(school.district)
    child = child or make_child(school)
    maker = actor or Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user
    with tenant_scope([school.id]):
        return school_services.care_contact_record(actor=actor, made_by=maker, child_id=child.pk, kind=kind,
                                                   happened_on=day or timezone.localdate(), notes=notes)


def _contact(t, school):
    return {"school_pk": school.pk, "pk": make_contact(school).pk}


# ---------------------------------------------------------------- access-log expectations
def _contact_logged(t, school, kwargs, data, user):
    from schools.models import CareContact

    child_id = int(data["cell"].split(":")[0])
    with tenant_scope([school.id]):
        contact = CareContact.objects.get(child_id=child_id)
    return logged(contact, "create", user)


def _child_updated(t, school, kwargs, data, user):
    return [Logged(school.pk, "update", "schools.child", str(kwargs["pk"]), user.pk)]


def _children_exported(t, school, kwargs, data, user):
    # An export reads every child of the archive: one row per child.
    from schools.models import Child

    with tenant_scope([school.id]):
        ids = Child.objects.filter(school=school).values_list("id", flat=True)
        return [Logged(school.pk, "export", "schools.child", str(pk), user.pk) for pk in ids]


def _register_exported(t, school, kwargs, data, user):
    # The register sheet holds the children on the archive (active): one row per child.
    from schools.models import Child

    with tenant_scope([school.id]):
        ids = Child.objects.filter(school=school, status="active").values_list("id", flat=True)
        return [Logged(school.pk, "export", "schools.child", str(pk), user.pk) for pk in ids]


def _nothing(t, school, kwargs, data, user):
    return []


# A child page of one's own school: the teacher has no assigned child → 404, overseers → 404.
CHILD_PAGE = dict(teacher_status=404, overseer_status=404)
ADMIN_ONLY = dict(teacher_status=403, overseer_status=403, clerk_status=403)

ARCHIVE_PAGES = [
    ArchivePage("school_dashboard", _school),
    ArchivePage("contact_tracker", _school),
    ArchivePage("children_list", _school),
    # Overseers without an identity grant and an unassigned teacher see an empty list, never a contact.
    ArchivePage("contacts_list", _school),
    ArchivePage("contact_detail", _contact, clerk_status=404, **CHILD_PAGE),  # the clerk sees no record about a child
    ArchivePage("contact_edit", _contact, clerk_status=404, **CHILD_PAGE),  # the clerk sees no record about a child
    # No JS: the tap is a form POST that redirects back. A teacher's tap on an unassigned child → 404.
    ArchivePage("contact_record", _record_kwargs, method="post", data=_record_data, owner_status=302,
                teacher_status=404, overseer_status=403, clerk_status=403, logs=_contact_logged),
    ArchivePage("child_create", _school, **ADMIN_ONLY),
    ArchivePage("children_import", _school, **ADMIN_ONLY),
    # Nothing was uploaded first: refused with a message, nothing written.
    ArchivePage("children_import_confirm", _school, method="post", owner_status=302, logs=_nothing, **ADMIN_ONLY),
    # The blank template holds no one's record: not logged (schools.downloads.children_import_template).
    ArchivePage("children_import_template", _school, logs=_nothing, **ADMIN_ONLY),
    ArchivePage("children_export", _school, logs=_children_exported, **ADMIN_ONLY),
    ArchivePage("register_export", _school, logs=_register_exported, **ADMIN_ONLY),
    ArchivePage("child_detail", _child, **CHILD_PAGE),
    ArchivePage("child_edit", _child, clerk_status=403, **CHILD_PAGE),  # the clerk reads the BASIC page only
    ArchivePage("child_status", _child, method="post", owner_status=302,
                data=lambda t, s: {"status": "graduated", "since": timezone.localdate().isoformat()}, clerk_status=403,
                logs=_child_updated, **CHILD_PAGE),
    ArchivePage("child_consent_refuse", _child, method="post", owner_status=302,
                data=lambda t, s: {"on": timezone.localdate().isoformat(), "confirm": "on"}, clerk_status=403,
                logs=_child_updated, **CHILD_PAGE),
]

for _page in ARCHIVE_PAGES:
    register(_page)
