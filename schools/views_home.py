"""Pages of the school's home: site and rules, activities with photos, proxy parents, study
support, and evidence files.

Views validate, call a selector or a service, render. Every page looks its school up among those
the user can see (tenancy.views.school_for: another school is 404, never 403) and every object
inside that school (another school's object is 404 too). Reading needs `view_home`; writes are
checked again by the services (PermissionDenied → 403). A page that edits something still answers
GET to readers without the write permission, read-only, so overseers can look at it.

Evidence files are never served from MEDIA_URL: `evidence_file` checks the scope and streams the
bytes from the storage API, so a file name (a SHA-256) is useless without a session that may see it.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tenancy.dates import parse_query_date, parse_query_week
from tenancy.roles import SUBTREE_ROLES
from tenancy.selectors import permissions_on_school, roles_of
from tenancy.downloads import download_response
from tenancy.views import school_for
from tenancy.forms import add_service_errors

from . import downloads, selectors, services
from . import forms_home as forms
from .evidence import EvidenceError
from .models import (
    Activity, ActivityParticipant, ActivitySite, Child, Equipment, Evidence, LeadershipMember,
    ProxyAssignment, RuleDocumentVersion, RuleKind, StaffProfile, StudyPair, ThemeSchedule,
    TrainingAttendance, TrainingMeeting, TutoringSession,
)


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


def _today():
    return timezone.localdate()


# ---------------------------------------------------------------- the home: site, equipment, leadership, rules
@login_required
def home_setup(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    can_manage = "manage_materials" in _perms(request, school)
    which = request.POST.get("form") if request.method == "POST" else None
    bound = {which: request.POST} if which else {}
    files = request.FILES if which == "rule" else None
    site_form = forms.SiteForm(bound.get("site"), prefix="site")
    equipment_form = forms.EquipmentForm(bound.get("equipment"), prefix="equipment")
    leader_form = forms.LeadershipForm(bound.get("leader"), prefix="leader", school=school)
    rule_form = forms.RuleVersionForm(bound.get("rule"), files, prefix="rule")
    if which:
        if not can_manage:
            raise PermissionDenied
        form, done = {
            "site": (site_form, lambda d: services.activity_site_create(actor=request.user, school=school, **d)),
            "equipment": (equipment_form, lambda d: services.equipment_create(actor=request.user, school=school, **d)),
            "leader": (leader_form, lambda d: services.leadership_member_create(actor=request.user, school=school, **d)),
            "rule": (rule_form, lambda d: services.rule_document_version_add(
                actor=request.user, school=school, request=request, **d)),
        }.get(which, (None, None))
        if form is None:
            raise Http404
        if form.is_valid() and _call(form, done, dict(form.cleaned_data)) is not None:
            messages.success(request, _("Saved."))
            return redirect(reverse("home_setup", args=[school.pk]) + f"#{which}")
    overview = selectors.home_overview(school)
    rules = overview["rules"]
    return render(request, "schools/home/setup.html", {
        "school": school, "can_manage": can_manage, **overview,
        "rules_present": sum(1 for r in rules if r["present"]), "rules_missing": [r for r in rules if not r["present"]],
        "site_form": site_form, "equipment_form": equipment_form, "leader_form": leader_form,
        "rule_form": rule_form, "open_form": which,
    })


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


@login_required
def home_site_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    site = get_object_or_404(ActivitySite, pk=pk, school=school)
    form = forms.SiteForm(_post_or_none(request), initial={f: getattr(site, f) for f in services.SITE_FIELDS})
    return _edit_page(request, school, site, form, title=_("Activity site"),
                      update=lambda d: services.activity_site_update(actor=request.user, site=site, **d),
                      back=reverse("home_setup", args=[school.pk]) + "#site")


@login_required
def home_equipment_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    item = get_object_or_404(Equipment, pk=pk, school=school)
    form = forms.EquipmentForm(_post_or_none(request), initial={f: getattr(item, f) for f in services.EQUIPMENT_FIELDS})
    return _edit_page(request, school, item, form, title=_("Equipment"),
                      update=lambda d: services.equipment_update(actor=request.user, item=item, **d),
                      back=reverse("home_setup", args=[school.pk]) + "#equipment")


@login_required
def home_leader_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    member = get_object_or_404(LeadershipMember, pk=pk, school=school)
    form = forms.LeadershipForm(_post_or_none(request), school=school,
                                initial={f: getattr(member, f) for f in services.LEADERSHIP_FIELDS})
    return _edit_page(request, school, member, form, title=_("Leadership group member"),
                      update=lambda d: services.leadership_member_update(actor=request.user, member=member, **d),
                      back=reverse("home_setup", args=[school.pk]) + "#leader")


@login_required
def home_rule_detail(request, school_pk: int, kind: str):
    """One of the nine rule documents: its versions, and the upload of a new version."""
    school = school_for(request, school_pk, "view_home")
    if kind not in RuleKind.values:
        raise Http404
    can_manage = "manage_materials" in _perms(request, school)
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["kind"] = kind  # the page is about one kind; the URL decides it
    form = forms.RuleVersionForm(data, request.FILES if data is not None else None, initial={"kind": kind})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            data = {**form.cleaned_data, "kind": kind}
            if _call(form, lambda: services.rule_document_version_add(
                    actor=request.user, school=school, request=request, **data)) is not None:
                messages.success(request, _("The new version was saved."))
                return redirect("home_rule_detail", school.pk, kind)
    form.fields["kind"].widget = form.fields["kind"].hidden_widget()
    versions = (RuleDocumentVersion.objects.filter(school=school, document__kind=kind)
                .select_related("evidence", "uploaded_by", "document").order_by("-number"))
    return render(request, "schools/home/rule_detail.html", {
        "school": school, "kind": kind, "label": RuleKind(kind).label, "versions": versions,
        "form": form, "can_manage": can_manage,
    })


# ---------------------------------------------------------------- activities
def _parse_week(request) -> dt.date:
    """?week=2026-W11 or ?date=2026-03-12; anything unreadable or outside the sane range
    (tenancy.dates: 0001-01-01 would overflow the week links) means this week."""
    week, day = request.GET.get("week", ""), request.GET.get("date", "")
    if week:
        return parse_query_week(week) or _today()
    return parse_query_date(day) or _today()


def _iso_week(day: dt.date) -> str:
    year, week, _wd = day.isocalendar()
    return f"{year}-W{week:02d}"


@login_required
def activities_week(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    day = _parse_week(request)
    monday = day - dt.timedelta(days=day.weekday())
    semester = selectors.semester_for_date(school.district_id, monday + dt.timedelta(days=4)) \
        or selectors.semester_for_date(school.district_id, monday)
    themes = ({t.weekday: t.theme for t in ThemeSchedule.objects.filter(school=school, semester=semester)}
              if semester else {})
    activities = list(selectors.activities_for_week(school, monday))
    names = _weekday_names()
    days = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        todays = [a for a in activities if a.date == date]
        if offset >= 5 and not todays:
            continue  # weekends appear only when something happened
        days.append({"date": date, "name": names[offset], "theme": themes.get(offset + 1, ""),
                     "activities": todays, "is_today": date == _today()})
    return render(request, "schools/home/activities_week.html", {
        "school": school, "semester": semester, "days": days, "monday": monday,
        "sunday": monday + dt.timedelta(days=6), "week": _iso_week(monday),
        "prev_week": _iso_week(monday - dt.timedelta(days=7)), "next_week": _iso_week(monday + dt.timedelta(days=7)),
        "this_week": _iso_week(_today()),
        "can_manage": "manage_materials" in _perms(request, school),
    })


def _participant_children(request, school):
    return (selectors.children_visible_to(request.user, school).filter(status=Child.Status.ACTIVE)
            .order_by("grade", "class_name", "name", "id"))


def _picker_context(form, children, selected: dict):
    """Children grouped by class for the participants picker, each with its current placing."""
    classes: list[dict] = []
    for child in children:
        if not classes or classes[-1]["name"] != child.class_name:
            classes.append({"name": child.class_name, "children": []})
        placing, label = selected.get(child.pk, (None, ""))
        classes[-1]["children"].append({
            "child": child, "checked": child.pk in selected, "placing": placing or "", "award": label,
        })
    return classes


def _activity_form_page(request, school, activity=None):
    if "manage_materials" not in _perms(request, school):
        if request.method == "POST":
            raise PermissionDenied
        # Readers (teachers, overseers) are sent to what they may read instead of a 403 page.
        return redirect(reverse("activity_detail", args=[school.pk, activity.pk]) if activity
                        else reverse("activities_week", args=[school.pk]))
    children = _participant_children(request, school)
    if activity is not None:
        initial = {f: getattr(activity, f) for f in services.ACTIVITY_FIELDS}
        existing = {p.child_id: (p.placing, p.placing_label)
                    for p in ActivityParticipant.objects.filter(activity=activity)}
    else:
        initial = {"date": _parse_week(request) if request.GET.get("date") else _today(),
                   "kind": Activity.Kind.THEME}
        existing = {}
    form = forms.ActivityForm(request.POST if request.method == "POST" else None, children=children,
                              initial=initial)
    selected = existing
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            chosen = data.pop("participants")
            placings = form.placings(request.POST)
            visible_ids = {c.pk for c in chosen}
            # Participants the user cannot see (another teacher's child) are kept as they were.
            hidden = [(p.child, p.placing, p.placing_label) for p in
                      ActivityParticipant.objects.filter(activity=activity).select_related("child")
                      .exclude(child_id__in=children.values("id"))] if activity else []
            participants = [(c, *placings.get(c.pk, (None, ""))) for c in chosen] + hidden
            if activity is None:
                result = _call(form, lambda: services.activity_create(
                    actor=request.user, school=school, participants=participants, request=request, **data))
            else:
                result = _call(form, lambda: services.activity_update(
                    actor=request.user, activity=activity, participants=participants, request=request, **data))
            if result is not None:
                messages.success(request, _("The activity was saved."))
                return redirect("activity_detail", school.pk, result.pk)
            selected = {pk: placings.get(pk, (None, "")) for pk in visible_ids}
        else:
            ids = {int(v) for v in request.POST.getlist("participants") if v.isdigit()}
            selected = {pk: (request.POST.get(f"placing_{pk}"), request.POST.get(f"award_{pk}", "")) for pk in ids}
    return render(request, "schools/home/activity_form.html", {
        "school": school, "form": form, "activity": activity, "classes": _picker_context(form, children, selected),
    })


@login_required
def activity_create(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    return _activity_form_page(request, school)


@login_required
def activity_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    activity = get_object_or_404(Activity, pk=pk, school=school)
    if request.method == "POST" and request.POST.get("action") == "delete":
        services.activity_delete(actor=request.user, activity=activity, request=request)
        messages.success(request, _("The activity was deleted."))
        return redirect(reverse("activities_week", args=[school.pk]) + "?" + urlencode({"date": activity.date}))
    return _activity_form_page(request, school, activity)


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
                                            request=request)
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


@login_required
def activity_detail(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    activity = get_object_or_404(Activity.objects.with_evidence().select_related("semester", "created_by"),
                                 pk=pk, school=school)
    can_manage = "manage_materials" in _perms(request, school)
    back = reverse("activity_detail", args=[school.pk, activity.pk])
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if request.POST.get("action") == "delete_evidence":
            _delete_evidence(request, school, {"activity": activity})
            return redirect(back)
        return _upload_response(request, _upload_files(request, school, activity), back)
    visible = set(_participant_children(request, school).values_list("id", flat=True))
    participants = list(ActivityParticipant.objects.filter(activity=activity).select_related("child")
                        .order_by("placing", "child__class_name", "child__name"))
    shown = [p for p in participants if p.child_id in visible]
    return render(request, "schools/home/activity_detail.html", {
        "school": school, "activity": activity, "can_manage": can_manage,
        "photos": list(activity.evidence.filter(kind=Evidence.Kind.PHOTO).order_by("created_at", "id")),
        "documents": list(activity.evidence.filter(kind=Evidence.Kind.DOCUMENT)),
        "participants": shown, "hidden_participants": len(participants) - len(shown),
        "week": _iso_week(activity.date),
    })


@login_required
def activity_themes(request, school_pk: int):
    """The Monday–Friday theme schedule of a semester (?semester=<id>, default the current one)."""
    school = school_for(request, school_pk, "view_home")
    can_manage = "manage_materials" in _perms(request, school)
    semesters = list(selectors.semesters_of(school.district_id))
    wanted = request.GET.get("semester") or request.POST.get("semester")
    semester = next((s for s in semesters if str(s.pk) == wanted), None) if wanted else \
        selectors.semester_current(school.district_id)
    if wanted and semester is None:
        raise Http404
    rows = {t.weekday: t for t in ThemeSchedule.objects.filter(school=school, semester=semester)} if semester else {}
    form = forms.ThemeForm(request.POST if request.method == "POST" else None,
                           themes={d: t.theme for d, t in rows.items()})
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if semester is None:
            raise Http404
        if form.is_valid():
            for day in range(1, 6):
                theme = form.cleaned_data[f"weekday_{day}"].strip()
                if theme:
                    services.theme_schedule_set(actor=request.user, school=school, semester=semester,
                                                weekday=day, theme=theme)
                elif day in rows:
                    services.home_record_delete(actor=request.user, obj=rows[day])
            messages.success(request, _("The theme schedule was saved."))
            return redirect(reverse("activity_themes", args=[school.pk]) + f"?semester={semester.pk}")
    return render(request, "schools/home/themes.html", {
        "school": school, "semester": semester, "semesters": semesters, "form": form, "can_manage": can_manage,
    })


# ---------------------------------------------------------------- evidence files
def _evidence_in(request, school_pk: int, pk: int) -> Evidence:
    """The evidence item of a school the user sees (else 404); who may open it is the read
    action's rule (schools.downloads), shared with the API."""
    school = school_for(request, school_pk)
    return get_object_or_404(Evidence.objects.select_related("care_contact", "school"), pk=pk, school=school)


