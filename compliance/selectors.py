"""Reads for the compliance dashboard and school page. Every selector takes the user and returns only
the schools the user may see (tenancy.selectors.school_ids_for_user): a school user its own school,
a township centre its subtree, the bureau its district. Anything else is 404, never 403.

Scores are computed once for the whole assessment (scoring.assessment_scores, cached) and then
filtered; a school user therefore learns its own rank, never another school's figures.
"""
from __future__ import annotations

from django.db.models import Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404

from schools.masking import mask_child_name
from tenancy import selectors as tenancy_selectors
from tenancy import tables
from tenancy.models import School
from tenancy.replica import replica_reads
from tenancy.scoping import tenant_scope

from .models import Assessment, ChecklistVersion, ComplianceExport, ManualScoreChange, Snapshot, SnapshotSchool
from .scoring import NOT_APPLICABLE, PENDING, assessment_scores


# --------------------------------------------------------------------------- assessments
def assessments_visible_to(user):
    """Assessments whose subtree contains at least one school the user sees."""
    ids = tenancy_selectors.school_ids_for_user(user)
    if not ids:
        return Assessment.objects.none()
    paths = School.objects.filter(id__in=ids).values_list("path", "district_id")
    ancestor_ids, district_ids = set(), set()
    for path, district_id in paths:
        ancestor_ids.update(int(p) for p in path.strip("/").split("/") if p)
        district_ids.add(district_id)
    return Assessment.objects.filter(
        Q(root_school__isnull=True) | Q(root_school_id__in=ancestor_ids), district_id__in=district_ids,
    ).select_related("checklist_version", "root_school")


def assessment_get_for_user(user, pk) -> Assessment:
    assessment = assessments_visible_to(user).filter(pk=pk).first()
    if assessment is None:
        raise Http404("No such assessment.")
    return assessment


def checklist_versions_visible_to(user):
    district_ids = tenancy_selectors.districts_visible_to(user).values_list("id", flat=True)
    return ChecklistVersion.objects.filter(checklist__district_id__in=district_ids).select_related("checklist")


def _visible_scores(user, assessment: Assessment) -> tuple[dict, list[int]]:
    scores = assessment_scores(assessment)
    allowed = set(tenancy_selectors.school_ids_for_user(user))
    order = [sid for sid in scores["order"] if sid in allowed]
    return scores, order


def _previous_snapshot(assessment: Assessment, scores: dict) -> Snapshot | None:
    qs = Snapshot.objects.filter(assessment=assessment)
    if scores["source"].startswith("snapshot:"):
        qs = qs.exclude(pk=int(scores["source"].split(":", 1)[1]))
    return qs.order_by("-taken_at", "-id").first()


# --------------------------------------------------------------------------- dashboard
def ranking(user, assessment: Assessment) -> list[dict]:
    """Score, rank and change since the last snapshot, for the schools the user sees."""
    with replica_reads(reason="compliance ranking"):
        scores, order = _visible_scores(user, assessment)
        previous: dict[int, tuple] = {}
        snap = _previous_snapshot(assessment, scores)
        if snap is not None and order:
            with tenant_scope(order):
                previous = {sid: (score, rank) for sid, score, rank in SnapshotSchool.objects.filter(
                    snapshot=snap, school_id__in=order).values_list("school_id", "score", "rank")}
    out = []
    for sid in order:
        row = scores["schools"][sid]
        prev_score, prev_rank = previous.get(sid, (None, None))
        out.append({
            "school_id": sid, "name": row["name"], "code": row["code"], "score": row["score"],
            "earned": row["earned"], "applicable_points": row["applicable_points"], "rank": row["rank"],
            "lost": row["lost"], "pending": row["pending"],
            "previous_score": prev_score, "previous_rank": prev_rank,
            "score_change": (row["score"] - prev_score) if row["score"] is not None and prev_score is not None else None,
            # Positive: the school moved up.
            "rank_change": (prev_rank - row["rank"]) if row["rank"] is not None and prev_rank is not None else None,
            "previous_snapshot_at": snap.taken_at if snap else None,
        })
    return out


