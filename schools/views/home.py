"""The home's setup page: site, equipment, leadership group and the nine rule documents."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.views import school_page

from .. import forms_home as forms
from .. import selectors, services
from ..models import ActivitySite, Equipment, LeadershipMember, RuleDocumentVersion, RuleKind
from ._common import _call, _edit_page, _perms, _post_or_none, _submit


# ---------------------------------------------------------------- the home: site, equipment, leadership, rules
@school_page("view_home")
def home_setup(request, school):
    perms = _perms(request, school)
    can_manage = "manage_materials" in perms
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
        # The data officer's page (privacy app) is the school admin's, like the children's archive.
        "can_manage_children": "manage_children" in perms,
        "rules_present": sum(1 for r in rules if r["present"]), "rules_missing": [r for r in rules if not r["present"]],
        "site_form": site_form, "equipment_form": equipment_form, "leader_form": leader_form,
        "rule_form": rule_form, "open_form": which,
    })


def _home_record_page(request, school, obj, form_class, fields, *, title: str, anchor: str, update,
                      form_kwargs: dict | None = None):
    """The edit page of one of the home's records (site, equipment, leadership member): the form
    filled from the record's `fields`, saved through `update(data)`, back to its section of the
    setup page."""
    form = form_class(_post_or_none(request), initial={f: getattr(obj, f) for f in fields},
                      **(form_kwargs or {}))
    return _edit_page(request, school, obj, form, title=title, update=update,
                      back=reverse("home_setup", args=[school.pk]) + anchor)


@school_page("view_home", ActivitySite)
def home_site_edit(request, school, site: ActivitySite):
    return _home_record_page(
        request, school, site, forms.SiteForm, services.SITE_FIELDS, title=_("Activity site"), anchor="#site",
        update=lambda d: services.activity_site_update(actor=request.user, site=site, **d))


@school_page("view_home", Equipment)
def home_equipment_edit(request, school, item: Equipment):
    return _home_record_page(
        request, school, item, forms.EquipmentForm, services.EQUIPMENT_FIELDS, title=_("Equipment"),
        anchor="#equipment", update=lambda d: services.equipment_update(actor=request.user, item=item, **d))


@school_page("view_home", LeadershipMember)
def home_leader_edit(request, school, member: LeadershipMember):
    return _home_record_page(
        request, school, member, forms.LeadershipForm, services.LEADERSHIP_FIELDS, form_kwargs={"school": school},
        title=_("Leadership group member"), anchor="#leader",
        update=lambda d: services.leadership_member_update(actor=request.user, member=member, **d))


@school_page("view_home")
def home_rule_detail(request, school, kind: str):
    """One of the nine rule documents: its versions, and the upload of a new version."""
    if kind not in RuleKind.values:
        raise Http404
    can_manage = "manage_materials" in _perms(request, school)
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["kind"] = kind  # the page is about one kind; the URL decides it
    form = forms.RuleVersionForm(data, request.FILES if data is not None else None, initial={"kind": kind})
    if _submit(request, form, can_manage, lambda: services.rule_document_version_add(
            actor=request.user, school=school, request=request, **{**form.cleaned_data, "kind": kind}), school=school) is not None:
        messages.success(request, _("The new version was saved."))
        return redirect("home_rule_detail", school.pk, kind)
    form.fields["kind"].widget = form.fields["kind"].hidden_widget()
    versions = (RuleDocumentVersion.objects.filter(school=school, document__kind=kind)
                .select_related("evidence", "uploaded_by", "document").order_by("-number"))
    return render(request, "schools/home/rule_detail.html", {
        "school": school, "kind": kind, "label": RuleKind(kind).label, "versions": versions,
        "form": form, "can_manage": can_manage,
    })
