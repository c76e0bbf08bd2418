"""Demo: the default checklist, an assessment of the current semester (schools.Semester, 2026
autumn) with a weekly snapshot history rebuilt from the records, and a few spot-check scores.
Idempotent: a second run finds everything in place and writes nothing."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schools.selectors import semester_current
from tenancy.scoping import district_scope, tenant_scope

from .models import Assessment, ManualScore, Snapshot
from .services import assessment_create, checklist_load_default, manual_score_set, snapshot_history_rebuild

TITLE = "留守儿童之家建设考核"
# Spot checks (E3 "open as posted", G1 "children interviewed") an inspector recorded.
SPOT_CHECKS = {
    "gupei": {"E3": ("5", "按公示时间开放，值守老师在岗。"), "G1": ("4", "随机访谈6名儿童，一名儿童未收到来信。")},
    "menzhuang": {"E3": ("3", "周三下午未开放，已要求整改。"), "G1": ("5", "访谈情况良好。")},
}


def current_semester(today: dt.date) -> tuple[str, dt.date, dt.date]:
    """Fallback window when the district has no semester calendar: spring Feb-Jul, autumn Sep-Jan."""
    if 2 <= today.month <= 7:
        return f"{today.year}年春季学期", dt.date(today.year, 2, 1), dt.date(today.year, 7, 15)
    year = today.year if today.month >= 8 else today.year - 1
    return f"{year}年秋季学期", dt.date(year, 9, 1), dt.date(year + 1, 1, 31)


def _weekly_days(start: dt.date, today: dt.date, weeks: int = 4) -> list[dt.date]:
    """The last `weeks` Saturdays before today (not before the semester starts)."""
    last = today - dt.timedelta(days=(today.weekday() - 5) % 7 or 7)
    return [d for d in (last - dt.timedelta(weeks=k) for k in range(weeks - 1, -1, -1)) if d >= start]


def seed(ctx: dict) -> None:
    # The demo is one district's: its calendar, checklists and reporting are district-owned rows.
    with district_scope(ctx["district"]):
        _seed(ctx)


def _seed(ctx: dict) -> None:
    district = ctx["district"]
    users = ctx.get("users", {})
    version = checklist_load_default(district=district)
    today = ctx.get("today") or timezone.localdate()
    semester = semester_current(district.id, today)
    if semester is not None:
        assessment = Assessment.objects.filter(district=district, school_semester=semester, root_school=None).first()
        if assessment is None:
            assessment = assessment_create(district=district, checklist_version=version, title=TITLE,
                                           semester=semester)
    else:
        label, start, end = current_semester(today)
        assessment = Assessment.objects.filter(district=district, semester_label=label, root_school=None).first()
        if assessment is None:
            assessment = assessment_create(district=district, checklist_version=version, title=TITLE,
                                           semester_label=label, semester_start=start, semester_end=end)
    ctx["assessment"] = assessment
    if assessment.is_locked:
        return
    if not Snapshot.objects.filter(assessment=assessment).exists():
        days = _weekly_days(assessment.semester_start, min(today, assessment.semester_end))
        if days:
            snapshot_history_rebuild(assessment=assessment, days=days)
    inspector = users.get("bureau_inspector") or users.get("bureau_admin")
    schools = ctx.get("schools", {})
    if inspector is None:
        return
    for code, items in SPOT_CHECKS.items():
        school = schools.get(code)
        if school is None:
            continue
        with tenant_scope([school.id]):
            done = set(ManualScore.objects.filter(assessment=assessment, school=school)
                       .values_list("item__code", flat=True))
        for item_code, (score, comment) in items.items():
            if item_code not in done:
                manual_score_set(assessment=assessment, school=school, item_code=item_code, score=score,
                                 comment=comment, actor=inspector)
