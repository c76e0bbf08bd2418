"""`manage.py bench --quick` end to end: every section runs and reports numbers.

Run as a subprocess: the command creates and drops its own databases and starts gunicorn and
Locust. Nothing is asserted about timings (benchmarks report figures; they do not pass or fail
on them); a section that breaks, or reports no figures, fails this test."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from numbers import Number
from pathlib import Path

import pytest
from django.db import connection

from submissions import similarity

ROOT = Path(__file__).resolve().parents[2]
# One worker runs the whole module: its module-scoped `report` would otherwise run the bench once
# per worker the tests land on, and the runs would compete for the same cores.
pytestmark = pytest.mark.xdist_group("bench_quick")

ENDPOINTS = ["GET /api/v1/children/", "POST /api/v1/care-contacts/", "GET /api/v1/school-dashboards/{id}/",
             "GET /api/v1/compliance/scores/", "all"]


def _number(value) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool) and value >= 0


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    # A safety net, not a target: the quick run migrates several throwaway databases and runs
    # three short loads (direct, pooled, direct) and, with a standby, the replica section, all
    # while the rest of the suite shares the cores.
    proc = subprocess.run([sys.executable, "manage.py", "bench", "--quick", "--output", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_section_reports_numbers(report):
    r, _stdout = report
    for section in ("scoring", "growth", "export", "api", "scoped_vs_superuser", "rls", "photo", "similarity", "care"):
        assert section in r and "error" not in r[section], (section, r.get(section))
    s = r["scoring"]
    assert all(_number(s[k]) for k in ("median_s", "queries", "per_school_ms", "naive_loop_s", "ratio_to_naive"))
    assert s["schools"] == 20
    # The SQL floor comes from bench_compliance when it reports one; "n/a" (None) otherwise.
    assert s["ratio_to_sql_floor"] is None or _number(s["ratio_to_sql_floor"])
    assert [p["schools"] for p in r["growth"]["points"]] == [10, 20, 40]
    assert all(_number(p["per_school_ms"]) and p["per_school_ms"] > 0 for p in r["growth"]["points"])
    e = r["export"]
    assert e["rows"] == 2000 and _number(e["xlsxwriter_constant_memory"]["seconds"])
    assert _number(e["openpyxl_write_only"]["seconds"])


def test_api_load_hit_every_endpoint_without_errors(report):
    api = report[0]["api"]
    assert set(ENDPOINTS) <= set(api["endpoints"]), api["endpoints"].keys()
    for name in ENDPOINTS:
        st = api["endpoints"][name]
        assert st["requests"] > 0, name
        assert all(_number(st[k]) for k in ("req_per_s", "p50_ms", "p95_ms", "p99_ms")), (name, st)
    # Errors are counted, not tolerated: a 4xx/5xx under load is a bug, whatever the timings.
    assert api["endpoints"]["all"]["errors"] == 0, api["failures"]
    # Every request of the run is in the per-10-s timeline. The timeline may hold a few more: Locust
    # writes its CSV as the run stops, before the requests still in flight in the stop phase end,
    # while the per-request log records those too.
    assert sum(b["requests"] for b in api["timeline"]) >= api["endpoints"]["all"]["requests"] > 0


def test_pooler_runs_the_same_load_or_says_why_not(report):
    pooler = report[0]["pooler"]
    assert "error" not in pooler, pooler
    if "skipped" in pooler:  # only without the pgbouncer binary, or on the embedded server's socket
        assert "pgbouncer" in pooler["skipped"] or "socket" in pooler["skipped"], pooler
        return
    for run in ("direct", "pooled", "direct_after"):
        assert set(ENDPOINTS) <= set(pooler[run]["endpoints"]), (run, pooler[run]["endpoints"].keys())
        assert pooler[run]["endpoints"]["all"]["errors"] == 0, (run, pooler[run]["failures"])


def test_replica_section_measures_both_sides_or_says_why_not(report):
    replica = report[0]["replica"]
    assert "error" not in replica, replica
    if not os.environ.get("DATABASE_REPLICA_URL"):
        assert replica == {"skipped": "DATABASE_REPLICA_URL is not set"}
        return
    dq = replica["dashboard_queries"]
    # Routing on, the dashboard's heavy reads ran on the standby; off, every query ran on the primary.
    assert dq["with_replica"]["replica"] > 0 and dq["without_replica"]["replica"] == 0, dq
    assert dq["with_replica"]["primary"] < dq["without_replica"]["primary"], dq
    for side in ("with_replica", "without_replica"):
        w = replica["teacher_write_under_bureau_load"][side]
        assert w["writes"] > 0 and w["dashboards"] > 0 and 0 < w["p50_ms"] <= w["p95_ms"], (side, w)


def test_targets_are_listed_with_verdicts(report):
    r, stdout = report
    keys = {t["key"] for t in r["targets"]}
    assert {"scoring.time", "api.p99_over_p50", "api.errors", "rls.district", "photo.memory",
            "replica.primary_queries", "replica.teacher_write_p95"} <= keys
    assert all(t["met"] in (True, False, None) for t in r["targets"])
    # Every section ran here, so only a skipped replica (no DATABASE_REPLICA_URL) or pooler lacks a verdict.
    skipped = {name for name in ("replica", "pooler") if "skipped" in r[name]}
    unmeasured = {t["section"] for t in r["targets"] if t["met"] is None}
    assert unmeasured == skipped, (unmeasured, skipped)
    assert "targets:" in stdout and "met" in stdout


def test_ratios_and_photo(report):
    r = report[0]
    v = r["scoped_vs_superuser"]
    assert v["rows"] > 0 and _number(v["ratio"]) and v["ratio"] > 0
    rls = r["rls"]
    assert rls["tables"] > 10 and _number(rls["ratio"]) and rls["ratio"] > 0
    assert all(_number(rls[k]["with_rls_ms"]) and _number(rls[k]["without_rls_ms"])
               for k in ("school_contacts_page", "district_contacts_per_school"))
    p = r["photo"]
    assert p["megapixels"] == 12.0
    assert _number(p["seconds"]) and p["seconds"] > 0 and p["max_rss_mib"] > 0


def test_similarity_section(report):
    sim = report[0]["similarity"]
    assert (sim["schools"], sim["periods"]) == (10, 4)
    rc = sim["recall"]
    assert rc["p_candidate_at_threshold"] >= 0.95 > rc["p_candidate_at_threshold_old_layout"]
    assert len(rc["levels"]) >= 5 and all(0 <= lv["candidate_rate"] <= 1 for lv in rc["levels"])
    assert rc["precision"] == 1.0 and _number(rc["recall"])
    m = sim["memory"]
    assert m["narratives"] == 40 and m["flagged"] == [0] == m["brute_force_flagged"]
    d = sim["database"]
    assert d["narratives"] == 40 and d["band_rows"] == (40 + d["submits"]) * similarity.BANDS
    assert d["submits"] == 6 and all(_number(d[k]) and d[k] > 0 for k in ("fingerprint_and_store_s", "task_ms_median"))
    # Planted copies above the threshold were found by the real task against the stored district.
    assert d["planted_missed"] == 0 and d["false_flags"] == 0 and d["planted_found"] == d["planted_at_or_above_threshold"]


def test_prints_one_table_and_drops_every_database(report, db):
    r, stdout = report
    for label in ("scoring", "export", "API", "RLS overhead", "photo", "similarity", "JSON:"):
        assert label in stdout, label
    # main, two more growth points, api, similarity, care, offline, and the replica's unless skipped
    assert len(r["databases"]) == 7 + ("skipped" not in r["replica"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [r["databases"]])
        assert cursor.fetchall() == []
