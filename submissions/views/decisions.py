"""Unlock requests (the school asks, the bureau grants or refuses) and the bureau's reminders
from the matrix (催报). Every decision goes through a confirm page (step=confirm), so it works
without JavaScript; the services decide who may do what."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tenancy.forms import add_service_errors
from tenancy.forms import error_text as _error_text

from .. import selectors, services
from ..forms import UnlockRequestForm
from ..models import UnlockRequest
from ._common import _districts_or_404, _flash_outcome, _overseen_report_type, _submission


@login_required
def submission_unlock_request(request, pk: int):
    """申请解锁: the school's admin says why the report is late; the bureau decides."""
    submission = _submission(request, pk)
    if request.method == "POST":
        form = UnlockRequestForm(request.POST)
        if form.is_valid():
            try:
                services.unlock_request_create(actor=request.user, submission=submission,
                                               reason=form.cleaned_data["reason"])
            except PermissionDenied as exc:
                messages.error(request, _error_text(exc))
                return redirect("submission_detail", pk=submission.pk)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your request was sent to the bureau."))
                return redirect("submission_detail", pk=submission.pk)
    elif request.method == "GET":
        form = UnlockRequestForm()
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "submissions/unlock_request.html", {
        "submission": submission, "school": submission.school, "form": form,
        "can_request": services.may_request_unlock(request.user, submission),
        "pending": selectors.pending_unlock_request(submission=submission),
    }, status=200 if form.is_bound is False or not form.errors else 400)


@login_required
@require_GET
def unlock_requests(request):
    """The bureau's list of pending unlock requests of one district, each granted or refused in one tap."""
    districts, district = _districts_or_404(request)
    pending = list(selectors.unlock_requests_for(user=request.user, district=district))
    decided = list(selectors.unlock_requests_for(user=request.user, district=district, pending_only=False)
                   .exclude(status=UnlockRequest.State.PENDING)[:20])
    return render(request, "submissions/unlock_requests.html", {
        "districts": districts, "district": district, "pending": pending, "decided": decided,
    })


def _unlock_request_or_404(request, pk: int) -> UnlockRequest:
    found = selectors.unlock_requests_visible_to(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _decide_view(decision: str):
    @login_required
    @require_POST
    def view(request, pk: int):
        unlock = _unlock_request_or_404(request, pk)
        back = f"{reverse('unlock_requests')}?district={unlock.submission.report_type.district_id}"
        sub = unlock.submission
        if request.POST.get("step") == "confirm":
            params = {"school": unlock.school.name, "report": sub.report_type.name,
                      "start": sub.period.start_on.isoformat(), "end": sub.period.end_on.isoformat()}
            grant = decision == "grant"
            return render(request, "submissions/confirm.html", {
                "title": _("Unlock this report?") if grant else _("Refuse this unlock request?"),
                "lines": [_("%(school)s: %(report)s, %(start)s – %(end)s.") % params,
                          _("Reason: %(reason)s") % {"reason": unlock.reason}],
                "action": request.path, "hidden": [], "danger": not grant,
                "confirm_label": _("Yes, unlock") if grant else _("Yes, refuse"), "cancel_url": back,
            })

        def decide():
            if decision == "grant":
                services.unlock_request_grant(actor=request.user, request=unlock)
                return _("Unlocked: %(school)s can submit the report now.") % {"school": unlock.school.name}
            services.unlock_request_refuse(actor=request.user, request=unlock)
            return _("Refused: %(school)s's report stays locked.") % {"school": unlock.school.name}
        _flash_outcome(request, decide)
        return redirect(back)
    view.__name__ = view.__qualname__ = f"unlock_request_{decision}"
    return view


unlock_request_grant = _decide_view("grant")
unlock_request_refuse = _decide_view("refuse")


def _matrix_url(report_type) -> str:
    return f"{reverse('reporting_matrix')}?district={report_type.district_id}&report_type={report_type.pk}"


@login_required
@require_POST
def submission_remind(request, pk: int):
    """催报 one school about one report, from its cell in the matrix."""
    submission = _submission(request, pk, review=True)

    def remind():
        services.submission_remind(actor=request.user, submission=submission)
        return _("Reminder sent to %(school)s.") % {"school": submission.school.name}
    _flash_outcome(request, remind)
    return redirect(_matrix_url(submission.report_type))


@login_required
@require_POST
def reporting_remind_late(request):
    """催报 every school whose report is late (missing in the matrix) for one report type."""
    district, report_type = _overseen_report_type(request, request.POST.get("report_type"))
    late = selectors.late_submissions(user=request.user, report_type=report_type)
    if request.POST.get("step") == "confirm":
        schools = sorted({s.school.name for s in late})
        return render(request, "submissions/confirm.html", {
            "title": _("Remind every late school?"),
            "lines": [ngettext("%(n)d late report, from: %(schools)s.", "%(n)d late reports, from: %(schools)s.",
                               len(late)) % {"n": len(late), "schools": "、".join(schools) or "—"}],
            "action": request.path, "hidden": [("district", district.pk), ("report_type", report_type.pk)],
            "confirm_label": _("Yes, remind them"), "cancel_url": _matrix_url(report_type),
        })
    try:
        sent, skipped = services.submissions_remind_late(actor=request.user, submissions=late)
    except PermissionDenied as exc:
        messages.error(request, _error_text(exc))
    else:
        if sent:
            messages.success(request, ngettext("Reminded %(n)d late report.", "Reminded %(n)d late reports.", sent)
                             % {"n": sent})
        if skipped:
            messages.info(request, ngettext("%(n)d was already reminded today.", "%(n)d were already reminded today.",
                                            skipped) % {"n": skipped})
        if not sent and not skipped:
            messages.info(request, _("No report is late."))
    return redirect(_matrix_url(report_type))
