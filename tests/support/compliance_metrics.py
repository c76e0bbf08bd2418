"""Test-only metrics computed from tenancy data alone, so automatic scoring runs end to end on the
small test checklist. Imported by the tests and, through COMPLIANCE_METRIC_MODULES, by the
Celery worker the export test starts. Each is ONE aggregate query grouped by school_id."""
from django.db.models import Count, Q

from compliance.metrics import register_gaps, register_metric
from tenancy.models import AccessLog, Membership, School


@register_metric("test_staff_count", "教职工人数（测试）", "Staff memberships (test)", "people")
def staff_count(school_ids, semester):
    rows = Membership.objects.filter(school_id__in=school_ids).values("school_id").annotate(n=Count("id"))
    counts = {r["school_id"]: r["n"] for r in rows}
    return {sid: counts.get(sid, 0) for sid in school_ids}


@register_metric("test_has_admin", "有校管理员（测试）", "Has a school admin (test)", "yes/no")
def has_admin(school_ids, semester):
    rows = (School.objects.filter(id__in=school_ids)
            .annotate(n=Count("memberships", filter=Q(memberships__role="school_admin")))
            .values_list("id", "n"))
    return {sid: 1 if n else 0 for sid, n in rows}


@register_metric("test_village_only", "仅村小适用（测试）", "Village schools only (test)", "yes/no")
def village_only(school_ids, semester):
    """Not applicable (None) for schools without a parent: exercises the N/A path."""
    return {sid: (1 if parent else None)
            for sid, parent in School.objects.filter(id__in=school_ids).values_list("id", "parent_id")}


@register_metric("test_access_log_rows", "访问日志条数（测试）", "Access-log rows (test)", "rows")
def access_log_rows(school_ids, semester):
    """Reads a school-owned table: works only inside the assessment's tenant scope (ORM + RLS)."""
    # Only "view" rows: creating schools and roles in the fixtures logs writes too.
    rows = (AccessLog.objects.filter(school_id__in=school_ids, action="view")
            .values("school_id").annotate(n=Count("id")))
    counts = {r["school_id"]: r["n"] for r in rows}
    return {sid: counts.get(sid, 0) for sid in school_ids}


@register_gaps("test_has_admin")
def has_admin_gaps(school_ids, semester):
    missing = (School.objects.filter(id__in=school_ids)
               .annotate(n=Count("memberships", filter=Q(memberships__role="school_admin"))).filter(n=0)
               .values_list("id", flat=True))
    return [{"school_id": sid, "detail": "no school admin", "child": "张小明"} for sid in missing]
