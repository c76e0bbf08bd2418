"""Reads of the school's home that need scope, masking or aggregation.

Who sees a child (tenancy roles + django-guardian):
- ADMIN: `manage_children` on the school (school admin): every field, the full ID number;
- IDENTITY: `view_child_identity` without `manage_children` (an explicit grant, e.g. to the
  bureau): identity and sensitive fields, but the ID number masked and no wellbeing notes;
- PROXY: the child's current proxy parent (guardian object permission `care_for_child`, mirrored
  from ProxyAssignment): all fields incl. wellbeing, the ID number masked;
- BASIC: `manage_materials` (materials clerk): name, grade and class only;
- anyone else (bureau/township without an explicit grant, other teachers): not visible → 404.

Listing filters by school first and lets guardian decide the teacher's exceptions
(REFERENCES.md "Permissions"). Every detail read goes through `child_get_for_view`, which logs.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School
from tenancy.roles import DISTRICT_ROLES, Role
from tenancy.selectors import memberships_of, permissions_on_school, schools_visible_to
from tenancy.services import access_log_record

from . import crypto
from .models import (
    Activity, ActivitySite, CareContact, Child, ChildUserObjectPermission, Equipment, LeadershipMember,
    ProxyAssignment, ReusedEvidenceFlag, RuleDocument, RuleDocumentVersion, RuleKind, Semester, StaffProfile,
    StudyPair, ThemeSchedule, TrainingMeeting, WorkRecordEntry,
)

ADMIN, IDENTITY, PROXY, BASIC = "admin", "identity", "proxy", "basic"
_RANK = {None: 0, BASIC: 1, PROXY: 2, IDENTITY: 3, ADMIN: 4}

BASIC_FIELDS = ("id", "name", "grade", "class_name", "status")
PROXY_FIELDS = BASIC_FIELDS + (
    "gender", "birth_date", "left_behind_kind", "parents_work_place", "guardian_name", "guardian_relation",
    "guardian_phone", "second_contact_name", "second_contact_phone", "home_village", "health_notes",
    "consent", "consent_date", "consent_method", "status_since", "purged_at",
)
WELLBEING_LEVELS = {ADMIN, PROXY}
# Issue #3: the national ID number is "shown masked except to the school admin", whoever else reads.
FULL_ID_LEVELS = {ADMIN}


def _today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- calendar
def semester_for_date(district_id: int, day: dt.date) -> Semester | None:
    return Semester.objects.filter(district_id=district_id, start__lte=day, end__gte=day).first()


def semester_current(district_id: int, today: dt.date | None = None) -> Semester | None:
    """The semester containing today, else the most recent one that has started."""
    today = today or _today()
    return (semester_for_date(district_id, today)
            or Semester.objects.filter(district_id=district_id, start__lte=today).order_by("-start").first())


def semesters_of(district_id: int):
    return Semester.objects.filter(district_id=district_id).order_by("-start")


# ---------------------------------------------------------------- who sees which child
def school_child_level(user, school: School) -> str | None:
    """The access level a user has on every child of the school (before guardian exceptions)."""
    perms = permissions_on_school(user, school)
    if "manage_children" in perms:
        return ADMIN
    if "view_child_identity" in perms:
        return IDENTITY
    if "manage_materials" in perms:
        return BASIC
    return None


def _assigned_ids_subquery(user):
    return ChildUserObjectPermission.objects.filter(
        user=user, permission__codename="care_for_child", permission__content_type__app_label="schools",
    ).values("content_object_id")


def _levels_by_school(user, school: School | None = None) -> tuple[dict[int, str | None], set[int]]:
    """({school_id: level}, {school ids where the user may have assigned children})."""
    schools = [school] if school is not None else list(schools_visible_to(user))
    if school is not None and school.id not in {s.id for s in schools_visible_to(user)}:
        return {}, set()
    levels, assigned = {}, set()
    for s in schools:
        levels[s.id] = school_child_level(user, s)
        if "record_contacts" in permissions_on_school(user, s):
            assigned.add(s.id)
    return levels, assigned


def children_visible_to(user, school: School | None = None):
    """Children the user may see at all (any level). Must run inside a tenant scope."""
    if not getattr(user, "is_authenticated", False):
        return Child.objects.none()
    levels, assigned = _levels_by_school(user, school)
    whole = [sid for sid, lvl in levels.items() if lvl]
    q = Q(school_id__in=whole)
    if assigned:
        q |= Q(school_id__in=assigned, id__in=_assigned_ids_subquery(user))
    if not whole and not assigned:
        return Child.objects.none()
    return Child.objects.filter(q)


def assigned_child_ids(user) -> set[int]:
    return set(ChildUserObjectPermission.objects.filter(
        user=user, permission__codename="care_for_child").values_list("content_object_id", flat=True))


def child_access_level(user, child: Child, *, assigned: set[int] | None = None) -> str | None:
    level = school_child_level(user, child.school)
    if _RANK[level] < _RANK[PROXY]:
        if assigned is None:
            is_assigned = ChildUserObjectPermission.objects.filter(
                user=user, content_object=child, permission__codename="care_for_child").exists()
        else:
            is_assigned = child.id in assigned
        if is_assigned and "record_contacts" in permissions_on_school(user, child.school):
            level = PROXY
    return level


def child_fields(child: Child, level: str | None) -> dict:
    """The child's fields masked for an access level (what a page or serializer may show)."""
    if level is None:
        return {}
    names = BASIC_FIELDS if level == BASIC else PROXY_FIELDS
    data = {name: getattr(child, name) for name in names}
    if child.is_purged:
        data["name"] = _("(record purged)")
    if level != BASIC:
        data["id_number"] = (crypto.decrypt(child.id_number_ciphertext) if level in FULL_ID_LEVELS
                             else child.id_number_masked)
        if level in WELLBEING_LEVELS:
            data["wellbeing_notes"] = child.wellbeing_notes
    return data


