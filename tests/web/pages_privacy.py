"""Isolation cases of the minors'-data pages (privacy/urls.py). Every page is the school admin's
(manage_children): the teacher, the clerk, the township and the bureau of the same school get
403; another school's or district's users 404."""
from __future__ import annotations

import itertools

from django.utils import timezone

from privacy import services
from privacy.models import GuardianRequest
from tenancy.scoping import tenant_scope
from tests.support.access_log import Logged

from .pages import Page, register


def make_child(school):
    # Imported here: pages.py discovers this module while pages_archive may still be importing it.
    from .pages_archive import make_child as make

    return make(school)

_seq = itertools.count(1)
ADMIN_ONLY = dict(teacher_status=403, clerk_status=403, overseer_status=403)


def _school(t, school):
    return {"school_pk": school.pk}


def _child(t, school):
    return {"school_pk": school.pk, "pk": make_child(school).pk}


def make_request(school, kind=GuardianRequest.Kind.SEE):
    kid = make_child(school)
    with tenant_scope([school.id]):
        return services.guardian_request_create(actor=None, school=school, child=kid, kind=kind,
                                                requester_name="王奶奶", received_on=timezone.localdate())


def _request(t, school):
    return {"school_pk": school.pk, "pk": make_request(school).pk}


def _delete_request(t, school):
    return {"school_pk": school.pk, "pk": make_request(school, GuardianRequest.Kind.DELETE).pk}


def _closed(t, school, kwargs, data, user):
    return [Logged(school.pk, "update", "privacy.guardianrequest", str(kwargs["pk"]), user.pk)]


PRIVACY_PAGES = [
    Page("privacy_overview", _school, **ADMIN_ONLY),
    Page("privacy_child_consent", _child, **ADMIN_ONLY),
    Page("guardian_requests", _school, **ADMIN_ONLY),
    Page("guardian_request_create", _school, **ADMIN_ONLY),
    Page("guardian_request_detail", _request, **ADMIN_ONLY),
    Page("guardian_request_copy", _request, **ADMIN_ONLY),
    Page("guardian_request_delete", _delete_request, **ADMIN_ONLY),
    Page("guardian_request_close", _request, method="post", owner_status=302,
         data=lambda t, s: {"status": "done", "outcome": "已打印交给监护人"}, logs=_closed, **ADMIN_ONLY),
    Page("data_officer", _school, **ADMIN_ONLY),
]

for _page in PRIVACY_PAGES:
    register(_page)
