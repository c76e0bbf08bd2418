"""The bureau's approval routes (审核流程): each report type goes straight to the bureau or
through the village schools' centre school first.

The district is a query parameter as on the other district pages; a change names the report type
in its path, so another district's user gets 404. Overseers read the list; only the bureau admin
changes a route (report_type_update checks it again), after a confirm step: the change moves the
review of reports already sent to another level."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.forms import error_text

from .. import selectors, services
from ..forms import RouteForm
from ..models import ApprovalRoute
from ._common import _districts_or_404


def _list_url(district) -> str:
    return f"{reverse('report_type_routes')}?district={district.pk}"


def _auto_id(report_type) -> str:
    # One form per report type on the page: element ids must differ, the field name need not.
    return f"id_rt{report_type.pk}_%s"


def _render(request, districts, district, *, bound=None, status=200):
    """The list; `bound` is (report type id, its refused form), shown with the form's error."""
    rows = []
    for rt in selectors.report_types_for(user=request.user, district=district):
        form = bound[1] if bound is not None and bound[0] == rt.pk else RouteForm(
            initial={"route": rt.route}, auto_id=_auto_id(rt))
        rows.append((rt, form))
    return render(request, "submissions/routes.html", {
        "districts": districts, "district": district, "rows": rows,
        "can_edit": selectors.can_manage_report_types(user=request.user, district=district),
    }, status=status)


@login_required
def report_type_routes(request):
    districts, district = _districts_or_404(request)
    return _render(request, districts, district)


@login_required
@require_POST
def report_type_route(request, pk: int):
    """step=confirm: the confirm page; without it: save through the service."""
    report_type = selectors.overseen_report_type(user=request.user, pk=pk)
    if report_type is None:
        raise Http404
    district = report_type.district
    if not selectors.can_manage_report_types(user=request.user, district=district):
        raise PermissionDenied
    form = RouteForm(request.POST, auto_id=_auto_id(report_type))
    if not form.is_valid():
        districts = selectors.oversight_districts(user=request.user)
        return _render(request, districts, district, bound=(report_type.pk, form), status=400)
    route = form.cleaned_data["route"]
    if route == report_type.route:
        messages.info(request, _("The approval route of “%(name)s” is unchanged.") % {"name": report_type.name})
        return redirect(_list_url(district))
    label = dict(form.fields["route"].choices)[route]
    if request.POST.get("step") == "confirm":
        waiting = selectors.report_type_awaiting_review(report_type=report_type)
        lines = [
            _("“%(name)s” will be: %(route)s.") % {"name": report_type.name, "route": label},
            _("Village schools' reports will go to their centre school for review first, then to the bureau.")
            if route == ApprovalRoute.VIA_CENTRE else
            _("Every school's report will go straight to the bureau; centre schools no longer review them."),
            _("This applies at once to every period, including open ones: %(n)d reports already sent now "
              "wait for the reviewer of the new route.") % {"n": waiting},
        ]
        return render(request, "submissions/confirm.html", {
            "title": _("Change the approval route?"), "lines": lines,
            "action": reverse("report_type_route", kwargs={"pk": report_type.pk}),
            "hidden": [("route", route)],
            "confirm_label": _("Yes, change the route"), "danger": False, "cancel_url": _list_url(district),
        })
    try:
        services.report_type_update(actor=request.user, report_type=report_type, route=route)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("“%(name)s” now: %(route)s.") % {"name": report_type.name, "route": label})
    return redirect(_list_url(district))