@dataclass
class ChildView:
    child: Child
    level: str
    data: dict
    proxy_parent: object | None
    can_edit: bool
    can_record_contacts: bool
    status_history: list = field(default_factory=list)


def child_get_for_view(user, pk, request=None, *, log: bool = True) -> ChildView:
    """One child's record, masked for the user, and logged as a view. Child.DoesNotExist if the
    user may not see it (the caller answers 404, never 403)."""
    child = children_visible_to(user).select_related("school").get(pk=pk)
    level = child_access_level(user, child)
    if level is None:  # defensive: visible implies a level
        raise Child.DoesNotExist
    perms = permissions_on_school(user, child.school)
    today = _today()
    current = (ProxyAssignment.objects.filter(ProxyAssignment.active_q(today), child=child)
               .select_related("proxy_parent").first())
    if log:
        access_log_record(user=user, school_id=child.school_id, action=AccessLog.Action.VIEW, obj=child,
                          request=request, detail={"level": level})
    history = list(child.status_history.all()) if level != BASIC else []
    return ChildView(
        child=child, level=level, data=child_fields(child, level),
        proxy_parent=current.proxy_parent if current and level != BASIC else None,
        can_edit=level == ADMIN and not child.is_purged,
        can_record_contacts="record_contacts" in perms and level in (ADMIN, PROXY),
        status_history=history,
    )


def child_for_contact(user, pk) -> Child:
    """A child the user may record contacts (and work records) for: with `record_contacts` on
    the school, either managing the archive or being the child's current proxy parent.
    Child.DoesNotExist otherwise."""
    levels, assigned = _levels_by_school(user)
    whole = [sid for sid in assigned if levels.get(sid) == ADMIN]
    q = Q(school_id__in=whole)
    if assigned:
        q |= Q(school_id__in=assigned, id__in=_assigned_ids_subquery(user))
    return Child.objects.filter(q).select_related("school").get(pk=pk)


def children_list(user, school: School | None = None, *, status: str | None = Child.Status.ACTIVE,
                  class_name: str | None = None) -> list[dict]:
    """Rows for a list page or API list, each masked for the user's level on that child.
    A constant number of queries; lists are not logged per child (details and exports are)."""
    levels, _assigned = _levels_by_school(user, school)
    assigned = assigned_child_ids(user)
    qs = children_visible_to(user, school)
    if status:
        qs = qs.filter(status=status)
    if class_name:
        qs = qs.filter(class_name=class_name)
    rows = []
    for child in qs.order_by("grade", "class_name", "name", "id"):
        level = levels.get(child.school_id)
        if child.id in assigned and _RANK[level] < _RANK[PROXY]:
            level = PROXY
        row = {k: v for k, v in child_fields(child, level).items()
               if k in ("id", "name", "grade", "class_name", "status", "gender", "left_behind_kind", "id_number")}
        if "id_number" in row:
            # Lists never show a full ID number, whoever reads them (no bulk copy of identities).
            row["id_number"] = child.id_number_masked
        row["level"] = level
        rows.append(row)
    return rows


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


