"""The township package pages: the centre's page (which village schools are approved, compile,
progress, downloads), its progress JSON and downloads, and the bureau's list of its district's
township packages."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.downloads import download_response
from tenancy.selectors import has_school_perm
from tenancy.views import school_for

from .. import selectors, services
from ..models import TownshipPackage
from ..township import downloads as township_downloads
from ..township import selectors as township
from ._common import _districts_or_404, _flash_outcome


def _centre(request, pk: int):
    """The school of the page (404 outside the user's schools); a user with no part in its reporting
    (a teacher) gets 403."""
    school = school_for(request, pk)
    if not selectors.takes_part_in_reporting(user=request.user, school=school):
        raise PermissionDenied
    return school


def _period(periods, wanted):
    return next((p for p in periods if str(p.pk) == str(wanted)), None)


def _with_files(packages):
    for package in packages:
        package.downloads = [k for k in township_downloads.KINDS if isinstance((package.files or {}).get(k), str)]
    return packages


@login_required
@require_GET
def township_packages(request, pk: int):
    centre = _centre(request, pk)
    periods = list(township.township_periods(centre=centre))
    period = _period(periods, request.GET.get("period")) or (periods[0] if periods else None)
    # Whether the villages are approved is read by those who oversee them (the township admin, the
    # bureau); the centre's own staff see the packages only.
    oversees = has_school_perm(request.user, "view_aggregates", centre)
    readiness = township.township_readiness(centre=centre, period=period) if period and oversees else None
    refusal = services.township_refusal(readiness) if readiness is not None else None
    packages = _with_files(list(township.township_packages(user=request.user, centre=centre, period=period)))
    latest = packages[0] if packages else None
    return render(request, "submissions/township.html", {
        "school": centre, "periods": periods, "period": period, "readiness": readiness, "refusal": refusal,
        "packages": packages, "latest": latest, "compiling": latest is not None and not latest.is_finished,
        "can_compile": period is not None and township.may_compile(user=request.user, centre=centre),
        "status_url": reverse("township_package_status", kwargs={"pk": latest.pk}) if latest else "",
    })


@login_required
@require_POST
def township_package_compile(request, pk: int):
    centre = _centre(request, pk)
    period = _period(township.township_periods(centre=centre), request.POST.get("period"))
    if period is None:
        messages.error(request, _("Choose a reporting period."))
        return redirect("township_packages", pk=centre.pk)

    def compile_request():
        services.township_package_request(actor=request.user, centre=centre, period=period)
        return _("Compiling the township package. This page shows the progress.")
    _flash_outcome(request, compile_request)
    return redirect(reverse("township_packages", kwargs={"pk": centre.pk}) + "?" + urlencode({"period": period.pk}))


def _package(request, pk: int) -> TownshipPackage:
    package = township.township_packages_visible_to(request.user).filter(pk=pk).first()
    if package is None:
        raise Http404
    return package


@login_required
@require_GET
def township_package_status(request, pk: int):
    """Polled by the page while a compile runs (static/submissions/progress.js)."""
    package = _package(request, pk)
    return JsonResponse({"version": package.version, "state": package.status,
                         "state_label": package.get_status_display(), "progress": package.progress,
                         "note": package.note, "finished": package.is_finished})


@login_required
@require_GET
def township_package_download(request, pk: int, kind: str):
    package = _package(request, pk)
    return download_response(township_downloads.township_file(user=request.user, package=package, kind=kind,
                                                              request=request))


@login_required
@require_GET
def township_overview(request):
    """The bureau's (and a township admin's) list of the district's current township packages, by
    period, newest first; each links to its centre's page."""
    districts, district = _districts_or_404(request)
    periods = list(township.township_periods_for_district(district_id=district.pk))
    period = _period(periods, request.GET.get("period"))
    packages = (township.township_packages_visible_to(request.user)
                .filter(school__district=district, is_current=True).order_by("-period__start_on", "school__path"))
    if period is not None:
        packages = packages.filter(period=period)
    return render(request, "submissions/township_overview.html", {
        "districts": districts, "district": district, "periods": periods, "period": period,
        "packages": _with_files(list(packages[:200])),
    })
