"""Migration 0005: existing notifications get the district that owns them, none is dropped.

The backfill runs against a temporary copy of the table (a session's temporary table comes first
in the search path): the same statements, on rows whose district is still empty, without
altering the real table."""
from __future__ import annotations

from datetime import date
from importlib import import_module

import pytest
from django.db import connection

from submissions import services
from submissions.models import PeriodType, Submission
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

migration = import_module("submissions.migrations.0006_notification_district")


class _Editor:
    connection = connection


def _old_rows(rows):
    """A temporary submissions_notification without the NOT NULL, holding rows as 0004 left them."""
    with connection.cursor() as cursor:
        # The table as it was then (it has since moved to notices, with more columns).
        cursor.execute("CREATE TEMP TABLE submissions_notification AS SELECT id, user_id, text, link, is_read, "
                       "created_at, read_at, district_id FROM notices_notification WITH NO DATA")
        for n, (user, link) in enumerate(rows, start=1):
            cursor.execute("INSERT INTO submissions_notification (id, user_id, text, link, is_read, created_at, "
                           "district_id) VALUES (%s, %s, 'x', %s, false, now(), NULL)", [n, user.pk, link])


def _districts():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, district_id FROM submissions_notification ORDER BY id")
        rows = dict(cursor.fetchall())
        cursor.execute("DROP TABLE pg_temp.submissions_notification")
    return rows


@pytest.fixture
def far_submission(tree):
    report = services.report_type_create(
        actor=None, district=tree.other_district, name="报送", code="far", period_type=PeriodType.MONTHLY,
        start_on=date(2026, 1, 1), end_on=date(2026, 1, 31), schools=[tree.far_school])
    services.periods_open(today=date(2026, 3, 1), report_type_ids=[report.id])
    with tenant_scope([tree.far_school.id]):
        return Submission.objects.get(report_type=report)


def test_rows_get_the_district_of_their_submission_else_of_their_user(tree, far_submission):
    both = tenancy_services.user_create(username="two_districts", password=None)
    tenancy_services.membership_grant(user=both, role=Role.TEACHER, school=tree.far_school)
    tenancy_services.membership_grant(user=both, role=Role.BUREAU_INSPECTOR, district=tree.district)
    _old_rows([
        (tree.gupei_admin, f"/submissions/{far_submission.pk}/"),  # the submission decides, not the user
        (tree.other_teacher, "/submissions/999999/"),  # gone: the user's school's district
        (both, ""),  # a district role comes before a school role
        (tree.gupei_clerk, "/elsewhere/"),
    ])
    migration.backfill(None, _Editor())
    assert _districts() == {1: tree.other_district.id, 2: tree.other_district.id, 3: tree.district.id,
                            4: tree.district.id}


def test_a_row_no_district_owns_stops_the_migration(tree):
    _old_rows([(tree.nobody, "/submissions/999999/")])
    with pytest.raises(RuntimeError, match="1 notification"):
        migration.backfill(None, _Editor())
    _districts()
