"""Audit packs: one requested by the bureau admin, or one per district each January for the year
before (the beat job). Built by the `privacyaudit.build_pack` task (privacyaudit/build.py)."""
from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.outbox import job_enqueue
from tenancy.models import District
from tenancy.scoping import district_scope, system_scope

from .. import selectors
from ..models import AuditPack
from ._common import log_on_district

BUILD_TASK = "privacyaudit.build_pack"
FIRST_YEAR = 2000


def last_year(today: date | None = None) -> int:
    return (today or timezone.localdate()).year - 1


def _check_year(year: int, today: date) -> None:
    if not isinstance(year, int) or year < FIRST_YEAR or year > today.year:
        raise ValidationError({"year": _("Choose a year from %(first)d to this year.") % {"first": FIRST_YEAR}})


@transaction.atomic
def audit_pack_request(*, actor, district: District, year: int, scheduled: bool = False, enqueue: bool = True,
                       request=None, today: date | None = None) -> AuditPack:
    """A new version of the district's audit pack for `year`, built by a job. Each request is a new
    version (the history is kept); (district, year, version) is unique, so two concurrent requests
    cannot both take the same number (the loser's transaction fails and is not half-written)."""
    today = today or timezone.localdate()
    if actor is not None and not selectors.can_build_packs(actor, district):
        raise PermissionDenied(_("Only the bureau admin can build the audit pack."))
    _check_year(year, today)
    with district_scope(district.pk):
        # Serialise versions per district on the district row (packs are rare).
        District.objects.select_for_update().filter(pk=district.pk).first()
        version = (AuditPack.objects.filter(district=district, year=year).aggregate(n=Max("version"))["n"] or 0) + 1
        pack = AuditPack.objects.create(
            district=district, year=year, version=version,
            trigger=AuditPack.Trigger.SCHEDULED if scheduled else AuditPack.Trigger.MANUAL,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    log_on_district(actor, district.pk, "create", pack, {"year": year, "version": version, "trigger": pack.trigger},
                    request=request)
    if enqueue:
        pack_id, district_id = pack.pk, district.pk

        def noted(task_id: str) -> None:  # after commit, outside the request's scope
            with district_scope(district_id):
                AuditPack.objects.filter(pk=pack_id, task_id="").update(task_id=task_id)

        job_enqueue(BUILD_TASK, pack_id, on_sent=noted)
    return pack


def audit_packs_schedule(*, today: date | None = None, enqueue: bool = True) -> list[AuditPack]:
    """The January beat job: every district without a pack for last year gets one (version 1).
    Run again, it adds nothing: a district that has any pack for the year is skipped."""
    today = today or timezone.localdate()
    year = last_year(today)
    with system_scope("the January job builds last year's audit pack of every district"):
        done = set(AuditPack.objects.filter(year=year).values_list("district_id", flat=True))
        districts = list(District.objects.exclude(id__in=done).order_by("id"))
    created = []
    for district in districts:
        try:
            with transaction.atomic():
                created.append(audit_pack_request(actor=None, district=district, year=year, scheduled=True,
                                                  enqueue=enqueue, today=today))
        except IntegrityError:
            continue  # a concurrent run took this version
    return created