# ---------------------------------------------------------------- four contacts
def _kind_exists(kind: str, semester: Semester):
    return Exists(CareContact.objects.filter(child=OuterRef("pk"), semester=semester, kind=kind))


def _week_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def _ordered_classes(pairs) -> list[str]:
    """Class names ordered by grade, then name (四(1)班 before 五(2)班)."""
    out = []
    for _grade, name in sorted(set(pairs)):
        if name not in out:
            out.append(name)
    return out


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


@dataclass
class TrackerGrid:
    semester: Semester
    kinds: list
    rows: list
    classes: list
    proxy_parents: list


def contact_tracker_grid(user, school: School, semester: Semester, class_name: str | None = None,
                         proxy_parent=None, today: dt.date | None = None) -> TrackerGrid:
    """Children × the four kinds for one semester: per cell the count and the last date.
    Only children the user may see; a constant number of queries."""
    today = today or _today()
    kinds = CareContact.Kind.choices
    levels, _assigned = _levels_by_school(user, school)
    visible = children_visible_to(user, school).filter(status=Child.Status.ACTIVE)
    classes = _ordered_classes(visible.values_list("grade", "class_name").distinct())
    qs = visible
    if class_name:
        qs = qs.filter(class_name=class_name)
    if proxy_parent is not None:
        qs = qs.filter(id__in=ProxyAssignment.objects.filter(
            ProxyAssignment.active_q(today), proxy_parent=proxy_parent).values("child_id"))
    ann = {}
    for kind, _l in kinds:
        in_kind = Q(contacts__semester=semester, contacts__kind=kind)
        ann[f"n_{kind}"] = Count("contacts", filter=in_kind)
        ann[f"last_{kind}"] = Max("contacts__happened_on", filter=in_kind)
    recordable = {sid for sid in _assigned if levels.get(sid) == ADMIN}
    assigned = assigned_child_ids(user) if _assigned else set()
    rows = []
    for c in qs.annotate(**ann).order_by("grade", "class_name", "name", "id"):
        cells = {k: {"count": getattr(c, f"n_{k}"), "last": getattr(c, f"last_{k}")} for k, _l in kinds}
        rows.append({
            "id": c.id, "name": c.name, "class_name": c.class_name, "cells": cells,
            "complete": all(cell["count"] for cell in cells.values()),
            "can_record": c.school_id in recordable or (c.id in assigned and c.school_id in _assigned),
        })
    proxies = list(StaffProfile.objects.filter(school=school, is_proxy_parent=True).select_related("user")
                   .order_by("user__username"))
    return TrackerGrid(semester=semester, kinds=kinds, rows=rows, classes=classes,
                       proxy_parents=[p.user for p in proxies])


# ---------------------------------------------------------------- activities and evidence
def activities_for_week(school: School, day: dt.date):
    monday, sunday = _week_bounds(day)
    return (Activity.objects.filter(school=school, date__range=(monday, sunday)).with_evidence()
            .prefetch_related("evidence").order_by("date", "id"))


def reuse_match_q(user) -> Q:
    """Flags whose two sides (the new use and the earlier one) lie inside ONE reach of the user's
    roles: the district for a bureau role, the subtree for a township admin, the school itself for
    any school role. A match with a school outside that reach says something about the other
    school (that it holds this photo, which record it is on), so it is the overseer's alone.
    Each role is its own reach: two school roles never join into a cross-school view."""
    q = Q(pk__in=[])
    for m in memberships_of(user):
        if m.role in DISTRICT_ROLES:
            q |= Q(school__district_id=m.district_id, matched_school__district_id=m.district_id)
        elif m.role == Role.TOWNSHIP_ADMIN:
            q |= Q(school__path__startswith=m.school.path, matched_school__path__startswith=m.school.path)
        else:
            q |= Q(school_id=m.school_id, matched_school_id=m.school_id)
    return q


def reused_annotation(user) -> Exists:
    """`reused` for an evidence queryset: flagged by a match the user may see (reuse_match_q)."""
    return Exists(ReusedEvidenceFlag.objects.filter(reuse_match_q(user), evidence=OuterRef("pk")))


