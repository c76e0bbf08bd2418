"""The school's side: its reporting calendar, a submission, compile, narrative and submit."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.downloads import download_response
from tenancy.forms import error_text as _error_text
from tenancy.selectors import has_school_perm
from tenancy.views import school_for

from .. import downloads, selectors, services
from ..approval import goes_via_centre
from ..forms import NarrativeForm, SubmitForm
from ..models import PackageVersion, Status
from ._common import _flash_outcome, _narrative_sections, _package_context, _state, _submission


@login_required
@require_GET
def school_submissions(request, pk: int):
    """The school's reporting calendar: every submission with its due date and state."""
    school = school_for(request, pk, "view_home")
    today = timezone.localdate()
    rows = list(selectors.submissions_for_school(user=request.user, school=school))
    for sub in rows:
        sub.state = _state(sub, today)
    todo = [s for s in rows if s.status in (Status.OPEN, Status.COMPILED, Status.RETURNED)]
    done = [s for s in rows if s not in todo]
    done.reverse()  # the latest sent first
    return render(request, "submissions/calendar.html", {
        "school": school, "todo": todo, "done": done, "today": today,
        "can_open": selectors.takes_part_in_reporting(user=request.user, school=school),
    })



@login_required
@require_GET
def submission_detail(request, pk: int):
    submission = _submission(request, pk)
    today = timezone.localdate()
    narrative = selectors.narrative_of(submission=submission)
    package = _package_context(submission, narrative)
    stale = (narrative is not None and package["current"] is not None
             and narrative.digest != package["current"].narrative_digest)
    can_submit = has_school_perm(request.user, "submit_reports", submission.school)
    return render(request, "submissions/detail.html", {
        "submission": submission, "school": submission.school, "state": _state(submission, today),
        "sections": _narrative_sections(narrative), "narrative": narrative, "stale": stale,
        "events": selectors.submission_events(submission=submission),
        "can_submit": can_submit,
        "can_request_unlock": services.may_request_unlock(request.user, submission),
        "pending_unlock": selectors.pending_unlock_request(submission=submission),
        "can_review": selectors.may_read_reviews(user=request.user, school=submission.school),
        "editable": services.school_may_edit(submission),
        "via_centre": goes_via_centre(submission.report_type, submission.school),
        "status_url": reverse("submission_status", kwargs={"pk": submission.pk}),
        **package,
    })


@login_required
@require_POST
def submission_compile(request, pk: int):
    submission = _submission(request, pk)

    def compile_request():
        services.submission_compile_request(submission=submission, actor=request.user)
        return _("Compiling the package. This page shows the progress.")
    _flash_outcome(request, compile_request)
    return redirect("submission_detail", pk=submission.pk)


@login_required
@require_GET
def submission_status(request, pk: int):
    """Polled by the page while a compile runs (static/submissions/progress.js)."""
    submission = _submission(request, pk)
    latest = selectors.latest_package(submission=submission)
    data = {"status": submission.status, "status_label": submission.get_status_display(), "version": None}
    if latest is not None:
        data.update({
            "version": latest.version, "state": latest.status, "state_label": latest.get_status_display(),
            "progress": latest.progress, "note": latest.note,
            "finished": latest.is_finished,
        })
    return JsonResponse(data)


@login_required
@require_GET
def package_download(request, pk: int, version: int, kind: str):
    """Stream one file of a package version from storage (submissions.downloads.package_file)."""
    submission = _submission(request, pk)
    try:
        pv = selectors.package_version_get(submission=submission, version=version)
    except PackageVersion.DoesNotExist:
        raise Http404 from None
    pv.submission = submission  # the looked-up submission, with its school, type and period
    return download_response(downloads.package_file(user=request.user, version=pv, kind=kind, request=request))


@login_required
def submission_narrative(request, pk: int):
    """Edit the narrative paragraphs, section by section, before submitting (or after a return).

    The form carries the version it was loaded at; a save after someone else's is refused and the
    page comes back with the user's own text still in the form (409), so nothing typed is lost."""
    submission = _submission(request, pk)
    narrative = selectors.narrative_of(submission=submission)
    current = narrative.sections if narrative is not None else {}
    can_edit = (services.school_may_edit(submission)
                and has_school_perm(request.user, "submit_reports", submission.school))
    status = 200
    if request.method == "POST":
        form = NarrativeForm(request.POST, sections=current)
        if form.is_valid():
            try:
                services.narrative_update(actor=request.user, submission=submission, sections=form.sections(),
                                          version=form.cleaned_data["version"])
            except services.NarrativeConflict as exc:
                form.add_error(None, _error_text(exc))
                status = 409
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _error_text(exc))
                return redirect("submission_narrative", pk=submission.pk)
            else:
                messages.success(request, _("The narrative was saved. Compile the package again so that it uses "
                                            "the new text."))
                return redirect("submission_detail", pk=submission.pk)
    elif request.method == "GET":
        form = NarrativeForm(sections=current, version=narrative.version if narrative is not None else 0)
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "submissions/narrative.html", {
        "submission": submission, "school": submission.school, "form": form, "can_edit": can_edit,
    }, status=status)


def _submit_confirm(request, submission, form, *, status: int = 200):
    """The confirm step of 报送教育局; a returned report sent back unchanged also asks why."""
    resubmit = submission.status == Status.RETURNED
    unchanged = services.resend_is_unchanged(submission)
    params = {"report": submission.report_type.name, "start": submission.period.start_on.isoformat(),
              "end": submission.period.end_on.isoformat()}
    if goes_via_centre(submission.report_type, submission.school):
        lines = [_("%(report)s, %(start)s – %(end)s, will be sent to your centre school, which reviews it before "
                   "the bureau. You cannot change it while it is reviewed.") % params]
        title = _("Send again to the centre school?") if resubmit else _("Submit to the centre school?")
    else:
        lines = [_("%(report)s, %(start)s – %(end)s, will be sent to the bureau. You cannot change it while the "
                   "bureau reviews it.") % params]
        title = _("Send again to the bureau?") if resubmit else _("Submit to the bureau?")
    if unchanged:
        lines.append(_("Nothing has changed since the bureau returned it."))
    return render(request, "submissions/confirm.html", {
        "title": title,
        "lines": lines, "action": reverse("submission_submit", kwargs={"pk": submission.pk}),
        "hidden": [], "form": form if unchanged else None,
        "confirm_label": _("Yes, send it again") if resubmit else _("Yes, submit"),
        "cancel_url": reverse("submission_detail", kwargs={"pk": submission.pk}),
    }, status=status)


@login_required
@require_POST
def submission_submit(request, pk: int):
    """POST with step=confirm shows the confirm page; its own POST sends."""
    submission = _submission(request, pk)
    resubmit = submission.status == Status.RETURNED
    form = SubmitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if request.POST.get("step") == "confirm":
        return _submit_confirm(request, submission, SubmitForm())
    try:
        services.submission_submit(actor=request.user, submission=submission, note=note)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "note" in exc.error_dict:
            form.add_error("note", exc.error_dict["note"])
            return _submit_confirm(request, submission, form, status=400)
        messages.error(request, _error_text(exc))
    except PermissionDenied as exc:
        messages.error(request, _error_text(exc))
    else:
        if goes_via_centre(submission.report_type, submission.school):
            messages.success(request, _("Sent to the centre school again.") if resubmit
                             else _("Submitted to the centre school."))
        else:
            messages.success(request, _("Sent to the bureau again.") if resubmit else _("Submitted to the bureau."))
    return redirect("submission_detail", pk=submission.pk)
