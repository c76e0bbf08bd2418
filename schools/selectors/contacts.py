"""Care contacts: the tracker grid, the contacts lists and one contact's page."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from tenancy.models import School, User
from tenancy.selectors import permissions_on_school

from ..models import CareContact, Child, ProxyAssignment, Semester, StaffProfile
from ._common import _ordered_classes, _today
from .children import (
    ADMIN,
    _levels_by_school,
    assigned_child_ids,
    child_for_contact,
    children_visible_to,
    children_with_identity_visible_to,
)


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


def contact_get_for_view(user, school: School, pk) -> ContactView:
    """One contact for its detail or edit page. CareContact.DoesNotExist if the user may not read
    the child's record (the page answers 404). The page names the child, so showing it is logged
    like a child detail (services.contact_read_log)."""
    contact = (contacts_visible_to(user, school).select_related("child", "made_by", "semester", "school")
               .get(pk=pk))
    child = contact.child
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


# ---------------------------------------------------------------- archive pages (tracker cell, export)
def contact_cell(child_id: int, kind: str, semester_id: int) -> dict:
    """One tracker cell after a tap: how many contacts of this kind in the semester, and the last date."""
    agg = CareContact.objects.filter(child_id=child_id, kind=kind, semester_id=semester_id).aggregate(
        count=Count("id"), last=Max("happened_on"))
    return {"count": agg["count"], "last": agg["last"]}
