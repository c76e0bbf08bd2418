"""Benchmark: score 1,000 schools x 100 children in one pass, against a naive per-school loop.

Runs in a throwaway database (default `liushou_bench`) on the same PostgreSQL server as the
configured one (embedded pgserver, or DATABASE_URL's): it is created, migrated, filled with
synthetic records (benchmarks.benchdata, INSERT ... SELECT generate_series), measured and dropped,
so development data is never touched. The owner role (config/db_roles.py) creates, migrates,
analyzes and drops it; the benchmark itself runs as the runtime role, like the app.

Reports, as a table and as JSON (var/bench/compliance.json):
- time and query count to score all schools (compute_scores: every metric once, set-based);
- the same for a naive loop scoring each school separately (same metrics, one-school scope);
- the ratio; peak Python memory (tracemalloc) and the process's max RSS;
- the query count at 10 schools (a township subtree), which must equal the count at 1,000;
- the SQL floor (benchmarks.sqlfloor: the automatic-item totals in ONE hand-written statement),
  timed in turn with compute_scores so that the ratio holds on a noisy machine;
- `overview_from_snapshots`: a nightly snapshot of every school written, then read back two ways:
  every school's item scores (scores_from_snapshot) and the district overview (count, mean score,
  score bands) aggregated from the snapshot's school rows; time and query count of each.

`--no-naive` skips the per-school loop (the growth series only needs the set-based time).

`--json PATH` (alias `--output`) names the JSON file; other tools run this command as a
subprocess with `--schools N --json PATH`, so the JSON keys stay stable (new ones are added).
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from config.db_roles import as_owner


class Command(BaseCommand):
    help = "Benchmark compliance scoring (1,000 schools x 100 children by default) in a throwaway database."

    def add_arguments(self, parser):
        parser.add_argument("--schools", type=int, default=1000)
        parser.add_argument("--children", type=int, default=100)
        parser.add_argument("--quick", action="store_true", help="20 schools x 10 children (CI smoke test)")
        parser.add_argument("--repeat", type=int, default=5, help="timed runs of the set-based scoring")
        parser.add_argument("--database", default="liushou_bench", help="throwaway database name")
        parser.add_argument("--no-naive", action="store_true", help="skip the naive per-school loop")
        parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for EXPLAIN)")
        parser.add_argument("--json", "--output", dest="output",
                            default=str(Path(settings.BASE_DIR) / "var" / "bench" / "compliance.json"),
                            help="where to write the figures as JSON (default var/bench/compliance.json)")

    # ------------------------------------------------------------------ database lifecycle
    def _switch(self, name: str) -> None:
        connections["default"].close()
        connections["default"].settings_dict["NAME"] = name
        settings.DATABASES["default"]["NAME"] = name

    def handle(self, *args, **opts):
        if opts["quick"]:
            opts["schools"], opts["children"], opts["repeat"] = 20, 10, 2
        if opts["schools"] < 10:
            raise CommandError("--schools must be at least 10 (the 10-school comparison).")
        name = opts["database"]
        if not name.replace("_", "").isalnum() or not name.startswith("liushou_bench"):
            raise CommandError("--database must be a liushou_bench* name (it is dropped afterwards).")
        original = connections["default"].settings_dict["NAME"]
        if name == original:
            raise CommandError("Refusing to use the configured database.")
        # Django connections run in autocommit mode: CREATE/DROP DATABASE need exactly that.
        with as_owner(), connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        try:
            self._switch(name)
            t0 = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            migrate_s = time.perf_counter() - t0
            result = self._run(opts)
            result["setup"]["migrate_s"] = round(migrate_s, 2)
        finally:
            self._switch(original)
            if not opts["keep"]:
                with as_owner(), connection.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._report(result, opts)

    # ------------------------------------------------------------------ the benchmark
    def _run(self, opts) -> dict:
        from django.utils import timezone

        from benchmarks import benchdata, sqlfloor
        from compliance import metrics, services
        from compliance.models import ManualScore
        from compliance.scoring import assessment_schools, compute_scores
        from schools.models import Semester
        from tenancy import services as tenancy_services
        from tenancy.models import District
        from tenancy.scoping import district_scope, tenant_scope

        n_schools, n_children = opts["schools"], opts["children"]
        setup: dict = {}
        t0 = time.perf_counter()
        district = District.objects.create(name="基准测试教育局", code="bench")
        with district_scope(district):
            semester = Semester.objects.create(district=district, name="2026 秋季学期", start=dt.date(2026, 9, 1),
                                               end=dt.date(2027, 1, 24))
        user = tenancy_services.user_create(username="bench_teacher", password=None)
        heads, villages = benchdata.create_schools(district=district, centres=n_schools // 10, villages_per_centre=9)
        ids = [s.id for s in heads] + [s.id for s in villages]
        rt = benchdata.create_report_type(district=district, semester=semester)
        with tenant_scope(ids):
            t1 = time.perf_counter()
            counts = benchdata.generate_records(school_ids=ids, semester=semester, user=user, children=n_children,
                                                report_type=rt)
            t2 = time.perf_counter()
        t3 = time.perf_counter()  # the commit runs the deferred foreign-key checks of every row
        with as_owner(), connection.cursor() as cursor:  # only the tables' owner may
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does for a live database
        setup["insert_s"], setup["commit_s"] = round(t2 - t1, 2), round(t3 - t2, 2)
        setup["vacuum_s"] = round(time.perf_counter() - t3, 2)
        setup["generate_s"] = round(time.perf_counter() - t0, 2)
        setup["rows"] = counts
        version = services.checklist_load_default(district=district)
        assessment = services.assessment_create(district=district, checklist_version=version, title="基准",
                                                semester=semester)
        township = services.assessment_create(district=district, checklist_version=version, title="片区",
                                              semester=semester, root_school=heads[0])
        # A few manual scores, so the manual-score query returns rows too.
        with district_scope(district):
            g1 = next(it for it in version.items.all() if it.scoring == "manual")
            keys = [it.metric for it in version.items.all() if it.scoring == "automatic"]
            sqlfloor.check_supported(version.id)
        with tenant_scope(ids[:50]):
            ManualScore.objects.bulk_create([ManualScore(school_id=sid, assessment=assessment, item=g1, score=3)
                                             for sid in ids[:50]])

        # Warm-up (plans, catalog caches), then timed runs of the whole district, each followed by
        # the SQL floor so that both see the same machine load.
        today = timezone.localdate()

        def floor():
            with tenant_scope(ids):
                return sqlfloor.automatic_totals(version_id=version.id, semester=assessment.semester, school_ids=ids,
                                                 today=today)

        compute_scores(assessment)
        floor()
        times, floor_times, queries, floor_queries = [], [], 0, 0
        for _ in range(opts["repeat"]):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                scores = compute_scores(assessment)
                times.append(time.perf_counter() - t)
            queries = len(ctx.captured_queries)
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                totals = floor()
                floor_times.append(time.perf_counter() - t)
            floor_queries = len(ctx.captured_queries)
        assert len(scores["schools"]) == len(ids), "every school scored"
        assert totals == sqlfloor.totals_of_scores(scores), "the SQL floor agrees with compute_scores"
        per_metric = {}
        with tenant_scope(ids):
            for key in metrics.DEFAULT_METRIC_KEYS:
                t = time.perf_counter()
                metrics.get_metric(key).compute(ids, assessment.semester)
                per_metric[key] = round((time.perf_counter() - t) * 1000, 1)

        tracemalloc.start()
        compute_scores(assessment)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        with CaptureQueriesContext(connection) as ctx:
            small = compute_scores(township)
        ten_queries = len(ctx.captured_queries)

        overview = self._overview_from_snapshots(assessment, ids)
        if opts["no_naive"]:
            return self._result(ids, n_children, setup, times, queries, per_metric, None, None, floor_times,
                                floor_queries, peak, ten_queries, small, scores, overview)
        # Naive: every school on its own, through the same metrics, in a one-school scope.
        school_ids = list(assessment_schools(assessment).values_list("id", flat=True))
        # The query log keeps the last 9,000 queries only; 5,000 schools make about 38,000.
        connection.queries_log = collections.deque(connection.queries_log, maxlen=None)
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            naive = {}
            for sid in school_ids:
                with tenant_scope([sid]):
                    values = metrics.compute_metrics(keys, [sid], assessment.semester)
                    list(ManualScore.objects.filter(assessment=assessment, school_id=sid).values_list("item_id", "score"))
                naive[sid] = {k: v[sid] for k, v in values.items()}
            naive_s = time.perf_counter() - t
        naive_queries = len(ctx.captured_queries)
        connection.queries_log = collections.deque(maxlen=connection.queries_limit)
        # Same answers either way (a benchmark of a wrong result would be worthless).
        for sid in school_ids[:: max(1, len(school_ids) // 50)]:
            for code, cell in scores["schools"][sid]["items"].items():
                metric = next((it["metric"] for it in scores["items"] if it["code"] == code), "")
                if metric:
                    assert cell["value"] == naive[sid][metric], (sid, code)
        return self._result(ids, n_children, setup, times, queries, per_metric, naive_s, naive_queries, floor_times,
                            floor_queries, peak, ten_queries, small, scores, overview)

    def _result(self, ids, n_children, setup, times, queries, per_metric, naive_s, naive_queries, floor_times,
                floor_queries, peak, ten_queries, small, scores, overview) -> dict:
        best, median = min(times), statistics.median(times)
        floor_median = statistics.median(floor_times)
        return {
            "schools": len(ids), "children_per_school": n_children, "setup": setup,
            "set_based": {"best_s": round(best, 4), "median_s": round(median, 4), "runs": [round(x, 4) for x in times],
                          "queries": queries, "per_metric_ms": per_metric},
            "naive_loop": {"s": None if naive_s is None else round(naive_s, 3), "queries": naive_queries},
            "ratio": None if naive_s is None else round(naive_s / median, 1),
            "sql_floor_seconds": round(floor_median, 4),
            "ratio_to_sql_floor": round(median / floor_median, 2),
            "sql_floor": {"best_s": round(min(floor_times), 4), "median_s": round(floor_median, 4),
                          "runs": [round(x, 4) for x in floor_times], "queries": floor_queries},
            "score_ms_per_school": round(median * 1000 / len(ids), 4),
            "queries_at_10_schools": ten_queries, "schools_in_10_school_run": len(small["schools"]),
            "peak_python_mib": round(peak / 2**20, 1),
            "load_average_1m": round(__import__("os").getloadavg()[0], 2), "cpus": __import__("os").cpu_count(),
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "score_range": [str(min(r["score"] for r in scores["schools"].values())),
                            str(max(r["score"] for r in scores["schools"].values()))],
            "overview_from_snapshots": overview,
        }

    def _overview_from_snapshots(self, assessment, ids) -> dict:
        """Write one nightly snapshot, then read it back: every school's items, and the overview."""
        from django.db.models import Avg, Count, Q

        from compliance import services
        from compliance.models import SnapshotSchool
        from compliance.scoring import scores_from_snapshot
        from tenancy.scoping import district_scope

        t = time.perf_counter()
        with district_scope(assessment):
            snapshot = services.snapshot_take(assessment=assessment, kind="nightly")
        write_s = time.perf_counter() - t
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            read = scores_from_snapshot(snapshot, ids)
            read_s = time.perf_counter() - t
        read_queries = len(ctx.captured_queries)
        bands = {"lt60": Q(score__lt=60), "60_80": Q(score__gte=60, score__lt=80), "80_90": Q(score__gte=80, score__lt=90),
                 "ge90": Q(score__gte=90)}
        with CaptureQueriesContext(connection) as ctx, district_scope(assessment):
            t = time.perf_counter()
            latest = SnapshotSchool.objects.filter(snapshot__assessment__district_id=assessment.district_id,
                                                   snapshot=snapshot)
            summary = latest.aggregate(schools=Count("id"), mean=Avg("score"),
                                       **{k: Count("id", filter=q) for k, q in bands.items()})
            overview_s = time.perf_counter() - t
        assert summary["schools"] == len(read["schools"]) == len(ids), "every school in the snapshot"
        return {"write_s": round(write_s, 3), "read_all_items_s": round(read_s, 3), "read_all_items_queries": read_queries,
                "overview_s": round(overview_s, 4), "overview_queries": len(ctx.captured_queries),
                "schools": summary["schools"], "mean_score": round(float(summary["mean"] or 0), 2),
                "bands": {k: summary[k] for k in bands}}

    def _report(self, r: dict, opts) -> None:
        out = Path(opts["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(r, indent=2, ensure_ascii=False))
        rows = [
            ("schools x children", f"{r['schools']} x {r['children_per_school']}"),
            ("records generated in", f"{r['setup']['generate_s']} s (inserts {r['setup']['insert_s']} s, commit "
                                     f"{r['setup']['commit_s']} s, vacuum {r['setup']['vacuum_s']} s; migrate "
                                     f"{r['setup']['migrate_s']} s)"),
            ("contacts / activities / photos", f"{r['setup']['rows']['contacts']} / {r['setup']['rows']['activities']}"
                                               f" / {r['setup']['rows']['photos']}"),
            ("submissions", r["setup"]["rows"].get("submissions", 0)),
            ("score all: median (best)", f"{r['set_based']['median_s']:.3f} s ({r['set_based']['best_s']:.3f} s)"),
            ("score all: queries", r["set_based"]["queries"]),
            ("queries at 10 schools", f"{r['queries_at_10_schools']} ({r['schools_in_10_school_run']} schools)"),
            ("naive per-school loop", f"{r['naive_loop']['s']} s, {r['naive_loop']['queries']} queries"),
            ("speed-up", f"{r['ratio']}x"),
            ("SQL floor: median (best)", f"{r['sql_floor']['median_s']:.3f} s ({r['sql_floor']['best_s']:.3f} s), "
                                         f"{r['sql_floor']['queries']} queries"),
            ("ratio to the SQL floor", f"{r['ratio_to_sql_floor']}x"),
            ("score all: per school", f"{r['score_ms_per_school']:.3f} ms"),
            ("peak Python memory (scoring)", f"{r['peak_python_mib']} MiB"),
            ("max RSS (process)", f"{r['max_rss_mib']} MiB"),
            ("machine load (1 min) / CPUs", f"{r['load_average_1m']} / {r['cpus']}"),
            ("score range", " .. ".join(r["score_range"])),
            ("snapshot: write / read all / overview",
             f"{r['overview_from_snapshots']['write_s']} s / {r['overview_from_snapshots']['read_all_items_s']} s "
             f"({r['overview_from_snapshots']['read_all_items_queries']} queries) / "
             f"{r['overview_from_snapshots']['overview_s']} s ({r['overview_from_snapshots']['overview_queries']} queries)"),
        ]
        width = max(len(k) for k, _v in rows)
        self.stdout.write("compliance benchmark")
        for k, v in rows:
            self.stdout.write(f"  {k.ljust(width)}  {v}")
        self.stdout.write("  per metric (ms): " + ", ".join(f"{k} {v}" for k, v in r["set_based"]["per_metric_ms"].items()))
        self.stdout.write(f"  JSON: {out}")
