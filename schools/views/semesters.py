"""The district's academic calendar: the bureau's semester list, create, edit, delete.

Anyone with a role in the district reads the list (school staff need the calendar too); only the
district's bureau admin writes (the services check it again). Another district's calendar is 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import selectors as tenancy_selectors

from .. import selectors, services
from ..forms_calendar import SemesterForm
from ..models import Semester
from ._common import _submit


def _district(request, pk: int):
    district = tenancy_selectors.districts_visible_to(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404
    return district


def _list_url(district) -> str:
    return reverse("district_semesters", kwargs={"pk": district.pk})


@login_required
def district_semesters(request, pk: int):
    district = _district(request, pk)
    can_edit = selectors.may_set_calendar(request.user, district)
    form = SemesterForm(request.POST if request.method == "POST" else None)
    semester = _submit(request, form, can_edit, lambda: services.semester_create(
        actor=request.user, district=district, **form.cleaned_data))
    if semester is not None:
        messages.success(request, _("Semester “%(name)s” added.") % {"name": semester.name})
        return redirect(_list_url(district))
    return render(request, "schools/calendar/semesters.html", {
        "district": district, "semesters": list(selectors.semesters_of(district.id)),
        "current": selectors.semester_current(district.id), "form": form, "can_edit": can_edit,
    }, status=400 if request.method == "POST" else 200)


def _semester(request, pk: int, semester_pk: int):
    district = _district(request, pk)
    return district, get_object_or_404(Semester, pk=semester_pk, district=district)


@login_required
def district_semester_edit(request, pk: int, semester_pk: int):
    district, semester = _semester(request, pk, semester_pk)
    can_edit = selectors.may_set_calendar(request.user, district)
    initial = {f: getattr(semester, f) for f in services.SEMESTER_FIELDS}
    form = SemesterForm(request.POST if request.method == "POST" else None, initial=initial)
    if _submit(request, form, can_edit, lambda: services.semester_update(
            actor=request.user, semester=semester, **form.cleaned_data)) is not None:
        messages.success(request, _("Saved."))
        return redirect(_list_url(district))
    return render(request, "schools/calendar/semester_edit.html", {
        "district": district, "semester": semester, "form": form, "can_edit": can_edit,
        "references": services.semester_references(semester) if can_edit else {},
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def district_semester_delete(request, pk: int, semester_pk: int):
    district, semester = _semester(request, pk, semester_pk)
    if not selectors.may_set_calendar(request.user, district):
        raise PermissionDenied
    name = semester.name
    try:
        services.semester_delete(actor=request.user, semester=semester)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("district_semester_edit", kwargs={"pk": district.pk, "semester_pk": semester.pk}))
    messages.success(request, _("Semester “%(name)s” deleted.") % {"name": name})
    return redirect(_list_url(district))
