"""The compliance web UI: district dashboard, school page, drill-down, checklists, assessments,
manual scores and exports.

Views validate, call a selector or a service, render. Every page with an assessment in its URL
looks it up among the assessments the user can see (404 otherwise, never 403). Pages for overseers
answer 403 to school staff; a bureau-only ACTION by an overseer who may not do it (a township admin)
comes back as a clear message, since the service is what decides.

Checklist versions belong to a district, not a school: their pages take the version in the query
string or the POSTed form (see the final report / tests/web/test_compliance_checklists.py for their
isolation tests), and are for bureau users only.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import selectors as tenancy_selectors
from tenancy.downloads import download_response
from tenancy.forms import error_text as _error_text
from tenancy.models import School

from . import downloads, selectors, services
from .forms import (
    AssessmentCreateForm, ChecklistUploadForm, ExportScheduleForm, LockConfirmForm, ManualScoreForm,
)
from .models import Assessment, ChecklistItem, ChecklistVersion, ComplianceExport
from .services import ChecklistInvalid


# --------------------------------------------------------------------------- helpers
def _assessment(request, pk) -> Assessment:
    return selectors.assessment_get_for_user(request.user, pk)


def _overseer_assessment(request, pk) -> Assessment:
    assessment = _assessment(request, pk)
    if not selectors.can_view_dashboard(request.user, assessment):
        raise PermissionDenied
    return assessment


def _exports_assessment(request, pk) -> Assessment:
    assessment = _assessment(request, pk)
    if not selectors.can_view_exports(request.user, assessment):
        raise PermissionDenied
    return assessment


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _title(row: dict) -> str:
    return row.get("title_zh") if _zh() or not row.get("title_en") else row["title_en"]


def _num(d):
    return None if d is None else float(d)


def _own_school_ids(user) -> list[int]:
    """The schools a user works at (their school roles), for "my score"."""
    return [m.school_id for m in tenancy_selectors.memberships_of(user) if m.school_id]


def _is_manager(user, district_id) -> bool:
    return tenancy_selectors.has_district_perm(user, "manage_checklists", district_id)


# --------------------------------------------------------------------------- index
@login_required
def index(request):
    """The assessments the user can see; overseers go on to the dashboard, schools to their page."""
    assessments = list(selectors.assessments_visible_to(request.user).select_related("district"))
    own = _own_school_ids(request.user)
    rows = []
    for a in assessments:
        rows.append({"assessment": a, "dashboard": selectors.can_view_dashboard(request.user, a),
                     "school_id": own[0] if own else None})
    can_create = any(_is_manager(request.user, d.id) for d in tenancy_selectors.districts_visible_to(request.user))
    return render(request, "compliance/index.html", {"rows": rows, "can_create": can_create,
                                                     "can_manage_checklists": bool(
                                                         selectors.checklist_versions_managed_by(request.user).exists()
                                                         or can_create)})


@login_required
def my_score(request):
    """A school user's own school in the latest assessment that covers it."""
    own = [sid for sid in _own_school_ids(request.user)]
    if not own:
        raise Http404("No school.")
    for assessment in selectors.assessments_visible_to(request.user).order_by("-semester_start", "-id"):
        return redirect("compliance_school", pk=assessment.pk, school_pk=own[0])
    messages.info(request, _("There is no assessment of your school yet."))
    return redirect("compliance_index")


