"""Pages of the care app: cases, the risk list, referrals (school), and the overseers' figures and
the risk rules (district). Phone-first; every read of a case, a referral or the risk list is
access-logged here (the selectors only read)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import idempotency
from tenancy import selectors as tenancy_selectors
from tenancy.downloads import download_response
from tenancy.forms import add_service_errors, error_text
from tenancy.services import access_log_record
from tenancy.views import school_page

from . import downloads, risk, risk_yaml, selectors, services
from .access_log_text import RISK_LIST
from .forms import CaseActionForm, CaseCloseForm, CaseOpenForm, ReferralAnswerForm, ReferralForm, RulesUploadForm
from .models import Case, Referral, RiskRuleVersion


def _level(request, school) -> str:
    """The user's care level on the school; the materials clerk and overseers get 403."""
    level = selectors.care_level(request.user, school)
    if level is None:
        raise PermissionDenied
    return level


def _case(request, school, pk) -> Case:
    _level(request, school)
    try:
        return selectors.case_detail(request.user, school, pk)
    except Case.DoesNotExist:
        raise Http404 from None


# ---------------------------------------------------------------- cases
@school_page("view_home")
def case_list(request, school):
    level = _level(request, school)
    status = request.GET.get("status") or Case.Status.OPEN
    if status not in Case.Status.values:
        status = Case.Status.OPEN
    today = timezone.localdate()
    cases = list(selectors.case_list(request.user, school, status=status))
    for c in cases:
        c.urgency = selectors.urgency(c, today)
    mine = [c for c in cases if c.owner_id == request.user.pk]
    others = [c for c in cases if c.owner_id != request.user.pk]
    return render(request, "care/cases.html", {
        "school": school, "mine": mine, "others": others, "status": status, "is_admin": level == selectors.ADMIN,
        "today": today,
    })


@school_page("view_home")
def case_new(request, school):
    _level(request, school)
    children = list(selectors.children_for_care(request.user, school).order_by("grade", "class_name", "name"))
    initial = {"child": request.GET.get("child")} if request.GET.get("child") else None
    form = CaseOpenForm(request.POST or None, initial=initial, children=children)
    if request.method == "POST" and form.is_valid():
        child = next(c for c in children if c.pk == form.cleaned_data["child"])
        try:
            outcome = idempotency.form_create_once(request, form, target=school, model=Case, create=lambda: services.case_open(
                actor=request.user, child=child, note=form.cleaned_data["note"], due_on=form.cleaned_data["due_on"],
                request=request))
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Follow-up case opened."))
            return redirect("care_case", school_pk=school.pk, pk=outcome.obj.pk)
    return render(request, "care/case_new.html", {"school": school, "form": form},
                  status=400 if request.method == "POST" else 200)


def _case_page(request, school, case, action_form=None, status=200):
    access_log_record(user=request.user, school_id=school.pk, action="view", obj=case, request=request)
    return render(request, "care/case_detail.html", {
        "school": school, "case": case, "actions": list(selectors.case_timeline(case)),
        "urgency": selectors.urgency(case, timezone.localdate()),
        "form": action_form or CaseActionForm(initial={"done_on": timezone.localdate()}),
    }, status=status)


@school_page("view_home")
def case_detail(request, school, pk: int):
    return _case_page(request, school, _case(request, school, pk))


