"""The school dashboard, the four-contact tracker and the contact records."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from tenancy import idempotency
from tenancy.forms import add_service_errors, error_text, new_client_id
from tenancy.selectors import has_school_perm, permissions_on_school
from tenancy.views import school_page

from .. import selectors, services
from ..forms_archive import ContactFilterForm, ContactForm, ContactRecordForm, TrackerFilterForm
from ..models import CareContact, Child, Evidence, StaffProfile
from ._common import _accepts_json, _chosen_semester, _semesters, _upload_files, _upload_response


# ---------------------------------------------------------------- dashboard
@school_page("view_home")
def school_dashboard(request, school):
    semesters = _semesters(school)
    semester = _chosen_semester(request, school, semesters)
    data = selectors.school_dashboard(school, semester, user=request.user) if semester else None
    if data:
        labels = dict(CareContact.Kind.choices)
        for row in data["overdue"]:
            row["missing_labels"] = [labels[k] for k in row["missing"]]
    perms = permissions_on_school(request.user, school)
    # The overdue list holds only the children the user may see: the whole school, or a proxy
    # parent's own children. Say which, next to the school-wide figures.
    overdue_scope = _("This school") if selectors.school_child_level(request.user, school) else _("My children")
    return render(request, "schools/archive/dashboard.html", {
        "school": school, "semester": semester, "semesters": semesters, "data": data, "perms": perms,
        "overdue_scope": overdue_scope,
    })


# ---------------------------------------------------------------- four-contact tracker
def _tracker_context(request, school):
    semesters = _semesters(school)
    semester = _chosen_semester(request, school, semesters)
    class_name = (request.GET.get("class_name") or "").strip() or None
    proxy_id = request.GET.get("proxy") or ""
    proxy_user = _proxy_user(school, int(proxy_id)) if proxy_id.isdigit() else None
    grid = None
    if semester is not None:
        grid = selectors.contact_tracker_grid(request.user, school, semester, class_name=class_name,
                                              proxy_parent=proxy_user)
        if proxy_id and proxy_user is None:
            grid.rows = []  # an unknown proxy parent filters everything out rather than nothing
    form = TrackerFilterForm(
        initial={"semester": semester.pk if semester else None, "class_name": class_name or "",
                 "proxy": proxy_user.pk if proxy_user else ""},
        semesters=semesters, classes=grid.classes if grid else (), proxies=grid.proxy_parents if grid else ())
    return {"school": school, "semester": semester, "grid": grid, "form": form,
            "today": timezone.localdate(), "next": request.get_full_path(), "client_id": new_client_id()}


def _proxy_user(school, user_id):
    profile = (StaffProfile.objects.filter(school=school, is_proxy_parent=True, user_id=user_id)
               .select_related("user").first())
    return profile.user if profile else None


@school_page("view_home")
def contact_tracker(request, school):
    return render(request, "schools/archive/tracker.html", _tracker_context(request, school))


@school_page("view_home")
def contact_record(request, school):
    """One tap on a tracker cell. JSON for tracker.js (Accept: application/json); without JS a plain
    form POST that redirects back to the tracker with a message."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    json = _accepts_json(request)
    if not has_school_perm(request.user, "record_contacts", school):
        if json:
            return JsonResponse({"ok": False, "error": _("You may not record contacts.")}, status=403)
        raise PermissionDenied
    form = ContactRecordForm(request.POST)
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = ""
    back = back or reverse("contact_tracker", kwargs={"school_pk": school.pk})
    if not form.is_valid():
        text = " ".join(e for errors in form.errors.values() for e in errors)
        if json:
            return JsonResponse({"ok": False, "error": text}, status=400)
        messages.error(request, text)
        return redirect(back)
    child_id, kind = form.cleaned_data["cell"]
    try:
        # The service decides who may record for which child (admin, or the current proxy parent).
        child = selectors.child_for_contact(request.user, child_id)
        if child.school_id != school.pk:
            raise Child.DoesNotExist
        # A tap sent twice (a double tap, a retry) carries the same client_id: one contact.
        contact = idempotency.form_create_once(request, form, target=school, model=CareContact, create=lambda: (
            services.care_contact_record(
                actor=request.user, child_id=child.pk, kind=kind, happened_on=form.cleaned_data["happened_on"],
                notes=form.cleaned_data["notes"], request=request))).obj
        if contact is None:  # the first tap's contact was deleted since: nothing to show
            raise Child.DoesNotExist
    except Child.DoesNotExist:
        if json:
            return JsonResponse({"ok": False, "error": _("Not found.")}, status=404)
        raise Http404 from None
    except (ValidationError, PermissionDenied) as exc:
        if json:
            return JsonResponse({"ok": False, "error": error_text(exc), "client_id": new_client_id()}, status=400)
        messages.error(request, error_text(exc))
        return redirect(back)
    label = CareContact.Kind(kind).label
    text = _("%(kind)s recorded for %(name)s on %(day)s.") % {
        "kind": label, "name": child.name, "day": contact.happened_on.isoformat()}
    if json:
        # The cell as shown for the semester on the page (the contact may fall in another one).
        semester_id = request.POST.get("semester")
        semester_id = int(semester_id) if semester_id and semester_id.isdigit() else contact.semester_id
        cell = selectors.contact_cell(child.pk, kind, semester_id)
        return JsonResponse({"ok": True, "message": text, "contact": contact.pk, "client_id": new_client_id(),
                             "detail_url": reverse("contact_detail", kwargs={"school_pk": school.pk,
                                                                             "pk": contact.pk}),
                             "count": cell["count"], "last": cell["last"].isoformat() if cell["last"] else ""})
    messages.success(request, text)
    return redirect(back)


