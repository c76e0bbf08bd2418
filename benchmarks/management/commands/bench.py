"""`make bench`: every benchmark of the platform side by side in one run, so that ratios hold on a
noisy machine. Prints one table and writes var/bench/bench.json.

Sections (each a key of the JSON):
- scoring:  `manage.py bench_compliance` at the main size (1,000 schools x 100 children), in a
            subprocess; its own JSON is read back (time, queries, peak memory, naive-loop ratio,
            SQL-floor ratio where that command reports one);
- growth:   the same at 100, 1,000, 5,000 and 20,000 schools (a province), with --growth-children
            children per school (20 by default: 20,000 x 100 would take most of an hour to
            generate on two cores), without the naive loop: scoring time per school;
- export:   `manage.py bench_export` (100,000 contact rows, xlsxwriter vs openpyxl);
- api:      gunicorn with production settings on 127.0.0.1 against a throwaway database, driven
            by Locust headless (50 users); req/s, p50/p95/p99 and errors per endpoint, and the
            same per 10 s of the run (when the slow requests happen);
- pooler:   the same load again through PgBouncer in transaction mode (benchmarks/pooler.py),
            side by side with the direct run; skipped with a reason without the pgbouncer binary;
- replica:  benchmarks/replica.py against DATABASE_REPLICA_URL; skipped with a reason without;
- scoped_vs_superuser: a school admin's list vs the same list without scoping, guardian and RLS;
- rls:      the same scoped queries with and without the row-level security policies;
- photo:    one 12-megapixel JPEG with EXIF/GPS through schools.evidence.process_image;
- offline:  a phone (real Chromium, `manage.py bench_offline`) sends 50 contacts and 10 photos
            recorded without a signal once the connection returns; seconds until all are confirmed;
- similarity: copied narratives (benchmarks/similarity.py): 300 schools x 24 periods of ~1,500-
            character narratives fingerprinted and stored, the submit-time task timed per
            submit, recall/precision on planted pairs at several Jaccard levels.

Every throwaway database is dropped at the end, also when a section fails. Nothing here asserts
on timings: every target (benchmarks/targets.py) is checked against the figures and listed in
the JSON's "targets" with met true/false (null when its section did not run), and in the table.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from benchmarks import apiload, photo, targets, throwaway
from benchmarks import similarity as similarity_bench

ROOT = Path(settings.BASE_DIR)


class Command(BaseCommand):
    help = "Run every benchmark side by side (scoring, growth, export, API load, RLS, photo); write var/bench/bench.json."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true",
                            help="tiny datasets and a few seconds of load: a CI smoke run (asserts no timings)")
        parser.add_argument("--schools", type=int, default=1000, help="schools in the scoring run")
        parser.add_argument("--children", type=int, default=100, help="children per school")
        parser.add_argument("--growth", default="100,1000,5000,20000", help="school counts for the growth series")
        parser.add_argument("--growth-children", type=int, default=20, help="children per school in the growth series")
        parser.add_argument("--export-rows", type=int, default=100_000)
        parser.add_argument("--api-schools", type=int, default=1000, help="schools in the API load database")
        parser.add_argument("--api-active-schools", type=int, default=100,
                            help="schools whose teachers and admins take part in the load")
        parser.add_argument("--users", type=int, default=50, help="concurrent Locust users")
        parser.add_argument("--seconds", type=int, default=60, help="duration of the load")
        parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: its config's)")
        parser.add_argument("--repeat", type=int, default=30, help="alternating runs for the in-process ratios")
        parser.add_argument("--sim-schools", type=int, default=300, help="schools in the similarity run")
        parser.add_argument("--sim-periods", type=int, default=24, help="periods of narratives per school")
        parser.add_argument("--sim-length", type=int, default=1500, help="characters per narrative")
        parser.add_argument("--sim-pairs", type=int, default=200, help="planted pairs per Jaccard level")
        parser.add_argument("--sim-queries", type=int, default=40, help="submits checked against the stored district")
        parser.add_argument("--no-load", action="store_true",
                            help="api section: skip gunicorn + Locust, measure only the in-process ratios")
        parser.add_argument("--only", default="", help="comma-separated sections to run (default: all)")
        parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "bench.json"))

    def handle(self, *args, **opts):
        if opts["quick"]:
            opts.update(schools=20, children=10, growth="10,20,40", growth_children=10, export_rows=2000, api_schools=20,
                        api_active_schools=4, users=5, seconds=10, workers=opts["workers"] or 2, repeat=4,
                        sim_schools=10, sim_periods=4, sim_length=600, sim_pairs=5, sim_queries=6)
        growth = [int(x) for x in opts["growth"].split(",") if x.strip()]
        if any(n < 10 for n in growth + [opts["schools"], opts["api_schools"]]):
            raise CommandError("School counts must be at least 10 (bench_compliance compares with a 10-school run).")
        sections = ["scoring", "growth", "export", "api", "photo", "similarity", "care", "offline", "replica"]
        only = [s.strip() for s in opts["only"].split(",") if s.strip()]
        unknown = set(only) - set(sections)
        if unknown:
            raise CommandError(f"Unknown sections {sorted(unknown)}; choose from {sections}.")
        run = only or sections
        self.quick = opts["quick"]
        # Per-run database names: two runs on one server (CI, a developer) never drop each other's.
        self.suffix = f"_{os.getpid()}"
        self.databases: list[str] = []
        self.base_env = throwaway.environment()
        result: dict = {"quick": opts["quick"], "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "cpus": os.cpu_count(), "load_average_start": round(os.getloadavg()[0], 2)}
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="liushou-bench-") as tmp:
            self.tmp = Path(tmp)
            if "scoring" in run:
                self._section("scoring", lambda: self._scoring(opts["schools"], opts["children"], "main"), result)
            if "growth" in run:
                self._section("growth", lambda: self._growth(growth, opts, result.get("scoring")), result)
            if "export" in run:
                self._section("export", lambda: self._export(opts["export_rows"]), result)
            if "api" in run:
                self._section("api", lambda: self._api(opts, result), result)
            if "photo" in run:
                self._section("photo", self._photo, result)
            if "similarity" in run:
                self._section("similarity", lambda: self._similarity(opts), result)
            if "care" in run:
                self._section("care", lambda: self._care(opts), result)
            if "offline" in run:
                self._section("offline", self._offline, result)
            if "replica" in run:
                self._section("replica", self._replica, result)
        result["databases"] = self.databases  # all dropped by now (tests check it)
        result["total_s"] = round(time.perf_counter() - t0, 1)
        result["load_average_end"] = round(os.getloadavg()[0], 2)
        result["targets"] = targets.evaluate(result)
        result["targets_summary"] = targets.summary(result["targets"])
        out = Path(opts["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        self._print(result, out)
        failed = [k for k, v in result.items() if isinstance(v, dict) and "error" in v]
        if failed:
            raise CommandError(f"Sections failed: {', '.join(failed)} (see {out}).")

    def _section(self, name: str, fn, result: dict) -> None:
        """Run one section; a failure is recorded (and fails the command at the end) without
        stopping the others, so one broken part does not hide the rest."""
        self.stderr.write(f"bench: {name} ...")
        t = time.perf_counter()
        try:
            value = fn()
            if isinstance(value, dict) and "sections" in value:  # api returns several sections
                for key, sub in value["sections"].items():
                    result[key] = sub
            else:
                result[name] = value
        except Exception as exc:  # noqa: BLE001 - reported, and the command exits non-zero
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
        self.stderr.write(f"bench: {name} done in {time.perf_counter() - t:.1f} s")

    # ------------------------------------------------------------------ subprocesses
    def _manage(self, args: list[str], timeout: int = 7200) -> None:
        env = dict(os.environ, **self.base_env)  # children join this server, never start one
        proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{(proc.stderr or proc.stdout)[-3000:]}")

    def _options_of(self, command: str) -> str:
        if not hasattr(self, "_help"):
            self._help = {}
        if command not in self._help:
            env = dict(os.environ, **self.base_env)
            self._help[command] = subprocess.run([sys.executable, "manage.py", command, "--help"], cwd=ROOT,
                                                 env=env, capture_output=True, text=True, timeout=300).stdout
        return self._help[command]

    def _json_args(self, command: str, path: Path, default: Path) -> tuple[list[str], Path]:
        """The command's JSON output option (--json, or the older --output); else its default file."""
        help_text = self._options_of(command)
        for flag in ("--json", "--output"):
            if re.search(rf"(^|\s){flag}[\s=]", help_text):
                return [flag, str(path)], path
        return [], default

    def _scoring(self, schools: int, children: int, tag: str, repeat: int | None = None, extra=()) -> dict:
        path = self.tmp / f"compliance-{tag}.json"
        args, read = self._json_args("bench_compliance", path, ROOT / "var" / "bench" / "compliance.json")
        repeat = repeat or (2 if self.quick else 5)
        self.databases.append(f"liushou_bench_{tag}{self.suffix}")
        self._manage(["bench_compliance", "--schools", str(schools), "--children", str(children),
                      "--repeat", str(repeat), "--database", f"liushou_bench_{tag}{self.suffix}", *args, *extra])
        r = json.loads(read.read_text())
        sb = r["set_based"]
        return {
            "schools": r["schools"], "children_per_school": r["children_per_school"],
            "median_s": sb["median_s"], "best_s": sb["best_s"], "queries": sb["queries"],
            "per_school_ms": round(sb["median_s"] / r["schools"] * 1000, 3),
            "naive_loop_s": r["naive_loop"]["s"], "naive_loop_queries": r["naive_loop"].get("queries"),
            "ratio_to_naive": r["ratio"],
            "sql_floor_s": r.get("sql_floor_seconds", r.get("sql_floor_s")),
            "ratio_to_sql_floor": r.get("ratio_to_sql_floor"),
            "peak_python_mib": r.get("peak_python_mib"), "max_rss_mib": r.get("max_rss_mib"),
            "generate_s": r["setup"]["generate_s"], "rows": r["setup"].get("rows", {}),
        }

    def _growth(self, sizes: list[int], opts, main: dict | None) -> dict:
        points, children = [], opts["growth_children"]
        for n in sizes:
            if main and "error" not in main and main["schools"] == n and main["children_per_school"] == children:
                point = main  # the main run is one point of the series: measured once
            else:
                point = self._scoring(n, children, f"g{n}", repeat=2 if self.quick else 3, extra=("--no-naive",))
            points.append({"schools": point["schools"], "median_s": point["median_s"],
                           "per_school_ms": point["per_school_ms"], "queries": point["queries"]})
        per = [p["per_school_ms"] for p in points]
        return {"points": points, "children_per_school": children,
                "max_over_min_per_school": round(max(per) / min(per), 2) if min(per) else None}

    def _care(self, opts) -> dict:
        """The risk index of every child (care.risk), against a naive per-child loop (bench_care)."""
        path = self.tmp / "care.json"
        name = f"liushou_bench_care{self.suffix}"
        self.databases.append(name)
        self._manage(["bench_care", "--schools", str(opts["schools"]), "--children", str(opts["children"]),
                      "--repeat", "2" if self.quick else "5", "--database", name, "--json", str(path)])
        return json.loads(path.read_text())

    def _export(self, rows: int) -> dict:
        path = self.tmp / "export.json"
        args, read = self._json_args("bench_export", path, ROOT / "var" / "bench" / "export.json")
        self._manage(["bench_export", "--rows", str(rows), *args])
        return json.loads(read.read_text())

    # ------------------------------------------------------------------ API, ratios, RLS
    def _api(self, opts, result: dict) -> dict:
        sections: dict = {}
        self.databases.append(f"liushou_bench_api{self.suffix}")
        with throwaway.throwaway_database(f"liushou_bench_api{self.suffix}") as name:
            t = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            data = apiload.build_dataset(schools=opts["api_schools"], children=opts["children"],
                                         active_schools=opts["api_active_schools"])
            setup_s = round(time.perf_counter() - t, 1)
            workers = opts["workers"] or int(os.environ.get("WEB_CONCURRENCY", min((os.cpu_count() or 1) * 2 + 1, 8)))
            url = throwaway.database_url(name)
            load: dict = {"skipped": "--no-load", "users": 0, "seconds": 0, "endpoints": {}}
            if not opts["no_load"]:
                load = self._load(url, data, opts, workers, "direct")
            load.update(schools=len(data["school_ids"]), children_per_school=opts["children"],
                        active_schools=len(data["school_admin"]), gunicorn_workers=workers, setup_s=setup_s,
                        rows=data["rows"])
            sections["api"] = load
            if not opts["no_load"]:
                sections["pooler"] = self._pooled(url, data, opts, workers, load)
            # Each measured on its own so one failing does not lose the other.
            for key, fn in (("scoped_vs_superuser", apiload.scoped_vs_superuser), ("rls", apiload.rls_overhead)):
                try:
                    sections[key] = fn(data, opts["repeat"])
                except Exception as exc:  # noqa: BLE001 - recorded; the command exits non-zero
                    sections[key] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
        return {"sections": sections}

    def _offline(self) -> dict:
        name = f"liushou_bench_offline{self.suffix}"
        self.databases.append(name)
        path = self.tmp / "offline.json"
        sizes = ["--contacts", "10", "--photos", "2"] if self.quick else []
        self._manage(["bench_offline", "--database", name, "--output", str(path), *sizes])
        return json.loads(path.read_text())

    def _photo(self) -> dict:
        image = self.tmp / "photo-12mp.jpg"
        made = photo.make_jpeg(image)
        measured = photo.run_child(image)
        return {**made, **measured}

    def _similarity(self, opts) -> dict:
        name = f"liushou_bench_sim{self.suffix}"
        self.databases.append(name)
        return similarity_bench.run(schools=opts["sim_schools"], periods=opts["sim_periods"],
                                    length=opts["sim_length"], pairs=opts["sim_pairs"],
                                    queries=opts["sim_queries"], database=name)

    def _load(self, database_url: str, data: dict, opts, workers: int, tag: str, extra_env=None) -> dict:
        with apiload.serve(database_url, self.tmp, workers, extra_env=extra_env) as base:
            return apiload.run_locust(base, data, self.tmp, users=opts["users"], seconds=opts["seconds"], tag=tag)

    def _pooled(self, database_url: str, data: dict, opts, workers: int, direct: dict) -> dict:
        """The same load through PgBouncer (transaction mode), then direct once more: the two
        direct runs bracket the pooled one, so drift of a shared machine shows instead of
        passing for the pooler's effect. Skipped, with the reason, without pgbouncer."""
        try:
            from benchmarks import pooler
        except ImportError as exc:
            return {"skipped": f"benchmarks.pooler not importable ({exc})"}
        if not os.path.exists(pooler.BINARY):
            return {"skipped": f"no pgbouncer binary ({pooler.BINARY})"}
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(database_url)
        host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
        if not host or host.startswith("/"):
            # pgbouncer runs as another system user and reaches the server over TCP.
            return {"skipped": "the database listens on a local socket only (embedded server)"}
        try:
            # Its own temporary folder: the bench folder is private to this user, pgbouncer runs as postgres.
            with pooler.PgBouncer(upstream_host=host, upstream_port=parts.port or 5432,
                                  users=[parts.username or ""]) as bouncer:
                pooled = self._load(bouncer.url(database_url), data, opts, workers, "pooled",
                                    extra_env={"DATABASE_POOL_MODE": "transaction"})
                mode, size = bouncer.pool_mode, bouncer.pool_size
            again = self._load(database_url, data, opts, workers, "direct2")
        except Exception as exc:  # noqa: BLE001 - recorded; the command exits non-zero
            return {"error": f"{type(exc).__name__}: {exc}"[:4000]}
        return {"pool_mode": mode, "pool_size": size, "order": "direct, pooled, direct",
                "direct": direct, "pooled": pooled, "direct_after": again}

    def _replica(self) -> dict:
        replica_url = os.environ.get("DATABASE_REPLICA_URL", "")
        if not replica_url:
            return {"skipped": "DATABASE_REPLICA_URL is not set"}
        try:
            from benchmarks.replica import replica_section
        except ImportError as exc:
            return {"skipped": f"benchmarks.replica not importable ({exc})"}
        name = f"liushou_bench_replica{self.suffix}"
        self.databases.append(name)
        return replica_section(throwaway.database_url(), replica_url, quick=self.quick, name=name)

    # ------------------------------------------------------------------ the table
    def _print(self, r: dict, out: Path) -> None:
        def fmt(v, unit=""):
            return "n/a" if v is None else f"{v}{unit}"

        rows: list[tuple[str, str, str]] = []
        by_section: dict[str, list[dict]] = {}
        for t in r.get("targets", []):
            by_section.setdefault(t["section"], []).append(t)

        def verdict(t: dict) -> str:
            return {True: "met", False: "MISSED", None: "n/a"}[t["met"]]

        def add(section, label, value):
            # The section's targets with their verdicts, on its first row.
            shown = by_section.pop(section, []) if section else []
            rows.append((label, value, "; ".join(f"{t['target']} {verdict(t)}" for t in shown)))

        def unavailable(section: str, label: str, v: dict) -> bool:
            """A row for a failed or skipped section; True when there is nothing more to print."""
            if "error" in v:
                add(section, label, "FAILED: " + v["error"].splitlines()[0])
            elif "skipped" in v:
                add(section, label, "skipped: " + v["skipped"])
            return not v or "error" in v or "skipped" in v

        s = r.get("scoring", {})
        if not unavailable("scoring", "scoring", s):
            add("scoring", f"scoring {s['schools']} schools x {s['children_per_school']}",
                f"{s['median_s']:.3f} s, {s['queries']} queries, peak {fmt(s['peak_python_mib'], ' MiB')} Python"
                f" / {fmt(s['max_rss_mib'], ' MiB')} RSS")
            add(None, "  vs naive per-school loop", f"{s['ratio_to_naive']}x faster ({s['naive_loop_s']} s)")
            add(None, "  vs hand-written SQL floor",
                f"{fmt(s['ratio_to_sql_floor'], 'x')} (floor {fmt(s['sql_floor_s'], ' s')})")
        g = r.get("growth", {})
        if not unavailable("growth", "growth", g):
            add("growth", "scoring per school",
                ", ".join(f"{p['schools']}: {p['per_school_ms']} ms" for p in g["points"])
                + f" (max/min {fmt(g['max_over_min_per_school'])})")
        c = r.get("care", {})
        if not unavailable("care", "risk index", c):
            add("care", f"risk index {c['children']} children",
                f"{c['set_based']['median_s']:.3f} s, {c['set_based']['queries']} queries")
            add(None, "  vs naive per-child loop (sampled)", f"{c['ratio']}x faster ({c['naive_loop']['extrapolated_s']} s)")
        e = r.get("export", {})
        if not unavailable("export", "export", e):
            xw, op, ratio = e.get("xlsxwriter_constant_memory", {}), e.get("openpyxl_write_only", {}), e.get("ratio", {})
            add("export", f"export {e.get('rows')} rows (xlsxwriter)",
                f"{fmt(xw.get('seconds'), ' s')}, +{fmt(xw.get('peak_mb_above_baseline'), ' MB')}")
            add(None, "  openpyxl write_only",
                f"{fmt(op.get('seconds'), ' s')}, +{fmt(op.get('peak_mb_above_baseline'), ' MB')} (time"
                f" {fmt(ratio.get('time_openpyxl_over_xlsxwriter'), 'x')},"
                f" memory {fmt(ratio.get('memory_openpyxl_over_xlsxwriter'), 'x')} of xlsxwriter's)")
        a = r.get("api", {})
        if not unavailable("api", "API under load", a):
            add("api", f"API {a['users']} users, {a['seconds']} s, {a['gunicorn_workers']} workers",
                f"{a['schools']} schools x {a['children_per_school']}")
            for name, st in a["endpoints"].items():
                add(None, f"  {name}", self._endpoint(st))
            slow = [f"{b['from_s']}s: {b['over_1s']}" for b in a.get("timeline", []) if b["over_1s"]]
            add(None, "  requests over 1 s, per 10 s", ", ".join(slow) or "none")
        pl = r.get("pooler", {})
        if not unavailable("pooler", "through PgBouncer", pl):
            add("pooler", f"through PgBouncer ({pl['pool_mode']}, pool {pl['pool_size']}), same load",
                f"order {pl['order']}")
            for run in ("direct", "pooled", "direct_after"):
                add(None, f"  {run}: all", self._endpoint(pl[run]["endpoints"].get("all", {})))
        rp = r.get("replica", {})
        if not unavailable("replica", "read replica", rp):
            add("replica", f"read replica: {rp['schools']} schools x {rp['children_per_school']}",
                f"{rp['bureau_threads']} bureau readers, {rp['seconds_per_phase']} s per phase")
            dq = rp["dashboard_queries"]
            add(None, "  primary queries per bureau dashboard",
                f"{dq['with_replica']['primary']} with the replica ({dq['with_replica']['replica']} on the standby),"
                f" {dq['without_replica']['primary']} without")
            w = rp["teacher_write_under_bureau_load"]
            add(None, "  teacher write under bureau load",
                ", ".join(f"{label.replace('_', ' ')}: p50 {v['p50_ms']} / p95 {v['p95_ms']} ms ({v['writes']} writes)"
                          for label, v in w.items()))
        for key, label in (("scoped_vs_superuser", "scoped list vs superuser list"), ("rls", "RLS overhead")):
            v = r.get(key, {})
            if unavailable(key, label, v):
                continue
            if key == "scoped_vs_superuser":
                add(key, label, f"{v['ratio']}x ({v['scoped_ms']} vs {v['superuser_ms']} ms, {v['rows']} rows)")
            else:
                add(key, label, f"{v['ratio']}x (worst of: " + ", ".join(
                    f"{n} {d['with_rls_ms']} vs {d['without_rls_ms']} ms" for n, d in v.items() if isinstance(d, dict)) + ")")
        p = r.get("photo", {})
        if not unavailable("photo", "photo", p):
            add("photo", f"photo {p['megapixels']} MP JPEG", f"{p['seconds']} s, peak RSS {p['max_rss_mib']} MiB"
                                                            f" (+{p['above_baseline_mib']} MiB over the process)")
        sim = r.get("similarity", {})
        if not unavailable("similarity", "similarity", sim):
            m, rc, d = sim["memory"], sim["recall"], sim["database"]
            add("similarity", f"similarity {sim['schools']} schools x {sim['periods']} periods",
                f"P(candidate | J=0.5) {rc['p_candidate_at_threshold']} ({rc['layout']}; was "
                f"{rc['p_candidate_at_threshold_old_layout']}), recall {fmt(rc['recall'])}, precision {fmt(rc['precision'])}")
            add(None, "  planted pairs, found by LSH",
                ", ".join(f"J~{lv['mean_jaccard']}: {lv['candidate_rate']} (old {lv['candidate_rate_old_layout']})"
                          for lv in rc["levels"]))
            add(None, "  in memory", f"{m['per_text_fingerprint_ms']} ms per text to index {m['narratives']}; query "
                                     f"median {m['query_ms_median']} ms, {m['candidates_mean']} candidates "
                                     f"({m['after_prefilter_mean']} after the signature check)")
            add(None, "  database: fingerprint + store all",
                f"{d['fingerprint_and_store_s']} s for {d['narratives']} narratives ({d['per_narrative_ms']} ms each,"
                f" {d['band_rows']} bucket rows)")
            add(None, "  database: task per submit",
                f"median {d['task_ms_median']} ms, p95 {d['task_ms_p95']} ms, max {d['task_ms_max']} ms; planted found"
                f" {d['planted_found']}/{d['planted_at_or_above_threshold']}, false flags {d['false_flags']}")
        o = r.get("offline", {})
        if not unavailable("offline", "offline sync", o):
            add("offline", f"offline sync {o['contacts']} contacts + {o['photos']} photos",
                f"{o['sync_s']} s after the signal returns ({o['per_record_ms']} ms per record), "
                f"exactly once: {o['exactly_once']}")
        for section in list(by_section):  # targets of sections that printed no row
            add(section, section, "not run")
        w1 = max(len(x[0]) for x in rows) if rows else 10
        w2 = max(len(x[1]) for x in rows) if rows else 10
        self.stdout.write(f"make bench{' --quick' if r['quick'] else ''}: {r['cpus']} CPUs, load average "
                          f"{r['load_average_start']} -> {r['load_average_end']}, {r['total_s']} s in all")
        self.stdout.write(f"  {'measure'.ljust(w1)}  {'result'.ljust(w2)}  target: met / MISSED / n/a")
        for label, value, target in rows:
            self.stdout.write(f"  {label.ljust(w1)}  {value.ljust(w2)}  {target}")
        sm = r.get("targets_summary", {})
        self.stdout.write(f"  targets: {sm.get('met', 0)} met, {sm.get('missed', 0)} missed, "
                          f"{sm.get('not_measured', 0)} not measured")
        for t in r.get("targets", []):
            if t["met"] is False:
                self.stdout.write(f"    MISSED {t['key']}: {t['value']} (target {t['target']}"
                                  f"{', ' + t['detail'] if t.get('detail') else ''})")
        self.stdout.write(f"  JSON: {out}")

    @staticmethod
    def _endpoint(st: dict) -> str:
        def fmt(v):
            return "n/a" if v is None else f"{v}"

        return (f"{fmt(st.get('req_per_s'))} req/s, p50 {fmt(st.get('p50_ms'))} / p95 {fmt(st.get('p95_ms'))}"
                f" / p99 {fmt(st.get('p99_ms'))} ms, {st.get('errors')}/{st.get('requests')} errors")
