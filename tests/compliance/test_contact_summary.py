"""schools.ChildContactSummary: kept by triggers on every write path, and the four-contact metric
reads the same values from it as from the contacts themselves."""
from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection

from benchmarks import benchdata
from compliance import metrics
from compliance.metrics.sql import (
    ALL_CONTACTS,
    CONTACT_KIND_BITS,
    _active_children_sql,
    _by_school,
    _contact_mask_from_contacts_sql,
    _params,
    _sql,
    _table,
)
from compliance.models import SemesterWindow
from schools.models import CareContact, Child, ChildContactSummary, Semester
from tenancy.scoping import district_scope, tenant_scope

START, END = dt.date(2026, 9, 1), dt.date(2027, 1, 24)
KINDS = list(CONTACT_KIND_BITS)


@pytest.fixture
def semesters(tree):
    with district_scope(tree.district):
        autumn = Semester.objects.create(district=tree.district, name="2026 秋季学期", start=START, end=END)
        spring = Semester.objects.create(district=tree.district, name="2026 春季学期", start=dt.date(2026, 2, 23),
                                         end=dt.date(2026, 7, 5))
    return autumn, spring


def _child(school, name, **kw):
    return Child.objects.create(**{"school": school, "name": name, "gender": "male", "grade": 3,
                                   "status_since": START, **kw})


def _contact(child, kind, semester, user, day=None):
    return CareContact(school_id=child.school_id, child=child, kind=kind, semester=semester, made_by=user,
                       happened_on=day or semester.start + dt.timedelta(days=10))


def _summary() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT school_id, semester_id, child_id, mask FROM {_table('schools.ChildContactSummary')}")
        return set(cursor.fetchall())


def _recomputed() -> set[tuple]:
    bits = " ".join(f"WHEN '{k}' THEN {b}" for k, b in CONTACT_KIND_BITS.items())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT school_id, semester_id, child_id, bit_or(CASE kind {bits} END) "
                       f"FROM {_table('schools.CareContact')} GROUP BY 1, 2, 3")
        return set(cursor.fetchall())


def test_the_triggers_use_the_metrics_bits():
    migration = importlib.import_module("schools.migrations.0006_child_contact_summary")
    assert migration.KIND_BITS == CONTACT_KIND_BITS
    assert sum(CONTACT_KIND_BITS.values()) == ALL_CONTACTS


def test_summary_follows_every_write_path(tree, semesters):
    autumn, spring = semesters
    g, a, u = tree.gupei, tree.village_a, tree.gupei_teacher
    with tenant_scope([g.id, a.id]):
        one, two, three = _child(g, "张小明"), _child(g, "李小红"), _child(g, "王小刚")
        # One by one (the services' path), then in bulk (imports, the benchmark's generator).
        _contact(one, "home_visit", autumn, u).save()
        _contact(one, "talk", autumn, u).save()
        CareContact.objects.bulk_create([_contact(c, k, autumn, u) for c in (two, three) for k in KINDS]
                                        + [_contact(one, "letter", spring, u), _contact(one, "letter", spring, u)])
        assert _summary() == _recomputed()
        assert (g.id, autumn.id, one.id, 3) in _summary() and (g.id, autumn.id, two.id, ALL_CONTACTS) in _summary()
        # An edit of the notes only changes nothing; a change of kind or semester recomputes both keys.
        CareContact.objects.filter(child=two).update(notes="家访记录")
        letter = CareContact.objects.get(child=two, kind="letter")
        letter.kind = "talk"
        letter.save()
        CareContact.objects.filter(child=one, semester=spring).update(semester=autumn)
        assert _summary() == _recomputed()
        assert (g.id, autumn.id, two.id, 7) in _summary() and (g.id, autumn.id, one.id, 11) in _summary()
        assert not {r for r in _summary() if r[1] == spring.id}, "a key left without contacts is dropped"
        # A child moved to another school with its contacts: the old school's key goes, the new one comes.
        Child.objects.filter(pk=three.pk).update(school=a)
        CareContact.objects.filter(child=three).update(school=a)
        assert _summary() == _recomputed()
        assert (a.id, autumn.id, three.id, ALL_CONTACTS) in _summary()
        # Deletions: one contact, a queryset, a child with its contacts (the retention purge's cascade).
        CareContact.objects.filter(child=two, kind="home_visit").get().delete()
        CareContact.objects.filter(child=one, kind="letter").delete()
        assert _summary() == _recomputed()
        assert (g.id, autumn.id, two.id, 6) in _summary() and (g.id, autumn.id, one.id, 3) in _summary()
        Child.objects.get(pk=three.pk).delete()
        assert _summary() == _recomputed()
        assert not ChildContactSummary.objects.filter(child_id=three.pk).exists()


