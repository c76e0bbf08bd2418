"""The read replica against a real streaming hot standby (.ci/standby.sh): the bureau's heavy reads
reach the standby, row-level security holds there, and a lagging standby never hides a school's
own write (read-your-own-writes). Transactional tests: the standby only sees committed rows.
"""
from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from submissions.models import Submission
from tenancy.replica import reading_as, replica_reads
from tenancy.scoping import system_scope, tenant_scope
from tests.replica.conftest import current_report
from tests.support.standby import superuser, wait_replayed
from tests.support.submissions import compile_

# "replica" only when configured: on a bare machine the tests then skip through require_standby().
DATABASES = ["default", "replica"] if "replica" in settings.DATABASES else ["default"]
pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)

SUBMISSIONS = Submission._meta.db_table


def _hits(captured: CaptureQueriesContext, table: str) -> int:
    return sum(1 for q in captured.captured_queries if table in q["sql"])


def _view_matrix(client, user, report):
    """GET the bureau's matrix page as `user`; (response, submission queries on the primary, on the replica)."""
    client.force_login(user)
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get(reverse("reporting_matrix"), {"report_type": report.pk, "district": report.district_id})
    assert response.status_code == 200
    return response, _hits(primary, SUBMISSIONS), _hits(replica, SUBMISSIONS)


def _cell(response, school, seq=1) -> str:
    row = next(r for r in response.context["matrix"].rows if r.school.pk == school.pk)
    return row.cells[seq - 1].status


def _standby_reads(datname: str) -> int:
    with superuser() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                            [datname]).fetchone()[0]


def test_the_matrix_is_read_on_the_standby(routed, tree, client):
    report = current_report(tree, tree.district, [tree.gupei, tree.menzhuang])
    wait_replayed()
    before = _standby_reads(settings.DATABASES["replica"]["NAME"])
    response, on_primary, on_replica = _view_matrix(client, tree.bureau_admin, report)
    assert on_replica >= 1 and on_primary == 0, (on_primary, on_replica)
    assert {r.school.pk for r in response.context["matrix"].rows} == {tree.gupei.pk, tree.menzhuang.pk}
    # The server itself: the standby's own counters for the test database went up.
    deadline = time.monotonic() + 10
    while _standby_reads(settings.DATABASES["replica"]["NAME"]) <= before:
        assert time.monotonic() < deadline, "the standby served no transaction for the page"
        time.sleep(0.2)


def test_replica_reads_run_on_a_server_in_recovery(routed, tree):
    wait_replayed()
    with tenant_scope([tree.gupei.id]), replica_reads(reason="test") as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only'),"
                           " current_setting('app.school_ids')")
            assert alias == "replica"
            assert cursor.fetchone() == (True, "on", str(tree.gupei.id))


def test_row_level_security_holds_on_the_standby(routed, tree):
    current_report(tree, tree.district, [tree.gupei, tree.menzhuang])
    current_report(tree, tree.other_district, [tree.far_school], code="far")
    wait_replayed()
    with superuser() as conn:  # the superuser bypasses RLS: the rows are there
        total, gupei = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE school_id = %s) FROM {SUBMISSIONS}", [tree.gupei.id]).fetchone()
    assert total > gupei > 0
    replica = connections["replica"]
    with replica.cursor() as cursor:  # the runtime role, no scope: nothing
        cursor.execute(f"SELECT count(*) FROM {SUBMISSIONS}")
        assert cursor.fetchone()[0] == 0
    with replica_reads(reason="test") as alias:  # no scope in force: fails closed on the replica too
        assert alias == "replica"
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {SUBMISSIONS}")
            assert cursor.fetchone()[0] == 0
    with tenant_scope([tree.gupei.id]), replica_reads(reason="test") as alias:
        assert alias == "replica"
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT count(*), count(DISTINCT school_id) FROM {SUBMISSIONS}")
            assert cursor.fetchone() == (gupei, 1)
        # A nested scope (here a system scope) is applied on the replica as on the primary.
        with system_scope("test: widen on the replica", school_ids=[tree.gupei.id, tree.far_school.id]):
            assert Submission.objects.count() > gupei
        assert Submission.objects.count() == gupei


def test_a_lagging_standby_never_hides_a_schools_own_write(pause_replay, tree, client):
    report = current_report(tree, tree.district, [tree.gupei, tree.menzhuang])
    far_report = current_report(tree, tree.other_district, [tree.far_school], code="far")
    with tenant_scope([tree.gupei.id]):
        sub = Submission.objects.get(report_type=report, school=tree.gupei, period__seq=1)
        compile_(sub, tree.gupei_clerk)
    pause_replay()
    # The school sends its report through the page; the request commits.
    client.force_login(tree.gupei_clerk)
    response = client.post(reverse("submission_submit", args=[sub.pk]), {"note": ""})
    assert response.status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert Submission.objects.get(pk=sub.pk).timeliness == "on_time"
    with superuser() as conn:  # the paused standby has not seen it
        assert conn.execute(f"SELECT timeliness FROM {SUBMISSIONS} WHERE id = %s", [sub.pk]).fetchone()[0] == ""

    # Another user of the school (the township centre's admin) and the bureau: served by the primary,
    # they see the report sent.
    for reader in (tree.gupei_township, tree.bureau_admin):
        response, on_primary, on_replica = _view_matrix(client, reader, report)
        assert _cell(response, tree.gupei) == "on_time", reader
        assert on_primary >= 1 and on_replica == 0, (reader, on_primary, on_replica)
    # The writer: its own position holds even outside the school's scope.
    with reading_as(tree.gupei_clerk.pk, [tree.far_school.id]), replica_reads(reason="test") as alias:
        assert alias == "default"
    # A reader whose scope wrote nothing is still served by the paused standby.
    response, on_primary, on_replica = _view_matrix(client, tree.other_bureau_admin, far_report)
    assert on_replica >= 1 and on_primary == 0, (on_primary, on_replica)
    assert _cell(response, tree.far_school) == "not_due"