# --------------------------------------------------------------------------- dashboard
@login_required
def dashboard(request, pk: int):
    assessment = _assessment(request, pk)
    if not selectors.can_view_dashboard(request.user, assessment):
        # School staff have their own page instead of the district's ranking.
        own = [sid for sid in _own_school_ids(request.user)
               if sid in set(tenancy_selectors.school_ids_for_user(request.user))]
        return redirect("compliance_school", pk=assessment.pk, school_pk=own[0]) if own else redirect(
            "compliance_index")
    user = request.user
    ranking = selectors.ranking(user, assessment)
    heat = selectors.heatmap(user, assessment)
    trend = selectors.trend(user, assessment)
    school_urls = {r["school_id"]: reverse("compliance_school", kwargs={"pk": assessment.pk, "school_pk": r["school_id"]})
                   for r in ranking}
    item_titles = [_title(it) for it in heat["items"]]
    for it, title in zip(heat["items"], item_titles):
        it["title"] = title
    heat_rows = []
    for school, cells, statuses in zip(heat["schools"], heat["cells"], heat["statuses"]):
        heat_rows.append({"school": school, "url": school_urls[school["school_id"]],
                          "cells": [{"code": it["code"], "share": c, "status": s,
                                     "pct": None if c is None else round(c * 100)}
                                    for it, c, s in zip(heat["items"], cells, statuses)]})
    names = {r["school_id"]: r["name"] for r in ranking}
    trend_rows = [{"school_id": sid, "name": names.get(sid, sid), "points": pts}
                  for sid, pts in sorted(trend.items(), key=lambda kv: str(names.get(kv[0], kv[0])))]
    chart_data = {
        "labels": {"score": _("Score"), "points_earned": _("share of points earned"),
                   "not_applicable": _("not applicable"), "pending": _("pending")},
        "ranking": [{"name": r["name"], "score": _num(r["score"]), "rank": r["rank"], "url": school_urls[r["school_id"]]}
                    for r in ranking],
        "heatmap": {
            "schools": [s["name"] for s in heat["schools"]],
            "school_urls": [school_urls[s["school_id"]] for s in heat["schools"]],
            "items": [it["code"] for it in heat["items"]],
            "item_titles": item_titles,
            "cells": [[x, y, None if c is None else round(c * 100), st]
                      for y, (cells, sts) in enumerate(zip(heat["cells"], heat["statuses"]))
                      for x, (c, st) in enumerate(zip(cells, sts))],
        },
        "trend": [{"name": t["name"], "points": [[p["taken_at"].isoformat(), _num(p["score"])] for p in t["points"]]}
                  for t in trend_rows],
    }
    can_manage = _is_manager(user, assessment.district_id)
    return render(request, "compliance/dashboard.html", {
        "assessment": assessment, "ranking": ranking, "heat_items": heat["items"], "heat_rows": heat_rows,
        "trend_rows": trend_rows, "chart_data": chart_data, "can_manage": can_manage,
        "can_view_exports": selectors.can_view_exports(user, assessment),
        "previous_snapshot_at": ranking[0]["previous_snapshot_at"] if ranking else None,
        "snapshots": assessment.snapshots.order_by("-taken_at")[:5],
    })


# --------------------------------------------------------------------------- school page, drill-down
@login_required
def school_page(request, pk: int, school_pk: int):
    assessment = _assessment(request, pk)
    report = selectors.school_report(request.user, assessment, school_pk)  # 404 for a school not theirs
    for row in report["items"] + report["next_steps"]:
        row["title"] = _title(row)
        row["requirement"] = (row.get("requirement_zh") if _zh() or not row.get("requirement_en")
                              else row["requirement_en"])
    return render(request, "compliance/school.html", {
        "assessment": assessment, "report": report,
        "can_view_dashboard": selectors.can_view_dashboard(request.user, assessment),
    })


def _item_page(request, assessment, school_pk, code, form=None, status=200):
    data = selectors.item_drilldown(request.user, assessment, school_pk, code, request=request)
    item = data["item"]
    item["title"] = _title(item)
    item["requirement"] = item["requirement_zh"] if _zh() or not item["requirement_en"] else item["requirement_en"]
    school = get_object_or_404(School, pk=school_pk)
    can_score = (item["metric"] == "" and not assessment.is_locked
                 and tenancy_selectors.has_school_perm(request.user, "score_manual_items", school))
    if can_score and form is None:
        form = ManualScoreForm(points=item["points"], initial={"score": item["score"]})
    return render(request, "compliance/item.html", {
        "assessment": assessment, "data": data, "item": item, "school": data["school"],
        "is_manual": item["metric"] == "", "can_score": can_score, "form": form,
    }, status=status)


