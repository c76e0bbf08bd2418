"""The consolidated district export of a period: requested by the bureau or by the beat job."""
from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jobs.outbox import job_enqueue
from tenancy.models import District
from tenancy.scoping import district_scope, in_district_scope, system_scope
from tenancy.selectors import permissions_on_district

from ..models import DistrictExport, Period
from ._common import _localdate, _log_district, _setting


def _require_export_runner(actor, district: District) -> None:
    # Running an export is the bureau admin's (the grant that reviews and sets the calendar); the
    # inspector (view_aggregates, read-only) reads and downloads the exports only.
    if actor is not None and "review_submissions" not in permissions_on_district(actor, district):
        raise PermissionDenied(_("Only the bureau can export the district's submissions."))


@in_district_scope("period")
@transaction.atomic
def district_export_request(*, actor, period: Period, enqueue: bool = True, scheduled: bool = False):
    """A consolidated export of one period across the district's schools, run by a job."""
    district = period.report_type.district
    _require_export_runner(actor, district)
    export = DistrictExport.objects.create(
        district=district, report_type=period.report_type, period=period,
        trigger=DistrictExport.Trigger.SCHEDULED if scheduled else DistrictExport.Trigger.MANUAL,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _log_district(actor, district.id, "create", export, {"period": period.pk, "trigger": export.trigger})
    if enqueue:
        export_id, district_id = export.pk, district.id

        def noted(task_id: str) -> None:  # after commit, outside the request's scope
            with district_scope(district_id):
                DistrictExport.objects.filter(pk=export_id, task_id="").update(task_id=task_id)

        job_enqueue("submissions.run_district_export", export_id, on_sent=noted)
    return export


def district_exports_schedule(*, today: date | None = None, enqueue: bool = True) -> list:
    """The beat job: every period whose due date has passed (within the look-back) gets exactly
    one scheduled export (partial unique constraint; ON CONFLICT → skipped)."""
    today = today or _localdate()
    lookback = _setting("SUBMISSIONS_EXPORT_LOOKBACK_DAYS", 30)
    with system_scope("the beat job schedules the exports of every district's due periods"):
        periods = list(Period.objects.filter(report_type__is_active=True, due_on__lt=today,
                                             due_on__gte=today - timedelta(days=lookback))
                       .exclude(exports__trigger=DistrictExport.Trigger.SCHEDULED)
                       .select_related("report_type__district").order_by("due_on", "id"))
    created = []
    for period in periods:
        try:
            with transaction.atomic():
                created.append(district_export_request(actor=None, period=period, enqueue=enqueue, scheduled=True))
        except IntegrityError:
            continue  # a concurrent run scheduled it
    return created
