"""Activities by week, their photos and themes; evidence files and reuse flags."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tenancy import idempotency
from tenancy.dates import parse_query_date, parse_query_week
from tenancy.downloads import download_response
from tenancy.roles import SUBTREE_ROLES
from tenancy.selectors import roles_of
from tenancy.views import school_page

from .. import downloads, selectors, services
from .. import forms_home as forms
from ..models import Activity, ActivityParticipant, Child, Evidence, ThemeSchedule
from ._common import _call, _evidence_post, _perms, _today, _weekday_names


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


@school_page("view_home")
def activities_week(request, school):
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
                # A second submission of the same form (its client_id) shows the first activity.
                result = _call(form, lambda: idempotency.form_create_once(
                    request, form, target=school, model=Activity, create=lambda: services.activity_create(
                        actor=request.user, school=school, participants=participants, request=request, **data)).obj)
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


@school_page("view_home")
def activity_create(request, school):
    return _activity_form_page(request, school)


@school_page("view_home", Activity)
def activity_edit(request, school, activity: Activity):
    if request.method == "POST" and request.POST.get("action") == "delete":
        services.activity_delete(actor=request.user, activity=activity, request=request)
        messages.success(request, _("The activity was deleted."))
        return redirect(reverse("activities_week", args=[school.pk]) + "?" + urlencode({"date": activity.date}))
    return _activity_form_page(request, school, activity)


@school_page("view_home")
def activity_detail(request, school, pk: int):
    activity = get_object_or_404(Activity.objects.with_evidence().select_related("semester", "created_by"),
                                 pk=pk, school=school)
    can_manage = "manage_materials" in _perms(request, school)
    back = reverse("activity_detail", args=[school.pk, activity.pk])
    if request.method == "POST":
        return _evidence_post(request, school, activity, "activity", can_manage=can_manage, back=back)
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


@school_page("view_home")
def activity_themes(request, school):
    """The Monday–Friday theme schedule of a semester (?semester=<id>, default the current one)."""
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
def _evidence_in(school, pk: int) -> Evidence:
    """The evidence item of the school (else 404); who may open it is the read action's rule
    (schools.downloads), shared with the API."""
    return get_object_or_404(Evidence.objects.select_related("care_contact", "school"), pk=pk, school=school)


@require_GET
@school_page(None)
def evidence_file(request, school, pk: int):
    evidence = _evidence_in(school, pk)
    return download_response(downloads.evidence_file(user=request.user, evidence=evidence, request=request))


@require_GET
@school_page(None)
def evidence_thumb(request, school, pk: int):
    evidence = _evidence_in(school, pk)
    return download_response(downloads.evidence_thumbnail(user=request.user, evidence=evidence, request=request))


@login_required
def reuse_flags(request):
    """Reused-evidence flags for the overseers (the same photo in several records or schools): the
    bureau across its district, a township admin inside its subtree (schools.selectors.reuse_match_q)."""
    if not roles_of(request.user) & SUBTREE_ROLES:
        raise PermissionDenied
    flags = list(selectors.reuse_flags_visible_to(request.user).select_related("school")[:300])
    return render(request, "schools/home/reuse_flags.html", {"flags": flags})
