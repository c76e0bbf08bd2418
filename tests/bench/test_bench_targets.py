"""benchmarks.targets on crafted bench results: each target's met/missed flag, never a timing."""
from __future__ import annotations

import copy

import pytest

from benchmarks import targets


def _endpoint(p50, p95, p99, errors=0, rps=10.0):
    return {"requests": 100, "errors": errors, "req_per_s": rps, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}


def _load(p50=20, p95=60, p99=70, errors=0, rps=10.0):
    return {"endpoints": {"GET /api/v1/children/": _endpoint(p50, p95, p99, errors, rps),
                          "all": _endpoint(p50, p95, p99, errors, rps)}}


GOOD = {
    "scoring": {"median_s": 0.5, "ratio_to_sql_floor": 1.2},
    "growth": {"max_over_min_per_school": 1.1},
    "export": {"xlsxwriter_constant_memory": {"seconds": 3.0, "peak_mb_above_baseline": 20}},
    "api": _load(),
    "scoped_vs_superuser": {"ratio": 1.1},
    "rls": {"district_contacts_per_school": {"ratio": 1.05}, "school_contacts_page": {"ratio": 1.02}},
    "photo": {"seconds": 0.3, "max_rss_mib": 120},
    "similarity": {"recall": {"p_candidate_at_threshold": 0.99}, "database": {"task_ms_p95": 80}},
    "care": {"set_based": {"queries": 7}, "queries_at_10_schools": 7, "ratio": 200},
    "offline": {"sync_s": 12, "exactly_once": True},
    "pooler": {"direct": _load(rps=10.0), "pooled": _load(rps=9.5)},
    "replica": {"skipped": "DATABASE_REPLICA_URL is not set"},
}


def _by_key(result):
    return {t["key"]: t for t in targets.evaluate(result)}


def test_every_target_met_on_good_figures():
    got = _by_key(GOOD)
    replica = {k for k in got if k.startswith("replica.")}
    assert replica == {"replica.primary_queries", "replica.teacher_write_p95"}
    unmet = {k: t for k, t in got.items() if t["met"] is not True and k not in replica}
    assert unmet == {}
    assert all(got[k]["met"] is None and got[k]["reason"] == "skipped: DATABASE_REPLICA_URL is not set"
               for k in replica)
    assert targets.summary(list(got.values())) == {"met": len(got) - 2, "missed": 0, "not_measured": 2}


@pytest.mark.parametrize(("path", "value", "key"), [
    ("scoring.median_s", 1.0, "scoring.time"),  # "< 1 s": the bound itself misses
    ("scoring.ratio_to_sql_floor", 1.51, "scoring.sql_floor"),
    ("growth.max_over_min_per_school", 1.31, "growth.per_school_max_over_min"),
    ("export.xlsxwriter_constant_memory.peak_mb_above_baseline", 61, "export.memory"),
    ("scoped_vs_superuser.ratio", 1.26, "scoped_vs_superuser.ratio"),
    ("rls.district_contacts_per_school.ratio", 1.11, "rls.district"),
    ("rls.school_contacts_page.ratio", 1.2, "rls.one_school"),
    ("photo.max_rss_mib", 250, "photo.memory"),
    ("similarity.recall.p_candidate_at_threshold", 0.94, "similarity.recall_at_threshold"),
    ("care.queries_at_10_schools", 6, "care.constant_queries"),
    ("offline.exactly_once", False, "offline.exactly_once"),
])
def test_one_figure_past_its_bound_misses_that_target_only(path, value, key):
    result = copy.deepcopy(GOOD)
    *parents, leaf = path.split(".")
    node = result
    for p in parents:
        node = node[p]
    node[leaf] = value
    got = _by_key(result)
    assert got[key]["met"] is False
    assert [k for k, t in got.items() if t["met"] is False] == [key]


def test_api_p99_against_p50_per_endpoint_and_errors():
    result = copy.deepcopy(GOOD)
    # The aggregate is fine, one endpoint stalls: p99 = 4.5 x p50 there.
    result["api"]["endpoints"]["GET /api/v1/children/"] = _endpoint(20, 60, 90)
    got = _by_key(result)
    assert got["api.p99_over_p50"]["met"] is False and got["api.p99_over_p50"]["value"] == 4.5
    assert "GET /api/v1/children/" in got["api.p99_over_p50"]["detail"]
    assert got["api.errors"]["met"] is True
    result["api"]["endpoints"]["all"]["errors"] = 1
    assert _by_key(result)["api.errors"]["met"] is False
    # Exactly 4 x p50 is within the target.
    result["api"]["endpoints"]["GET /api/v1/children/"] = _endpoint(20, 60, 80)
    assert _by_key(result)["api.p99_over_p50"]["met"] is True


def test_pooler_throughput_and_skips():
    result = copy.deepcopy(GOOD)
    result["pooler"]["pooled"] = _load(rps=8.0)  # 0.8 x direct
    assert _by_key(result)["pooler.throughput_vs_direct"]["met"] is False
    result["pooler"] = {"skipped": "no pgbouncer binary (/usr/sbin/pgbouncer)"}
    got = _by_key(result)
    pooler = [t for k, t in got.items() if k.startswith("pooler.")]
    assert pooler and all(t["met"] is None and t["reason"].startswith("skipped: no pgbouncer") for t in pooler)


def test_failed_or_absent_sections_are_not_measured_not_met():
    result = copy.deepcopy(GOOD)
    result["photo"] = {"error": "RuntimeError: boom"}
    del result["offline"]
    got = _by_key(result)
    assert got["photo.time"]["met"] is None and got["photo.time"]["reason"] == "section failed"
    assert got["offline.sync"]["met"] is None and got["offline.sync"]["reason"] == "section not run"


def _replica(primary_with=15, primary_without=47, p95_with=300.0, p95_without=350.0):
    return {"dashboard_queries": {"with_replica": {"primary": primary_with, "replica": 52},
                                  "without_replica": {"primary": primary_without, "replica": 0}},
            "teacher_write_under_bureau_load": {"with_replica": {"p50_ms": 150.0, "p95_ms": p95_with},
                                                "without_replica": {"p50_ms": 160.0, "p95_ms": p95_without}}}


def test_replica_targets_from_the_sections_figures():
    result = copy.deepcopy(GOOD)
    result["replica"] = _replica()
    got = _by_key(result)
    assert got["replica.primary_queries"]["value"] == 0.32 and got["replica.primary_queries"]["met"] is True
    assert "15 with the replica / 47 without" in got["replica.primary_queries"]["detail"]
    assert got["replica.teacher_write_p95"]["value"] == 0.86 and got["replica.teacher_write_p95"]["met"] is True


@pytest.mark.parametrize(("figures", "key"), [
    ({"primary_with": 24, "primary_without": 47}, "replica.primary_queries"),  # 0.51: half stays on the primary
    ({"p95_with": 380.0}, "replica.teacher_write_p95"),  # slower with the replica than without
])
def test_replica_targets_missed(figures, key):
    result = copy.deepcopy(GOOD)
    result["replica"] = _replica(**figures)
    got = _by_key(result)
    assert got[key]["met"] is False
    assert all(t["met"] is True for k, t in got.items() if k.startswith("replica.") and k != key)


def test_a_failed_replica_section_is_not_measured():
    result = copy.deepcopy(GOOD)
    result["replica"] = {"error": "OperationalError: boom"}
    got = _by_key(result)
    assert {got[k]["reason"] for k in ("replica.primary_queries", "replica.teacher_write_p95")} == {"section failed"}
