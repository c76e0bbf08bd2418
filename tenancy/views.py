"""The web UI shell: the school page, staff and roles, the access log.

Views validate, call a selector or a service, render. Every page with a school or an object in
its URL looks it up among what the user can see: a school they cannot see is 404 (never 403, so
its existence is not revealed); a school they see without the needed permission is 403.
"""
from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from . import access_log_text, selectors, services
from .forms import AccessLogFilterForm, RoleGrantForm, StaffAddForm, add_service_errors, grantable_role_choices
from .forms import error_text as _error_text
from .models import Membership, School

ACCESS_LOG_PAGE_SIZE = 50


def school_for(request, pk: int, perm: str | None = None) -> School:
    """The school `pk` if the user can see it (else 404) and holds `perm` on it (else 403).

    Later apps use this for their own school pages too.
    """
    school = get_object_or_404(selectors.schools_visible_to(request.user).select_related("parent"), pk=pk)
    if perm is not None and not selectors.has_school_perm(request.user, perm, school):
        raise PermissionDenied
    return school


def school_page(permission: str | None, model=None):
    """Guard a page of one school: login required, `school_pk` from the URL resolved by school_for
    (a school the user cannot see is 404, one without `permission` 403) and passed as `school`.
    With `model`, the URL's `pk` is loaded inside that school (another school's object is 404)
    and passed as the next argument."""
    def decorate(view):
        @login_required
        @functools.wraps(view)
        def page(request, *args, school_pk, **kwargs):
            school = school_for(request, school_pk, permission)
            if model is not None:
                args = (get_object_or_404(model, pk=kwargs.pop("pk"), school=school), *args)
            return view(request, school, *args, **kwargs)
        return page
    return decorate


@login_required
def school_detail(request, pk: int):
    school = school_for(request, pk, "view_home")
    summary = selectors.school_summary(request.user, school.pk)
    perms = selectors.permissions_on_school(request.user, school)
    villages = selectors.schools_visible_to(request.user).filter(parent=school).order_by("path")
    return render(request, "tenancy/school_detail.html", {
        "school": summary, "perms": perms, "villages": villages,
    })


def _staff_page(request, school, add_form=None, status=200):
    actor = request.user
    staff = selectors.school_staff(school)
    grantable = dict(grantable_role_choices(actor, school))
    for entry in staff:
        held = {m.role for m in entry["memberships"]}
        entry["grant_choices"] = [(v, label) for v, label in grantable.items() if v not in held]
        for m in entry["memberships"]:
            m.can_revoke = m.role in grantable and m.user_id != actor.id
        entry["can_manage"] = bool(entry["grant_choices"]) or any(m.can_revoke for m in entry["memberships"])
    return render(request, "tenancy/school_staff.html", {
        "school": school, "staff": staff,
        "add_form": add_form or StaffAddForm(actor=actor, school=school),
        "can_add": bool(grantable),
    }, status=status)


@login_required
def school_staff(request, pk: int):
    """List staff and their roles; POST adds a new staff member with one role."""
    school = school_for(request, pk, "manage_staff")
    if request.method == "POST":
        form = StaffAddForm(request.POST, actor=request.user, school=school)
        if form.is_valid():
            try:
                services.staff_member_add(actor=request.user, school=school, request=request, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied:
                form.add_error("role", _("You cannot grant this role here."))
            else:
                messages.success(request, _("%(name)s was added to the staff.") % {
                    "name": form.cleaned_data["display_name"]})
                return redirect("school_staff", pk=school.pk)
        return _staff_page(request, school, add_form=form)
    return _staff_page(request, school)


@login_required
def school_staff_grant(request, pk: int):
    school = school_for(request, pk, "manage_staff")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleGrantForm(request.POST, actor=request.user, school=school)
    if form.is_valid():
        try:
            services.staff_role_grant(actor=request.user, school=school, request=request, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The role was granted."))
    else:
        messages.error(request, _("Choose a staff member and a role you may grant."))
    return redirect("school_staff", pk=school.pk)


@login_required
def school_membership_revoke(request, pk: int, membership_pk: int):
    school = school_for(request, pk, "manage_staff")
    membership = get_object_or_404(Membership, pk=membership_pk, school=school)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.staff_role_revoke(actor=request.user, membership=membership, request=request)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The role was revoked."))
    return redirect("school_staff", pk=school.pk)


@login_required
def school_access_log(request, pk: int):
    school = school_for(request, pk, "view_access_log")
    form = AccessLogFilterForm(request.GET or None, users=selectors.access_log_users(school))
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "action": data["action"], "user_id": data["user"].pk if data["user"] else None,
            "date_from": data["date_from"], "date_to": data["date_to"],
        }
    entries = selectors.access_log_for_school(school, **filters)
    page = Paginator(entries, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    access_log_text.describe(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "tenancy/access_log.html", {
        "school": school, "form": form, "page": page, "query": query.urlencode(),
    })


@login_required
def more(request):
    """更多: the links that are not among the role's tabs (the context processor lists them)."""
    return render(request, "tenancy/more.html")


class LogoutView(auth_views.LogoutView):
    """Logging out also clears what the browser keeps for offline work (IndexedDB with a teacher's
    children, the service worker's caches): a shared or lost phone keeps no child's data."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
