"""A school's page in an assessment, the drill-down to an item's gaps, and manual scoring."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy import selectors as tenancy_selectors
from tenancy.forms import error_text as _error_text
from tenancy.models import School

from .. import selectors, services
from ..forms import ManualScoreForm
from ..models import ChecklistItem
from ._common import _assessment, _title, _zh


@login_required
def school_page(request, pk: int, school_pk: int):
    assessment = _assessment(request, pk)
    report = selectors.school_report(request.user, assessment, school_pk)  # 404 for a school not theirs
    for row in report["items"] + report["next_steps"]:
        row["title"] = _title(row)
        row["requirement"] = (row.get("requirement_zh") if _zh() or not row.get("requirement_en")
                              else row["requirement_en"])
    return render(request, "compliance/school.html", {
        "assessment": assessment, "report": report,
        "can_view_dashboard": selectors.can_view_dashboard(request.user, assessment),
    })


def _item_page(request, assessment, school_pk, code, form=None, status=200):
    data = selectors.item_drilldown(request.user, assessment, school_pk, code, request=request)
    item = data["item"]
    item["title"] = _title(item)
    item["requirement"] = item["requirement_zh"] if _zh() or not item["requirement_en"] else item["requirement_en"]
    school = get_object_or_404(School, pk=school_pk)
    can_score = (item["metric"] == "" and not assessment.is_locked
                 and tenancy_selectors.has_school_perm(request.user, "score_manual_items", school))
    if can_score and form is None:
        form = ManualScoreForm(points=item["points"], initial={"score": item["score"]})
    return render(request, "compliance/item.html", {
        "assessment": assessment, "data": data, "item": item, "school": data["school"],
        "is_manual": item["metric"] == "", "can_score": can_score, "form": form,
    }, status=status)


@login_required
def item_page(request, pk: int, school_pk: int, code: str):
    assessment = _assessment(request, pk)
    return _item_page(request, assessment, school_pk, code)


@login_required
@require_POST
def manual_score(request, pk: int, school_pk: int, code: str):
    assessment = _assessment(request, pk)
    selectors.school_report(request.user, assessment, school_pk)  # 404 before anything else
    school = get_object_or_404(School, pk=school_pk)
    item = ChecklistItem.objects.filter(version_id=assessment.checklist_version_id, code=code).first()
    if item is None:
        raise Http404("No such item.")
    back = redirect("compliance_item", pk=assessment.pk, school_pk=school.pk, code=code)
    form = ManualScoreForm(request.POST, points=item.points)
    if not form.is_valid():
        if not tenancy_selectors.has_school_perm(request.user, "score_manual_items", school):
            messages.error(request, _("You cannot score checklist items for this school."))
            return back
        return _item_page(request, assessment, school.pk, code, form=form, status=400)
    try:
        services.manual_score_set(assessment=assessment, school=school, item_code=code,
                                  score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                                  evidence_ids=form.cleaned_data["evidence_ids"], actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The score of %(code)s was saved.") % {"code": code})
    return back
