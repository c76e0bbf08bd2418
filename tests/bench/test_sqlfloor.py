"""The SQL floor (benchmarks.sqlfloor) gives the same automatic-item totals as compute_scores."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import benchdata, sqlfloor
from compliance import services
from compliance.scoring import compute_scores
from schools.models import Child, Semester
from tenancy import services as tenancy_services
from tenancy.scoping import district_scope, tenant_scope
from tests.support.compliance import version  # noqa: F401  (fixture)

START, END = dt.date(2026, 9, 1), dt.date(2027, 1, 24)
TODAY = dt.date(2026, 12, 10)  # September..November reports are due


@pytest.fixture
def district(tree):
    """12 schools with generated records of varying diligence (so all rules hit several bands), two
    children who left (during and after the semester), and menzhuang with no records at all (not applicable)."""
    with district_scope(tree.district):
        semester = Semester.objects.create(district=tree.district, name="2026 秋季学期", start=START, end=END)
    rt = benchdata.create_report_type(district=tree.district, semester=semester)
    extra = [tenancy_services.school_create(district=tree.district, name=f"村小{i}", code=f"fl-{i}",
                                            parent=tree.gupei).id for i in range(9)]
    ids = [tree.gupei.id, tree.village_a.id, tree.village_b.id, *extra]
    with tenant_scope(ids):
        benchdata.generate_records(school_ids=ids, semester=semester, user=tree.gupei_teacher, children=12,
                                   report_type=rt)
        first, second = Child.objects.filter(school_id=tree.gupei.id).order_by("id").values_list("id", flat=True)[:2]
        # One left during the semester (not counted), one after it ended (still counted).
        Child.objects.filter(id=first).update(status="transferred", status_since=dt.date(2026, 10, 1))
        Child.objects.filter(id=second).update(status="transferred", status_since=dt.date(2027, 2, 1))
    version = services.checklist_load_default(district=tree.district)
    assessment = services.assessment_create(district=tree.district, checklist_version=version, title="考核",
                                            semester=semester, actor=tree.bureau_admin)
    return assessment, [*ids, tree.menzhuang.id]


def _floor(assessment, ids, semester=None):
    with tenant_scope(ids), CaptureQueriesContext(connection) as ctx:
        totals = sqlfloor.automatic_totals(version_id=assessment.checklist_version_id,
                                          semester=semester or assessment.semester, school_ids=ids, today=TODAY)
    statements = [q for q in ctx.captured_queries if "set_config" not in q["sql"] and q["sql"] not in (
        "BEGIN", "COMMIT") and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    return totals, len(statements)


def test_floor_equals_compute_scores(district):
    assessment, ids = district
    with district_scope(assessment):
        sqlfloor.check_supported(assessment.checklist_version_id)
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        scores = compute_scores(assessment)
    expected = sqlfloor.totals_of_scores(scores)
    totals, statements = _floor(assessment, ids)
    assert statements == 1
    assert totals == expected
    # The fixture is not trivial: scores vary, the school without records has shares not applicable.
    assert len({earned for earned, _points in totals.values()}) > 5
    applicable = {points for _earned, points in totals.values()}
    with district_scope(assessment):
        automatic = sum(it.points for it in assessment.checklist_version.items.filter(scoring="automatic"))
    assert len(applicable) == 2 and max(applicable) == automatic


def test_floor_by_date_window_equals_compute_scores_as_of(district):
    """A truncated window (no Semester row): both go by the records' dates."""
    assessment, ids = district
    as_of = dt.date(2026, 11, 15)
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        expected = sqlfloor.totals_of_scores(compute_scores(assessment, as_of=as_of))
    window = assessment.semester._replace(end=as_of, id=None)
    totals, _ = _floor(assessment, ids, window)
    assert totals == expected
    assert totals != _floor(assessment, ids)[0]


def test_floor_reads_the_rule_parameters_of_the_version(tree, district):
    """An edited version (other bands, another threshold) is scored by its own item rows."""
    assessment, ids = district
    before, _ = _floor(assessment, ids)
    draft = services.checklist_version_new_draft(version=assessment.checklist_version, actor=tree.bureau_admin)
    with district_scope(draft):
        items = {it.code: it for it in draft.items.all()}
    services.checklist_item_update(item=items["B2"], bands=[[4, 8]], actor=tree.bureau_admin)
    services.checklist_item_update(item=items["A1"], threshold=Decimal("2"), actor=tree.bureau_admin)
    services.checklist_item_update(item=items["C1"], target=Decimal("7"), actor=tree.bureau_admin)
    version = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    assessment = services.assessment_rebind(assessment=assessment, checklist_version=version, actor=tree.bureau_admin)
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        expected = sqlfloor.totals_of_scores(compute_scores(assessment))
    after, _ = _floor(assessment, ids)
    assert after == expected != before


def test_floor_sees_nothing_outside_the_scope(district):
    assessment, ids = district
    with tenant_scope([ids[0]]):
        blind = sqlfloor.automatic_totals(version_id=assessment.checklist_version_id, semester=assessment.semester,
                                          school_ids=ids, today=TODAY)
    full, _ = _floor(assessment, ids)
    # Outside the scope RLS hides the records: another school's totals are not its real ones.
    assert blind[ids[0]] == full[ids[0]]
    assert any(blind[i] != full[i] for i in ids[1:-1])


def test_unsupported_metric_is_refused(version):
    with pytest.raises(ValueError, match="test_staff_count"), district_scope(version):
        sqlfloor.check_supported(version.id)


def test_school_id_arrays_are_cast_to_bigint():
    """psycopg sends a list of small ints as smallint[]; `bigint = ANY(smallint[])` cannot be
    hashed (the two sides hash differently), so PostgreSQL compares every row with every id:
    1,000 schools made scoring 4x slower. Every school-id array in the scoring SQL is cast."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in [*sorted((root / "compliance" / "metrics").glob("*.py")), root / "benchmarks" / "sqlfloor.py",
                 root / "benchmarks" / "benchdata.py"]:
        name, text = path.name, path.read_text(encoding="utf-8")
        uncast = re.findall(r"%\(ids\)s(?!::bigint\[\])", text)
        assert not uncast, f"{name}: cast %(ids)s to ::bigint[]"
