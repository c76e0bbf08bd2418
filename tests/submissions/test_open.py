"""The open job: exactly one submission per (school, report type, period), however often it runs."""
from datetime import date

import pytest
from django.db import connection
from django_scopes import ScopeError

from submissions import services
from submissions.models import Period, Submission, SubmissionEvent
from tenancy import services as tenancy_services
from tenancy.scoping import tenant_scope
from tests.support.concurrency import run_at_once
from tests.support.submissions import district_ids


def _count(tree, report):
    with tenant_scope(district_ids(tree)):
        return Submission.objects.filter(report_type=report).count()


def test_only_periods_whose_open_date_has_come(tree, report):
    assert services.periods_open(today=date(2026, 3, 31)) == 0
    assert services.periods_open(today=date(2026, 4, 15)) == 2 * 3  # periods 1 and 2, three schools
    with tenant_scope(district_ids(tree)):
        assert set(Submission.objects.values_list("period__seq", flat=True)) == {1, 2}
        assert SubmissionEvent.objects.filter(action="open").count() == 6
        assert Period.objects.filter(report_type=report, opened_at__isnull=False).count() == 2


def test_repeated_runs_create_nothing_more(tree, report):
    runs = [services.periods_open(today=date(2026, 6, 30)) for _ in range(3)]
    assert runs == [12, 0, 0]
    assert _count(tree, report) == 12
    with tenant_scope(district_ids(tree)):
        assert SubmissionEvent.objects.filter(action="open").count() == 12  # no duplicate audit either


def test_unassigned_and_other_district_schools_get_nothing(tree, report):
    services.periods_open(today=date(2026, 6, 30))
    with tenant_scope(district_ids(tree)):
        assert set(Submission.objects.values_list("school_id", flat=True)) == {tree.gupei.id, tree.menzhuang.id, tree.village_a.id}


def test_schools_opened_or_closed_mid_year_only_get_their_open_periods(tree, report):
    tenancy_services.school_update(school=tree.village_a, opened_on=date(2026, 4, 20))  # from period 2
    tenancy_services.school_update(school=tree.menzhuang, closed_on=date(2026, 4, 28))  # until period 2
    services.periods_open(today=date(2026, 6, 30))
    with tenant_scope(district_ids(tree)):
        seqs = lambda school: sorted(Submission.objects.filter(school=school).values_list("period__seq", flat=True))  # noqa: E731
        assert seqs(tree.gupei) == [1, 2, 3, 4]
        assert seqs(tree.village_a) == [2, 3, 4]
        assert seqs(tree.menzhuang) == [1, 2]


def test_submissions_are_invisible_outside_the_scope(tree, report):
    services.periods_open(today=date(2026, 6, 30))
    with pytest.raises(ScopeError):
        Submission.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM submissions_submission")
        assert cursor.fetchone()[0] == 0  # RLS: no scope, no rows
    with tenant_scope([tree.menzhuang.id]):
        assert set(Submission.objects.values_list("school_id", flat=True)) == {tree.menzhuang.id}
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT school_id FROM submissions_submission")
            assert [r[0] for r in cursor.fetchall()] == [tree.menzhuang.id]


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_from_two_connections_create_each_submission_once(tree, report):
    results = run_at_once(lambda: services.periods_open(today=date(2026, 6, 30)))
    assert sum(results) == 12, results  # every row created by exactly one of the runs
    assert _count(tree, report) == 12
    with tenant_scope(district_ids(tree)):
        assert SubmissionEvent.objects.filter(action="open").count() == 12
    # And once more, sequentially, for good measure.
    assert services.periods_open(today=date(2026, 6, 30)) == 0