@require_GET
@login_required
def evidence_file(request, school_pk: int, pk: int):
    evidence = _evidence_in(request, school_pk, pk)
    return download_response(downloads.evidence_file(user=request.user, evidence=evidence, request=request))


@require_GET
@login_required
def evidence_thumb(request, school_pk: int, pk: int):
    evidence = _evidence_in(request, school_pk, pk)
    return download_response(downloads.evidence_thumbnail(user=request.user, evidence=evidence, request=request))


@login_required
def reuse_flags(request):
    """Reused-evidence flags for the overseers (the same photo in several records or schools): the
    bureau across its district, a township admin inside its subtree (schools.selectors.reuse_match_q)."""
    if not roles_of(request.user) & SUBTREE_ROLES:
        raise PermissionDenied
    flags = list(selectors.reuse_flags_visible_to(request.user).select_related("school")[:300])
    return render(request, "schools/home/reuse_flags.html", {"flags": flags})


# ---------------------------------------------------------------- proxy parents
def _assignable_children(request, school):
    return Child.objects.filter(school=school, status=Child.Status.ACTIVE).order_by("grade", "class_name", "name")


@login_required
def proxy_parents(request, school_pk: int):
    """Staff flagged as proxy parents, and the children's assignments with their history."""
    school = school_for(request, school_pk, "view_home")
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


