"""Proxy parents: assignments, training meetings and the work record."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.views import school_page

from .. import forms_home as forms
from .. import selectors, services
from ..models import Child, Evidence, ProxyAssignment, StaffProfile, TrainingAttendance, TrainingMeeting
from ._common import _call, _edit_page, _evidence_post, _perms, _post_or_none, _readers_to, _submit, _today


# ---------------------------------------------------------------- proxy parents
def _assignable_children(request, school):
    return Child.objects.filter(school=school, status=Child.Status.ACTIVE).order_by("grade", "class_name", "name")


@school_page("view_home")
def proxy_parents(request, school):
    """Staff flagged as proxy parents, and the children's assignments with their history."""
    perms = _perms(request, school)
    can_flag, can_assign = "manage_staff" in perms, "manage_children" in perms
    action = request.POST.get("action") if request.method == "POST" else None
    flag_form = forms.ProxyFlagForm(request.POST if action == "flag" else None, school=school)
    assign_form = forms.AssignmentForm(request.POST if action == "assign" else None, school=school,
                                       children=_assignable_children(request, school) if can_assign else Child.objects.none())
    back = reverse("proxy_parents", args=[school.pk])
    if action == "flag":
        if not can_flag:
            raise PermissionDenied
        if flag_form.is_valid() and _call(flag_form, lambda: services.staff_profile_set(
                actor=request.user, school=school, **flag_form.cleaned_data)) is not None:
            messages.success(request, _("Saved."))
            return redirect(back)
    elif action == "assign":
        if not can_assign:
            raise PermissionDenied
        if assign_form.is_valid() and _call(assign_form, lambda: services.proxy_assignment_create(
                actor=request.user, request=request, **assign_form.cleaned_data)) is not None:
            messages.success(request, _("The child was assigned."))
            return redirect(back)
    elif action == "end":
        if not can_assign:
            raise PermissionDenied
        assignment = get_object_or_404(ProxyAssignment, pk=request.POST.get("assignment"), school=school)
        end_form = forms.AssignmentEndForm(request.POST)
        if end_form.is_valid():
            try:
                services.proxy_assignment_end(actor=request.user, assignment=assignment, request=request,
                                              ends_on=end_form.cleaned_data["ends_on"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The assignment was ended."))
        else:
            messages.error(request, _("Give the last day of the assignment."))
        return redirect(back)
    elif action:
        raise Http404
    profiles = list(StaffProfile.objects.filter(school=school).select_related("user").order_by("-is_proxy_parent", "id"))
    visible = selectors.children_visible_to(request.user, school)
    by_child: dict[int, dict] = {}
    for a in (ProxyAssignment.objects.filter(school=school, child__in=visible)
              .select_related("child", "proxy_parent").order_by("child__class_name", "child__name", "-starts_on")):
        entry = by_child.setdefault(a.child_id, {"child": a.child, "history": []})
        entry["history"].append(a)
    return render(request, "schools/home/proxy_parents.html", {
        "school": school, "profiles": profiles, "assignments": list(by_child.values()),
        "flag_form": flag_form, "assign_form": assign_form, "can_flag": can_flag, "can_assign": can_assign,
        "today": _today(),
    })


@school_page("view_home")
def assignment_edit(request, school, pk: int):
    """Correct an assignment's dates (the history keeps one proxy parent at a time)."""
    assignment = get_object_or_404(
        ProxyAssignment.objects.select_related("child", "proxy_parent"), pk=pk, school=school,
        child__in=selectors.children_visible_to(request.user, school))
    back = reverse("proxy_parents", args=[school.pk])
    sent = _readers_to(request, "manage_children" in _perms(request, school), back)
    if sent:
        return sent
    form = forms.AssignmentEditForm(_post_or_none(request),
                                    initial={f: getattr(assignment, f) for f in services.ASSIGNMENT_FIELDS})
    title = _("Assignment of %(child)s to %(who)s") % {"child": assignment.child.name, "who": assignment.proxy_parent}
    return _edit_page(
        request, school, assignment, form, title=title, back=back, can_manage=True, delete=False,
        update=lambda d: services.proxy_assignment_update(actor=request.user, assignment=assignment,
                                                          request=request, **d))


@school_page("view_home")
def meetings(request, school):
    can_manage = "manage_materials" in _perms(request, school)
    form = forms.MeetingForm(request.POST if request.method == "POST" else None, school=school)
    meeting = _submit(request, form, can_manage, lambda: services.training_meeting_create(
        actor=request.user, school=school, request=request, **form.cleaned_data), school=school)
    if meeting is not None:
        messages.success(request, _("The meeting was recorded."))
        return redirect("meeting_detail", school.pk, meeting.pk)
    semester = selectors.semester_current(school.district_id)
    return render(request, "schools/home/meetings.html", {
        "school": school, "meetings": list(selectors.training_meetings_list(school)), "form": form,
        "can_manage": can_manage, "semester": semester,
    })


@school_page("view_home")
def meeting_detail(request, school, pk: int):
    meeting = get_object_or_404(TrainingMeeting.objects.select_related("semester"), pk=pk, school=school)
    can_manage = "manage_materials" in _perms(request, school)
    back = reverse("meeting_detail", args=[school.pk, meeting.pk])
    if request.method == "POST":
        return _evidence_post(request, school, meeting, "training_meeting", can_manage=can_manage, back=back,
                              files_field="files")
    attendees = [a.user for a in TrainingAttendance.objects.filter(meeting=meeting).select_related("user")]
    items = list(meeting.evidence.order_by("created_at", "id"))
    return render(request, "schools/home/meeting_detail.html", {
        "school": school, "meeting": meeting, "attendees": attendees, "can_manage": can_manage,
        "photos": [e for e in items if e.kind == Evidence.Kind.PHOTO],
        "documents": [e for e in items if e.kind == Evidence.Kind.DOCUMENT],
    })


@school_page("view_home", TrainingMeeting)
def meeting_edit(request, school, meeting: TrainingMeeting):
    """Correct a meeting's date, topic, attendees or minutes, or delete it (with its evidence)."""
    detail = reverse("meeting_detail", args=[school.pk, meeting.pk])
    sent = _readers_to(request, "manage_materials" in _perms(request, school), detail)
    if sent:
        return sent
    initial = {f: getattr(meeting, f) for f in services.MEETING_FIELDS}
    initial["attendees"] = list(TrainingAttendance.objects.filter(meeting=meeting).values_list("user_id", flat=True))
    form = forms.MeetingForm(_post_or_none(request), school=school, initial=initial)
    return _edit_page(
        request, school, meeting, form, title=_("Edit the meeting"), back=detail, can_manage=True,
        update=lambda d: services.training_meeting_update(actor=request.user, meeting=meeting, request=request, **d),
        delete=lambda: services.training_meeting_delete(actor=request.user, meeting=meeting, request=request),
        deleted_to=reverse("meetings", args=[school.pk]))


def _writable_children(request, school):
    """Children the user may write about: all active ones for the archive's manager, else only
    the children currently assigned to them (the service checks again)."""
    perms = _perms(request, school)
    if "record_contacts" not in perms:
        return Child.objects.none()
    qs = Child.objects.filter(school=school, status=Child.Status.ACTIVE)
    if "manage_children" not in perms:
        qs = qs.filter(id__in=selectors.assigned_child_ids(request.user))
    return qs.order_by("grade", "class_name", "name")


@school_page("view_home")
def work_records(request, school):
    """The work record book: a proxy parent reads and writes their own; the school admin reads all."""
    can_write = "record_contacts" in _perms(request, school)
    form = forms.WorkRecordForm(request.POST if request.method == "POST" else None,
                                children=_writable_children(request, school), initial={"date": _today()})
    if _submit(request, form, can_write, lambda: services.work_record_add(
            actor=request.user, school=school, request=request, **form.cleaned_data), school=school) is not None:
        messages.success(request, _("The entry was added."))
        return redirect("work_records", school.pk)
    entries = list(selectors.work_record_entries_visible_to(request.user, school)[:200])
    return render(request, "schools/home/work_records.html", {
        "school": school, "entries": entries, "form": form, "can_write": can_write,
    })


def _work_record_for(request, school, pk: int):
    """An entry the user may read (their own, or any for the archive's manager; else 404), and
    whether they may change it (its author or the archive's manager; the services check again)."""
    entry = get_object_or_404(
        selectors.work_record_entries_visible_to(request.user, school).select_related("semester"), pk=pk)
    can_edit = entry.proxy_parent_id == request.user.id or "manage_children" in _perms(request, school)
    return entry, can_edit


@school_page("view_home")
def work_record_detail(request, school, pk: int):
    entry, can_edit = _work_record_for(request, school, pk)
    return render(request, "schools/home/work_record_detail.html", {
        "school": school, "entry": entry, "can_edit": can_edit,
    })


@school_page("view_home")
def work_record_edit(request, school, pk: int):
    entry, can_edit = _work_record_for(request, school, pk)
    detail = reverse("work_record_detail", args=[school.pk, entry.pk])
    sent = _readers_to(request, can_edit, detail)
    if sent:
        return sent
    # The child the entry is about stays choosable even if no longer assigned to the writer.
    children = _writable_children(request, school) | Child.objects.filter(pk=entry.child_id)
    form = forms.WorkRecordForm(_post_or_none(request), children=children.distinct(),
                                initial={f: getattr(entry, f) for f in services.WORK_RECORD_FIELDS})
    return _edit_page(
        request, school, entry, form, title=_("Work record entry"), back=detail, can_manage=True,
        update=lambda d: services.work_record_update(actor=request.user, entry=entry, request=request, **d),
        delete=lambda: services.work_record_delete(actor=request.user, entry=entry, request=request),
        deleted_to=reverse("work_records", args=[school.pk]))