def reuse_flags_visible_to(user):
    """Reused-evidence flags of the schools where the user sees aggregates or manages materials,
    each only when its match lies inside the same reach of the user (reuse_match_q)."""
    ids = [s.id for s in schools_visible_to(user)
           if permissions_on_school(user, s) & {"view_aggregates", "manage_materials"}]
    return (ReusedEvidenceFlag.objects.filter(reuse_match_q(user), school_id__in=ids)
            .select_related("evidence", "matched_school"))


# ---------------------------------------------------------------- lists for pages and the API
def contacts_for_child(user, child_id, semester: Semester | None = None):
    """A child's contacts, for users who may see the child (Child.DoesNotExist otherwise)."""
    child = children_visible_to(user).get(pk=child_id)
    qs = CareContact.objects.filter(child=child).select_related("made_by", "semester")
    if semester is not None:
        qs = qs.filter(semester=semester)
    return qs.order_by("-happened_on", "-id")


def contacts_visible_to(user, school: School):
    """One school's contacts whose child's personal record the user may read (school admin,
    explicit identity grant, the child's current proxy parent). The materials clerk and overseers
    without a grant get none."""
    return CareContact.objects.filter(
        school=school, child_id__in=children_with_identity_visible_to(user).filter(school=school).values("id"))


def contacts_list(user, school: School, *, semester: Semester | None = None, kind: str | None = None,
                  class_name: str | None = None, child_id: int | None = None, made_by_id: int | None = None):
    """The contacts list page: filtered, newest first, with the evidence count (a constant number
    of queries per page)."""
    lookups = {"semester": semester, "kind": kind, "child__class_name": class_name, "child_id": child_id,
               "made_by_id": made_by_id}
    qs = contacts_visible_to(user, school).filter(**{k: v for k, v in lookups.items() if v})
    return (qs.select_related("child", "made_by", "semester").annotate(evidence_count=Count("evidence"))
            .order_by("-happened_on", "-id"))


def contact_filter_choices(user, school: School) -> dict:
    """What the contacts list can be filtered by: the children (and their classes) the user may
    read, and who made their contacts."""
    from tenancy.models import User

    children = list(children_with_identity_visible_to(user).filter(school=school)
                    .order_by("grade", "class_name", "name", "id").values("id", "name", "grade", "class_name",
                                                                         "purged_at"))
    makers = User.objects.filter(id__in=contacts_visible_to(user, school).values("made_by_id")).order_by("username")
    return {
        "children": [(c["id"], c["name"] if c["purged_at"] is None else _("(record purged)")) for c in children],
        "classes": _ordered_classes((c["grade"], c["class_name"]) for c in children),
        "makers": list(makers),
    }


@dataclass
class ContactView:
    contact: CareContact
    child_name: str
    can_edit: bool
    can_add_evidence: bool


def contact_get_for_view(user, school: School, pk, request=None, *, log: bool = True) -> ContactView:
    """One contact for its detail or edit page. CareContact.DoesNotExist if the user may not read
    the child's record (the page answers 404). The page names the child, so the read is logged
    like a child detail (action view on the child)."""
    contact = (contacts_visible_to(user, school).select_related("child", "made_by", "semester", "school")
               .get(pk=pk))
    child = contact.child
    if log:
        access_log_record(user=user, school_id=school.id, action=AccessLog.Action.VIEW, obj=child,
                          request=request, detail={"via": "contact", "contact": contact.pk})
    try:
        recordable = child_for_contact(user, child.pk).school_id == school.id
    except Child.DoesNotExist:
        recordable = False
    writable = recordable and not child.is_purged
    mine = contact.made_by_id == user.pk or "manage_children" in permissions_on_school(user, school)
    return ContactView(
        contact=contact, child_name=_("(record purged)") if child.is_purged else child.name,
        can_edit=writable and mine, can_add_evidence=writable,
    )


def activities_list(school: School, semester: Semester | None = None, kind: str | None = None):
    qs = Activity.objects.filter(school=school).with_evidence()
    if semester is not None:
        qs = qs.filter(semester=semester)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-date", "-id")


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
    view_aggregates get a masked view in views_home.study_pair_detail instead.

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


# ---------------------------------------------------------------- archive pages (tracker cell, export)
def contact_cell(child_id: int, kind: str, semester_id: int) -> dict:
    """One tracker cell after a tap: how many contacts of this kind in the semester, and the last date."""
    agg = CareContact.objects.filter(child_id=child_id, kind=kind, semester_id=semester_id).aggregate(
        count=Count("id"), last=Max("happened_on"))
    return {"count": agg["count"], "last": agg["last"]}


