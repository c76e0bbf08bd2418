"""The submissions web UI: a school's reporting calendar and submission pages, the bureau's
completeness matrix, review screen and copied-narrative flags, and the user's notifications.

Views validate, call a selector or a service, render. Access, in this order:
- a submission outside the user's scope, or of a school they cannot see, is 404 (never 403);
- a user who has no part in the school's reporting (a teacher) gets 403 on submission pages;
- anyone else may try an action; the service decides, and its refusal is shown as a message
  (so a school admin pressing "accept" learns that only the bureau accepts, and nothing changes).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tenancy.downloads import download_response
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record
from tenancy.views import school_for

from . import downloads, selectors, services
from .forms import AcceptForm, MarkReadForm, NarrativeForm, ReturnForm, UnlockForm
from .models import PackageVersion, SimilarityFlag, Status, Submission
from .narrative import SECTIONS
from .preview import package_preview, preview_version

NOTIFICATIONS_PAGE_SIZE = 50


# ---------------------------------------------------------------- helpers
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


def _error_text(exc) -> str:
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You are not allowed to do this.")
    return " ".join(exc.messages)


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


def _compile_service():
    # The compile job (another part of issue #5) provides this service; until then the page says so.
    return getattr(services, "submission_compile_request", None)


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


# ---------------------------------------------------------------- a school's calendar
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


# ---------------------------------------------------------------- a submission
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
        "can_review": selectors.may_read_reviews(user=request.user, school=submission.school),
        "editable": submission.status in services.EDITABLE,
        "compile_available": _compile_service() is not None,
        "status_url": reverse("submission_status", kwargs={"pk": submission.pk}),
        **package,
    })


@login_required
@require_POST
def submission_compile(request, pk: int):
    submission = _submission(request, pk)
    compile_request = _compile_service()
    if compile_request is None:
        messages.error(request, _("Compiling is not available yet."))
        return redirect("submission_detail", pk=submission.pk)
    try:
        compile_request(submission=submission, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Compiling the package. This page shows the progress."))
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
    """Edit the narrative paragraphs, section by section, before submitting (or after a return)."""
    submission = _submission(request, pk)
    narrative = selectors.narrative_of(submission=submission)
    current = narrative.sections if narrative is not None else {}
    can_edit = (submission.status in services.EDITABLE
                and has_school_perm(request.user, "submit_reports", submission.school))
    if request.method == "POST":
        form = NarrativeForm(request.POST, sections=current)
        if form.is_valid():
            try:
                services.narrative_update(actor=request.user, submission=submission, sections=form.sections())
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _error_text(exc))
                return redirect("submission_narrative", pk=submission.pk)
            messages.success(request, _("The narrative was saved. Compile the package again so that it uses the new text."))
            return redirect("submission_detail", pk=submission.pk)
    elif request.method == "GET":
        form = NarrativeForm(sections=current)
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(request, "submissions/narrative.html", {
        "submission": submission, "school": submission.school, "form": form, "can_edit": can_edit,
    })


@login_required
@require_POST
def submission_submit(request, pk: int):
    submission = _submission(request, pk)
    resubmit = submission.status == Status.RETURNED
    try:
        services.submission_submit(actor=request.user, submission=submission)
    except services.SubmissionLocked as exc:
        messages.error(request, _error_text(exc))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Sent to the bureau again.") if resubmit else _("Submitted to the bureau."))
    return redirect("submission_detail", pk=submission.pk)


# ---------------------------------------------------------------- review (the bureau)
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
        try:
            message = call(submission, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, message)
    if selectors.may_read_reviews(user=request.user, school=submission.school):
        return redirect("submission_review", pk=submission.pk)
    return redirect("submission_detail", pk=submission.pk)


@login_required
@require_POST
def submission_accept(request, pk: int):
    def call(submission, data):
        services.submission_accept(actor=request.user, submission=submission, comment=data["comment"])
        return _("Accepted. The submission is now locked.")
    return _review_action(request, pk, AcceptForm, call)


@login_required
@require_POST
def submission_return(request, pk: int):
    def call(submission, data):
        services.submission_return(actor=request.user, submission=submission, comment=data["comment"])
        return _("Returned to the school with your comments.")
    return _review_action(request, pk, ReturnForm, call)


@login_required
@require_POST
def submission_unlock(request, pk: int):
    def call(submission, data):
        submission = services.submission_unlock(actor=request.user, submission=submission, until=data["until"],
                                                comment=data["comment"])
        return _("Unlocked until %(date)s.") % {"date": submission.unlocked_until.isoformat()}
    return _review_action(request, pk, UnlockForm, call)


# ---------------------------------------------------------------- the bureau's overview
def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@login_required
@require_GET
def reporting_matrix(request):
    """Completeness and timeliness: schools × periods of one report type, and the rates."""
    districts, district = _districts_or_404(request)
    today = timezone.localdate()
    report_types = list(selectors.report_types_for(user=request.user, district=district))
    wanted = request.GET.get("report_type")
    selected = next((rt for rt in report_types if str(rt.pk) == wanted), report_types[0] if report_types else None)
    summaries, by_school, matrix = [], {}, None
    for rt in report_types:
        m = selectors.completeness_matrix(user=request.user, report_type=rt, today=today)
        summaries.append({"report_type": rt, "rates": m.rates, "reporting": _pct(m.rates.reporting_rate),
                          "on_time": _pct(m.rates.on_time_rate)})
        for row in m.rows:
            total = by_school.setdefault(row.school.pk, {"school": row.school, "rates": selectors.Rates()})
            total["rates"].expected += row.rates.expected
            total["rates"].submitted += row.rates.submitted
            total["rates"].on_time += row.rates.on_time
        if rt == selected:
            matrix = m
    school_rates = sorted(by_school.values(), key=lambda r: r["school"].path)
    for r in school_rates:
        r["reporting"], r["on_time"] = _pct(r["rates"].reporting_rate), _pct(r["rates"].on_time_rate)
    if matrix is not None:
        for row in matrix.rows:
            row.reporting, row.on_time = _pct(row.rates.reporting_rate), _pct(row.rates.on_time_rate)
            for cell in row.cells:
                cell.symbol, cell.label = CELL_LABELS[cell.status]
    return render(request, "submissions/matrix.html", {
        "districts": districts, "district": district, "report_types": report_types, "selected": selected,
        "matrix": matrix, "summaries": summaries, "school_rates": school_rates, "today": today,
        "legend": [(status, symbol, label) for status, (symbol, label) in CELL_LABELS.items()],
    })


CELL_LABELS = {
    selectors.Cell.ON_TIME: ("✓", gettext_lazy("On time")),
    selectors.Cell.LATE: ("!", gettext_lazy("Late")),
    selectors.Cell.MISSING: ("✗", gettext_lazy("Missing")),
    selectors.Cell.NOT_DUE: ("…", gettext_lazy("Not due")),
    selectors.Cell.NOT_EXPECTED: ("", gettext_lazy("Not expected")),
}


@login_required
@require_GET
def similarity_list(request):
    districts, district = _districts_or_404(request)
    report_types = list(selectors.report_types_for(user=request.user, district=district))
    wanted = request.GET.get("report_type")
    selected = next((rt for rt in report_types if str(rt.pk) == wanted), None)
    flags = selectors.similarity_flags(user=request.user, district=district, report_type=selected)
    page = Paginator(flags, 50).get_page(request.GET.get("page"))
    for flag in page:
        flag.percent = _pct(flag.score)
    return render(request, "submissions/similarity_list.html", {
        "districts": districts, "district": district, "report_types": report_types, "selected": selected,
        "page": page,
    })


def highlight_segments(text: str, spans) -> list[tuple[str, bool]]:
    """Split `text` into (chunk, is_shared) pieces from [start, end) spans (clamped, merged).

    The template autoescapes every chunk, so a narrative can never inject markup.
    """
    n = len(text)
    clean = sorted((s, e) for s, e in ((max(0, int(s)), min(n, int(e))) for s, e in spans) if e > s)
    out: list[tuple[str, bool]] = []
    pos = 0
    merged: list[list[int]] = []
    for start, end in clean:
        if merged and start <= merged[-1][1]:  # overlapping or touching: one highlight
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < n:
        out.append((text[pos:], False))
    return out


@login_required
@require_GET
def similarity_pair(request, pk: int):
    """Two narratives side by side, their shared passages highlighted from the stored offsets."""
    try:
        flag = selectors.similarity_flag_get(user=request.user, flag_id=pk)
    except SimilarityFlag.DoesNotExist:
        raise Http404 from None
    narrative_a = selectors.narrative_of(submission=flag.submission_a)
    narrative_b = selectors.narrative_of(submission=flag.submission_b)
    text_a = narrative_a.text if narrative_a else ""
    text_b = narrative_b.text if narrative_b else ""
    passages = flag.passages or []
    segments_a = highlight_segments(text_a, [p["a"] for p in passages if "a" in p])
    segments_b = highlight_segments(text_b, [p["b"] for p in passages if "b" in p])
    for school_id in {flag.school_id, flag.school_b_id}:
        access_log_record(user=request.user, school_id=school_id, action="view", obj=flag, request=request)
    shared_chars = sum(p.get("length", 0) for p in passages)
    return render(request, "submissions/similarity_pair.html", {
        "flag": flag, "percent": _pct(flag.score), "segments_a": segments_a, "segments_b": segments_b,
        "passage_count": len(passages), "shared_chars": shared_chars,
    })


# ---------------------------------------------------------------- notifications
@login_required
@require_GET
def notifications(request):
    qs = selectors.notifications_for(user=request.user)
    page = Paginator(qs, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    for n in page:
        # Only same-site paths become links (a stored link is data, not trusted markup).
        n.safe_link = n.link if n.link and n.link.startswith("/") and url_has_allowed_host_and_scheme(
            n.link, allowed_hosts={request.get_host()}) else ""
    return render(request, "submissions/notifications.html", {
        "page": page, "unread": selectors.notifications_unread_count(user=request.user),
    })


@login_required
@require_POST
def notifications_mark_read(request):
    own_unread = list(selectors.notifications_for(user=request.user, unread_only=True).values_list("id", flat=True))
    form = MarkReadForm(request.POST, choices=own_unread)
    if form.is_valid():
        ids = own_unread if form.cleaned_data["all"] else form.cleaned_data["ids"]
        n = services.notification_mark_read(user=request.user, notification_ids=ids)
        if n:
            messages.success(request, _("Marked as read."))
    return redirect("notifications")



# ---------------------------------------------------------------- consolidated district exports
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
