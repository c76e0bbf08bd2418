"""The bureau's completeness and timeliness matrix, and reporting rates (DHIS2 semantics)."""
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from submissions import selectors, services
from submissions.models import PeriodType
from tenancy import services as tenancy_services
from tenancy.models import User
from tenancy.scoping import tenant_scope
from tests.support.submissions import at, compile_, district_ids, get_sub


def _send(tree, report, school, seq, actor, days_after_end):
    with tenant_scope([school.id]):
        sub = get_sub(tree, report, school, seq)
        compile_(sub, actor)
        return services.submission_submit(actor=actor, submission=sub,
                                          now=at(sub.period.end_on + timedelta(days=days_after_end)))


def _statuses(matrix):
    return {row.school.code: [c.status for c in row.cells] for row in matrix.rows}


def test_matrix_cells_and_rates_with_a_school_opened_mid_year(tree, report):
    tenancy_services.school_update(school=tree.village_a, opened_on=date(2026, 4, 20))  # expected from period 2
    services.periods_open(today=date(2026, 5, 20))  # periods 1–4 open; 4 (May 13–26) not due yet
    _send(tree, report, tree.gupei, 1, tree.gupei_clerk, 1)
    _send(tree, report, tree.gupei, 2, tree.gupei_clerk, 6)  # late
    _send(tree, report, tree.gupei, 4, tree.gupei_clerk, -5)  # early, on time, before it is due
    _send(tree, report, tree.menzhuang, 1, tree.menzhuang_admin, 2)
    _send(tree, report, tree.village_a, 3, tree.village_a_admin, 0)
    with tenant_scope(district_ids(tree)):
        m = selectors.completeness_matrix(user=tree.bureau_admin, report_type=report, today=date(2026, 5, 20))
    assert [p.seq for p in m.periods] == [1, 2, 3, 4]
    assert _statuses(m) == {
        "gupei": ["on_time", "late", "missing", "on_time"],
        "gupei-a": ["not_expected", "missing", "on_time", "not_due"],
        "menzhuang": ["on_time", "missing", "missing", "not_due"],
    }
    rows = {r.school.code: r.rates for r in m.rows}
    # Gupei: expected 4 (3 due + 1 sent early), sent 3, on time 2.
    assert (rows["gupei"].expected, rows["gupei"].submitted, rows["gupei"].on_time) == (4, 3, 2)
    assert rows["gupei"].reporting_rate == 0.75 and rows["gupei"].on_time_rate == 0.5
    # Village A joined in period 2: only periods 2 and 3 are expected (4 is not due).
    assert (rows["gupei-a"].expected, rows["gupei-a"].submitted) == (2, 1)
    assert (m.rates.expected, m.rates.submitted, m.rates.on_time) == (9, 5, 4)
    assert m.rates.reporting_rate == round(5 / 9, 4)
    assert [(r.expected, r.submitted) for r in m.period_rates] == [(2, 2), (3, 1), (3, 1), (1, 1)]


def test_matrix_is_for_overseers_only(tree, report):
    with tenant_scope(district_ids(tree)):
        for user in (tree.gupei_admin, tree.gupei_clerk, tree.menzhuang_admin, tree.nobody):
            with pytest.raises(PermissionDenied):
                selectors.completeness_matrix(user=user, report_type=report)
        inspector = selectors.completeness_matrix(user=tree.bureau_inspector, report_type=report)
        assert {r.school.code for r in inspector.rows} == {"gupei", "gupei-a", "menzhuang"}
        township = selectors.completeness_matrix(user=tree.gupei_township, report_type=report)
        assert {r.school.code for r in township.rows} == {"gupei", "gupei-a"}  # its own subtree only


def _district_of_size(n_schools, n_periods, tag):
    district = tenancy_services.district_create(name=f"规模{tag}", code=f"size-{tag}")
    schools = [tenancy_services.school_create(district=district, name=f"学校{tag}-{i}", code=f"s{i}")
               for i in range(n_schools)]
    admin = tenancy_services.user_create(username=f"admin-{tag}", password=None)
    tenancy_services.membership_grant(user=admin, role="bureau_admin", district=district)
    start = date(2026, 1, 5)
    report = services.report_type_create(
        actor=admin, district=district, name="weekly", code="weekly", period_type=PeriodType.WEEKLY,
        start_on=start, end_on=start + timedelta(days=7 * n_periods - 1), schools=schools)
    services.periods_open(today=date(2026, 12, 31), report_type_ids=[report.id])
    return district, schools, report


@pytest.mark.parametrize("n_schools,n_periods", [(2, 3), (12, 20)])
def test_matrix_runs_a_constant_number_of_queries(db, django_assert_num_queries, n_schools, n_periods):
    district, schools, report = _district_of_size(n_schools, n_periods, f"{n_schools}x{n_periods}")
    admin = User.objects.get(username=f"admin-{n_schools}x{n_periods}")  # fresh: no cached permissions
    with tenant_scope([s.id for s in schools]):
        report = type(report).objects.select_related("district").get(pk=report.pk)
        # district grant, periods, schools, submissions: the same at every size
        with django_assert_num_queries(4):
            m = selectors.completeness_matrix(user=admin, report_type=report, today=date(2026, 12, 31))
    assert len(m.rows) == n_schools and len(m.periods) == n_periods
    assert m.rates.expected == n_schools * n_periods and m.rates.submitted == 0