@login_required
def assignment_edit(request, school_pk: int, pk: int):
    """Correct an assignment's dates (the history keeps one proxy parent at a time)."""
    school = school_for(request, school_pk, "view_home")
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


@login_required
def meetings(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    can_manage = "manage_materials" in _perms(request, school)
    form = forms.MeetingForm(request.POST if request.method == "POST" else None, school=school)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            meeting = _call(form, lambda: services.training_meeting_create(
                actor=request.user, school=school, request=request, **form.cleaned_data))
            if meeting is not None:
                messages.success(request, _("The meeting was recorded."))
                return redirect("meeting_detail", school.pk, meeting.pk)
    semester = selectors.semester_current(school.district_id)
    return render(request, "schools/home/meetings.html", {
        "school": school, "meetings": list(selectors.training_meetings_list(school)), "form": form,
        "can_manage": can_manage, "semester": semester,
    })


@login_required
def meeting_detail(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    meeting = get_object_or_404(TrainingMeeting.objects.select_related("semester"), pk=pk, school=school)
    can_manage = "manage_materials" in _perms(request, school)
    back = reverse("meeting_detail", args=[school.pk, meeting.pk])
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if request.POST.get("action") == "delete_evidence":
            _delete_evidence(request, school, {"training_meeting": meeting})
            return redirect(back)
        return _upload_response(request, _upload_files(request, school, meeting, "files"), back)
    attendees = [a.user for a in TrainingAttendance.objects.filter(meeting=meeting).select_related("user")]
    items = list(meeting.evidence.order_by("created_at", "id"))
    return render(request, "schools/home/meeting_detail.html", {
        "school": school, "meeting": meeting, "attendees": attendees, "can_manage": can_manage,
        "photos": [e for e in items if e.kind == Evidence.Kind.PHOTO],
        "documents": [e for e in items if e.kind == Evidence.Kind.DOCUMENT],
    })


@login_required
def meeting_edit(request, school_pk: int, pk: int):
    """Correct a meeting's date, topic, attendees or minutes, or delete it (with its evidence)."""
    school = school_for(request, school_pk, "view_home")
    meeting = get_object_or_404(TrainingMeeting, pk=pk, school=school)
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


@login_required
def work_records(request, school_pk: int):
    """The work record book: a proxy parent reads and writes their own; the school admin reads all."""
    school = school_for(request, school_pk, "view_home")
    can_write = "record_contacts" in _perms(request, school)
    form = forms.WorkRecordForm(request.POST if request.method == "POST" else None,
                                children=_writable_children(request, school), initial={"date": _today()})
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied
        if form.is_valid() and _call(form, lambda: services.work_record_add(
                actor=request.user, school=school, request=request, **form.cleaned_data)) is not None:
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


@login_required
def work_record_detail(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    entry, can_edit = _work_record_for(request, school, pk)
    return render(request, "schools/home/work_record_detail.html", {
        "school": school, "entry": entry, "can_edit": can_edit,
    })


@login_required
def work_record_edit(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
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


# ---------------------------------------------------------------- study support
@login_required
def study_pairs(request, school_pk: int):
    school = school_for(request, school_pk, "view_home")
    perms = _perms(request, school)
    can_manage = "manage_children" in perms
    action = request.POST.get("action") if request.method == "POST" else None
    form = forms.StudyPairForm(request.POST if action == "create" else None, school=school,
                               children=_assignable_children(request, school) if can_manage else Child.objects.none(),
                               initial={"starts_on": _today()})
    if action:
        if not can_manage:
            raise PermissionDenied
        if action == "create":
            if form.is_valid() and _call(form, lambda: services.study_pair_create(
                    actor=request.user, school=school, **form.cleaned_data)) is not None:
                messages.success(request, _("The pair was created."))
                return redirect("study_pairs", school.pk)
        elif action == "end":
            pair = get_object_or_404(StudyPair, pk=request.POST.get("pair"), school=school)
            try:
                services.study_pair_end(actor=request.user, pair=pair, request=request)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The pair was ended."))
            return redirect("study_pairs", school.pk)
        else:
            raise Http404
    pairs = list(selectors.study_pairs_visible_to(request.user, school).order_by("ends_on", "-starts_on", "id"))
    return render(request, "schools/home/study_pairs.html", {
        "school": school, "pairs": pairs, "form": form, "can_manage": can_manage,
    })


def _pair_for(request, school, pk: int) -> tuple[StudyPair, bool]:
    """The pair and whether it is masked (an overseer sees that it exists and works: teacher, dates,
    minutes, not who the child is). 404 for anyone else who cannot see it."""
    visible = selectors.study_pairs_visible_to(request.user, school).filter(pk=pk).first()
    if visible is not None:
        return visible, False
    if "view_aggregates" in _perms(request, school):
        return get_object_or_404(StudyPair.objects.select_related("teacher"), pk=pk, school=school), True
    raise Http404


def _can_tutor(request, school, pair) -> bool:
    return pair.teacher_id == request.user.id or "manage_children" in _perms(request, school)


@login_required
def study_pair_detail(request, school_pk: int, pk: int):
    school = school_for(request, school_pk, "view_home")
    pair, masked = _pair_for(request, school, pk)
    can_record = _can_tutor(request, school, pair)
    form = forms.TutoringForm(request.POST if request.method == "POST" else None, initial={"date": _today()})
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid() and _call(form, lambda: services.tutoring_session_record(
                actor=request.user, pair=pair, request=request, **form.cleaned_data)) is not None:
            messages.success(request, _("The session was recorded."))
            return redirect("study_pair_detail", school.pk, pair.pk)
    return render(request, "schools/home/study_pair_detail.html", {
        "school": school, "pair": pair, "sessions": list(pair.sessions.order_by("-date", "-id")),
        "form": form, "can_record": can_record and not masked, "masked": masked,
        "can_manage": "manage_children" in _perms(request, school) and not masked,
    })


@login_required
def study_pair_edit(request, school_pk: int, pk: int):
    """Correct a pair's dates or subject; its sessions must stay inside the dates (the service checks)."""
    school = school_for(request, school_pk, "view_home")
    pair, masked = _pair_for(request, school, pk)
    detail = reverse("study_pair_detail", args=[school.pk, pair.pk])
    sent = _readers_to(request, not masked and "manage_children" in _perms(request, school), detail)
    if sent:
        return sent
    form = forms.StudyPairEditForm(_post_or_none(request),
                                   initial={f: getattr(pair, f) for f in services.STUDY_PAIR_FIELDS})
    return _edit_page(
        request, school, pair, form, title=_("Study pair: %(teacher)s → %(child)s") % {
            "teacher": pair.teacher, "child": pair.child.name},
        back=detail, can_manage=True, delete=False,
        update=lambda d: services.study_pair_update(actor=request.user, pair=pair, request=request, **d))


@login_required
def tutoring_session_edit(request, school_pk: int, pk: int, session_pk: int):
    """Correct or delete a tutoring session: the paired teacher or whoever manages the archive."""
    school = school_for(request, school_pk, "view_home")
    pair, masked = _pair_for(request, school, pk)
    session = get_object_or_404(TutoringSession, pk=session_pk, pair=pair, school=school)
    detail = reverse("study_pair_detail", args=[school.pk, pair.pk])
    sent = _readers_to(request, not masked and _can_tutor(request, school, pair), detail)
    if sent:
        return sent
    form = forms.TutoringForm(_post_or_none(request),
                              initial={f: getattr(session, f) for f in services.TUTORING_FIELDS})
    return _edit_page(
        request, school, session, form, title=_("Tutoring session"), back=detail, can_manage=True,
        update=lambda d: services.tutoring_session_update(actor=request.user, session=session, request=request, **d),
        delete=lambda: services.tutoring_session_delete(actor=request.user, session=session, request=request))
