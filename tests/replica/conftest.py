"""Fixtures for the read-replica tests: routing on, a fresh cache, and replay paused on demand."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from submissions import services
from submissions.models import PeriodType, ReportKind
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.support.standby import require_standby, superuser, wait_replayed


@pytest.fixture
def routed(settings):
    """The standby must be there (CI fails without it); heavy reads routed to it."""
    require_standby()
    settings.REPLICA_READS = True
    cache.clear()  # remembered write positions and cached scores of an earlier test
    yield
    cache.clear()


@pytest.fixture
def pause_replay(routed):
    """A function that waits until the standby has replayed everything, then pauses its replay (it
    then lags the primary); replay is resumed afterwards whatever happens."""
    def pause():
        wait_replayed()
        with superuser() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    try:
        yield pause
    finally:
        with superuser() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


def current_report(tree, district, schools, code="weekly"):
    """A fortnightly report whose first period holds today, opened (so a school may send early)."""
    today = timezone.localdate()
    admin = tree.bureau_admin if district == tree.district else tree.other_bureau_admin
    report = services.report_type_create(
        actor=admin, district=district, name=f"报送{code}", code=code, kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=3), end_on=today + timedelta(days=40),
        due_offset_days=3, timely_within_days=3, lock_after_days=14, remind_days_before=2, schools=schools)
    services.periods_open(today=today)
    return report
