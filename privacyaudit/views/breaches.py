"""Recorded data breaches: the bureau's pages for its district (every breach of the district; it
records district-wide ones) and a school admin's pages for the school's own."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tenancy import idempotency
from tenancy.forms import add_service_errors, error_text
from tenancy.models import School
from tenancy.views import school_page

from .. import downloads, selectors, services
from ..forms import BreachForm, NoticeForm
from ..models import Breach
from ._common import reader_district


def _create(request, form, target, model, create, on_success) -> bool:
    """Run a create once (one tap, one record); errors go back into the form."""
    try:
        outcome = idempotency.form_create_once(request, form, target=target, model=model, create=create)
    except PermissionDenied as exc:
        form.add_error(None, error_text(exc))
        return False
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    if not outcome.replayed:
        messages.success(request, on_success)
    return True


@login_required
def district_breaches(request, pk: int):
    district = reader_district(request, pk)
    can_record = selectors.can_record_district_breach(request.user, district)
    schools = list(School.objects.filter(district=district).order_by("path"))
    form = BreachForm(request.POST if request.method == "POST" else None, schools=schools)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            ok = _create(request, form, district, Breach, lambda: services.breach_record(
                actor=request.user, district=district, request=request, **data), _("The breach was recorded."))
            if ok:
                return redirect("district_breaches", pk=district.pk)
    breaches = selectors.breaches_visible_to(request.user).filter(district=district)
    return render(request, "privacyaudit/breaches.html", {
        "district": district, "school": None, "breaches": breaches, "form": form if can_record else None,
    }, status=400 if request.method == "POST" else 200)


def _notice_page(request, breach: Breach, can_record: bool, target, back: str, template_context: dict):
    form = NoticeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            if _create(request, form, target, None, lambda: services.breach_notice_record(
                    actor=request.user, breach=breach, request=request, **data),
                    _("The notice to guardians was recorded.")):
                return redirect(back)
    if request.method != "POST":
        downloads.breach_read(user=request.user, breach=breach, request=request)
    return render(request, "privacyaudit/breach.html", {
        **template_context, "breach": breach, "notices": list(breach.notices.all()),
        "form": form if can_record else None,
    }, status=400 if request.method == "POST" else 200)


@login_required
def district_breach(request, pk: int, breach_pk: int):
    district = reader_district(request, pk)
    breach = get_object_or_404(selectors.breaches_visible_to(request.user), pk=breach_pk, district=district)
    # The bureau records notices of its own breaches; a school's notices are the school's.
    can_record = breach.school_id is None and selectors.can_record_district_breach(request.user, district)
    return _notice_page(request, breach, can_record, district, request.path, {"district": district, "school": None})


@school_page("manage_children")
def school_breaches(request, school):
    form = BreachForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if _create(request, form, school, Breach, lambda: services.breach_record(
                actor=request.user, district=school.district, school=school, request=request, **data),
                _("The breach was recorded.")):
            return redirect("school_breaches", school_pk=school.pk)
    breaches = selectors.breaches_visible_to(request.user).filter(school=school)
    return render(request, "privacyaudit/breaches.html", {
        "district": None, "school": school, "breaches": breaches, "form": form,
    }, status=400 if request.method == "POST" else 200)


@school_page("manage_children")
def school_breach(request, school, breach_pk: int):
    breach = get_object_or_404(selectors.breaches_visible_to(request.user), pk=breach_pk, school=school)
    return _notice_page(request, breach, True, school, request.path, {"district": None, "school": school})
