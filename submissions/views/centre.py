"""The township centre school's review of its village schools' reports (VIA_CENTRE route): the
queue per period, one submission's review page, and the decisions (approve, return, withdraw),
one at a time or many at once. Each decision has a confirm page; the services decide who may."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tenancy import idempotency
from tenancy.forms import error_text, new_client_id

from .. import approval, selectors, services
from ..forms import AcceptForm, BulkDecisionForm, ReturnForm
from ..models import ApprovalBatch, Level, Status
from ._common import _flash_outcome, _narrative_sections, _package_context, _state, _submission


def _pick(options, wanted):
    return next((o for o in options if str(o.pk) == (wanted or "")), options[0] if options else None)


def _queue_url(submission) -> str:
    if submission.school.parent_id is None:
        return reverse("centre_queue")
    return reverse("centre_queue") + "?" + urlencode({"centre": submission.school.parent_id,
                                                     "report_type": submission.report_type_id,
                                                     "period": submission.period_id})


@login_required
@require_GET
def centre_queue(request):
    """?centre=&report_type=&period= (each among the user's own, else the first)."""
    centres = approval.approving_centres(request.user)
    if not centres:
        raise Http404  # fail closed: only a centre school's approvers have a queue
    centre = _pick(centres, request.GET.get("centre"))
    report_types = approval.centre_report_types(centre)
    report_type = _pick(report_types, request.GET.get("report_type"))
    periods = approval.centre_periods(report_type, timezone.localdate()) if report_type else []
    rows = []
    period = None
    if periods:
        period = _pick(periods, request.GET.get("period"))
        if "period" not in request.GET:
            # The newest period with something to decide, else the newest one.
            for candidate in periods:
                found = approval.centre_queue(centre=centre, report_type=report_type, period=candidate)
                if any(r.decidable for r in found):
                    period, rows = candidate, found
                    break
        if not rows:
            rows = approval.centre_queue(centre=centre, report_type=report_type, period=period)
    counts = {state: sum(1 for r in rows if r.state == state) for state in approval.ApprovalState.values}
    return render(request, "submissions/centre_queue.html", {
        "centres": centres, "centre": centre, "report_types": report_types, "report_type": report_type,
        "periods": periods, "period": period, "rows": rows, "counts": counts,
        "ready": counts[approval.ApprovalState.READY], "States": approval.ApprovalState,
        "return_form": ReturnForm(),
    })


def _chosen(request):
    ids = [int(x) for x in request.POST.getlist("submissions") if x.isdigit()]
    subs = list(selectors.submissions_visible_to(request.user).filter(pk__in=ids).select_related("school__parent"))
    if not ids or len(subs) != len(set(ids)):
        raise ValidationError(_("Choose at least one school."))
    return sorted(subs, key=lambda s: s.school.name)


@login_required
@require_POST
def centre_decide_many(request):
    """Bulk approve or return (checkboxes of the queue). step=confirm shows what will happen; the
    confirm page's own POST decides them all, or none."""
    action = request.POST.get("action")
    comment = (request.POST.get("comment") or "").strip()
    try:
        subs = _chosen(request)
        if action not in ApprovalBatch.Action.values:
            raise ValidationError(_("Choose approve or return."))
        if action == ApprovalBatch.Action.RETURN and not comment:
            raise ValidationError(_("Say what the school needs to change."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(request.POST.get("back") or reverse("centre_queue"))
    back = _queue_url(subs[0])
    if request.POST.get("step") == "confirm":
        names = "、".join(s.school.name for s in subs)
        if action == ApprovalBatch.Action.APPROVE:
            title = ngettext("Approve %(n)d report?", "Approve %(n)d reports?", len(subs)) % {"n": len(subs)}
            lines = [names, _("They go to the bureau for its review and are locked for the schools meanwhile.")]
        else:
            title = ngettext("Return %(n)d report?", "Return %(n)d reports?", len(subs)) % {"n": len(subs)}
            lines = [names, _("Your reason: %(comment)s") % {"comment": comment}]
        return render(request, "submissions/confirm.html", {
            "title": title, "lines": lines, "action": reverse("centre_decide_many"),
            "hidden": [("action", action), ("comment", comment), ("client_id", new_client_id())]
            + [("submissions", s.pk) for s in subs],
            "confirm_label": _("Yes, approve them") if action == ApprovalBatch.Action.APPROVE else _("Yes, return them"),
            "danger": action == ApprovalBatch.Action.RETURN, "cancel_url": back,
        })

    form = BulkDecisionForm(request.POST)
    form.is_valid()  # action and comment were checked above; this takes the client_id out

    def decide():
        outcome = idempotency.form_create_once(
            request, form, target=subs[0].school.parent, model=ApprovalBatch,
            create=lambda: services.approval_batch_create(actor=request.user, action=action, submissions=subs,
                                                          comment=comment))
        if outcome.replayed:  # a second tap on the same confirm page: decided once already
            return _("Already decided.")
        if action == ApprovalBatch.Action.APPROVE:
            return ngettext("%(n)d report approved and sent to the bureau.",
                            "%(n)d reports approved and sent to the bureau.", len(subs)) % {"n": len(subs)}
        return ngettext("%(n)d report returned to the school.", "%(n)d reports returned to the schools.",
                        len(subs)) % {"n": len(subs)}
    _flash_outcome(request, decide)
    return redirect(back)


# ---------------------------------------------------------------- one submission
def _centre_submission(request, pk: int):
    """The overseers' (404 outside their subtree; 403 for the school's own staff): the page reads
    like the bureau's review screen, and only the centre's approvers may decide (the service says)."""
    return _submission(request, pk, review=True)


def _page(request, submission, *, return_form=None, status: int = 200):
    narrative = selectors.narrative_of(submission=submission)
    bureau_returned = submission.status == Status.RETURNED and submission.returned_level == Level.BUREAU
    via_centre = approval.goes_via_centre(submission.report_type, submission.school)
    may_decide = via_centre and services.may_approve(request.user, submission)
    return render(request, "submissions/centre_review.html", {
        "submission": submission, "school": submission.school, "state": _state(submission, timezone.localdate()),
        "approval_state": approval.approval_state(submission, Level.CENTRE) if via_centre else None,
        "via_centre": via_centre,
        "sections": [s for s in _narrative_sections(narrative) if s[2]],
        "events": selectors.submission_events(submission=submission),
        "can_decide": may_decide and services.centre_may_decide(submission), "bureau_returned": bureau_returned,
        "can_withdraw": may_decide and submission.status == Status.APPROVED,
        "accept_form": AcceptForm(), "return_form": return_form or ReturnForm(), "return_open": return_form is not None,
        "queue_url": _queue_url(submission),
        **_package_context(submission, narrative),
    }, status=status)


@login_required
@require_GET
def centre_review(request, pk: int):
    return _page(request, _centre_submission(request, pk))


def _confirm(request, submission, *, title, lines, url, label, danger=False, comment=""):
    return render(request, "submissions/confirm.html", {
        "title": title, "lines": [_("%(school)s: %(report)s, %(start)s – %(end)s.") % {
            "school": submission.school.name, "report": submission.report_type.name,
            "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat()}, *lines],
        "action": url, "hidden": [("comment", comment)], "confirm_label": label, "danger": danger,
        "cancel_url": reverse("centre_review", kwargs={"pk": submission.pk}),
    })


@login_required
@require_POST
def centre_approve(request, pk: int):
    submission = _centre_submission(request, pk)
    comment = (request.POST.get("comment") or "").strip()[:2000]
    if request.POST.get("step") == "confirm":
        return _confirm(request, submission, title=_("Approve this report?"), comment=comment,
                        lines=[_("It goes to the bureau for its review and is locked for the school meanwhile.")],
                        url=reverse("centre_approve", kwargs={"pk": pk}), label=_("Yes, approve"))
    _flash_outcome(request, lambda: (services.submission_approve(actor=request.user, submission=submission,
                                                                 comment=comment),
                                     _("Approved and sent to the bureau."))[1])
    return redirect(_queue_url(submission))


@login_required
@require_POST
def centre_return(request, pk: int):
    """An empty reason keeps the page open with the error next to the field."""
    submission = _centre_submission(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _page(request, submission, return_form=form, status=400)
    _flash_outcome(request, lambda: (services.submission_centre_return(
        actor=request.user, submission=submission, comment=form.cleaned_data["comment"]),
        _("Returned to the school with your reason."))[1])
    return redirect(_queue_url(submission))


@login_required
@require_POST
def centre_withdraw(request, pk: int):
    submission = _centre_submission(request, pk)
    if request.POST.get("step") == "confirm":
        return _confirm(request, submission, title=_("Withdraw your approval?"),
                        lines=[_("The bureau will not review it until you approve it again or return it.")],
                        url=reverse("centre_withdraw", kwargs={"pk": pk}), label=_("Yes, withdraw"), danger=True)
    _flash_outcome(request, lambda: (services.submission_approval_withdraw(actor=request.user, submission=submission),
                                     _("Approval withdrawn."))[1])
    return redirect("centre_review", pk=pk)
