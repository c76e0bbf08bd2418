"""Demo: the consent register matching each demo child's consent, the school admin named as the
person responsible for children's data, and at Gupei one open guardian's request due in a few
days (start-page work for the school admin whatever the seed day). Idempotent: a school that
already has consent records is skipped."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schools.models import Child
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

from .models import ConsentRecord, DataOfficer, GuardianRequest, guardian_request_due
from .services import refusal_limits_text

# The request is received this many days before the seed day: with the default 15 days to
# answer it is due in three days.
REQUEST_AGE_DAYS = 12
REQUEST_SCHOOL = "gupei"


def seed(ctx: dict) -> None:
    today = ctx.get("today") or timezone.localdate()
    for code, school in sorted(ctx["schools"].items()):
        with tenant_scope([school.id]):
            if ConsentRecord.objects.filter(school=school).exists():
                continue
            _seed_school(school, code, today)


def _seed_school(school, code: str, today: dt.date) -> None:
    admin = (Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).select_related("user")
             .order_by("id").first())
    actor = admin.user if admin else None
    limits = refusal_limits_text()
    decided = Child.objects.filter(school=school).exclude(consent=Child.Consent.PENDING).order_by("id")
    ConsentRecord.objects.bulk_create([
        ConsentRecord(school=school, child=c, decision=c.consent, guardian_name=c.guardian_name or "监护人",
                      guardian_relation=c.guardian_relation, method=c.consent_method or "纸质签字",
                      decided_on=c.consent_date or today, recorded_by=actor,
                      limits=limits if c.consent == Child.Consent.REFUSED else "")
        for c in decided
    ])
    if actor is not None and not DataOfficer.objects.filter(school=school).exists():
        DataOfficer.objects.create(school=school, user=actor, appointed_on=today - dt.timedelta(days=60),
                                   appointed_by=actor)
    if code == REQUEST_SCHOOL:
        child = (Child.objects.filter(school=school, status=Child.Status.ACTIVE, consent=Child.Consent.GIVEN)
                 .order_by("grade", "class_name", "id").first())
        if child is not None:
            received = today - dt.timedelta(days=REQUEST_AGE_DAYS)
            GuardianRequest.objects.create(
                school=school, child=child, child_label=child.name, kind=GuardianRequest.Kind.SEE,
                requester_name=child.guardian_name or "监护人", requester_relation=child.guardian_relation,
                received_on=received, due_on=guardian_request_due(received), handled_by=actor)
