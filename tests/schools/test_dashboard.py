"""The school dashboard: its figures, and a query count that does not grow with the children."""
from __future__ import annotations

import datetime as dt

import pytest

from schools import selectors
from schools.models import Activity, CareContact, Child, Evidence, RuleDocument, RuleDocumentVersion
from tenancy.scoping import tenant_scope

KINDS = ["home_visit", "talk", "guardian_contact", "letter"]


def populate(home, n_children: int, today):
    """n children in two classes; child i has the first (i % 5) kinds (so 1 in 5 is complete…)."""
    school = home.gupei
    with tenant_scope([school.id]):
        children = Child.objects.bulk_create([
            Child(school=school, name=f"c{i}", gender="male", grade=3 + i % 2, class_name=f"{3 + i % 2}班",
                  left_behind_kind="both", status_since=today)
            for i in range(n_children)
        ])
        CareContact.objects.bulk_create([
            CareContact(school=school, child=c, kind=KINDS[k], happened_on=today, semester=home.semester,
                        made_by=home.gupei_admin)
            for i, c in enumerate(children) for k in range(i % 5)
        ])
        acts = Activity.objects.bulk_create([
            Activity(school=school, date=today - dt.timedelta(days=d), semester=home.semester, kind="theme_activity",
                     title=f"a{d}", text_record="记录" if d % 2 == 0 else "")
            for d in range(n_children // 5)
        ])
        Evidence.objects.bulk_create([
            Evidence(school=school, kind="photo", file=f"x/{a.id}.jpg", sha256=f"{a.id:064d}", content_type="image/jpeg",
                     size=1, activity=a)
            for a in acts[::3]
        ])
        doc = RuleDocument.objects.create(school=school, kind="annual_plan")
        ev = Evidence.objects.create(school=school, kind="document", file="x/doc.pdf", sha256="d" * 64,
                                     content_type="application/pdf", size=1)
        RuleDocumentVersion.objects.create(school=school, document=doc, number=1, adopted_on=today, evidence=ev)
    return children


def fresh(user):
    """Forget the per-request permission caches, so each measurement pays for them."""
    for attr in ("_memberships_cache", "_school_ids_cache", "_school_perm_cache"):
        user.__dict__.pop(attr, None)
    return user


def dashboard(home, today):
    with tenant_scope([home.gupei.id]):
        return selectors.school_dashboard(home.gupei, home.semester, user=fresh(home.gupei_admin), today=today)


def test_dashboard_figures(tree, semester, today):
    tree.semester = semester
    populate(tree, 10, today)
    data = dashboard(tree, today)
    # Child i has the first i%5 kinds → home_visit done by i%5 >= 1: 8 of 10.
    cov = {c["kind"]: (c["done"], c["total"]) for c in data["coverage"]}
    assert cov == {"home_visit": (8, 10), "talk": (6, 10), "guardian_contact": (4, 10), "letter": (2, 10)}
    assert [c["class_name"] for c in data["classes"]] == ["3班", "4班"]
    assert len(data["overdue"]) == 8
    assert data["overdue"][0]["missing"]
    assert data["evidence"]["total"] == 2
    assert len(data["missing_rules"]) == 8


# Pinned at two sizes: the count must not depend on the number of children.
DASHBOARD_QUERIES = 16  # incl. entering and leaving the tenant scope (savepoint + set_config)
TRACKER_QUERIES = 9


@pytest.mark.parametrize("size", [5, 40])
def test_dashboard_query_count_is_constant(tree, semester, today, size, django_assert_num_queries):
    tree.semester = semester
    populate(tree, size, today)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        data = dashboard(tree, today)
    assert data["children"] == size


@pytest.mark.parametrize("size", [5, 40])
def test_tracker_grid_query_count_is_constant(tree, semester, today, size, django_assert_num_queries):
    tree.semester = semester
    populate(tree, size, today)
    with tenant_scope([tree.gupei.id]):
        with django_assert_num_queries(TRACKER_QUERIES):
            grid = selectors.contact_tracker_grid(fresh(tree.gupei_admin), tree.gupei, semester)
    assert len(grid.rows) == size
