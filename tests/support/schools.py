"""The school's home for tests: a semester around today and a few children per school."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schools import crypto, services
from tenancy.scoping import tenant_scope


def make_id_number(n: int, birth=dt.date(2016, 5, 1)) -> str:
    return crypto.with_checksum(f"341182{birth:%Y%m%d}{n % 1000:03d}")


CHILD_DEFAULTS = dict(
    gender="female", birth_date=dt.date(2016, 5, 1), grade=4, class_name="四(1)班", left_behind_kind="both",
    parents_work_place="江苏南京", guardian_name="王奶奶", guardian_relation="祖母", guardian_phone="13800001111",
    home_village="古沛镇小王庄", health_notes="无", wellbeing_notes="想念妈妈",
    consent_date=dt.date(2026, 9, 2), consent_method="纸质签字",
)


def add_child(school, n: int, **overrides):
    fields = {**CHILD_DEFAULTS, "name": f"孩子{n}", "id_number": make_id_number(n), **overrides}
    with tenant_scope([school.id]):
        return services.child_create(actor=None, school=school, **fields)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def semester(tree, today):
    return services.semester_create(actor=None, district=tree.district, name="本学期",
                                    start=today - dt.timedelta(days=60), end=today + dt.timedelta(days=60))


@pytest.fixture
def home(tree, semester, today):
    """gupei: 4 children (two assigned to gupei_teacher); menzhuang: 2 children."""
    h = tree
    h.semester = semester
    h.g = [add_child(tree.gupei, i, **({} if i < 3 else {"class_name": "五(2)班", "grade": 5})) for i in range(4)]
    h.m = [add_child(tree.menzhuang, 100 + i) for i in range(2)]
    with tenant_scope([tree.gupei.id]):
        for child in h.g[:2]:
            services.proxy_assignment_create(actor=tree.gupei_admin, child=child, proxy_parent=tree.gupei_teacher,
                                             starts_on=today - dt.timedelta(days=30))
    with tenant_scope([tree.menzhuang.id]):
        services.proxy_assignment_create(actor=None, child=h.m[0], proxy_parent=tree.menzhuang_teacher,
                                         starts_on=today - dt.timedelta(days=30))
    return h