@login_required
def item_page(request, pk: int, school_pk: int, code: str):
    assessment = _assessment(request, pk)
    return _item_page(request, assessment, school_pk, code)


@login_required
@require_POST
def manual_score(request, pk: int, school_pk: int, code: str):
    assessment = _assessment(request, pk)
    selectors.school_report(request.user, assessment, school_pk)  # 404 before anything else
    school = get_object_or_404(School, pk=school_pk)
    item = ChecklistItem.objects.filter(version_id=assessment.checklist_version_id, code=code).first()
    if item is None:
        raise Http404("No such item.")
    back = redirect("compliance_item", pk=assessment.pk, school_pk=school.pk, code=code)
    form = ManualScoreForm(request.POST, points=item.points)
    if not form.is_valid():
        if not tenancy_selectors.has_school_perm(request.user, "score_manual_items", school):
            messages.error(request, _("You cannot score checklist items for this school."))
            return back
        return _item_page(request, assessment, school.pk, code, form=form, status=400)
    try:
        services.manual_score_set(assessment=assessment, school=school, item_code=code,
                                  score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                                  evidence_ids=form.cleaned_data["evidence_ids"], actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The score of %(code)s was saved.") % {"code": code})
    return back


# --------------------------------------------------------------------------- assessments
@login_required
def assessment_new(request):
    user = request.user
    districts = [d for d in tenancy_selectors.districts_visible_to(user) if _is_manager(user, d.id)]
    if not districts:
        raise PermissionDenied
    ids = [d.id for d in districts]
    versions = ChecklistVersion.objects.filter(checklist__district_id__in=ids,
                                               status=ChecklistVersion.Status.PUBLISHED).select_related("checklist")
    schools = School.objects.filter(district_id__in=ids, parent__isnull=True).order_by("path")
    form = AssessmentCreateForm(request.POST if request.method == "POST" else None, versions=versions, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = data["checklist_version"]
        try:
            assessment = services.assessment_create(
                district=version.checklist.district, checklist_version=version, title=data["title"],
                semester_label=data["semester_label"], semester_start=data["semester_start"],
                semester_end=data["semester_end"], root_school=data["root_school"], actor=user)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("The assessment was created."))
            return redirect("compliance_dashboard", pk=assessment.pk)
    return render(request, "compliance/assessment_new.html", {"form": form})


@login_required
def assessment_lock(request, pk: int):
    """A confirm step, then the lock (the service takes the final snapshot)."""
    assessment = _overseer_assessment(request, pk)
    form = LockConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.assessment_lock(assessment=assessment, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("The assessment is locked. Its scores are final."))
            return redirect("compliance_dashboard", pk=assessment.pk)
        if not _is_manager(request.user, assessment.district_id):
            messages.error(request, _("Only the bureau can lock an assessment."))
            return redirect("compliance_dashboard", pk=assessment.pk)
    return render(request, "compliance/assessment_lock.html", {
        "assessment": assessment, "form": form, "can_manage": _is_manager(request.user, assessment.district_id),
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def snapshot_take(request, pk: int):
    assessment = _overseer_assessment(request, pk)
    try:
        services.snapshot_take(assessment=assessment, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("A snapshot of every school's scores was taken."))
    return redirect("compliance_dashboard", pk=assessment.pk)


# --------------------------------------------------------------------------- exports
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
            try:
                services.export_schedule_set(assessment=assessment, actor=request.user, minute=str(at.minute),
                                             hour=str(at.hour), day_of_week=form.cleaned_data["day_of_week"],
                                             enabled=form.cleaned_data["enabled"])
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("The export schedule was saved."))
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
    try:
        services.export_request(assessment=assessment, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The export was queued; this page shows its progress."))
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


# --------------------------------------------------------------------------- checklists (district level)
def _bureau_or_403(request):
    versions = selectors.checklist_versions_managed_by(request.user)
    districts = [d for d in tenancy_selectors.districts_visible_to(request.user)
                 if tenancy_selectors.has_district_perm(request.user, "view_aggregates", d.id)]
    if not districts:
        raise PermissionDenied
    return versions, districts


def _version_from(request, value) -> ChecklistVersion:
    versions, _d = _bureau_or_403(request)
    try:
        return versions.get(pk=int(value))
    except (TypeError, ValueError, ChecklistVersion.DoesNotExist):
        raise Http404("No such checklist version.") from None


def _checklists_page(request, *, upload_form=None, errors=None, status=200):
    versions, districts = _bureau_or_403(request)
    selected = _version_from(request, request.GET["version"]) if request.GET.get("version") else None
    managed = {d.id for d in districts if _is_manager(request.user, d.id)}
    context = {"versions": list(versions), "selected": selected, "upload_form": upload_form or ChecklistUploadForm(),
               "upload_errors": errors or [], "can_manage": bool(managed)}
    if selected is not None:
        context["tree"] = selectors.checklist_version_tree(selected)
        context["selected_errors"] = [] if selected.is_published else services.checklist_version_errors(selected)
        context["can_manage_selected"] = selected.checklist.district_id in managed
        context["has_draft"] = selected.checklist.versions.filter(status=ChecklistVersion.Status.DRAFT).exists()
    return render(request, "compliance/checklists.html", context, status=status)


@login_required
def checklists(request):
    """List of versions (draft/published); ?version=<id> shows one version's sections and items."""
    return _checklists_page(request)


@login_required
@require_POST
def checklist_upload(request):
    _versions, districts = _bureau_or_403(request)
    managed = [d for d in districts if _is_manager(request.user, d.id)]
    form = ChecklistUploadForm(request.POST, request.FILES)
    if not managed:
        raise PermissionDenied
    if not form.is_valid():
        return _checklists_page(request, upload_form=form, status=400)
    try:
        version = services.checklist_import_yaml(district=managed[0], text=form.cleaned_data["file"],
                                                 actor=request.user)
    except ChecklistInvalid as exc:
        return _checklists_page(request, upload_form=form, status=400,
                                errors=[{"where": e.where, "field": e.field, "message": e.message}
                                        for e in exc.errors_list])
    except (ValidationError, PermissionDenied) as exc:
        return _checklists_page(request, upload_form=form, status=400,
                                errors=[{"where": "", "field": "", "message": _error_text(exc)}])
    messages.success(request, _("Imported as draft version %(n)s.") % {"n": version.number})
    return redirect(f"{reverse('compliance_checklists')}?version={version.pk}")


@login_required
def checklist_download(request):
    """The version as YAML (compliance.downloads.checklist_yaml, as the API's yaml route)."""
    version = _version_from(request, request.GET.get("version"))
    return download_response(downloads.checklist_yaml(user=request.user, version=version, request=request))


@login_required
def checklist_publish(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = _version_from(request, request.POST.get("version"))
    try:
        services.checklist_version_publish(version=version, actor=request.user)
    except ChecklistInvalid as exc:
        messages.error(request, _("The version has errors and was not published: %(e)s")
                       % {"e": "; ".join(str(e) for e in exc.errors_list)})
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Version %(n)s is published; it can no longer change.") % {"n": version.number})
    return redirect(f"{reverse('compliance_checklists')}?version={version.pk}")


@login_required
def checklist_new_draft(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = _version_from(request, request.POST.get("version"))
    try:
        draft = services.checklist_version_new_draft(version=version, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{reverse('compliance_checklists')}?version={version.pk}")
    messages.success(request, _("Draft version %(n)s was created from version %(m)s.")
                     % {"n": draft.number, "m": version.number})
    return redirect(f"{reverse('compliance_checklists')}?version={draft.pk}")

