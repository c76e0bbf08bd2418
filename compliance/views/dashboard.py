"""The compliance index, a school's own score, and the district dashboard."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors
from tenancy import tables

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



# The heatmap's colour bands over the share of points earned (whole percent): the table's cell
# classes, its legend and the chart's pieces all come from this one list.
HEAT_BANDS = [("p0", 0, 24), ("p1", 25, 49), ("p2", 50, 74), ("p3", 75, 99), ("p4", 100, 100)]
HEAT_COLOURS = {"p0": "#f4b6b0", "p1": "#fbd7a5", "p2": "#fdeeb0", "p3": "#bfe3c8", "p4": "#8fcca3"}


def heat_band(pct: int | None) -> str:
    if pct is None:
        return ""
    return next((band for band, low, high in HEAT_BANDS if low <= pct <= high), "p0")


def heat_legend() -> list[dict]:
    return [{"band": band, "min": low, "max": high, "colour": HEAT_COLOURS[band],
             "label": f"{low}%" if low == high else f"{low}–{high}%"} for band, low, high in HEAT_BANDS]


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
    table = selectors.ranking_table(user, assessment, request.GET)
    for error in table["query"].errors:
        messages.warning(request, error)
    ranking = table["rows"]
    heat = selectors.heatmap(user, assessment)
    trend = selectors.trend(user, assessment)
    school_urls = {s["school_id"]: reverse("compliance_school", kwargs={"pk": assessment.pk, "school_pk": s["school_id"]})
                   for s in heat["schools"]}
    item_titles = [_title(it) for it in heat["items"]]
    for it, title in zip(heat["items"], item_titles):
        it["title"] = title
    heat_rows = []
    for school, cells, statuses in zip(heat["schools"], heat["cells"], heat["statuses"]):
        row_cells = []
        for it, c, s in zip(heat["items"], cells, statuses):
            pct = None if c is None else round(c * 100)
            row_cells.append({"code": it["code"], "title": it["title"], "share": c, "status": s, "pct": pct,
                              "band": heat_band(pct)})
        heat_rows.append({"school": school, "url": school_urls[school["school_id"]], "cells": row_cells})
    names = {s["school_id"]: s["name"] for s in heat["schools"]}
    trend_rows = [{"school_id": sid, "name": names.get(sid, sid), "points": pts}
                  for sid, pts in sorted(trend.items(), key=lambda kv: str(names.get(kv[0], kv[0])))]
    by_rank = sorted(ranking, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"]))
    chart_data = {
        "labels": {"score": _("Score"), "points_earned": _("share of points earned"),
                   "not_applicable": _("not applicable"), "pending": _("pending")},
        "ranking": [{"name": r["name"], "score": _num(r["score"]), "rank": r["rank"], "url": school_urls.get(r["school_id"])}
                    for r in by_rank],
        "heatmap": {
            "schools": [s["name"] for s in heat["schools"]],
            "school_urls": [school_urls[s["school_id"]] for s in heat["schools"]],
            "items": [it["code"] for it in heat["items"]],
            "item_titles": item_titles,
            "cells": [[x, y, None if c is None else round(c * 100), st]
                      for y, (cells, sts) in enumerate(zip(heat["cells"], heat["statuses"]))
                      for x, (c, st) in enumerate(zip(cells, sts))],
            "bands": heat_legend(),
        },
        "trend": [{"name": t["name"], "points": [[p["taken_at"].isoformat(), _num(p["score"])] for p in t["points"]]}
                  for t in trend_rows],
    }
    can_manage = _is_manager(user, assessment.district_id)
    query = table["query"]
    params = "?" + urlencode(query.params()) if query.params() else ""
    return render(request, "compliance/dashboard.html", {
        "assessment": assessment, "ranking": ranking, "heat_items": heat["items"], "heat_rows": heat_rows,
        "heat_legend": heat_legend(), "trend_rows": trend_rows, "chart_data": chart_data, "can_manage": can_manage,
        "can_view_exports": selectors.can_view_exports(user, assessment),
        "previous_snapshot_at": table["previous_snapshot_at"],
        "snapshots": assessment.snapshots.order_by("-taken_at")[:5],
        "townships": table["townships"], "query": query,
        "ranking_headers": tables.sort_headers(query, [
            {"key": "rank", "label": _("Rank")}, {"key": "school", "label": _("School")},
            {"key": "score", "label": _("Score"), "num": True}, {"key": "change", "label": _("Change"), "num": True},
            {"key": "lost", "label": _("Points lost"), "num": True},
            {"key": "pending", "label": _("Pending"), "num": True}]),
        "export_url": reverse("compliance_ranking_export", kwargs={"pk": assessment.pk}) + params,
        "print_url": reverse("compliance_ranking_print", kwargs={"pk": assessment.pk}) + params,
    })