def _mask_phone(value: str) -> str:
    digits = value or ""
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]


EXPORT_MASKED_COLUMNS = (
    "name", "gender", "birth_date", "id_number", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "consent", "consent_date", "status", "status_since",
)
EXPORT_FULL_COLUMNS = EXPORT_MASKED_COLUMNS[:13] + (
    "home_village", "health_notes", "wellbeing_notes", "consent", "consent_date", "consent_method", "status",
    "status_since",
)


def children_export_rows(school: School, *, unmasked: bool = False) -> tuple[list[tuple[str, str]], list[dict]]:
    """(columns, rows) of the school's archive for an export. Masked by default: the ID number and
    phones masked, the birth date as year only, village and notes left out. One query."""
    names = EXPORT_FULL_COLUMNS if unmasked else EXPORT_MASKED_COLUMNS
    columns = []
    for name in names:
        field = Child._meta.get_field("id_number_masked" if name == "id_number" else name)
        columns.append((name, str(field.verbose_name)))
    rows = []
    for child in Child.objects.filter(school=school).order_by("status", "grade", "class_name", "name", "id"):
        row = {"id": child.id}
        for name in names:
            if name == "id_number":
                value = (crypto.decrypt(child.id_number_ciphertext) if unmasked and child.id_number_ciphertext
                         else child.id_number_masked)
            else:
                value = getattr(child, name)
                field = Child._meta.get_field(name)
                if field.choices and value:
                    value = str(dict(field.choices).get(value, value))
            if not unmasked:
                if name in ("guardian_phone", "second_contact_phone"):
                    value = _mask_phone(value)
                elif name == "birth_date" and value:
                    value = str(value.year)
            row[name] = value
        if child.is_purged:
            row["name"] = _("(record purged)")
        rows.append(row)
    return columns, rows

# ---------------------------------------------------------------- appended for the REST API (api/schools*.py)
def _level_from_perms(perms: set[str]) -> str | None:
    """Same rule as school_child_level, from an already-read permission set."""
    if "manage_children" in perms:
        return ADMIN
    if "view_child_identity" in perms:
        return IDENTITY
    if "manage_materials" in perms:
        return BASIC
    return None


def child_levels(user) -> tuple[dict[int, str | None], set[int]]:
    """({school id: level on every child of that school}, {ids of the children the user cares for
    as proxy parent, in schools where they may record contacts}) in a fixed number of queries,
    whatever the number of schools or children (for API lists)."""
    from tenancy.selectors import permissions_by_school

    if not getattr(user, "is_authenticated", False):
        return {}, set()
    perms = permissions_by_school(user)
    levels = {sid: _level_from_perms(p) for sid, p in perms.items()}
    contact_schools = [sid for sid, p in perms.items() if "record_contacts" in p]
    assigned: set[int] = set()
    if contact_schools:
        assigned = set(Child.objects.filter(school_id__in=contact_schools, id__in=_assigned_ids_subquery(user))
                       .values_list("id", flat=True))
    return levels, assigned


def child_level_in(levels: dict, assigned: set[int], child) -> str | None:
    """The level on one child from child_levels() (same answer as child_access_level)."""
    level = levels.get(child.school_id)
    if child.id in assigned and _RANK[level] < _RANK[PROXY]:
        level = PROXY
    return level


def children_with_identity_visible_to(user):
    """Children whose personal records the user may read (level PROXY or above): the filter for
    records about a child (contacts, status history, assignments, refusals). A materials clerk
    (BASIC) and the bureau without an explicit identity grant get none."""
    from tenancy.selectors import permissions_by_school

    if not getattr(user, "is_authenticated", False):
        return Child.objects.none()
    perms = permissions_by_school(user)
    whole = [sid for sid, p in perms.items() if _RANK[_level_from_perms(p)] >= _RANK[PROXY]]
    contact_schools = [sid for sid, p in perms.items() if "record_contacts" in p]
    q = Q(school_id__in=whole)
    if contact_schools:
        q |= Q(school_id__in=contact_schools, id__in=_assigned_ids_subquery(user))
    return Child.objects.filter(q)


def may_set_calendar(user, district) -> bool:
    """Whether the user sets the district's semesters: its bureau admin only (pages and services)."""
    from tenancy.models import Membership
    from tenancy.roles import Role

    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, role=Role.BUREAU_ADMIN, district_id=district.id).exists()
