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
    unmet = {k: t for k, t in got.items() if t["met"] is not True and k != "replica"}
    assert unmet == {}
    assert got["replica"]["met"] is None and got["replica"]["reason"] == "skipped: DATABASE_REPLICA_URL is not set"
    assert targets.summary(list(got.values())) == {"met": len(got) - 1, "missed": 0, "not_measured": 1}


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


def test_replica_section_states_its_own_targets():
    result = copy.deepcopy(GOOD)
    result["replica"] = {"lag_ms": 40, "targets": [{"key": "lag", "target": "< 1000 ms", "value": 40, "met": True},
                                                   {"key": "replica.reads", "target": "= 0 on primary", "value": 3,
                                                    "met": False}]}
    got = _by_key(result)
    assert got["replica.lag"]["met"] is True and got["replica.reads"]["met"] is False
    assert "replica" not in got
