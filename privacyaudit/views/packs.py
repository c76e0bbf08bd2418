"""The bureau's audit packs: the list with progress, build (after a confirm step), the report as a
page, its progress as JSON, and the files."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tenancy import idempotency
from tenancy.downloads import download_response
from tenancy.forms import error_text

from .. import downloads, selectors, services
from ..forms import PackForm
from ..models import AuditPack
from ..selectors.figures import open_findings
from ._common import reader_district


@login_required
@require_GET
def audit_home(request):
    """The navigation's link: the first district whose packs the user reads."""
    ids = selectors.reader_districts(request.user)
    if not ids:
        raise Http404
    return redirect("audit_packs", pk=ids[0])


def _pack(request, pk: int, pack_pk: int):
    district = reader_district(request, pk)
    return district, get_object_or_404(AuditPack, pk=pack_pk, district=district)


def _json(pack: AuditPack) -> dict:
    return {"id": pack.pk, "status": pack.status, "status_display": pack.get_status_display(),
            "progress": pack.progress, "note": pack.note,
            "error": pack.error if pack.status == AuditPack.Status.FAILED else ""}


@login_required
@require_GET
def audit_packs(request, pk: int):
    district = reader_district(request, pk)
    packs = list(selectors.packs_visible_to(request.user).filter(district=district)[:50])
    running = [p for p in packs if not p.is_finished]
    return render(request, "privacyaudit/packs.html", {
        "district": district, "packs": packs, "running": running,
        "can_build": selectors.can_build_packs(request.user, district), "form": PackForm(),
    })


@login_required
def audit_pack_build(request, pk: int):
    """GET: the confirm step (which year, what it reads); POST: queue the build."""
    district = reader_district(request, pk)
    if not selectors.can_build_packs(request.user, district):
        raise PermissionDenied
    form = PackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = idempotency.form_create_once(request, form, target=district, model=AuditPack, create=lambda: (
                services.audit_pack_request(actor=request.user, district=district, year=form.cleaned_data["year"],
                                            request=request)))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
        else:
            if not outcome.replayed:
                messages.success(request, _("The audit pack is being built; this page shows its progress."))
        return redirect("audit_packs", pk=district.pk)
    return render(request, "privacyaudit/pack_confirm.html", {"district": district, "form": form},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_GET
def audit_pack_status(request, pk: int, pack_pk: int):
    """Polled by the list page while a pack builds."""
    _district, pack = _pack(request, pk, pack_pk)
    response = JsonResponse(_json(pack))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def audit_pack_report(request, pk: int, pack_pk: int):
    """The built report as a page (a phone reads it; it prints as the report's first pages)."""
    district, pack = _pack(request, pk, pack_pk)
    report = downloads.pack_report(user=request.user, pack=pack, request=request)
    number = 0
    for sec in report["sections"]:
        for f in sec["figures"]:
            number += 1
            f["number"] = number
    return render(request, "privacyaudit/report.html", {
        "district": district, "pack": pack, "report": report, "findings": open_findings(report),
        "printed_at": timezone.now(),
        "downloads": [(k, reverse("audit_pack_download", kwargs={"pk": district.pk, "pack_pk": pack.pk, "kind": k}))
                      for k in downloads.KINDS],
    })


@login_required
@require_GET
def audit_pack_download(request, pk: int, pack_pk: int, kind: str):
    _district, pack = _pack(request, pk, pack_pk)
    return download_response(downloads.pack_file(user=request.user, pack=pack, kind=kind, request=request))
