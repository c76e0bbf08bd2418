"""Compliance for tests: a small checklist on test-only metrics, published, and an assessment."""
import datetime as dt

import pytest

from compliance import services
from tests.support import compliance_metrics  # noqa: F401  (registers the test metrics)

TEST_YAML = """\
checklist: test
title_zh: 测试考核细则
title_en: Test checklist
total: 20
sections:
- code: S
  title_zh: 测试
  title_en: Test
  items:
  - code: T1
    title_zh: 教职工人数
    title_en: Staff
    requirement_zh: 至少4名教职工在平台登记。
    requirement_en: At least 4 staff on the platform.
    points: 8
    check: records
    scoring: automatic
    metric: test_staff_count
    rule: proportional
    target: 4
  - code: T2
    title_zh: 有校管理员
    title_en: Has an admin
    requirement_zh: 指定一名学校管理员。
    points: 4
    check: records
    scoring: automatic
    metric: test_has_admin
    rule: threshold
    threshold: 1
  - code: T3
    title_zh: 教职工分档
    title_en: Staff bands
    requirement_zh: 教职工越多越好。
    points: 4
    check: records
    scoring: automatic
    metric: test_staff_count
    rule: bands
    bands:
    - [1, 1]
    - [2, 2]
    - [3, 4]
- code: M
  title_zh: 抽查
  title_en: Spot check
  items:
  - code: M1
    title_zh: 按时开放
    title_en: Open as posted
    requirement_zh: 抽查：按公示时间开放。
    points: 4
    check: spot_check
    scoring: manual
"""

SEMESTER = dict(semester_label="2022年春季学期", semester_start=dt.date(2022, 2, 14), semester_end=dt.date(2022, 7, 8))


@pytest.fixture
def test_yaml():
    return TEST_YAML


@pytest.fixture
def version(tree):
    draft = services.checklist_import_yaml(district=tree.district, text=TEST_YAML, actor=tree.bureau_admin)
    return services.checklist_version_publish(version=draft, actor=tree.bureau_admin)


@pytest.fixture
def assessment(tree, version):
    return services.assessment_create(district=tree.district, checklist_version=version, title="测试考核",
                                      actor=tree.bureau_admin, **SEMESTER)
