"""Township packages made directly (a done row with a small file), owned by any school: the
objects of the isolation walks, which only ask who may see them (the job is tested in
tests/submissions/test_township_package.py)."""
from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from submissions import services
from submissions.models import Period, PeriodType, ReportKind, TownshipPackage, township_storage_key
from tenancy.scoping import tenant_scope
from tests.api.harness import stored_file

_seq = itertools.count(1)


def made_package(school) -> TownshipPackage:
    n = next(_seq)
    today = timezone.localdate()
    rt = services.report_type_create(
        actor=None, district=school.district, name=f"乡镇包{n}", code=f"township-pkg-{n}", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=20), end_on=today + timedelta(days=30),
        schools=[school], route="via_centre")
    with tenant_scope([school.id]):
        period = Period.objects.filter(report_type=rt).order_by("seq").first()
        key = township_storage_key(school.pk, period.pk, 1)
        name = stored_file(f"{key}/township.xlsx")
        return TownshipPackage.objects.create(
            school=school, report_type=rt, period=period, version=1, storage_key=key, status="done", progress=100,
            is_current=True, files={"xlsx": name},
            schools=[{"id": school.pk, "name": school.name, "code": school.code, "centre": True}])