def test_summary_is_school_owned_under_rls(tree, semesters):
    autumn, _spring = semesters
    g, m, u = tree.gupei, tree.menzhuang, tree.gupei_teacher
    with tenant_scope([g.id, m.id]):
        for school in (g, m):
            _contact(_child(school, "张小明"), "talk", autumn, u).save()
    with tenant_scope([g.id]):
        assert {r[0] for r in _summary()} == {g.id}, "RLS hides the other school's summary rows"
        assert set(ChildContactSummary.objects.values_list("school_id", flat=True)) == {g.id}


def _coverage_from_contacts(ids, semester) -> dict:
    """four_contact_coverage written over the contacts, as it was before the summary."""
    rows = _sql(f"""
        SELECT ch.school_id, count(*) FILTER (WHERE cc.mask = {ALL_CONTACTS})::float / count(*)
        FROM {_table('schools.Child')} ch
        LEFT JOIN ({_contact_mask_from_contacts_sql()}) cc ON cc.school_id = ch.school_id AND cc.child_id = ch.id
        WHERE ch.school_id + 0 = ANY(%(ids)s::bigint[]) AND {_active_children_sql()}
        GROUP BY ch.school_id""", _params(ids, semester))
    return {sid: (None if v is None else float(v)) for sid, v in _by_school(rows, ids, default=None).items()}


def test_four_contact_coverage_is_the_same_from_the_summary_and_the_contacts(tree, semesters):
    autumn, spring = semesters
    g, a, b, m, u = tree.gupei, tree.village_a, tree.village_b, tree.menzhuang, tree.gupei_teacher
    ids = [g.id, a.id, b.id, m.id]
    with tenant_scope(ids):
        benchdata.generate_records(school_ids=[g.id, a.id, b.id], semester=autumn, user=u, children=30)
        # Crafted edges: a child with every kind in the other semester only, a departed child with
        # all four, a child whose contacts were moved away, and edits and deletions after the insert.
        elsewhere = _child(m, "别学期")
        CareContact.objects.bulk_create([_contact(elsewhere, k, spring, u) for k in KINDS])
        gone = _child(m, "已转出", status="transferred", status_since=dt.date(2026, 8, 1))
        CareContact.objects.bulk_create([_contact(gone, k, autumn, u) for k in KINDS])
        moved = _child(m, "联系记在别校")
        CareContact.objects.bulk_create([_contact(moved, k, autumn, u) for k in KINDS])
        CareContact.objects.filter(child=moved).update(school=g)
        some = list(CareContact.objects.filter(school=a).order_by("id").values_list("id", flat=True)[::7])
        CareContact.objects.filter(id__in=some).delete()
        CareContact.objects.filter(school=b, kind="letter").update(kind="talk")
        assert _summary() == _recomputed()

        from_summary = metrics.get_metric("four_contact_coverage").compute(ids, autumn)
        from_contacts = _coverage_from_contacts(ids, autumn)
        # The date-window path (no Semester row, e.g. a truncated as_of window) aggregates contacts.
        by_dates = metrics.get_metric("four_contact_coverage").compute(
            ids, SemesterWindow(autumn.start, autumn.end, autumn.name, None))
    assert from_summary == from_contacts == by_dates
    assert len({v for v in from_summary.values()}) >= 3, "the crafted schools differ"
    assert from_summary[b.id] == 0 and from_summary[m.id] == 0 and from_summary[g.id] > 0
