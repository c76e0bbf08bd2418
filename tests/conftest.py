"""The suite's layout, and the fixture every folder shares: the district `tree`.

App folders (tenancy/, schools/, compliance/, submissions/, ops/) hold each app's domain rules,
called through its services and selectors. Channel folders hold the ways in: api/ (REST),
web/ (pages), e2e/ (real chromium), faults/ (broker, database and worker failures). deploy/,
security/ and bench/ check the deployment, the hardening and the benchmarks. Helpers and
fixtures used by more than one folder live in tests/support/, never in a conftest.py.
`tree`: a small district tree with one user per role, built through the services.
"""
from __future__ import annotations

import os

import pytest

from tenancy import services
from tenancy.roles import Role
from tests.support import tree_cache

# Session-level guarantee behind `make test` and `.ci/run`: with REQUIRE_SERVICES=1 any skip fails
# the run, and a run where every selected test skipped exits non-zero (tests/support/skip_guard.py).
# The test database is created and migrated as the owner role, the tests run as the runtime role
# (tests/support/db_roles.py).
pytest_plugins = ["tests.support.skip_guard", "tests.support.db_roles"]


class Tree:
    """district ─┬─ gupei (centre) ─┬─ village_a
                 │                   └─ village_b
                 └─ menzhuang
       other_district ─┬─ far_centre (centre) ── far_village
                       └─ far_school

    The other district has the same shape and a user for every role (`other_*`), so isolation
    between districts is tried in both directions.
    """


@pytest.fixture
def tree(db):
    """The tree, fresh in each test: built through the services by the first test of the process,
    then replayed from its rows (tests/support/tree_cache.py)."""
    global _recording
    if _recording is None and os.environ.get("TEST_TREE_CACHE") == "0":
        _recording = False  # debugging a suspected replay difference: build every tree
    if _recording and not tree_cache.is_current(_recording):
        _recording = None
    if _recording is None:
        built, recording = tree_cache.record(build_tree)
        _recording = recording if recording is not None else False
        return built
    if _recording is False:
        return build_tree()
    tree_cache.replay(_recording)
    return tree_cache.load(Tree, _recording)


_recording = None


def build_tree() -> Tree:
    t = Tree()
    t.district = services.district_create(name="明光市教育局", code="mingguang")
    t.gupei = services.school_create(district=t.district, name="古沛中心小学", code="gupei")
    t.village_a = services.school_create(district=t.district, name="古沛村小A", code="gupei-a", parent=t.gupei)
    t.village_b = services.school_create(district=t.district, name="古沛村小B", code="gupei-b", parent=t.gupei)
    t.menzhuang = services.school_create(district=t.district, name="门庄小学", code="menzhuang")
    t.other_district = services.district_create(name="其他教育局", code="other")
    t.far_school = services.school_create(district=t.other_district, name="远方小学", code="far")
    t.far_centre = services.school_create(district=t.other_district, name="远方中心小学", code="far-centre")
    t.far_village = services.school_create(district=t.other_district, name="远方村小", code="far-village",
                                           parent=t.far_centre)

    def user(name, role, **target):
        u = services.user_create(username=name, password="Demo2026!", display_name=name)
        services.membership_grant(user=u, role=role, **target)
        return u

    t.bureau_admin = user("bureau_admin", Role.BUREAU_ADMIN, district=t.district)
    t.bureau_inspector = user("bureau_inspector", Role.BUREAU_INSPECTOR, district=t.district)
    t.gupei_township = user("gupei_township", Role.TOWNSHIP_ADMIN, school=t.gupei)
    t.gupei_admin = user("gupei_admin", Role.SCHOOL_ADMIN, school=t.gupei)
    t.gupei_teacher = user("gupei_teacher", Role.TEACHER, school=t.gupei)
    t.gupei_clerk = user("gupei_clerk", Role.CLERK, school=t.gupei)
    t.menzhuang_admin = user("menzhuang_admin", Role.SCHOOL_ADMIN, school=t.menzhuang)
    t.menzhuang_teacher = user("menzhuang_teacher", Role.TEACHER, school=t.menzhuang)
    t.village_a_admin = user("village_a_admin", Role.SCHOOL_ADMIN, school=t.village_a)
    t.other_bureau_admin = user("other_bureau_admin", Role.BUREAU_ADMIN, district=t.other_district)
    t.other_bureau_inspector = user("other_bureau_inspector", Role.BUREAU_INSPECTOR, district=t.other_district)
    t.other_township = user("other_township", Role.TOWNSHIP_ADMIN, school=t.far_centre)
    t.other_admin = user("other_admin", Role.SCHOOL_ADMIN, school=t.far_centre)
    t.other_teacher = user("other_teacher", Role.TEACHER, school=t.far_centre)
    t.other_clerk = user("other_clerk", Role.CLERK, school=t.far_centre)
    t.other_village_admin = user("other_village_admin", Role.SCHOOL_ADMIN, school=t.far_village)
    t.nobody = services.user_create(username="nobody", password="Demo2026!")
    return t
