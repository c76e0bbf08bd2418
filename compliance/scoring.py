"""The scoring engine: a whole assessment's scores in a constant number of queries.

compute_scores(assessment) runs:
  1. the checklist items (one query, with their sections),
  2. the assessed schools (one query),
  3. each metric the checklist uses, once, for all schools (one aggregate query each),
  4. the manual scores (one query),
plus the tenant-scope statements. Nothing is queried per school: the rest is dict lookups.

Scores of an item: `scored` (a number), `not_applicable` (metric returned None) or `pending` (a manual
item no inspector has scored yet). A school's `score` is normalised to the declared total over the
items that apply to it: earned / applicable points x declared total. That keeps schools comparable
while records-based metrics are still stubs or an inspector has not visited yet.
"""
from __future__ import annotations

import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tenancy import replica
from tenancy.models import School
from tenancy.scoping import district_scope, system_scope

from . import metrics as metric_registry
from .models import Assessment, ChecklistItem, ManualScore, Snapshot, SnapshotItemScore, SnapshotSchool

CENT = Decimal("0.01")
SCORED, NOT_APPLICABLE, PENDING = "scored", "not_applicable", "pending"


def q2(d) -> Decimal:
    return Decimal(d).quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- rule math
def apply_rule(*, rule: str, points: Decimal, value, threshold=None, target=None, bands=None) -> Decimal | None:
    """Points earned for a metric value; None when the value is None (not applicable)."""
    if value is None:
        return None
    v = Decimal(str(value))
    points = Decimal(points)
    if rule == "threshold":
        return q2(points if v >= Decimal(threshold) else 0)
    if rule == "proportional":
        ratio = v / Decimal(target)
        ratio = min(max(ratio, Decimal(0)), Decimal(1))
        return q2(points * ratio)
    if rule == "bands":
        earned = Decimal(0)
        for lo, pts in bands or []:
            if v >= Decimal(str(lo)):
                earned = Decimal(str(pts))
        return q2(min(earned, points))
    raise ValueError(f"unknown rule {rule!r}")


# --------------------------------------------------------------------------- inputs
def assessment_schools(assessment: Assessment):
    """The assessed schools: the subtree, minus schools not on the platform during the semester."""
    qs = School.objects.filter(district_id=assessment.district_id)
    if assessment.root_school_id:
        root_path = School.objects.filter(pk=assessment.root_school_id).values("path")
        qs = qs.filter(path__startswith=root_path)
    return qs.exclude(closed_on__lt=assessment.semester_start).exclude(opened_on__gt=assessment.semester_end)


def _item_rows(version_id: int) -> list[dict]:
    rows = ChecklistItem.objects.filter(version_id=version_id).select_related("section").order_by(
        "section__position", "section_id", "position", "id")
    return [
        {
            "id": it.id, "code": it.code, "title_zh": it.title_zh, "title_en": it.title_en,
            "section_code": it.section.code, "section_title_zh": it.section.title_zh,
            "section_title_en": it.section.title_en,
            "requirement_zh": it.requirement_zh, "requirement_en": it.requirement_en,
            "points": it.points, "check_method": it.check_method, "scoring": it.scoring, "metric": it.metric,
            "rule": it.rule, "threshold": it.threshold, "target": it.target, "bands": it.bands,
        }
        for it in rows
    ]


def _rank(schools: dict[int, dict]) -> list[int]:
    """Competition ranking (1, 2, 2, 4) by score; schools with no score come last, unranked."""
    order = sorted(schools, key=lambda sid: (schools[sid]["score"] is None, -(schools[sid]["score"] or 0),
                                             schools[sid]["code"]))
    rank, previous = 0, object()
    for position, sid in enumerate(order, start=1):
        row = schools[sid]
        if row["score"] is None:
            row["rank"] = None
            continue
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    return order


def _finish_school(row: dict, declared_total: Decimal) -> None:
    earned = sum((r["score"] for r in row["items"].values() if r["status"] == SCORED), Decimal(0))
    applicable = sum((r["points"] for r in row["items"].values() if r["status"] == SCORED), Decimal(0))
    row["earned"] = q2(earned)
    row["applicable_points"] = q2(applicable)
    row["score"] = q2(earned / applicable * declared_total) if applicable else None
    row["lost"] = q2(applicable - earned)
    row["pending"] = sum(1 for r in row["items"].values() if r["status"] == PENDING)


