"""The home's pages: dashboard, rule documents, activities, meetings, work records, study pairs."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, OuterRef, Q, Subquery

from tenancy.models import School
from tenancy.selectors import permissions_on_school

from ..models import (
    Activity,
    ActivitySite,
    CareContact,
    Child,
    Equipment,
    LeadershipMember,
    RuleDocument,
    RuleDocumentVersion,
    RuleKind,
    Semester,
    StaffProfile,
    StudyPair,
    ThemeSchedule,
    TrainingMeeting,
    WorkRecordEntry,
)
from ._common import _kind_exists, _ordered_classes, _today, _week_bounds
from .children import children_visible_to, children_with_identity_visible_to


# ---------------------------------------------------------------- rules
def rule_documents_status(school: School) -> list[dict]:
    """The nine rule documents, each present (with its latest version) or missing. Two queries."""
    latest = RuleDocumentVersion.objects.filter(document=OuterRef("pk")).order_by("-number")
    docs = {
        d.kind: d for d in RuleDocument.objects.filter(school=school).annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_adopted_on=Subquery(latest.values("adopted_on")[:1]),
            latest_evidence_id=Subquery(latest.values("evidence_id")[:1]),
        )
    }
    out = []
    for kind, label in RuleKind.choices:
        doc = docs.get(kind)
        present = bool(doc and doc.latest_number)
        out.append({
            "kind": kind, "label": label, "present": present, "document": doc,
            "version": doc.latest_number if present else None,
            "adopted_on": doc.latest_adopted_on if present else None,
            "evidence_id": doc.latest_evidence_id if present else None,
        })
    return out


def rule_documents_missing(school: School) -> list[tuple[str, str]]:
    return [(r["kind"], r["label"]) for r in rule_documents_status(school) if not r["present"]]


def school_dashboard(school: School, semester: Semester, *, user=None, today: dt.date | None = None) -> dict:
    """Everything the school dashboard shows, in a constant number of queries whatever the
    number of children. With `user`, the overdue list is narrowed to children the user may see.
    """
    today = today or _today()
    kinds = CareContact.Kind.choices
    active = Child.objects.filter(school=school, status=Child.Status.ACTIVE)

    per_class = list(active.values("grade", "class_name").annotate(n=Count("id")))
    per_class_total = {}
    for r in per_class:
        per_class_total[r["class_name"]] = per_class_total.get(r["class_name"], 0) + r["n"]
    total = sum(per_class_total.values())
    done = {}
    for r in (CareContact.objects.filter(school=school, semester=semester, child__status=Child.Status.ACTIVE)
              .values("child__class_name", "kind").annotate(n=Count("child_id", distinct=True))):
        done[(r["child__class_name"], r["kind"])] = r["n"]

    def pct(n, d):
        return round(100 * n / d) if d else 0

    coverage = []
    for kind, label in kinds:
        n = sum(v for (c, k), v in done.items() if k == kind)
        coverage.append({"kind": kind, "label": label, "done": n, "total": total, "percent": pct(n, total)})
    classes = []
    for class_name in _ordered_classes((r["grade"], r["class_name"]) for r in per_class):
        t = per_class_total[class_name]
        classes.append({
            "class_name": class_name, "total": t,
            "kinds": [{"kind": k, "label": lbl, "done": done.get((class_name, k), 0),
                       "percent": pct(done.get((class_name, k), 0), t)} for k, lbl in kinds],
        })

    flags = {f"has_{k}": _kind_exists(k, semester) for k, _l in kinds}
    any_missing = Q()
    for k, _l in kinds:
        any_missing |= Q(**{f"has_{k}": False})
    overdue_qs = active.annotate(**flags).filter(any_missing)
    if user is not None:
        overdue_qs = overdue_qs.filter(id__in=children_visible_to(user, school).values("id"))
    overdue = [
        {"id": c.id, "name": c.name, "class_name": c.class_name,
         "missing": [k for k, _l in kinds if not getattr(c, f"has_{k}")]}
        for c in overdue_qs.order_by("grade", "class_name", "name", "id")
    ]

    monday, sunday = _week_bounds(today)
    week = list(Activity.objects.filter(school=school, date__range=(monday, sunday)).with_evidence()
                .order_by("date", "id"))
    evidence_totals = Activity.objects.filter(school=school, semester=semester).evidence_totals()
    themes = {t.weekday: t.theme for t in ThemeSchedule.objects.filter(school=school, semester=semester)}
    meetings = TrainingMeeting.objects.filter(school=school, semester=semester).count()
    missing_rules = rule_documents_missing(school)

    return {
        "school": school, "semester": semester, "today": today,
        "children": total,
        "coverage": coverage,
        "classes": classes,
        "overdue": overdue,
        "week": {"start": monday, "end": sunday, "activities": week, "themes": themes},
        "evidence": {**evidence_totals, "percent": pct(evidence_totals["evidenced"], evidence_totals["total"])},
        "training_meetings": meetings,
        "missing_rules": missing_rules,
    }


# ---------------------------------------------------------------- activities and evidence
def activities_for_week(school: School, day: dt.date):
    monday, sunday = _week_bounds(day)
    return (Activity.objects.filter(school=school, date__range=(monday, sunday)).with_evidence()
            .prefetch_related("evidence").order_by("date", "id"))


def training_meetings_list(school: School, semester: Semester | None = None):
    qs = TrainingMeeting.objects.filter(school=school).annotate(
        attendee_count=Count("trainingattendance", distinct=True),
        evidence_count=Count("evidence", distinct=True),
    )
    if semester is not None:
        qs = qs.filter(semester=semester)
    return qs.order_by("-date", "-id")


def work_record_entries_visible_to(user, school: School):
    """A proxy parent reads their own book; whoever manages the archive reads every book."""
    qs = WorkRecordEntry.objects.filter(school=school).select_related("proxy_parent", "child")
    if "manage_children" in permissions_on_school(user, school):
        return qs
    if "record_contacts" in permissions_on_school(user, school):
        return qs.filter(proxy_parent=user)
    return qs.none()


def study_pairs_visible_to(user, school: School):
    """Pairs of children whose personal record the user may read (PROXY level or above), plus the
    user's own pairs as the teacher.

    A pair names the child and its sessions carry the tutor's notes, so BASIC readers (the
    materials clerk) see none: they manage activities and evidence, not children. Overseers with
    view_aggregates get a masked view in schools.views.study.study_pair_detail instead.

    The teacher of a pair sees it even when the child is not assigned to them as a proxy parent:
    they tutor that child, so the name is what the pair needs, and nothing more of the child's
    record is reached through the pair (the child's page still needs PROXY level).
    """
    visible = children_with_identity_visible_to(user).filter(school=school).values("id")
    return (StudyPair.objects.filter(school=school).filter(Q(child_id__in=visible) | Q(teacher=user))
            .select_related("teacher", "child").annotate(session_count=Count("sessions")))


def home_overview(school: School) -> dict:
    """The 'home' page: site, equipment, leadership group, rule documents. Constant queries."""
    return {
        "sites": list(ActivitySite.objects.filter(school=school)),
        "equipment": list(Equipment.objects.filter(school=school)),
        "leadership": list(LeadershipMember.objects.filter(school=school).select_related("user")),
        "rules": rule_documents_status(school),
        "proxy_parents": list(StaffProfile.objects.filter(school=school, is_proxy_parent=True)
                              .select_related("user")),
    }
