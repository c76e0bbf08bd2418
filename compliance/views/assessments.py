"""Creating, locking and snapshotting an assessment."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import selectors as tenancy_selectors
from tenancy.forms import error_text as _error_text
from tenancy.models import School

from .. import services
from ..forms import AssessmentCreateForm, LockConfirmForm
from ..models import ChecklistVersion
from ._common import _flash_outcome, _is_manager, _overseer_assessment


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
            _flash_outcome(request, lambda: services.assessment_lock(assessment=assessment, actor=request.user),
                           _("The assessment is locked. Its scores are final."))
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
    _flash_outcome(request, lambda: services.snapshot_take(assessment=assessment, actor=request.user),
                   _("A snapshot of every school's scores was taken."))
    return redirect("compliance_dashboard", pk=assessment.pk)
