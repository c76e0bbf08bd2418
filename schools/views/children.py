"""The children's archive: list, detail, create, edit, status and consent refusal."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import idempotency
from tenancy.forms import add_service_errors, error_text
from tenancy.selectors import permissions_on_school
from tenancy.views import school_page

from .. import selectors, services
from ..forms_archive import ChildFilterForm, ChildForm, ChildStatusForm, ConsentRefusalForm
from ..models import Child
from ..phones import PHONE_FIELDS, tel_href
from ..register import REGISTER_FIELDS, register_warnings
from ._common import _chosen_semester, _semesters


def _child_or_404(request, school, pk, *, log: bool):
    try:
        view = selectors.child_get_for_view(request.user, pk)
    except Child.DoesNotExist:
        raise Http404 from None
    if view.child.school_id != school.pk:
        # The child exists for this user but under another school's URL: same answer as unknown.
        raise Http404
    if log:  # logged only once the page is really shown
        services.child_read_log(user=request.user, child=view.child, request=request, level=view.level)
    return view


# ---------------------------------------------------------------- children
def _child_classes(rows):
    seen = []
    for r in sorted(rows, key=lambda r: (r["grade"], r["class_name"])):
        if r["class_name"] not in seen:
            seen.append(r["class_name"])
    return seen


@school_page("view_home")
def children_list(request, school):
    all_rows = selectors.children_list(request.user, school, status=None)
    form = ChildFilterForm(request.GET or None, classes=_child_classes(all_rows))
    rows = [r for r in all_rows if r["status"] == Child.Status.ACTIVE]
    if form.is_bound and form.is_valid():
        f = form.cleaned_data
        rows = [r for r in all_rows if (not f["status"] or r["status"] == f["status"])
                and (f["status"] or r["status"] == Child.Status.ACTIVE)
                and (not f["class_name"] or r["class_name"] == f["class_name"])
                and (f["grade"] in ("", None) or r["grade"] == f["grade"])
                and (not f["q"] or f["q"].strip() in r["name"])]
    perms = permissions_on_school(request.user, school)
    statuses = dict(Child.Status.choices)
    for r in rows:
        r["status_label"] = statuses.get(r["status"], r["status"])
    return render(request, "schools/archive/children_list.html", {
        "school": school, "rows": rows, "form": form, "total": len(all_rows),
        "can_manage": "manage_children" in perms,
    })


_DETAIL_ORDER = (
    "name", "gender", "birth_date", "id_number", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "home_village", "health_notes", "wellbeing_notes", "consent", "consent_date", "consent_method", "status",
    "status_since",
)


def _labelled(data: dict, order=_DETAIL_ORDER) -> list[tuple[str, object, str]]:
    """(label, value, link): a full phone number is a tel: link; a masked one (139****5678) is not."""
    out = []
    for name in order:
        if name not in data:
            continue
        value = data[name]
        field = Child._meta.get_field("id_number_masked" if name == "id_number" else name)
        if name == "assistance":
            labels = dict(Child.Assistance.choices)
            value = "、".join(str(labels.get(v, v)) for v in value or ())
        elif field.choices and value:
            value = dict(field.choices).get(value, value)
        link = tel_href(value) if name in PHONE_FIELDS and isinstance(value, str) else ""
        out.append((field.verbose_name, value, link))
    return out


@school_page("view_home")
def child_detail(request, school, pk: int):
    view = _child_or_404(request, school, pk, log=True)  # every view is in the access log
    semesters = _semesters(school)
    semester = _chosen_semester(request, school, semesters)
    contacts = list(selectors.contacts_for_child(request.user, pk, semester)) if view.level != "basic" else []
    return render(request, "schools/archive/child_detail.html", {
        "school": school, "view": view, "child": view.child, "facts": _labelled(view.data),
        "register_facts": _labelled(view.data, REGISTER_FIELDS),
        "register_warnings": view.data.get("register_warnings", []),
        "contacts": contacts, "semester": semester,
        "status_form": ChildStatusForm() if view.can_edit else None,
        "refusal_form": ConsentRefusalForm() if view.can_edit and view.child.consent != Child.Consent.REFUSED
        else None,
    })


def _warn(request, child: Child) -> None:
    """The register's warnings on what was just saved (accepted, but worth a second look)."""
    for text in register_warnings(child):
        messages.warning(request, text)


@school_page("manage_children")
def child_create(request, school):
    form = ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = idempotency.form_create_once(request, form, target=school, model=Child, create=lambda: (
                services.child_create(actor=request.user, school=school, request=request,
                                      **form.service_fields(editing=False))))
        except services.PossibleDuplicate as exc:
            form.offer_duplicate_confirmation()
            form.add_error(None, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if outcome.obj is None:  # sent again after the first child was removed
                return redirect("children_list", school_pk=school.pk)
            if not outcome.replayed:
                messages.success(request, _("%(name)s was added to the archive.") % {"name": outcome.obj.name})
                _warn(request, outcome.obj)
            return redirect("child_detail", school_pk=school.pk, pk=outcome.obj.pk)
    return render(request, "schools/archive/child_form.html", {"school": school, "form": form, "child": None})


@school_page("view_home")
def child_edit(request, school, pk: int):
    view = _child_or_404(request, school, pk, log=request.method != "POST")
    if not view.can_edit:
        raise PermissionDenied
    child = view.child
    refused = child.consent == Child.Consent.REFUSED
    initial = {name: getattr(child, name) for name in ChildForm.base_fields if name != "id_number"}
    form = ChildForm(request.POST or None, initial=initial, editing=True, refused=refused)
    if request.method == "POST" and form.is_valid():
        try:
            services.child_update(actor=request.user, child=child, request=request,
                                  **form.service_fields(editing=True))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The record was saved."))
            _warn(request, child)
            return redirect("child_detail", school_pk=school.pk, pk=child.pk)
    return render(request, "schools/archive/child_form.html", {
        "school": school, "form": form, "child": child, "masked_id": child.id_number_masked})


def _child_action(request, school, pk: int, form_class, write, *, done, invalid):
    """A POST on a child's record by whoever may edit it: the form, the service `write(child, data)`,
    one message (`done`, or `invalid(form)`), back to the child's page."""
    view = _child_or_404(request, school, pk, log=False)
    if not view.can_edit:
        raise PermissionDenied
    form = form_class(request.POST)
    if form.is_valid():
        try:
            write(view.child, form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, done)
    else:
        messages.error(request, invalid(form))
    return redirect("child_detail", school_pk=school.pk, pk=pk)


@login_required
@require_POST
@school_page("view_home")
def child_status(request, school, pk: int):
    return _child_action(
        request, school, pk, ChildStatusForm, done=_("The status was changed."),
        write=lambda child, data: services.child_status_set(actor=request.user, child=child, request=request, **data),
        invalid=lambda form: " ".join(e for errs in form.errors.values() for e in errs))


@login_required
@require_POST
@school_page("view_home")
def child_consent_refuse(request, school, pk: int):
    return _child_action(
        request, school, pk, ConsentRefusalForm,
        done=_("The refusal was recorded; the sensitive fields were deleted."),
        write=lambda child, data: services.child_consent_refuse(actor=request.user, child=child, on=data["on"],
                                                                method=data["method"], request=request),
        invalid=lambda form: _("Tick the confirmation to record a refusal."))
