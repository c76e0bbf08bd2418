"""The consolidated district exports: the list, run one, download."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tenancy.downloads import download_response

from .. import downloads, selectors, services
from ._common import _districts_or_404


@login_required
def district_exports(request):
    """The bureau's consolidated exports of one period across all schools: run one now, see the
    history with progress, download. District-level: the district is a query parameter; each export's
    download names the export in its path (tests/web/pages_submissions.py walks it)."""
    districts, district = _districts_or_404(request)
    periods = list(selectors.periods_for_district_export(user=request.user, district=district))
    if request.method == "POST":
        period = next((p for p in periods if str(p.pk) == request.POST.get("period")), None)
        if period is None:
            messages.error(request, _("Choose a reporting period."))
        else:
            try:
                services.district_export_request(actor=request.user, period=period)
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("The export has started; it appears below when ready."))
        return redirect(f"{reverse('district_exports')}?district={district.pk}")
    exports = selectors.district_exports_visible_to(request.user).filter(district=district).order_by("-id")
    page = Paginator(exports, 30).get_page(request.GET.get("page"))
    running = any(not e.is_finished for e in page)
    return render(request, "submissions/district_exports.html", {
        "districts": districts, "district": district, "periods": periods, "page": page, "running": running,
        "can_run": selectors.can_run_district_export(user=request.user, district=district),
    })


@login_required
@require_GET
def district_export_download(request, pk: int):
    """Stream one finished export; 404 unless it is one of the user's districts'."""
    export = selectors.district_exports_visible_to(request.user).filter(pk=pk).first()
    if export is None:
        raise Http404
    return download_response(downloads.district_export_file(user=request.user, export=export, request=request))
