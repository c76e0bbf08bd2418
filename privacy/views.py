"""Pages of the minors'-data paperwork, for the school admin (manage_children): the consent
register, guardian requests with the printable copy and the deletion, and the data officer.
Everyone else gets 403 (a school they see) or 404 (a school they do not)."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from schools.models import Child
from tenancy import idempotency
from tenancy.forms import add_service_errors, error_text
from tenancy.views import school_page

from . import selectors, services
from .forms import METHODS, CloseForm, ConsentRecordForm, DataOfficerForm, DeleteConfirmForm, GuardianRequestForm
from .models import ConsentRecord, GuardianRequest

PERM = services.PERMISSION


def _annotate(requests, today):
    for r in requests:
        r.overdue = selectors.is_overdue(r, today)
        r.days_left = selectors.days_left(r, today)
    return requests


# ---------------------------------------------------------------- overview and consent register
@school_page(PERM)
def privacy_overview(request, school):
    today = selectors.today()
    overview = selectors.consent_overview(school, today)
    total = overview.total or 1
    bars = [(label, n, round(100 * n / total), css) for label, n, css in (
        (_("given"), overview.given, "ok"), (_("refused"), overview.refused, "bad"),
        (_("not yet recorded"), overview.pending, "warn"))]
    return render(request, "privacy/overview.html", {
        "school": school, "overview": overview, "bars": bars,
        "open_requests": _annotate(selectors.requests_for_school(school, open_only=True), today),
        "officer": selectors.data_officer(school),
    })


@school_page(PERM, model=Child)
def child_consent(request, school, child):
    form = ConsentRecordForm(request.POST or None, initial={
        "guardian_name": child.guardian_name, "guardian_relation": child.guardian_relation})
    if request.method == "POST" and form.is_valid():
        try:
            outcome = idempotency.form_create_once(request, form, target=school, model=ConsentRecord, create=lambda: (
                services.consent_record(actor=request.user, child=child, request=request, **form.service_fields())))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not outcome.replayed:
                messages.success(request, _("The guardian's decision was recorded."))
            return redirect("privacy_child_consent", school_pk=school.pk, pk=child.pk)
    elif request.method != "POST":
        services.child_consent_read_log(user=request.user, child=child, request=request)
    return render(request, "privacy/child_consent.html", {
        "school": school, "child": child, "form": form, "methods": METHODS,
        "history": selectors.consent_history(child),
        "under_age": selectors.is_under_consent_age(child),
        "needs_consent": selectors.needs_guardian_consent(child),
    })


# ---------------------------------------------------------------- guardian requests
@school_page(PERM)
def guardian_requests(request, school):
    today = selectors.today()
    return render(request, "privacy/requests.html", {
        "school": school, "requests": _annotate(selectors.requests_for_school(school), today),
    })


@school_page(PERM)
def guardian_request_create(request, school):
    children = Child.objects.filter(school=school, purged_at__isnull=True).order_by("grade", "class_name", "name")
    form = GuardianRequestForm(request.POST or None, children=children)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        child = Child.objects.filter(school=school, pk=data.pop("child")).first()
        try:
            outcome = idempotency.form_create_once(request, form, target=school, model=GuardianRequest, create=lambda: (
                services.guardian_request_create(actor=request.user, school=school, child=child, request=request,
                                                 **data)))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if outcome.obj is None:
                return redirect("guardian_requests", school_pk=school.pk)
            if not outcome.replayed:
                messages.success(request, _("The request was recorded."))
            return redirect("guardian_request_detail", school_pk=school.pk, pk=outcome.obj.pk)
    return render(request, "privacy/request_form.html", {"school": school, "form": form})


def _request(school, pk) -> GuardianRequest:
    return get_object_or_404(GuardianRequest.objects.select_related("child", "handled_by"), pk=pk, school=school)


@school_page(PERM)
def guardian_request_detail(request, school, pk: int):
    req = _request(school, pk)
    services.guardian_request_read_log(user=request.user, req=req, request=request)
    today = selectors.today()
    _annotate([req], today)
    return render(request, "privacy/request_detail.html", {
        "school": school, "req": req, "close_form": CloseForm() if req.status == GuardianRequest.Status.OPEN else None,
        "Kind": GuardianRequest.Kind,
    })


@require_POST
@school_page(PERM)
def guardian_request_close(request, school, pk: int):
    req = _request(school, pk)
    form = CloseForm(request.POST)
    if req.kind == GuardianRequest.Kind.DELETE and request.POST.get("status") == GuardianRequest.Status.DONE:
        # Deleting goes through its own confirmation page.
        return redirect("guardian_request_delete", school_pk=school.pk, pk=pk)
    if form.is_valid():
        try:
            services.guardian_request_close(actor=request.user, req=req, request=request, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The request was closed."))
    else:
        messages.error(request, _("Choose the result and write the outcome."))
    return redirect("guardian_request_detail", school_pk=school.pk, pk=pk)


@school_page(PERM)
def guardian_request_delete(request, school, pk: int):
    """The confirmation page of a deletion: what will be cleared, then the deletion itself."""
    req = _request(school, pk)
    if req.kind != GuardianRequest.Kind.DELETE or req.status != GuardianRequest.Status.OPEN:
        messages.error(request, _("Only an open deletion request deletes a child's data."))
        return redirect("guardian_request_detail", school_pk=school.pk, pk=pk)
    form = DeleteConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.guardian_request_close(actor=request.user, req=req, status=GuardianRequest.Status.DONE,
                                            outcome=form.cleaned_data["outcome"], request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The child's personal data was deleted and the request closed."))
            return redirect("guardian_request_detail", school_pk=school.pk, pk=pk)
    fields = [str(Child._meta.get_field(n).verbose_name) for n in ("name", *Child.SENSITIVE_FIELDS)
              if n not in ("id_number_ciphertext", "id_number_hash")]
    return render(request, "privacy/request_delete.html", {
        "school": school, "req": req, "form": form, "fields": fields})


@school_page(PERM)
def guardian_request_copy(request, school, pk: int):
    """The printable copy of what the school holds about the child (a guardian's request to see)."""
    req = _request(school, pk)
    held = selectors.held_about_child(req.child) if req.child is not None else None
    services.child_copy_read_log(user=request.user, req=req, request=request)
    return render(request, "privacy/request_copy.html", {
        "school": school, "req": req, "held": held, "officer": selectors.data_officer(school),
        "printed_at": timezone.localtime(),
    })


# ---------------------------------------------------------------- the data officer
@school_page(PERM)
def data_officer(request, school):
    officer = selectors.data_officer(school)
    initial = {"user": officer.user_id, "name": officer.name, "phone": officer.phone,
               "appointed_on": officer.appointed_on} if officer else {}
    form = DataOfficerForm(request.POST or None, initial=initial, staff=selectors.staff_of_school(school))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        user = selectors.staff_of_school(school).filter(pk=data.pop("user")).first() if data.get("user") else None
        data.pop("user", None)
        try:
            services.data_officer_set(actor=request.user, school=school, user=user, request=request, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The person responsible for children's data was saved."))
            return redirect("privacy_overview", school_pk=school.pk)
    return render(request, "privacy/data_officer.html", {"school": school, "form": form, "officer": officer})
