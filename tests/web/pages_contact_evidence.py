"""Photos of a care contact for the page-isolation walker: they follow the contact's child, like
the API's EvidenceViewSet. Only who may read the child's personal record (the school admin, the
child's proxy parent, an explicit identity grant) opens them; the materials clerk (BASIC), a
teacher not assigned to the child and overseers without an identity grant get 404. Activity
photos (tests/web/pages_home.py) stay open to everyone with view_home."""
from __future__ import annotations

from django.utils import timezone

from schools import services
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

from .pages import Page, register


def _contact_photo(t, school):
    # Imported here: pages.py discovers this module while pages_archive/pages_home may still be
    # importing pages.py themselves (a test module importing them first).
    from .pages_archive import ensure_semester, make_child
    from .pages_home import make_photo

    ensure_semester(school.district)
    child = make_child(school)
    admin = Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user
    with tenant_scope([school.id]):
        contact = services.care_contact_record(actor=None, made_by=admin, child_id=child.pk, kind="home_visit",
                                               happened_on=timezone.localdate())
    return {"school_pk": school.pk, "pk": make_photo(school, seed=900, attach_to=contact).pk}


CONTACT_PHOTO = dict(teacher_status=404, clerk_status=404, overseer_status=404)

def _photo_viewed(t, school, kwargs, data, user):
    from .pages_home import photo_viewed

    return photo_viewed(t, school, kwargs, data, user)


for _name in ("evidence_file", "evidence_thumb"):
    register(Page(_name, _contact_photo, notes="a care contact's photo", logs=_photo_viewed, **CONTACT_PHOTO))
