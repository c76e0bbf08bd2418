"""Pages of the children's archive: school dashboard, four-contact tracker, contact records, children, import/export.

Views validate, call a selector or a service, render. Every page looks the school up among the
schools the user can see (else 404), and a child among the children the user may see (else 404,
whoever asks: another school's child and a teacher's unassigned child look the same).
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.downloads import download_response
from tenancy.selectors import has_school_perm, permissions_on_school
from tenancy.views import school_for
from tenancy.forms import add_service_errors

from . import downloads, importing, selectors, services
from .evidence import EvidenceStorageError
from .forms_archive import (
    ChildFilterForm, ChildForm, ChildStatusForm, ConsentRefusalForm, ContactFilterForm, ContactForm,
    ContactRecordForm, ImportUploadForm, TrackerFilterForm,
)
from .models import CareContact, Child, Evidence


# ---------------------------------------------------------------- helpers
def _semesters(school):
    return list(selectors.semesters_of(school.district_id))


def _chosen_semester(request, school, semesters):
    """The semester named by ?semester= (one of the district's), else the current one."""
    wanted = request.GET.get("semester") or request.POST.get("semester")
    if wanted and str(wanted).isdigit():
        for s in semesters:
            if s.pk == int(wanted):
                return s
    current = selectors.semester_current(school.district_id)
    return current or (semesters[0] if semesters else None)


def _error_text(exc) -> str:
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You are not allowed to do this.")
    return " ".join(exc.messages)


def _child_or_404(request, school, pk, *, log: bool):
    try:
        view = selectors.child_get_for_view(request.user, pk)
    except Child.DoesNotExist:
        raise Http404
    if view.child.school_id != school.pk:
        # The child exists for this user but under another school's URL: same answer as unknown.
        raise Http404
    if log:  # logged only once the page is really shown
        services.child_read_log(user=request.user, child=view.child, level=view.level, request=request)
    return view


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# ---------------------------------------------------------------- dashboard
@login_required
def school_dashboard(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    semesters = _semesters(school)
    semester = _chosen_semester(request, school, semesters)
    data = selectors.school_dashboard(school, semester, user=request.user) if semester else None
    if data:
        labels = dict(CareContact.Kind.choices)
        for row in data["overdue"]:
            row["missing_labels"] = [labels[k] for k in row["missing"]]
    perms = permissions_on_school(request.user, school)
    return render(request, "schools/archive/dashboard.html", {
        "school": school, "semester": semester, "semesters": semesters, "data": data, "perms": perms,
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
            "today": timezone.localdate(), "next": request.get_full_path()}


def _proxy_user(school, user_id):
    from .models import StaffProfile

    profile = (StaffProfile.objects.filter(school=school, is_proxy_parent=True, user_id=user_id)
               .select_related("user").first())
    return profile.user if profile else None


@login_required
def contact_tracker(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    return render(request, "schools/archive/tracker.html", _tracker_context(request, school))


@login_required
def contact_record(request, school_pk: int):
    """One tap on a tracker cell. JSON for tracker.js (Accept: application/json); without JS a plain
    form POST that redirects back to the tracker with a message."""
    school = school_for(request, school_pk, "view_home")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    json = _wants_json(request)
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
        contact = services.care_contact_record(
            actor=request.user, child_id=child.pk, kind=kind, happened_on=form.cleaned_data["happened_on"],
            notes=form.cleaned_data["notes"], request=request)
    except Child.DoesNotExist:
        if json:
            return JsonResponse({"ok": False, "error": _("Not found.")}, status=404)
        raise Http404
    except (ValidationError, PermissionDenied) as exc:
        if json:
            return JsonResponse({"ok": False, "error": _error_text(exc)}, status=400)
        messages.error(request, _error_text(exc))
        return redirect(back)
    label = CareContact.Kind(kind).label
    text = _("%(kind)s recorded for %(name)s on %(day)s.") % {
        "kind": label, "name": child.name, "day": contact.happened_on.isoformat()}
    if json:
        # The cell as shown for the semester on the page (the contact may fall in another one).
        semester_id = request.POST.get("semester")
        semester_id = int(semester_id) if semester_id and semester_id.isdigit() else contact.semester_id
        cell = selectors.contact_cell(child.pk, kind, semester_id)
        return JsonResponse({"ok": True, "message": text, "contact": contact.pk,
                             "detail_url": reverse("contact_detail", kwargs={"school_pk": school.pk,
                                                                             "pk": contact.pk}),
                             "count": cell["count"], "last": cell["last"].isoformat() if cell["last"] else ""})
    messages.success(request, text)
    return redirect(back)


# ---------------------------------------------------------------- contact records (list, detail, edit)
CONTACTS_PAGE_SIZE = 30


@login_required
def contacts_list(request, school_pk: int):
    """Contacts of the children whose records the user may read (a teacher: their assigned
    children), filtered and paginated. Default: the current semester."""
    school = school_for(request, school_pk, "view_home")
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
        messages.error(request, _error_text(exc))
    except Child.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, _("The file was removed."))


@login_required
def contact_detail(request, school_pk: int, pk: int):
    """One contact: its facts and notes, and its photos (gallery + multi-photo upload, the same
    partials and upload service as an activity)."""
    from .views_home import _upload_files, _upload_response

    school = school_for(request, school_pk, "view_home")
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


@login_required
def contact_edit(request, school_pk: int, pk: int):
    """Correct the kind, date or notes (services.care_contact_update), or delete the contact
    (action=delete, services.care_contact_delete): its author or the school admin."""
    school = school_for(request, school_pk, "view_home")
    view = _contact_or_404(request, school, pk, log=request.method != "POST")
    if not view.can_edit:
        raise PermissionDenied
    contact = view.contact
    if request.method == "POST" and request.POST.get("action") == "delete":
        child_id = contact.child_id
        try:
            services.care_contact_delete(actor=request.user, contact=contact, request=request)
        except PermissionDenied as exc:
            messages.error(request, _error_text(exc))
            return redirect("contact_edit", school_pk=school.pk, pk=pk)
        except Child.DoesNotExist:
            raise Http404 from None
        messages.success(request, _("The contact was deleted."))
        return redirect(reverse("contacts_list", kwargs={"school_pk": school.pk}) + f"?child={child_id}&semester=")
    initial = {"kind": contact.kind, "happened_on": contact.happened_on, "notes": contact.notes}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_contact_update(actor=request.user, contact=contact, request=request, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                form.add_error(None, _error_text(exc))
            else:
                add_service_errors(form, exc)
        except Child.DoesNotExist:
            raise Http404 from None
        else:
            messages.success(request, _("The contact was saved."))
            return redirect("contact_detail", school_pk=school.pk, pk=contact.pk)
    return render(request, "schools/archive/contact_form.html", {
        "school": school, "view": view, "contact": contact, "form": form})


# ---------------------------------------------------------------- children
def _child_classes(rows):
    seen = []
    for r in sorted(rows, key=lambda r: (r["grade"], r["class_name"])):
        if r["class_name"] not in seen:
            seen.append(r["class_name"])
    return seen


@login_required
def children_list(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
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


def _labelled(data: dict) -> list[tuple[str, object]]:
    out = []
    for name in _DETAIL_ORDER:
        if name not in data:
            continue
        value = data[name]
        field = Child._meta.get_field("id_number_masked" if name == "id_number" else name)
        if field.choices and value:
            value = dict(field.choices).get(value, value)
        out.append((field.verbose_name, value))
    return out


@login_required
def child_detail(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    view = _child_or_404(request, school, pk, log=True)  # every view is in the access log
    semesters = _semesters(school)
    semester = _chosen_semester(request, school, semesters)
    contacts = list(selectors.contacts_for_child(request.user, pk, semester)) if view.level != "basic" else []
    return render(request, "schools/archive/child_detail.html", {
        "school": school, "view": view, "child": view.child, "facts": _labelled(view.data),
        "contacts": contacts, "semester": semester,
        "status_form": ChildStatusForm() if view.can_edit else None,
        "refusal_form": ConsentRefusalForm() if view.can_edit and view.child.consent != Child.Consent.REFUSED
        else None,
    })


@login_required
def child_create(request, school_pk: int):
    school = school_for(request, school_pk, "manage_children")
    form = ChildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.child_create(actor=request.user, school=school, request=request,
                                          **form.service_fields(editing=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was added to the archive.") % {"name": child.name})
            return redirect("child_detail", school_pk=school.pk, pk=child.pk)
    return render(request, "schools/archive/child_form.html", {"school": school, "form": form, "child": None})


@login_required
def child_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
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
            return redirect("child_detail", school_pk=school.pk, pk=child.pk)
    return render(request, "schools/archive/child_form.html", {
        "school": school, "form": form, "child": child, "masked_id": child.id_number_masked})


@login_required
@require_POST
def child_status(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    view = _child_or_404(request, school, pk, log=False)
    if not view.can_edit:
        raise PermissionDenied
    form = ChildStatusForm(request.POST)
    if form.is_valid():
        try:
            services.child_status_set(actor=request.user, child=view.child, request=request, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The status was changed."))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("child_detail", school_pk=school.pk, pk=pk)


@login_required
@require_POST
def child_consent_refuse(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    view = _child_or_404(request, school, pk, log=False)
    if not view.can_edit:
        raise PermissionDenied
    form = ConsentRefusalForm(request.POST)
    if form.is_valid():
        try:
            services.child_consent_refuse(actor=request.user, child=view.child, on=form.cleaned_data["on"],
                                          method=form.cleaned_data["method"], request=request)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The refusal was recorded; the sensitive fields were deleted."))
    else:
        messages.error(request, _("Tick the confirmation to record a refusal."))
    return redirect("child_detail", school_pk=school.pk, pk=pk)


# ---------------------------------------------------------------- import
logger = logging.getLogger(__name__)
IMPORT_SESSION_KEY = "archive_import:%s"
IMPORT_DIR = "imports"


def _import_pending(request, school):
    return request.session.get(IMPORT_SESSION_KEY % school.pk)


def _import_discard(request, school) -> None:
    pending = request.session.pop(IMPORT_SESSION_KEY % school.pk, None)
    if pending and pending.get("path", "").startswith(f"{IMPORT_DIR}/{school.pk}/"):
        default_storage.delete(pending["path"])


IMPORT_MAX_AGE = dt.timedelta(hours=24)


def _import_sweep(school) -> None:
    """Uploads left unconfirmed (a closed tab) hold children's data: drop this school's older ones."""
    folder = f"{IMPORT_DIR}/{school.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
        for name in files:
            if timezone.now() - default_storage.get_modified_time(f"{folder}/{name}") > IMPORT_MAX_AGE:
                default_storage.delete(f"{folder}/{name}")
    except (FileNotFoundError, NotImplementedError, OSError):
        pass


def _import_read(pending):
    with default_storage.open(pending["path"], "rb") as fh:
        return importing.read_children_file(fh, pending["filename"])


@login_required
def children_import(request, school_pk: int):
    """GET: the upload form. POST: keep the file (server side, bound to this session and school) and
    show the preview with every row error; nothing is written to the archive yet."""
    school = school_for(request, school_pk, "manage_children")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importing.MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            _import_discard(request, school)
            _import_sweep(school)
            suffix = PurePosixPath(upload.name).suffix.lower()[:6] if "." in upload.name else ""
            try:
                path = default_storage.save(f"{IMPORT_DIR}/{school.pk}/{uuid.uuid4().hex}{suffix}",
                                            ContentFile(upload.read()))
            except Exception:
                logger.exception("import upload could not be stored")
                form.add_error("file", EvidenceStorageError().args[0])
            else:
                pending = {"path": path, "filename": upload.name[:200], "user": request.user.pk}
                request.session[IMPORT_SESSION_KEY % school.pk] = pending
                preview = _import_read(pending)
                if not preview.ok:
                    _import_discard(request, school)  # nothing to confirm: do not keep the file
    return render(request, "schools/archive/import.html", {
        "school": school, "form": form, "preview": preview,
        "columns": {c.field: c.title for c in importing.COLUMNS},
    })


@login_required
@require_POST
def children_import_confirm(request, school_pk: int):
    school = school_for(request, school_pk, "manage_children")
    pending = _import_pending(request, school)
    if not pending or pending.get("user") != request.user.pk or not default_storage.exists(pending["path"]):
        messages.error(request, _("There is no uploaded file to confirm. Upload it again."))
        return redirect("children_import", school_pk=school.pk)
    preview = _import_read(pending)  # read again: what is written is what was checked now
    try:
        created = services.children_import_commit(actor=request.user, school=school, preview=preview,
                                                  request=request)
    except services.ImportRejected as exc:
        _import_discard(request, school)
        return render(request, "schools/archive/import.html", {
            "school": school, "form": ImportUploadForm(), "preview": preview, "rejected": exc.row_errors,
            "columns": {c.field: c.title for c in importing.COLUMNS},
        }, status=400)
    except ValidationError as exc:
        _import_discard(request, school)
        messages.error(request, _error_text(exc))
        return redirect("children_import", school_pk=school.pk)
    _import_discard(request, school)
    messages.success(request, _("%(n)s children were imported.") % {"n": len(created)})
    return redirect("children_list", school_pk=school.pk)


@login_required
def children_import_template(request, school_pk: int):
    # Offered on the import page, to whoever may import (the template itself is blank).
    school_for(request, school_pk, "manage_children")
    return download_response(downloads.children_import_template(user=request.user))


# ---------------------------------------------------------------- export
def _cell_text(value) -> str:
    return "" if value is None else (value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value))


@login_required
def children_export(request, school_pk: int):
    """The archive as XLSX. Sensitive fields masked unless ?unmasked=1 by the school admin
    (manage_children + view_child_identity); every exported child is in the access log
    (schools.downloads.children_export checks, logs and hands back the file)."""
    school = school_for(request, school_pk, "manage_children")
    unmasked = request.GET.get("unmasked") == "1"
    return download_response(downloads.children_export(user=request.user, school=school, unmasked=unmasked,
                                                       render=_children_workbook, request=request))


def _children_workbook(columns, rows) -> bytes:
    from documents.workbook import safe_workbook  # text that looks like a formula stays text

    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    sheet = book.add_worksheet(_("Children")[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for col, (_name, title) in enumerate(columns):
        sheet.write_string(0, col, str(title), bold)
        sheet.set_column(col, col, 14)
    for r, row in enumerate(rows, start=1):
        for col, (name, _title) in enumerate(columns):
            sheet.write_string(r, col, _cell_text(row.get(name)))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
