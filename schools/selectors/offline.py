"""What a phone keeps for offline work: the user's own assigned children with their contact status
this semester, and the user's own contacts with them (for offline note edits). Nothing else about
a child (no ID number, address, guardian or phone) ever goes to the device."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q

from tenancy.selectors import has_school_perm, memberships_of, schools_visible_to

from ..models import CareContact, Child, Semester
from ._common import _today
from .children import _assigned_ids_subquery, _levels_by_school
from .semesters import semester_current


def offline_children(user, today: dt.date | None = None) -> dict:
    """{"children": [...], "contacts": [...]} for the user's device. Only children the user is the
    proxy parent of and may record contacts for (on the active list), whatever else their role lets
    them see: a school admin's phone does not carry the whole school."""
    today = today or _today()
    _levels, assigned_schools = _levels_by_school(user)
    if not assigned_schools:
        return {"children": [], "contacts": []}
    children = list(Child.objects.filter(school_id__in=assigned_schools, id__in=_assigned_ids_subquery(user),
                                         status=Child.Status.ACTIVE)
                    .select_related("school").order_by("grade", "class_name", "name", "id"))
    semesters: dict[int, Semester | None] = {}
    for child in children:
        if child.school.district_id not in semesters:
            semesters[child.school.district_id] = semester_current(child.school.district_id, today)
    in_semester = Q(semester__in=[s for s in semesters.values() if s is not None])
    ids = [c.id for c in children]
    cells: dict[tuple[int, str], dict] = {}
    for row in (CareContact.objects.filter(in_semester, child_id__in=ids).values("child_id", "kind")
                .annotate(n=Count("id"), last=Max("happened_on"))):
        cells[(row["child_id"], row["kind"])] = {"count": row["n"], "last": row["last"]}
    kinds = CareContact.Kind.values
    out = []
    for child in children:
        semester = semesters[child.school.district_id]
        out.append({
            "id": child.id, "school": child.school_id, "name": child.name, "class_name": child.class_name,
            "semester": semester.pk if semester else None,
            "cells": {k: cells.get((child.id, k), {"count": 0, "last": None}) for k in kinds},
        })
    contacts = list(CareContact.objects.filter(in_semester, child_id__in=ids, made_by=user)
                    .order_by("-happened_on", "-id")
                    .values("id", "school_id", "child_id", "kind", "happened_on", "notes", "version"))
    return {"children": out, "contacts": contacts}


def offline_schools(user) -> list[dict]:
    """The schools where the user may add activities or record contacts from the phone: those of
    the user's own school roles (a bureau user reads the district, and records nothing offline)."""
    rows = []
    own = {m.school_id for m in memberships_of(user) if m.school_id}
    for school in schools_visible_to(user).filter(id__in=own).order_by("name"):
        materials = has_school_perm(user, "manage_materials", school)
        contacts = has_school_perm(user, "record_contacts", school)
        if materials or contacts:
            rows.append({"id": school.id, "name": school.name, "activities": materials, "contacts": contacts})
    return rows