RANKING_COLUMNS = ("rank", "school", "township", "score", "change", "lost", "pending")


def ranking_table(user, assessment: Assessment, params) -> dict:
    """The ranking of the dashboard, its XLSX export and its print view: the schools the user sees,
    of one township if `params` asks (GET `township`), ordered by any column (GET `sort`, "-" for
    descending; bad values fall back to the whole list by rank, with `errors`)."""
    rows = ranking(user, assessment)
    schools = {s.id: s for s in School.objects.filter(id__in=[r["school_id"] for r in rows])}
    townships, township_of = tables.townships_of(user, schools.values())
    names = {t.id: t.name for t in townships}
    for r in rows:
        r["township_id"] = township_of.get(r["school_id"])
        r["township"] = names.get(r["township_id"], "")
    query = tables.parse_table_query(params, columns=RANKING_COLUMNS, default_sort="rank", townships=townships)
    keys = {"rank": lambda r: r["rank"], "school": lambda r: r["name"], "township": lambda r: r["township"],
            "score": lambda r: r["score"], "change": lambda r: r["score_change"], "lost": lambda r: r["lost"],
            "pending": lambda r: r["pending"]}
    ordered = tables.filter_sort(rows, query, township_of=lambda r: r["township_id"], keys=keys,
                                 tie=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"]))
    return {"rows": ordered, "townships": townships, "query": query, "columns": RANKING_COLUMNS,
            "previous_snapshot_at": rows[0]["previous_snapshot_at"] if rows else None}


def heatmap(user, assessment: Assessment) -> dict:
    """Schools x items: each cell the share of the item's points earned (0..1), None when the item
    does not apply or is pending, with its status."""
    with replica_reads(reason="compliance heatmap"):
        scores, order = _visible_scores(user, assessment)
    items = scores["items"]
    cells, statuses = [], []
    for sid in order:
        row = scores["schools"][sid]["items"]
        cells.append([
            float(row[it["code"]]["score"] / it["points"]) if row[it["code"]]["score"] is not None else None
            for it in items
        ])
        statuses.append([row[it["code"]]["status"] for it in items])
    return {
        "items": [{"code": it["code"], "title_zh": it["title_zh"], "title_en": it["title_en"],
                   "points": it["points"], "section_code": it["section_code"]} for it in items],
        "schools": [{"school_id": sid, "name": scores["schools"][sid]["name"], "code": scores["schools"][sid]["code"],
                     "score": scores["schools"][sid]["score"]} for sid in order],
        "cells": cells, "statuses": statuses,
    }


def trend(user, assessment: Assessment, school_ids=None) -> dict[int, list[dict]]:
    """Each visible school's score and rank across the assessment's snapshots, oldest first."""
    allowed = set(tenancy_selectors.school_ids_for_user(user))
    ids = sorted(allowed if school_ids is None else allowed & {int(s) for s in school_ids})
    if not ids:
        return {}
    with tenant_scope(ids):
        rows = SnapshotSchool.objects.filter(snapshot__assessment=assessment, school_id__in=ids).order_by(
            "snapshot__taken_at", "snapshot_id").values_list(
            "school_id", "snapshot_id", "snapshot__taken_at", "snapshot__kind", "score", "rank")
        out: dict[int, list[dict]] = {}
        for sid, snap_id, taken_at, kind, score, rank in rows:
            out.setdefault(sid, []).append({"snapshot_id": snap_id, "taken_at": taken_at, "kind": kind,
                                            "kind_label": Snapshot.Kind(kind).label, "score": score, "rank": rank})
    return out


def school_report(user, assessment: Assessment, school_id: int) -> dict:
    """One school's score, its items sorted by points lost, and what to do next."""
    scores, order = _visible_scores(user, assessment)
    if int(school_id) not in order:
        raise Http404("No such school in this assessment.")
    row = scores["schools"][int(school_id)]
    items = []
    for it in scores["items"]:
        cell = row["items"][it["code"]]
        items.append({
            "code": it["code"], "title_zh": it["title_zh"], "title_en": it["title_en"],
            "section_code": it["section_code"], "points": it["points"], "score": cell["score"],
            "value": cell["value"], "status": cell["status"], "lost": cell["lost"], "metric": it["metric"],
            "check_method": it["check_method"], "requirement_zh": it["requirement_zh"],
            "requirement_en": it["requirement_en"],
        })
    items.sort(key=lambda r: (-r["lost"], r["status"] != PENDING, -r["points"], r["code"]))
    next_steps = [
        {"code": r["code"], "title_zh": r["title_zh"], "title_en": r["title_en"], "lost": r["lost"],
         "requirement_zh": r["requirement_zh"], "requirement_en": r["requirement_en"]}
        for r in items if r["lost"] > 0
    ]
    return {
        "school_id": row["school_id"], "name": row["name"], "code": row["code"], "score": row["score"],
        "earned": row["earned"], "applicable_points": row["applicable_points"], "rank": row["rank"],
        "ranked_schools": sum(1 for s in scores["schools"].values() if s["rank"] is not None),
        "declared_total": scores["declared_total"], "lost": row["lost"], "items": items,
        "next_steps": next_steps,
        "not_applicable": [r["code"] for r in items if r["status"] == NOT_APPLICABLE],
        "pending": [r["code"] for r in items if r["status"] == PENDING],
    }


def manual_score_history(user, assessment: Assessment, school_id: int, item_code: str | None = None) -> list[dict]:
    """The audit trail of a school's manual scores (visible schools only)."""
    if int(school_id) not in set(tenancy_selectors.school_ids_for_user(user)):
        raise Http404("No such school.")
    with tenant_scope([int(school_id)]):
        qs = ManualScoreChange.objects.filter(assessment=assessment, school_id=school_id)
        if item_code:
            qs = qs.filter(item__code=item_code)
        # People are named as everywhere else: the display name, the login name only without one.
        qs = qs.annotate(by_name=Coalesce(NullIf("changed_by__display_name", Value("")), "changed_by__username"))
        return [
            {"item": code, "changed_by": by, "changed_at": at, "old_score": old, "new_score": new,
             "old_comment": old_c, "comment": c, "evidence_ids": ev}
            for code, by, at, old, new, old_c, c, ev in qs.order_by("changed_at", "id").values_list(
                "item__code", "by_name", "changed_at", "old_score", "new_score", "old_comment",
                "comment", "evidence_ids")
        ]


def exports_of(user, assessment: Assessment):
    """Export history, for bureau users of the district."""
    if not tenancy_selectors.has_district_perm(user, "view_aggregates", assessment.district_id):
        return ComplianceExport.objects.none()
    return ComplianceExport.objects.filter(assessment=assessment).select_related("requested_by")



# --------------------------------------------------------------------------- web UI reads
def can_view_dashboard(user, assessment: Assessment) -> bool:
    """The district dashboard is for overseers: bureau users of the district and township centre
    schools (whose admins see their own subtree's rows only; ranking() filters by visibility)."""
    from tenancy.roles import Role

    if tenancy_selectors.has_district_perm(user, "view_aggregates", assessment.district_id):
        return True
    return any(m.role == Role.TOWNSHIP_ADMIN and m.school.district_id == assessment.district_id
               for m in tenancy_selectors.memberships_of(user))


def can_view_exports(user, assessment: Assessment) -> bool:
    """An export workbook holds every assessed school: only someone who oversees ALL of them may
    read it (the bureau; a township admin for an assessment rooted inside their subtree)."""
    from tenancy.roles import Role

    if tenancy_selectors.has_district_perm(user, "view_aggregates", assessment.district_id):
        return True
    if assessment.root_school_id is None:
        return False
    root_path = assessment.root_school.path
    return any(m.role == Role.TOWNSHIP_ADMIN and root_path.startswith(m.school.path)
               for m in tenancy_selectors.memberships_of(user))


def export_history(user, assessment: Assessment):
    """Export jobs of an assessment for those who may read its workbooks (see can_view_exports)."""
    if not can_view_exports(user, assessment):
        return ComplianceExport.objects.none()
    return ComplianceExport.objects.filter(assessment=assessment).select_related("requested_by")


def export_schedule_of(assessment: Assessment):
    """The assessment's beat entry (django-celery-beat PeriodicTask with its crontab), or None."""
    from django_celery_beat.models import PeriodicTask

    from .services import _export_task_name

    return PeriodicTask.objects.filter(name=_export_task_name(assessment.id)).select_related("crontab").first()


def checklist_versions_managed_by(user):
    """Checklist versions of the districts where the user is a bureau user (view_aggregates)."""
    district_ids = [d for d in tenancy_selectors.districts_visible_to(user).values_list("id", flat=True)
                    if tenancy_selectors.has_district_perm(user, "view_aggregates", d)]
    return ChecklistVersion.objects.filter(checklist__district_id__in=district_ids).select_related(
        "checklist", "checklist__district").order_by("checklist__code", "-number")


def checklist_version_tree(version: ChecklistVersion) -> list[dict]:
    """Sections (nested) with their items, in order, for a read-only view of a version."""
    from .models import ChecklistItem, ChecklistSection

    sections = list(ChecklistSection.objects.filter(version=version).order_by("position", "id"))
    items = list(ChecklistItem.objects.filter(version=version).order_by("position", "id"))
    by_section: dict[int, list] = {}
    for it in items:
        by_section.setdefault(it.section_id, []).append(it)
    nodes = {s.id: {"section": s, "items": by_section.get(s.id, []), "children": []} for s in sections}
    roots = []
    for s in sections:
        (nodes[s.parent_id]["children"] if s.parent_id in nodes else roots).append(nodes[s.id])
    flat: list[dict] = []

    def walk(node, depth):
        flat.append({"section": node["section"], "items": node["items"], "depth": depth})
        for child in node["children"]:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return flat


def item_drilldown(user, assessment: Assessment, school_id: int, item_code: str, *, request=None) -> dict:
    """School -> item -> the exact gaps, from the metric's gaps hook when it has one.

    Children's names are shown only to users holding view_child_identity on the school;
    everyone else sees them masked. Showing names is a sensitive read and is access-logged.
    """
    from tenancy import services as tenancy_services

    from . import metrics as metric_registry

    report = school_report(user, assessment, school_id)  # 404 for a school the user cannot see
    item = next((r for r in report["items"] if r["code"] == item_code), None)
    if item is None:
        raise Http404("No such item in this checklist.")
    school = School.objects.get(pk=school_id)
    metric = metric_registry.get_metric(item["metric"]) if item["metric"] else None
    has_gaps_hook = bool(metric and metric.gaps and metric.applies_to(assessment.semester))
    gaps: list[dict] = []
    show_names = tenancy_selectors.has_school_perm(user, "view_child_identity", school)
    if has_gaps_hook:
        with tenant_scope([school.id]):
            raw = [g for g in (metric.gaps([school.id], assessment.semester) or []) if g.get("school_id") == school.id]
        for g in raw:
            child = g.get("child")
            gaps.append({"detail": g.get("detail", ""),
                         "child": (child if show_names else mask_child_name(child)) if child else ""})
        if show_names and any(g["child"] for g in gaps):
            tenancy_services.access_log_record(
                user=user, school_id=school.id, action="view", object_type="compliance.gaps",
                object_id=f"{assessment.id}:{item_code}", request=request,
                detail={"children": sum(1 for g in gaps if g["child"])})
    return {
        "school": report, "item": item, "has_gaps_hook": has_gaps_hook, "gaps": gaps, "names_shown": show_names,
        "history": manual_score_history(user, assessment, school_id, item_code),
    }

# --------------------------------------------------------------------------- drill-down gaps
def item_gaps(user, assessment: Assessment, school_id: int, item_code: str, request=None) -> dict:
    """School -> item -> the exact gaps (which children lack which contact, which activities lack a
    photo or text, which rule documents are missing ...), read live from the records.

    Children's names appear only for a reader with the identity permission on the school (school
    admins, explicit `view_child_identity` grants: schools.selectors.school_child_level); such a
    read is logged. Everyone else sees masked names ("张*") and no child ids.
    """
    from schools.selectors import ADMIN, IDENTITY, school_child_level
    from tenancy.services import access_log_record

    from . import metrics as metric_registry

    scores, order = _visible_scores(user, assessment)
    school_id = int(school_id)
    if school_id not in order:
        raise Http404("No such school in this assessment.")
    item = next((it for it in scores["items"] if it["code"] == item_code), None)
    if item is None:
        raise Http404("No such item.")
    metric = metric_registry.get_metric(item["metric"]) if item["metric"] else None
    cell = scores["schools"][school_id]["items"][item_code]
    out = {"school_id": school_id, "item": item_code, "metric": item["metric"], "status": cell["status"],
           "value": cell["value"], "score": cell["score"], "points": item["points"], "names_shown": False,
           "gaps": []}
    if metric is None or metric.gaps is None or not metric.applies_to(assessment.semester):
        return out
    with tenant_scope([school_id]):
        raw = metric.gaps([school_id], assessment.semester) or []
    school = School.objects.get(pk=school_id)
    show = school_child_level(user, school) in (ADMIN, IDENTITY)
    rows = []
    for gap in raw:
        row = {k: v for k, v in gap.items() if k not in ("child", "child_id")}
        if gap.get("child") is not None:
            row["child"] = gap["child"] if show else mask_child_name(gap["child"], per_character=False)
            if show:
                row["child_id"] = gap.get("child_id")
        rows.append(row)
    out["gaps"], out["names_shown"] = rows, show and any("child_id" in r for r in rows)
    if out["names_shown"]:
        access_log_record(user=user, school_id=school_id, action="view", object_type="compliance.gaps",
                          object_id=f"{assessment.id}:{item_code}", request=request,
                          detail={"children": sum(1 for r in rows if "child_id" in r)})
    return out


def school_gaps(user, assessment: Assessment, school_id: int, request=None) -> list[dict]:
    """Every automatic item's gaps for one school (the drill-down of the school page)."""
    scores, order = _visible_scores(user, assessment)
    if int(school_id) not in order:
        raise Http404("No such school in this assessment.")
    return [item_gaps(user, assessment, school_id, it["code"], request=request)
            for it in scores["items"] if it["scoring"] == "automatic"]


# --------------------------------------------------------------------------- the start page's work lists
def semester_gaps(key: str, school_ids, semester) -> list[dict]:
    """The gaps of one metric (compliance.metrics.gaps) for these schools in a semester, in one
    statement, without an assessment: the start page counts what is still missing now. Only
    schools the caller already resolved for the user; rows name children, so callers count them."""
    from .metrics import REGISTRY

    ids = list(school_ids)
    metric = REGISTRY[key]
    if not ids or metric.gaps is None or not metric.applies_to(semester):
        return []
    return metric.gaps(ids, semester)


def semester_metric(key: str, school_ids, semester) -> dict[int, float | None]:
    """One metric's values for these schools in a semester (one statement), without an assessment."""
    from .metrics import REGISTRY

    return REGISTRY[key].compute(list(school_ids), semester)


def district_settings(district_id: int):
    """The district's compliance settings, or the defaults (an unsaved row) when it has none."""
    from .models import DistrictComplianceSettings

    return (DistrictComplianceSettings.objects.filter(district_id=district_id).first()
            or DistrictComplianceSettings(district_id=district_id))
