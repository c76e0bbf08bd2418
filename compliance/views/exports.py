"""Compliance exports: the history page, run now, the schedule, status and download."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.downloads import download_response

from .. import downloads, selectors, services
from ..forms import ExportScheduleForm
from ..models import ComplianceExport
from ._common import _exports_assessment, _flash_outcome, _is_manager


def _schedule_initial(task) -> dict:
    if task is None:
        return {}
    import datetime as dt

    c = task.crontab
    try:
        at = dt.time(int(c.hour), int(c.minute))
    except (TypeError, ValueError):
        at = dt.time(7, 0)
    return {"day_of_week": c.day_of_week, "at": at, "enabled": task.enabled}


def _job_json(assessment, job: ComplianceExport) -> dict:
    return {
        "id": job.id, "status": job.status, "status_display": job.get_status_display(), "progress": job.progress,
        "error": job.error if job.status == ComplianceExport.Status.FAILED else "",
        "download_url": reverse("compliance_export_download", kwargs={"pk": assessment.pk, "job_pk": job.pk})
        if job.status == ComplianceExport.Status.DONE and job.file else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@login_required
def exports(request, pk: int):
    """Export history, the schedule (GET shows it, POST saves it) and a run-now button."""
    assessment = _exports_assessment(request, pk)
    task = selectors.export_schedule_of(assessment)
    can_manage = _is_manager(request.user, assessment.district_id)
    form = ExportScheduleForm(request.POST if request.method == "POST" else None, initial=_schedule_initial(task))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            at = form.cleaned_data["at"]
            _flash_outcome(request, lambda: services.export_schedule_set(
                assessment=assessment, actor=request.user, minute=str(at.minute), hour=str(at.hour),
                day_of_week=form.cleaned_data["day_of_week"], enabled=form.cleaned_data["enabled"]),
                _("The export schedule was saved."))
            return redirect("compliance_exports", pk=assessment.pk)
        status = 400
    jobs = list(selectors.export_history(request.user, assessment)[:50])
    running = [j for j in jobs if j.status in (ComplianceExport.Status.QUEUED, ComplianceExport.Status.RUNNING)]
    for j in running:
        j.status_url = reverse("compliance_export_status", kwargs={"pk": assessment.pk, "job_pk": j.pk})
    return render(request, "compliance/exports.html", {
        "assessment": assessment, "jobs": jobs, "running": running, "form": form, "task": task,
        "can_manage": can_manage,
    }, status=status)


@login_required
def exports_latest(request):
    """The header's "Exports" link: the latest assessment whose exports the user may see."""
    for assessment in selectors.assessments_visible_to(request.user).order_by("-semester_start", "-id"):
        if selectors.can_view_exports(request.user, assessment):
            return redirect("compliance_exports", pk=assessment.pk)
    messages.info(request, _("There is no assessment to export yet."))
    return redirect("compliance_index")


@login_required
@require_POST
def export_run(request, pk: int):
    assessment = _exports_assessment(request, pk)
    _flash_outcome(request, lambda: services.export_request(assessment=assessment, actor=request.user),
                   _("The export was queued; this page shows its progress."))
    return redirect("compliance_exports", pk=assessment.pk)


def _job(request, pk, job_pk):
    assessment = _exports_assessment(request, pk)
    job = selectors.export_history(request.user, assessment).filter(pk=job_pk).first()
    if job is None:
        raise Http404("No such export.")
    return assessment, job


@login_required
def export_status(request, pk: int, job_pk: int):
    """Polled every 2 s by exports.js while a job runs."""
    assessment, job = _job(request, pk, job_pk)
    response = JsonResponse(_job_json(assessment, job))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def export_download(request, pk: int, job_pk: int):
    """The workbook (compliance.downloads.export_file, as the API's download)."""
    _assessment, job = _job(request, pk, job_pk)
    return download_response(downloads.export_file(user=request.user, job=job, request=request))
