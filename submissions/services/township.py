"""Township packages: the compile request (validated first: every village school approved) and the
compile job's hooks (jobs.models.Job), like the school's package versions (packages.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from jobs.models import UNFINISHED
from jobs.outbox import job_enqueue
from tenancy.models import School, TaskOutbox
from tenancy.scoping import tenant_scope
from tenancy.services import access_log_record

from ..models import ApprovalRoute, Period, TownshipPackage, township_storage_key
from ..township.selectors import Readiness, may_compile, township_readiness

TOWNSHIP_COMPILE_TASK = "submissions.compile_township_package"


def township_refusal(readiness: Readiness) -> str | None:
    """Why this package cannot be compiled now, in the user's words; None when it can. The
    request and the job (which checks again when it runs) both ask here."""
    if not readiness.routed:
        return _("%(report)s goes to the bureau directly; only reports reviewed by the centre school have a "
                 "township package.") % {"report": readiness.report_type.name}
    if not readiness.villages:
        return _("%(school)s has no village school reporting on %(report)s for this period.") % {
            "school": readiness.centre.name, "report": readiness.report_type.name}
    if readiness.pending:
        return _("Not every village school has been approved yet. Still waiting: %(schools)s.") % {
            "schools": pgettext("between school names", ", ").join(row.school.name for row in readiness.pending)}
    return None


def _stale_after() -> timedelta:
    return timedelta(seconds=TownshipPackage.time_limit() * 2)


def township_package_fail(*, package: TownshipPackage, error: str) -> bool:
    return TownshipPackage.fail(package.pk, error)


@transaction.atomic
def township_package_request(*, actor, centre: School, period: Period, enqueue: bool = True,
                             now: datetime | None = None) -> TownshipPackage:
    """Ask for a township package of one period: validate, reserve a version, enqueue the job
    after commit. Idempotent: with nothing changed since a package that is done (or still being
    compiled) from the same submissions, that package is returned and nothing new is made."""
    now = now or timezone.now()
    if actor is None or not may_compile(user=actor, centre=centre):
        raise PermissionDenied(_("Only the centre school's township admin compiles the township package."))
    if period.report_type.route != ApprovalRoute.VIA_CENTRE or period.report_type.district_id != centre.district_id:
        raise ValidationError(_("%(report)s goes to the bureau directly; only reports reviewed by the centre "
                                "school have a township package.") % {"report": period.report_type.name})
    # Serialise version numbering per centre (the School row is the tenant's own anchor).
    School.objects.select_for_update().filter(pk=centre.pk).first()
    readiness = township_readiness(centre=centre, period=period)
    refusal = township_refusal(readiness)
    if refusal is not None:
        raise ValidationError(refusal)
    digest = readiness.digest()
    existing = TownshipPackage.objects.filter(school=centre, period=period)
    package = None
    for candidate in existing.filter(status__in=UNFINISHED).order_by("version"):
        stale = (candidate.started_at or candidate.created_at) < now - _stale_after()
        if stale or candidate.source_digest != digest or package is not None:
            township_package_fail(package=candidate, error=_("Superseded by a newer compile."))
        else:
            package = candidate
    if package is None:
        done = existing.filter(is_current=True, source_digest=digest).first()
        if done is not None:
            return done  # the same submissions compiled already: nothing to do
    elif package.status == TownshipPackage.Status.RUNNING:
        return package  # a worker has it; a second click changes nothing
    if package is None:
        last = existing.aggregate(m=Max("version"))["m"] or 0
        package = TownshipPackage.objects.create(
            school=centre, report_type=period.report_type, period=period, version=last + 1,
            storage_key=township_storage_key(centre.pk, period.pk, last + 1), source_digest=digest,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        access_log_record(user=actor, school_id=centre.pk, action="create", obj=package,
                          detail={"period": period.pk, "version": package.version,
                                  "schools": [row.school.id for row in readiness.rows]})
    if enqueue:
        _enqueue(centre.pk, package.pk)
    return package


def _enqueue(school_id: int, package_id: int) -> None:
    """Through the outbox, as the school's compile: with the broker down the package waits and
    the beat job publishes it later; a queued package whose message still waits is not sent twice."""
    if TaskOutbox.objects.filter(task=TOWNSHIP_COMPILE_TASK, args=[school_id, package_id],
                                 sent_at__isnull=True).exists():
        return

    def noted(task_id: str) -> None:
        with tenant_scope([school_id]):
            TownshipPackage.objects.filter(pk=package_id, task_id="").update(task_id=task_id)

    def waiting() -> None:
        with tenant_scope([school_id]), translation.override(settings.LANGUAGE_CODE):
            TownshipPackage.objects.filter(pk=package_id, status=TownshipPackage.Status.QUEUED).update(
                note=_("The task queue is unavailable; the compile starts by itself when it is back."))

    job_enqueue(TOWNSHIP_COMPILE_TASK, school_id, package_id, on_sent=noted, on_refused=waiting)


def township_package_progress(*, package: TownshipPackage, progress: int, note: str = "",
                              started: bool = False) -> bool:
    """Progress (0–100) for the page; False once the package finished or failed. `started` claims
    it (each run's first step), which restarts the clock of the stale rule."""
    if started or package.started_at is None:
        return TownshipPackage.claim(package.pk, progress=progress, note=note)
    return TownshipPackage.report_progress(package.pk, progress, note)


@transaction.atomic
def township_package_complete(*, package: TownshipPackage, files: dict, schools: list[dict], source_digest: str,
                              now: datetime | None = None) -> TownshipPackage:
    """Mark a package done and current (compare-and-set: completing it again changes nothing; an
    older version finishing late does not take `current` from a newer one)."""
    finished = TownshipPackage.finish(package.pk, now=now or timezone.now(), files=files, schools=schools,
                                    source_digest=source_digest)
    package.refresh_from_db()
    if not finished:
        if package.status == TownshipPackage.Status.DONE:
            return package
        raise ValidationError(_("This package version failed; start a new compile."))
    newer_done = TownshipPackage.objects.filter(school_id=package.school_id, period_id=package.period_id,
                                                status=TownshipPackage.Status.DONE,
                                                version__gt=package.version).exists()
    if not newer_done:
        # Unset first: the partial unique constraint allows one current row at any instant.
        TownshipPackage.objects.filter(school_id=package.school_id, period_id=package.period_id,
                                       is_current=True).update(is_current=False)
        TownshipPackage.objects.filter(pk=package.pk).update(is_current=True)
        package.is_current = True
    access_log_record(user=package.created_by, school_id=package.school_id, action="update", obj=package,
                      detail={"version": package.version, "status": "done"})
    return package
