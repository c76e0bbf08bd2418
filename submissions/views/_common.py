"""What the submissions pages share: the submission lookup, its lock state and error text."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tenancy.forms import error_text

from .. import downloads, selectors, services
from ..models import Status, Submission
from ..narrative import SECTIONS
from ..preview import package_preview, preview_version


def _submission(request, pk: int, *, review: bool = False) -> Submission:
    try:
        submission = selectors.submission_get(user=request.user, submission_id=pk)
    except Submission.DoesNotExist:
        raise Http404 from None
    if not selectors.takes_part_in_reporting(user=request.user, school=submission.school):
        raise PermissionDenied
    if review and not selectors.may_read_reviews(user=request.user, school=submission.school):
        raise PermissionDenied
    return submission


def _flash_outcome(request, call) -> None:
    """Run a service call that returns its success message; a refusal becomes an error message
    on the page instead of a 500."""
    try:
        message = call()
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, message)


def _state(submission: Submission, today) -> dict:
    """What a row or a page says about a submission besides its status."""
    sent = submission.is_sent
    locked = (not sent and submission.status != Status.ACCEPTED
              and services.submission_is_locked(submission, today))
    return {
        "locked": locked,
        "overdue": not sent and today > submission.period.due_on,
        "unlocked": (not sent and submission.unlocked_until is not None and today <= submission.unlocked_until),
    }


def _narrative_sections(narrative) -> list[tuple[str, str, str]]:
    sections = narrative.sections if narrative is not None else {}
    return [(key, title, sections.get(key, "")) for key, title in SECTIONS]


def _package_context(submission: Submission, narrative=None) -> dict:
    versions = list(selectors.package_versions(submission=submission))
    for v in versions:
        v.downloads = [kind for kind in downloads.PACKAGE_KINDS if isinstance((v.files or {}).get(kind), str)]
    latest = versions[0] if versions else None
    current = next((v for v in versions if v.is_current), None)
    return {
        "versions": versions, "current": current, "latest": latest,
        "compiling": latest is not None and not latest.is_finished,
        "preview": package_preview(submission=submission, version=preview_version(versions), narrative=narrative),
    }


def _districts_or_404(request):
    districts = selectors.oversight_districts(user=request.user)
    if not districts:
        raise Http404  # fail closed: a school user has no bureau pages
    wanted = request.GET.get("district")
    district = next((d for d in districts if str(d.pk) == wanted), districts[0])
    return districts, district


def _overseen_report_type(request, wanted):
    """The district (?district=) and its report type `wanted` (an id) if the user oversees it, else 404."""
    _districts, district = _districts_or_404(request)
    report_type = next((rt for rt in selectors.report_types_for(user=request.user, district=district)
                        if str(rt.pk) == wanted), None)
    if report_type is None:
        raise Http404
    return district, report_type
