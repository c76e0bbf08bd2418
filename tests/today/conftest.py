"""A district with work to do today (relative to the real date), for the start page's tests.

On top of tests/support/schools.py's `home` (a semester around today; gupei_teacher cares for two
of gupei's four children, none contacted yet), a fortnightly report type whose periods sit around
today: period 1 is past due (gupei sent it and the bureau returned it; menzhuang sent it and waits
for review; village A has not sent it), period 2 is due today or soon, period 3 is open.
"""
from __future__ import annotations

import datetime as dt

import pytest

from schools import services as school_services
from submissions import services as submission_services
from submissions.models import PeriodType, ReportKind
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child, home, semester, today  # noqa: F401  (fixtures)
from tests.support.submissions import at, compile_, get_sub


@pytest.fixture
def work(home, today):
    tree = home
    report = submission_services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="工作动态报送", code="rolling",
        kind=ReportKind.PROGRESS, period_type=PeriodType.FORTNIGHTLY, start_on=today - dt.timedelta(days=30),
        end_on=None, due_offset_days=3, timely_within_days=3, lock_after_days=30, remind_days_before=2,
        schools=[tree.gupei, tree.menzhuang, tree.village_a],
    )
    submission_services.periods_open(today=today)
    tree.report = report
    first_end = today - dt.timedelta(days=17)
    with tenant_scope([tree.gupei.id]):
        sub = get_sub(tree, report, tree.gupei, 1)
        compile_(sub, tree.gupei_clerk, now=at(first_end))
        submission_services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=at(first_end, 12),
                                              enqueue_similarity=False)
        submission_services.submission_return(actor=tree.bureau_admin, submission=sub, now=at(first_end, 15),
                                              comment="请补充活动照片。")
        tree.returned = sub
    with tenant_scope([tree.menzhuang.id]):
        sub = get_sub(tree, report, tree.menzhuang, 1)
        compile_(sub, tree.menzhuang_admin, now=at(first_end))
        submission_services.submission_submit(actor=tree.menzhuang_admin, submission=sub, now=at(first_end, 12),
                                              enqueue_similarity=False)
    # A village child (coverage for the township) and a gupei child without consent.
    tree.village_child = add_child(tree.village_a, 200)
    tree.no_consent = add_child(tree.gupei, 300, consent_date=None, consent_method="")
    with tenant_scope([tree.gupei.id]):
        school_services.activity_create(actor=tree.gupei_clerk, school=tree.gupei, date=today - dt.timedelta(days=1),
                                        kind="theme_activity", title="心理健康辅导", text_record="")
    return tree
