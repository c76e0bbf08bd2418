"""The district's checklists: upload, download, publish and new drafts."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import selectors as tenancy_selectors
from tenancy.downloads import download_response
from tenancy.forms import error_text as _error_text

from .. import downloads, selectors, services
from ..forms import ChecklistUploadForm, DistrictSettingsForm
from ..models import ChecklistVersion
from ..services import ChecklistInvalid
from ._common import _is_manager


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
               "upload_errors": errors or [], "can_manage": bool(managed),
               "settings_forms": [(d, DistrictSettingsForm(initial={
                   "district": d.pk, "count_unapproved_submissions":
                       selectors.district_settings(d.pk).count_unapproved_submissions}))
                   for d in districts if d.id in managed]}
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


@login_required
@require_POST
def district_settings(request):
    """Save the district's compliance settings (a managed district only, else 404)."""
    _versions, districts = _bureau_or_403(request)
    form = DistrictSettingsForm(request.POST)
    district = next((d for d in districts if form.is_valid() and d.pk == form.cleaned_data["district"]), None)
    if district is None:
        raise Http404("No such district.")
    try:
        services.district_settings_update(
            district=district, actor=request.user,
            count_unapproved_submissions=form.cleaned_data["count_unapproved_submissions"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The compliance settings were saved; the scores count by them now."))
    return redirect("compliance_checklists")
