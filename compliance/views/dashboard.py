"""The compliance index, a school's own score, and the district dashboard."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors

from .. import selectors
from ._common import _assessment, _is_manager, _num, _own_school_ids, _title


@login_required
def index(request):
    """The assessments the user can see; overseers go on to the dashboard, schools to their page."""
    assessments = list(selectors.assessments_visible_to(request.user).select_related("district"))
    own = _own_school_ids(request.user)
    rows = []
    for a in assessments:
        rows.append({"assessment": a, "dashboard": selectors.can_view_dashboard(request.user, a),
                     "school_id": own[0] if own else None})
    can_create = any(_is_manager(request.user, d.id) for d in tenancy_selectors.districts_visible_to(request.user))
    return render(request, "compliance/index.html", {"rows": rows, "can_create": can_create,
                                                     "can_manage_checklists": bool(
                                                         selectors.checklist_versions_managed_by(request.user).exists()
                                                         or can_create)})


@login_required
def my_score(request):
    """A school user's own school in the latest assessment that covers it."""
    own = [sid for sid in _own_school_ids(request.user)]
    if not own:
        raise Http404("No school.")
    for assessment in selectors.assessments_visible_to(request.user).order_by("-semester_start", "-id"):
        return redirect("compliance_school", pk=assessment.pk, school_pk=own[0])
    messages.info(request, _("There is no assessment of your school yet."))
    return redirect("compliance_index")



@login_required
def dashboard(request, pk: int):
    assessment = _assessment(request, pk)
    if not selectors.can_view_dashboard(request.user, assessment):
        # School staff have their own page instead of the district's ranking.
        own = [sid for sid in _own_school_ids(request.user)
               if sid in set(tenancy_selectors.school_ids_for_user(request.user))]
        return redirect("compliance_school", pk=assessment.pk, school_pk=own[0]) if own else redirect(
            "compliance_index")
    user = request.user
    ranking = selectors.ranking(user, assessment)
    heat = selectors.heatmap(user, assessment)
    trend = selectors.trend(user, assessment)
    school_urls = {r["school_id"]: reverse("compliance_school", kwargs={"pk": assessment.pk, "school_pk": r["school_id"]})
                   for r in ranking}
    item_titles = [_title(it) for it in heat["items"]]
    for it, title in zip(heat["items"], item_titles):
        it["title"] = title
    heat_rows = []
    for school, cells, statuses in zip(heat["schools"], heat["cells"], heat["statuses"]):
        heat_rows.append({"school": school, "url": school_urls[school["school_id"]],
                          "cells": [{"code": it["code"], "share": c, "status": s,
                                     "pct": None if c is None else round(c * 100)}
                                    for it, c, s in zip(heat["items"], cells, statuses)]})
    names = {r["school_id"]: r["name"] for r in ranking}
    trend_rows = [{"school_id": sid, "name": names.get(sid, sid), "points": pts}
                  for sid, pts in sorted(trend.items(), key=lambda kv: str(names.get(kv[0], kv[0])))]
    chart_data = {
        "labels": {"score": _("Score"), "points_earned": _("share of points earned"),
                   "not_applicable": _("not applicable"), "pending": _("pending")},
        "ranking": [{"name": r["name"], "score": _num(r["score"]), "rank": r["rank"], "url": school_urls[r["school_id"]]}
                    for r in ranking],
        "heatmap": {
            "schools": [s["name"] for s in heat["schools"]],
            "school_urls": [school_urls[s["school_id"]] for s in heat["schools"]],
            "items": [it["code"] for it in heat["items"]],
            "item_titles": item_titles,
            "cells": [[x, y, None if c is None else round(c * 100), st]
                      for y, (cells, sts) in enumerate(zip(heat["cells"], heat["statuses"]))
                      for x, (c, st) in enumerate(zip(cells, sts))],
        },
        "trend": [{"name": t["name"], "points": [[p["taken_at"].isoformat(), _num(p["score"])] for p in t["points"]]}
                  for t in trend_rows],
    }
    can_manage = _is_manager(user, assessment.district_id)
    return render(request, "compliance/dashboard.html", {
        "assessment": assessment, "ranking": ranking, "heat_items": heat["items"], "heat_rows": heat_rows,
        "trend_rows": trend_rows, "chart_data": chart_data, "can_manage": can_manage,
        "can_view_exports": selectors.can_view_exports(user, assessment),
        "previous_snapshot_at": ranking[0]["previous_snapshot_at"] if ranking else None,
        "snapshots": assessment.snapshots.order_by("-taken_at")[:5],
    })
