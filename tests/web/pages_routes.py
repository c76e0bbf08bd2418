"""The bureau's approval-route change (its path names the report type), for
tests/web/test_district_page_isolation.py. The list itself takes ?district= like the other
reporting pages (tests/web/test_report_type_routes.py)."""
from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from submissions import services
from submissions.models import ApprovalRoute, PeriodType
from tests.support.access_log import district_school_ids, logged_per_school

from .pages import DistrictPage, register_district

_seq = itertools.count()


def _report_type(t, district):
    n = next(_seq)
    rt = services.report_type_create(
        actor=None, district=district, name=f"流程隔离{n}", code=f"route-iso-{n}",
        period_type=PeriodType.FORTNIGHTLY, start_on=timezone.localdate() - timedelta(days=20))
    return {"pk": rt.pk}


def _changed(t, district, kwargs, data, user):
    return logged_per_school(district_school_ids(district.pk), "update", user, "submissions.reporttype", kwargs["pk"])


# The bureau admin changes it; the inspector and the township admin read the list but may not;
# school staff have no reporting oversight at all (404).
register_district(DistrictPage(
    "report_type_route", _report_type,
    {"bureau_admin": 302, "bureau_inspector": 403, "gupei_township": 403, "gupei_admin": 404,
     "gupei_teacher": 404, "village_a_admin": 404},
    method="post", data=lambda t, d: {"route": ApprovalRoute.VIA_CENTRE}, logs=_changed))
