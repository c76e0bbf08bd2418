"""Every widening of a tenant scope goes through system_scope(reason): the tools that bypass or
widen a scope appear nowhere else in the application code, and the known widenings (the access
log, district fan-outs, district-wide scoring) work inside a narrow request scope and name their
reason in the log."""
from __future__ import annotations

import ast
import datetime as dt
import logging
from pathlib import Path

import pytest

from tenancy.scoping import tenant_scope

ROOT = Path(__file__).resolve().parents[2]
# benchmarks/ is left out: its baseline view measures the API with django-scopes switched off.
APPS = ("api", "compliance", "schools", "submissions", "tenancy", "platform")
SCOPING = ROOT / "tenancy" / "scoping.py"
# tenancy/rls.py names the settings too: its policies read them.
POLICIES = ROOT / "tenancy" / "rls.py"
# Names that bypass or widen a scope: only tenancy/scoping.py (system_scope itself) may use them.
WIDENERS = {"scopes_disabled", "system_school_ids", "with_scopes_disabled", "scope", "set_config"}
# The row-level security settings: nothing else may set them (set_config of other settings is fine).
SETTINGS = ("app.school_ids", "app.district_ids")


def _app_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == SCOPING:
                continue
            yield path


def _uses(path: Path) -> set[str]:
    """Names of WIDENERS called (or imported) in a module; "set_config" also for SQL that names a
    row-level security setting."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in WIDENERS - {"scope", "set_config"}:
                found.add(name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("django_scopes"):
            found |= {a.name for a in node.names if a.name in WIDENERS}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value in SETTINGS or ("set_config" in node.value and any(s in node.value for s in SETTINGS))):
            found.add("set_config")
    return found


def test_no_scope_is_widened_or_bypassed_outside_system_scope():
    offenders = {str(p.relative_to(ROOT)): sorted(names) for p in _app_files()
                 if (names := _uses(p) - ({"set_config"} if p == POLICIES else set()))}
    assert not offenders, f"widen through tenancy.scoping.system_scope(reason) instead: {offenders}"


def test_the_check_finds_a_bypass(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from django_scopes import scopes_disabled\n"
                     "from tenancy.scoping import system_school_ids\n"
                     "def f(cursor):\n"
                     "    cursor.execute(\"SELECT set_config('app.school_ids', '', true)\")\n"
                     "    return system_school_ids()\n", encoding="utf-8")
    assert _uses(probe) == {"scopes_disabled", "system_school_ids", "set_config"}


def _reasons(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tenancy.scoping"]


@pytest.fixture
def debug_scoping(caplog):
    caplog.set_level(logging.DEBUG, logger="tenancy.scoping")
    return caplog


def test_the_access_log_writes_to_a_school_outside_the_scope(tree, debug_scoping):
    from tenancy import services
    from tenancy.models import AccessLog

    with tenant_scope([tree.gupei.id]):
        services.access_log_record(user=tree.bureau_admin, school_id=tree.menzhuang.id, action="view",
                                   object_type="x", object_id=1)
    assert any("access log" in m for m in _reasons(debug_scoping))
    with tenant_scope([tree.menzhuang.id]):
        assert AccessLog.objects.filter(object_type="x").count() == 1


def test_a_bureau_role_is_logged_on_every_school_of_its_district(tree, debug_scoping):
    from tenancy import services
    from tenancy.models import AccessLog
    from tenancy.roles import Role

    user = services.user_create(username="new_inspector", password=None)
    with tenant_scope([tree.gupei.id]):  # e.g. granted from a school user's request
        membership = services.membership_grant(user=user, role=Role.BUREAU_INSPECTOR, district=tree.district)
    assert any("every school" in m for m in _reasons(debug_scoping))
    district_ids = [tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id]
    with tenant_scope(district_ids):
        logged = set(AccessLog.objects.filter(object_type="tenancy.membership", object_id=str(membership.pk))
                     .values_list("school_id", flat=True))
    assert logged == set(district_ids)


def test_a_township_sees_its_rank_among_the_whole_district(tree, debug_scoping):
    from compliance import services
    from compliance.scoring import assessment_scores

    version = services.checklist_load_default(district=tree.district)
    assessment = services.assessment_create(
        district=tree.district, checklist_version=version, title="全区", semester_label="2026春",
        semester_start=dt.date(2026, 2, 20), semester_end=dt.date(2026, 7, 10))
    township = [tree.gupei.id, tree.village_a.id, tree.village_b.id]
    with tenant_scope(township):  # the township admin's request scope
        scores = assessment_scores(assessment, use_cache=False)
    assert set(scores["schools"]) == set(township) | {tree.menzhuang.id}
    assert any("ranks every school" in m for m in _reasons(debug_scoping))


def test_the_similarity_job_compares_across_the_district(tree, debug_scoping):
    from submissions import services

    with tenant_scope([tree.gupei.id]):
        services.submission_similarity_compute(school_id=tree.gupei.id, submission_id=0)
    assert any("across the district" in m for m in _reasons(debug_scoping))