# ---------------------------------------------------------------- contact records (list, detail, edit)
CONTACTS_PAGE_SIZE = 30


@school_page("view_home")
def contacts_list(request, school):
    """Contacts of the children whose records the user may read (a teacher: their assigned
    children), filtered and paginated. Default: the current semester."""
    semesters = _semesters(school)
    choices = selectors.contact_filter_choices(request.user, school)
    form = ContactFilterForm(request.GET or None, semesters=semesters, **choices)
    current = selectors.semester_current(school.district_id)
    filters = {"semester": current}
    if form.is_bound:
        if form.is_valid():
            f = form.cleaned_data
            filters = {"semester": next((x for x in semesters if x.pk == f["semester"]), None)
                       if "semester" in request.GET else current,
                       "kind": f["kind"] or None, "class_name": f["class_name"] or None,
                       "child_id": f["child"], "made_by_id": f["made_by"]}
        else:
            filters = None  # a value outside the user's choices shows nothing rather than everything
    else:
        form = ContactFilterForm(initial={"semester": current.pk if current else ""}, semesters=semesters, **choices)
    rows = selectors.contacts_list(request.user, school, **filters) if filters is not None \
        else CareContact.objects.none()
    page = Paginator(rows, CONTACTS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "schools/archive/contacts_list.html", {
        "school": school, "form": form, "page": page, "query": query.urlencode(),
        "semester": filters.get("semester") if filters else None,
        "can_record": has_school_perm(request.user, "record_contacts", school),
    })


def _contact_or_404(request, school, pk, *, log: bool):
    try:
        view = selectors.contact_get_for_view(request.user, school, pk)
    except CareContact.DoesNotExist:
        raise Http404 from None
    if log:
        services.contact_read_log(user=request.user, contact=view.contact, request=request)
    return view


def _contact_evidence_delete(request, school, view) -> None:
    evidence = Evidence.objects.filter(pk=request.POST.get("evidence") or 0, school=school,
                                       care_contact=view.contact).first()
    if evidence is None:
        raise Http404
    try:
        services.evidence_delete(actor=request.user, evidence=evidence, request=request)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    except Child.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, _("The file was removed."))


@school_page("view_home")
def contact_detail(request, school, pk: int):
    """One contact: its facts and notes, and its photos (gallery + multi-photo upload, the same
    partials and upload service as an activity)."""

    view = _contact_or_404(request, school, pk, log=request.method != "POST")
    contact = view.contact
    back = reverse("contact_detail", kwargs={"school_pk": school.pk, "pk": contact.pk})
    if request.method == "POST":
        if request.POST.get("action") == "delete_evidence":
            if not view.can_edit:
                raise PermissionDenied
            _contact_evidence_delete(request, school, view)
            return redirect(back)
        if not view.can_add_evidence:
            raise PermissionDenied
        return _upload_response(request, _upload_files(request, school, contact, "photos"), back)
    items = list(contact.evidence.order_by("created_at", "id"))
    return render(request, "schools/archive/contact_detail.html", {
        "school": school, "view": view, "contact": contact, "can_manage": view.can_edit,
        "photos": [e for e in items if e.kind == Evidence.Kind.PHOTO],
        "documents": [e for e in items if e.kind == Evidence.Kind.DOCUMENT],
    })


@school_page("view_home")
def contact_edit(request, school, pk: int):
    """Correct the kind, date or notes (services.care_contact_update), or delete the contact
    (action=delete, services.care_contact_delete): its author or the school admin."""
    view = _contact_or_404(request, school, pk, log=request.method != "POST")
    if not view.can_edit:
        raise PermissionDenied
    contact = view.contact
    if request.method == "POST" and request.POST.get("action") == "delete":
        child_id = contact.child_id
        try:
            services.care_contact_delete(actor=request.user, contact=contact, request=request)
        except PermissionDenied as exc:
            messages.error(request, error_text(exc))
            return redirect("contact_edit", school_pk=school.pk, pk=pk)
        except Child.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("The contact was deleted."))
        return redirect(reverse("contacts_list", kwargs={"school_pk": school.pk}) + f"?child={child_id}&semester=")
    initial = {"kind": contact.kind, "happened_on": contact.happened_on, "notes": contact.notes,
               "concern": contact.concern, "concern_reason": contact.concern_reason}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_contact_update(actor=request.user, contact=contact, request=request, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, error_text(exc))
            else:
                add_service_errors(form, exc)
        except Child.DoesNotExist:
            raise Http404 from None
        else:
            messages.success(request, _("The contact was saved."))
            return redirect("contact_detail", school_pk=school.pk, pk=contact.pk)
    return render(request, "schools/archive/contact_form.html", {
        "school": school, "view": view, "contact": contact, "form": form})
