"""The bureau's review of one submission: accept, return, unlock."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.selectors import has_school_perm

from .. import selectors, services
from ..approval import goes_via_centre
from ..forms import AcceptForm, ReturnForm, UnlockForm
from ..models import Level, Status
from ._common import _flash_outcome, _narrative_sections, _package_context, _state, _submission


def _review_page(request, submission, *, return_form=None, status: int = 200):
    today = timezone.localdate()
    narrative = selectors.narrative_of(submission=submission)
    can_review = has_school_perm(request.user, "review_submissions", submission.school)
    # Off the centre route: sent; on it: approved by the centre (submissions.approval, the one rule).
    approval_state = selectors.approval_state(submission, Level.BUREAU)
    waiting = approval_state == selectors.ApprovalState.READY
    return render(request, "submissions/review.html", {
        "submission": submission, "school": submission.school, "state": _state(submission, today),
        "sections": [s for s in _narrative_sections(narrative) if s[2]],
        "events": selectors.submission_events(submission=submission),
        "can_review": can_review, "waiting": waiting, "approval_state": approval_state,
        "via_centre": goes_via_centre(submission.report_type, submission.school),
        "can_unlock": can_review and submission.status in (Status.OPEN, Status.COMPILED),
        "accept_form": AcceptForm(), "return_form": return_form or ReturnForm(), "unlock_form": UnlockForm(),
        "return_open": return_form is not None,
        **_package_context(submission, narrative),
    }, status=status)


@login_required
@require_GET
def submission_review(request, pk: int):
    return _review_page(request, _submission(request, pk, review=True))


def _review_action(request, pk: int, form_class, call):
    submission = _submission(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        _flash_outcome(request, lambda: call(request.user, submission, form.cleaned_data))
    if selectors.may_read_reviews(user=request.user, school=submission.school):
        return redirect("submission_review", pk=submission.pk)
    return redirect("submission_detail", pk=submission.pk)


def _review_view(form_class):
    """Turn `decide(actor, submission, data) -> success message` into a POST view: the review
    decisions differ only in their form and service call."""
    def decorate(decide):
        @login_required
        @require_POST
        @wraps(decide)
        def view(request, pk: int):
            return _review_action(request, pk, form_class, decide)
        return view
    return decorate


def _accept(actor, submission, data):
    services.submission_accept(actor=actor, submission=submission, comment=data["comment"])
    return _("Accepted. The submission is now locked.")


@login_required
@require_POST
def submission_accept(request, pk: int):
    """POST with step=confirm shows the confirm page of 通过; its own POST accepts."""
    if request.POST.get("step") == "confirm":
        submission = _submission(request, pk, review=True)
        form = AcceptForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        lines = [_("%(school)s: %(report)s, %(start)s – %(end)s.") % {
                     "school": submission.school.name, "report": submission.report_type.name,
                     "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat()},
                 _("Once accepted, the submission is locked: the school cannot change it and it cannot be "
                   "returned.")]
        if comment:
            lines.append(_("Your comment: %(comment)s") % {"comment": comment})
        return render(request, "submissions/confirm.html", {
            "title": _("Accept this submission?"), "lines": lines,
            "action": reverse("submission_accept", kwargs={"pk": submission.pk}), "hidden": [("comment", comment)],
            "confirm_label": _("Yes, accept"), "cancel_url": reverse("submission_review", kwargs={"pk": submission.pk}),
        })
    return _review_action(request, pk, AcceptForm, _accept)


@login_required
@require_POST
def submission_return(request, pk: int):
    """An empty comment keeps the review page open with the error next to the field."""
    submission = _submission(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid() and has_school_perm(request.user, "review_submissions", submission.school):
        return _review_page(request, submission, return_form=form, status=400)

    def decide(actor, submission, data):
        services.submission_return(actor=actor, submission=submission, comment=data["comment"])
        return _("Returned to the school with your comments.")
    return _review_action(request, pk, ReturnForm, decide)


@_review_view(UnlockForm)
def submission_unlock(actor, submission, data):
    submission = services.submission_unlock(actor=actor, submission=submission, until=data["until"],
                                            comment=data["comment"])
    return _("Unlocked until %(date)s.") % {"date": submission.unlocked_until.isoformat()}