def compute_scores(assessment: Assessment, *, as_of=None) -> dict:
    """Live scores for every assessed school (no cache, constant number of queries).

    `as_of` (a date) scores the records of the semester up to that day only: how the school stood
    then (used to rebuild a snapshot history, e.g. the demo's weekly snapshots)."""
    schools = list(assessment_schools(assessment).values_list("id", "name", "code"))
    ids = [s[0] for s in schools]
    semester = assessment.semester
    if as_of is not None and as_of < semester.end:
        # A truncated window is no longer the whole Semester row: metrics must go by the dates.
        semester = semester._replace(end=max(as_of, semester.start), id=None)
    # A rank is relative to every assessed school, so the scores are computed over all of them
    # even when a township admin or a school asks (callers show each user only their own rows).
    with system_scope("an assessment ranks every school it assesses", school_ids=ids,
                      district_ids=[assessment.district_id]):
        version = assessment.checklist_version
        items = _item_rows(assessment.checklist_version_id)
        values = metric_registry.compute_metrics(
            [it["metric"] for it in items if it["scoring"] == "automatic"], ids, semester)
        manual = {
            (school_id, item_id): score
            for school_id, item_id, score in ManualScore.objects.filter(assessment_id=assessment.id)
            .values_list("school_id", "item_id", "score")
        }
    out_schools: dict[int, dict] = {}
    for sid, name, code in schools:
        row_items = {}
        for it in items:
            if it["scoring"] == "automatic":
                value = values[it["metric"]].get(sid)
                score = apply_rule(rule=it["rule"], points=it["points"], value=value, threshold=it["threshold"],
                                   target=it["target"], bands=it["bands"])
                status = NOT_APPLICABLE if score is None else SCORED
            else:
                value = None
                score = manual.get((sid, it["id"]))
                status = PENDING if score is None else SCORED
                score = None if score is None else q2(score)
            row_items[it["code"]] = {
                "score": score, "value": value, "status": status, "points": it["points"],
                "lost": q2(it["points"] - score) if score is not None else Decimal("0.00"),
            }
        out_schools[sid] = {"school_id": sid, "name": name, "code": code, "items": row_items}
        _finish_school(out_schools[sid], version.declared_total)
    order = _rank(out_schools)
    return {
        "assessment_id": assessment.id, "revision": assessment.revision, "source": "live",
        "computed_at": timezone.now(), "declared_total": version.declared_total,
        "items": items, "schools": out_schools, "order": order,
    }


def scores_from_snapshot(snapshot: Snapshot, school_ids) -> dict:
    """The same shape as compute_scores, read back from a snapshot (constant number of queries)."""
    assessment = snapshot.assessment
    ids = list(school_ids)
    with system_scope("a snapshot is read back with the ranks of every school it froze", school_ids=ids,
                      district_ids=[assessment.district_id]):
        items = _item_rows(assessment.checklist_version_id)
        declared_total = assessment.checklist_version.declared_total
        heads = list(SnapshotSchool.objects.filter(snapshot=snapshot).values_list(
            "school_id", "school__name", "school__code", "score", "earned", "applicable_points", "rank"))
        rows = list(SnapshotItemScore.objects.filter(snapshot=snapshot).values_list(
            "school_id", "item_id", "status", "score", "value"))
    by_id = {it["id"]: it for it in items}
    out: dict[int, dict] = {}
    for sid, name, code, score, earned, applicable, rank in heads:
        out[sid] = {"school_id": sid, "name": name, "code": code, "items": {}, "score": score, "earned": earned,
                    "applicable_points": applicable, "rank": rank, "lost": q2(applicable - earned), "pending": 0}
    for sid, item_id, status, score, value in rows:
        it = by_id[item_id]
        out[sid]["items"][it["code"]] = {
            "score": score, "value": value, "status": status, "points": it["points"],
            "lost": q2(it["points"] - score) if score is not None else Decimal("0.00")}
        if status == PENDING:
            out[sid]["pending"] += 1
    order = sorted(out, key=lambda s: (out[s]["rank"] is None, out[s]["rank"] or 0, out[s]["code"]))
    return {
        "assessment_id": assessment.id, "revision": assessment.revision, "source": f"snapshot:{snapshot.id}",
        "computed_at": snapshot.taken_at, "declared_total": declared_total,
        "items": items, "schools": out, "order": order,
    }


