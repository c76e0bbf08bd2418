"""The user's notices: the inbox, their channel choices and (for admins) the group robots."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import EmailChoicesForm, MarkReadForm, RobotForm, RobotRemoveForm
from .models import Kind

NOTIFICATIONS_PAGE_SIZE = 50


@login_required
@require_GET
def notifications(request):
    qs = selectors.notifications_for(user=request.user)
    page = Paginator(qs, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    for n in page:
        # Only same-site paths become links (a stored link is data, not trusted markup).
        n.safe_link = n.link if n.link and n.link.startswith("/") and url_has_allowed_host_and_scheme(
            n.link, allowed_hosts={request.get_host()}) else ""
    return render(request, "notices/notifications.html", {
        "page": page, "unread": selectors.notifications_unread_count(user=request.user),
    })


@login_required
@require_POST
def notifications_mark_read(request):
    own_unread = list(selectors.notifications_for(user=request.user, unread_only=True).values_list("id", flat=True))
    form = MarkReadForm(request.POST, choices=own_unread)
    if form.is_valid():
        ids = own_unread if form.cleaned_data["all"] else form.cleaned_data["ids"]
        n = services.notification_mark_read(user=request.user, notification_ids=ids)
        if n:
            messages.success(request, _("Marked as read."))
    return redirect("notifications")


def _settings_context(request, *, email_form=None, robot_form=None):
    places = selectors.robot_places(user=request.user)
    email_form = email_form or EmailChoicesForm(initial=selectors.email_choices(user=request.user))
    return {
        "email_form": email_form,
        "email_rows": [(email_form[k.value], k.label) for k in Kind],
        "has_email": bool(request.user.email),
        "robots": list(selectors.robots_managed_by(user=request.user)),
        "robot_form": robot_form or (RobotForm(places=places) if places else None),
    }


@login_required
@require_http_methods(["GET", "POST"])
def notice_settings(request):
    if request.method == "POST":
        form = EmailChoicesForm(request.POST)
        if form.is_valid():
            services.email_choices_save(user=request.user, choices=form.cleaned_data)
            messages.success(request, _("Your notice settings were saved."))
            return redirect("notice_settings")
        return render(request, "notices/settings.html", _settings_context(request, email_form=form))
    return render(request, "notices/settings.html", _settings_context(request))


@login_required
@require_POST
def notice_robot_add(request):
    places = selectors.robot_places(user=request.user)
    if not places:
        raise Http404
    form = RobotForm(request.POST, places=places)
    if form.is_valid():
        district, school = form.places[form.cleaned_data["place"]]
        data = {k: form.cleaned_data[k] for k in ("channel", "name", "webhook_url", "secret", "keyword", "kinds")}
        try:
            services.robot_create(actor=request.user, district_id=district.pk,
                                  school_id=school.pk if school else None, **data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The robot was added."))
            return redirect("notice_settings")
    return render(request, "notices/settings.html", _settings_context(request, robot_form=form), status=400)


@login_required
@require_POST
def notice_robot_remove(request):
    robots = {r.pk: r for r in selectors.robots_managed_by(user=request.user)}
    form = RobotRemoveForm(request.POST, choices=list(robots))
    if not form.is_valid():
        raise Http404  # not one of the user's robots: as if it did not exist
    services.robot_delete(actor=request.user, robot=robots[form.cleaned_data["robot"]])
    messages.success(request, _("The robot was removed."))
    return redirect("notice_settings")
