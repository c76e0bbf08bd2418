"""The bureau's review of one submission: accept, return, unlock."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.selectors import has_school_perm

from .. import selectors, services
from ..forms import AcceptForm, ReturnForm, UnlockForm
from ..models import Status
from ._common import _flash_outcome, _narrative_sections, _package_context, _state, _submission


@login_required
@require_GET
def submission_review(request, pk: int):
    submission = _submission(request, pk, review=True)
    today = timezone.localdate()
    narrative = selectors.narrative_of(submission=submission)
    can_review = has_school_perm(request.user, "review_submissions", submission.school)
    waiting = submission.status in (Status.SUBMITTED, Status.RESUBMITTED)
    return render(request, "submissions/review.html", {
        "submission": submission, "school": submission.school, "state": _state(submission, today),
        "sections": [s for s in _narrative_sections(narrative) if s[2]],
        "events": selectors.submission_events(submission=submission),
        "can_review": can_review, "waiting": waiting,
        "can_unlock": can_review and submission.status in (Status.OPEN, Status.COMPILED),
        "accept_form": AcceptForm(), "return_form": ReturnForm(), "unlock_form": UnlockForm(),
        **_package_context(submission, narrative),
    })


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


@_review_view(AcceptForm)
def submission_accept(actor, submission, data):
    services.submission_accept(actor=actor, submission=submission, comment=data["comment"])
    return _("Accepted. The submission is now locked.")


@_review_view(ReturnForm)
def submission_return(actor, submission, data):
    services.submission_return(actor=actor, submission=submission, comment=data["comment"])
    return _("Returned to the school with your comments.")


@_review_view(UnlockForm)
def submission_unlock(actor, submission, data):
    submission = services.submission_unlock(actor=actor, submission=submission, until=data["until"],
                                            comment=data["comment"])
    return _("Unlocked until %(date)s.") % {"date": submission.unlocked_until.isoformat()}