# --------------------------------------------------------------------------- cached entry point
def cache_key(assessment_id: int, revision: int) -> str:
    return f"compliance:scores:{assessment_id}:{revision}"


def assessment_scores(assessment: Assessment, *, use_cache: bool = True) -> dict:
    """Scores of every assessed school. Open assessments: live, cached for a short while, keyed by
    the assessment's revision (bumped by every write that changes scores, so those show at once;
    record changes show within COMPLIANCE_SCORE_CACHE_SECONDS). Locked: the lock snapshot, which
    never changes."""
    with district_scope(assessment):
        return _assessment_scores(assessment, use_cache=use_cache)


def _assessment_scores(assessment: Assessment, *, use_cache: bool) -> dict:
    current = Assessment.objects.filter(pk=assessment.pk).values_list("revision", "status").first()
    if current is None:
        raise Assessment.DoesNotExist
    assessment.revision, assessment.status = current
    if assessment.is_locked:
        snapshot = Snapshot.objects.get(assessment=assessment, kind=Snapshot.Kind.LOCK)
        key = cache_key(assessment.pk, f"lock{snapshot.pk}")
        builder = lambda: scores_from_snapshot(snapshot, assessment_schools_ids_of_snapshot(snapshot))  # noqa: E731
    else:
        key = cache_key(assessment.pk, assessment.revision)
        builder = lambda: compute_scores(assessment)  # noqa: E731
    if not use_cache:
        return builder()
    # Scores computed on the replica carry its replay position: a reader whose own writes came
    # later recomputes them rather than be shown the cached result that misses them.
    cached = cache.get_many([key, f"{key}:position"])
    result = cached.get(key)
    if result is None or not replica.covers(cached.get(f"{key}:position")):
        result = _single_flight(key, builder)
    return result


# Longest wait for another process's computation before computing here anyway (its worker died).
SINGLE_FLIGHT_WAIT_SECONDS = 30


def _single_flight(key: str, builder) -> dict:
    """Compute once across processes: the first request that misses takes a lock in the shared
    cache and computes; the others answer with the last result of the same revision when there
    is one (older only in record changes, as the cache window allows anyway), else wait for the
    computation. Without it, a cold or just-expired cache has every worker that gets a ranking
    request compute the same district at once, and on a small host every endpoint stalls behind
    them (measured under Locust). Waiting still holds a sync worker: only a cold start waits."""
    lock, last = f"{key}:computing", f"{key}:last"
    timeout = getattr(settings, "COMPLIANCE_SCORE_CACHE_SECONDS", 60)
    if cache.add(lock, 1, SINGLE_FLIGHT_WAIT_SECONDS):
        try:
            result = builder()
            position = replica.read_position()
            cache.set_many({key: result, last: result, f"{key}:position": position, f"{last}:position": position},
                           timeout)
            cache.touch(last, timeout * 10)
            cache.touch(f"{last}:position", timeout * 10)
            return result
        finally:
            cache.delete(lock)
    stale = cache.get_many([last, f"{last}:position"])
    if stale.get(last) is not None and replica.covers(stale.get(f"{last}:position")):
        return stale[last]
    deadline = time.monotonic() + SINGLE_FLIGHT_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        fresh = cache.get_many([key, f"{key}:position"])
        if fresh.get(key) is not None and replica.covers(fresh.get(f"{key}:position")):
            return fresh[key]
        if cache.get(lock) is None:  # the computing request failed: try ourselves
            break
    return builder()


def assessment_schools_ids_of_snapshot(snapshot: Snapshot) -> list[int]:
    # The scope for reading a snapshot back: its district (the rows themselves name the schools).
    return list(School.objects.filter(district_id=snapshot.assessment.district_id).values_list("id", flat=True))