@require_POST
@school_page("view_home")
def case_action(request, school, pk: int):
    case = _case(request, school, pk)
    form = CaseActionForm(request.POST)
    if form.is_valid():
        try:
            idempotency.form_create_once(request, form, target=school, create=lambda: services.case_action_add(
                actor=request.user, case=case, text=form.cleaned_data["text"], done_on=form.cleaned_data["done_on"],
                request=request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Action recorded."))
            return redirect("care_case", school_pk=school.pk, pk=case.pk)
    return _case_page(request, school, case, form, status=400)


@school_page("view_home")
def case_close(request, school, pk: int):
    """The confirmation page: the reason and a tick, then the case is closed for good."""
    case = _case(request, school, pk)
    if not case.is_open:
        messages.info(request, _("The case is already closed."))
        return redirect("care_case", school_pk=school.pk, pk=case.pk)
    form = CaseCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(actor=request.user, case=case, reason=form.cleaned_data["close_reason"],
                                request=request)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The case is closed."))
            return redirect("care_cases", school_pk=school.pk)
    return render(request, "care/case_close.html", {"school": school, "case": case, "form": form},
                  status=400 if request.method == "POST" else 200)


# ---------------------------------------------------------------- risk list
@school_page("view_home")
def risk_list(request, school):
    level = _level(request, school)
    rows, children, rules = selectors.risk_list(request.user, school)
    access_log_record(user=request.user, school_id=school.pk, action="view", object_type=RISK_LIST,
                      object_id=school.pk, request=request, detail={"children": len(rows)})
    open_cases = set(Case.objects.filter(school=school, status=Case.Status.OPEN,
                                         child_id__in=[r.child_id for r in rows]).values_list("child_id", flat=True))
    shown = [{"row": r, "child": children[r.child_id], "why": r.explanation(rules), "has_case": r.child_id in open_cases}
             for r in rows if r.level != risk.LOW or request.GET.get("all")]
    counts = {lvl: sum(1 for r in rows if r.level == lvl) for lvl in (risk.HIGH, risk.MEDIUM, risk.LOW)}
    return render(request, "care/risk.html", {
        "school": school, "rows": shown, "counts": counts, "levels": risk.LEVEL_LABELS, "show_all": bool(request.GET.get("all")),
        "is_admin": level == selectors.ADMIN, "thresholds": rules["levels"],
    })


# ---------------------------------------------------------------- referrals
@school_page("view_home")
def referral_list(request, school):
    _level(request, school)
    referrals = list(selectors.referrals_visible_to(request.user, school).filter(school=school)
                     .select_related("child", "made_by").order_by("-made_on", "-id")[:200])
    return render(request, "care/referrals.html", {"school": school, "referrals": referrals})


@school_page("view_home")
def referral_new(request, school):
    _level(request, school)
    children = list(selectors.children_for_care(request.user, school).order_by("grade", "class_name", "name"))
    initial = {"child": request.GET.get("child"), "made_on": timezone.localdate()}
    form = ReferralForm(request.POST or None, initial=initial, children=children)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        child = next(c for c in children if c.pk == data.pop("child"))
        try:
            outcome = idempotency.form_create_once(request, form, target=school, model=Referral,
                                                   create=lambda: services.referral_create(
                                                       actor=request.user, child=child, request=request, **data))
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Referral recorded."))
            return redirect("care_referral", school_pk=school.pk, pk=outcome.obj.pk)
    return render(request, "care/referral_new.html", {"school": school, "form": form},
                  status=400 if request.method == "POST" else 200)


def _referral(request, school, pk) -> Referral:
    _level(request, school)
    referral = (selectors.referrals_visible_to(request.user, school).filter(school=school)
                .select_related("child", "made_by").filter(pk=pk).first())
    if referral is None:
        raise Http404
    return referral


@school_page("view_home")
def referral_detail(request, school, pk: int):
    referral = _referral(request, school, pk)
    form = ReferralAnswerForm(request.POST or None, initial={"answered_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.referral_answer(actor=request.user, referral=referral, request=request,
                                         answer=form.cleaned_data["answer"],
                                         answered_on=form.cleaned_data["answered_on"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Answer recorded."))
                return redirect("care_referral", school_pk=school.pk, pk=referral.pk)
        status = 400
    access_log_record(user=request.user, school_id=school.pk, action="view", obj=referral, request=request)
    return render(request, "care/referral_detail.html", {"school": school, "referral": referral, "form": form},
                  status=status)


# ---------------------------------------------------------------- figures for overseers
@school_page("view_aggregates")
def school_counts(request, school):
    """A township's figures: its school and its village schools, counts only."""
    schools = list(tenancy_selectors.schools_visible_to(request.user)
                   .filter(path__startswith=school.path).order_by("path"))
    return render(request, "care/counts.html", {"place": school.name, "rows": selectors.care_counts(schools),
                                                "district": None})


def _district(request, pk):
    district = tenancy_selectors.districts_visible_to(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404
    return district


@login_required
def district_overview(request, pk: int):
    """The bureau's figures per school (never a child) and the district's risk rules."""
    district = _district(request, pk)
    if not tenancy_selectors.has_district_perm(request.user, "view_aggregates", district):
        raise PermissionDenied
    schools = list(tenancy_selectors.schools_visible_to(request.user).filter(district=district).order_by("path"))
    can_edit = tenancy_selectors.has_district_perm(request.user, "manage_checklists", district)
    form = RulesUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                version = services.risk_rules_save(actor=request.user, district=district,
                                                   source=form.cleaned_data["file"], request=request)
            except ValidationError as exc:
                form.add_error("file", exc.message_dict.get("source", exc.messages))
            else:
                messages.success(request, _("Risk rules version %(n)d saved and active.") % {"n": version.number})
                return redirect("care_district", pk=district.pk)
        status = 400
    return render(request, "care/counts.html", {
        "place": district.name, "rows": selectors.care_counts(schools), "district": district,
        "versions": list(selectors.rule_versions(district.pk)), "can_edit": can_edit, "form": form,
        "default_source": risk_yaml.default_source(),
    }, status=status)


@login_required
def rules_download(request, pk: int, version_pk: int):
    district = _district(request, pk)
    version = get_object_or_404(RiskRuleVersion, pk=version_pk, district=district)
    return download_response(downloads.rules_yaml(user=request.user, district=district, version=version))


@require_POST
@login_required
def rules_activate(request, pk: int, version_pk: int):
    district = _district(request, pk)
    version = get_object_or_404(RiskRuleVersion, pk=version_pk, district=district)
    services.risk_rules_activate(actor=request.user, version=version, request=request)
    messages.success(request, _("Risk rules version %(n)d is active.") % {"n": version.number})
    return redirect(reverse("care_district", kwargs={"pk": district.pk}))
