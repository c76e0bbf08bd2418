"""What the school pages share: permission helpers, the shared edit page, uploads, semester choice."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy import idempotency
from tenancy.forms import ClientIdMixin, add_service_errors
from tenancy.selectors import permissions_on_school

from .. import selectors, services
from ..evidence import EvidenceError
from ..models import Child, Evidence


def _weekday_names():
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _perms(request, school) -> set[str]:
    return permissions_on_school(request.user, school)


def _require(request, school, perm: str) -> None:
    if perm not in _perms(request, school):
        raise PermissionDenied


def _call(form, fn, *args, **kwargs):
    """Run a service; its ValidationError lands on the form. Returns the result or None."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        add_service_errors(form, exc)
    except EvidenceError as exc:
        form.add_error(None, str(exc))
    except Child.DoesNotExist:
        form.add_error(None, _("You may not write about this child."))
    return None


def _submit(request, form, allowed: bool, fn, *, school=None):
    """A page form's POST: 403 without the right, else the service's result through _call (None
    on GET, or when the form or the service refused: the errors are then on the form). A create
    form with a client id (ClientIdMixin) in `school` is created once, however often it is sent."""
    if request.method != "POST":
        return None
    if not allowed:
        raise PermissionDenied
    if not form.is_valid():
        return None
    if school is not None and isinstance(form, ClientIdMixin):
        outcome = _call(form, lambda: idempotency.form_create_once(request, form, target=school, create=fn))
        return None if outcome is None else outcome.obj
    return _call(form, fn)


def _today():
    return timezone.localdate()



def _read_only_facts(form) -> list[tuple[str, object]]:
    """(label, value as people read it) of each field: a choice's label, 是/否 for a yes/no."""
    from django import forms as django_forms

    out = []
    for field in form.visible_fields():
        value = field.value()
        if isinstance(field.field, django_forms.BooleanField):
            value = _("Yes") if value else _("No")
        elif getattr(field.field, "choices", None) is not None and value not in (None, ""):
            value = dict((str(k), v) for k, v in field.field.choices).get(str(value), value)
        out.append((field.label, "—" if value in (None, "") else value))
    return out


def _edit_page(request, school, obj, form, *, title, update, back, delete=True, can_manage=None, deleted_to=None):
    """Shared edit page: GET shows the form (read-only without the write permission: by default
    manage_materials); POST updates or, with action=delete, deletes: through `delete()` when it is
    a function, else services.home_record_delete. After a delete the page goes to `deleted_to`."""
    if can_manage is None:
        can_manage = "manage_materials" in _perms(request, school)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if request.POST.get("action") == "delete" and delete:
            try:
                if callable(delete):
                    delete()
                else:
                    services.home_record_delete(actor=request.user, obj=obj)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
            messages.success(request, _("Deleted."))
            return redirect(deleted_to or back)
        if form.is_valid() and _call(form, update, dict(form.cleaned_data)) is not None:
            messages.success(request, _("Saved."))
            return redirect(back)
    return render(request, "schools/home/edit.html", {
        "school": school, "form": form, "title": title, "back": back, "can_manage": can_manage,
        "facts": None if can_manage else _read_only_facts(form),
        "can_delete": bool(delete), "object": obj,  # bool: a template calls callables
    })


def _post_or_none(request):
    return request.POST if request.method == "POST" and request.POST.get("action") != "delete" else None


def _readers_to(request, can_edit: bool, url: str):
    """Edit pages whose form a reader cannot use: GET sends them to what they may read, a POST is 403.
    None when the user may edit."""
    if can_edit:
        return None
    if request.method == "POST":
        raise PermissionDenied
    return redirect(url)

def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest" or \
        "application/json" in request.headers.get("Accept", "")


def _upload_files(request, school, target, field: str = "photos"):
    """Each file through services.evidence_upload, in its own savepoint: a bad file is reported
    by name and the good ones are kept. Returns [{name, ok, id?, thumb?, error?}]."""
    results = []
    for f in request.FILES.getlist(field):
        try:
            item = services.evidence_upload(actor=request.user, school=school, uploaded_file=f, attach_to=target,
                                            photo_only=field == "photos", request=request)
        except (EvidenceError, ValidationError) as exc:
            text = str(exc) if isinstance(exc, EvidenceError) else " ".join(exc.messages)
            results.append({"name": f.name, "ok": False, "error": text})
        else:
            results.append({
                "name": f.name, "ok": True, "id": item.pk, "kind": item.kind,
                "url": reverse("evidence_file", args=[school.pk, item.pk]),
                "thumb": reverse("evidence_thumb", args=[school.pk, item.pk]) if item.thumbnail else "",
            })
    return results


def _upload_response(request, results, back):
    if _wants_json(request):
        status = 200 if results and any(r["ok"] for r in results) else 400
        if not results:
            results = [{"name": "", "ok": False, "error": _("Choose at least one file.")}]
        return JsonResponse({"results": results}, status=status)
    if not results:
        messages.error(request, _("Choose at least one file."))
    good = sum(1 for r in results if r["ok"])
    if good:
        messages.success(request, _("%(n)s file(s) uploaded.") % {"n": good})
    for r in results:
        if not r["ok"]:
            messages.error(request, _("%(name)s was not uploaded: %(error)s") % {"name": r["name"], "error": r["error"]})
    return redirect(back)


def _delete_evidence(request, school, target_filter: dict):
    evidence = get_object_or_404(Evidence, pk=request.POST.get("evidence"), school=school, **target_filter)
    try:
        services.evidence_delete(actor=request.user, evidence=evidence)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The file was removed."))


def _evidence_post(request, school, target, target_field: str, *, can_manage: bool, back: str,
                   files_field: str = "photos"):
    """The POST of a page that holds evidence (an activity, a meeting): delete one of its files,
    or upload new ones (manage_materials)."""
    if not can_manage:
        raise PermissionDenied
    if request.POST.get("action") == "delete_evidence":
        _delete_evidence(request, school, {target_field: target})
        return redirect(back)
    return _upload_response(request, _upload_files(request, school, target, files_field), back)


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


def _accepts_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")
