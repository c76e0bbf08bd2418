"""Benchmark: the risk index of 100,000 children (1,000 schools x 100) in one set-based pass,
against a naive per-child loop.

Runs in a throwaway database (default `liushou_bench_care`, dropped afterwards) filled with the
compliance benchmark's synthetic records (benchmarks.benchdata) plus register values and concern
flags spread by hash. Reports, as a table and as JSON (var/bench/care.json):
- time (median of --repeat runs) and query count of care.risk.risk_scores over every school;
- the query count at 10 schools, which must equal the count at 1,000 (set-based);
- the naive loop: each child read and scored on its own (its row, its semester's contacts, its
  recent concern flags: 3 queries a child), MEASURED ON A SAMPLE of --sample children and
  EXTRAPOLATED linearly to every child (the full loop would take minutes); its answers are
  checked against the set-based ones on that sample;
- the ratio of the extrapolated naive time to the set-based time.
"""
from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import throwaway


class Command(BaseCommand):
    help = "Benchmark the risk index (1,000 schools x 100 children) against a naive per-child loop."

    def add_arguments(self, parser):
        parser.add_argument("--schools", type=int, default=1000)
        parser.add_argument("--children", type=int, default=100, help="children per school")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--sample", type=int, default=500, help="children in the naive loop's sample")
        parser.add_argument("--quick", action="store_true", help="20 schools x 10 children (CI smoke test)")
        parser.add_argument("--database", default="liushou_bench_care")
        parser.add_argument("--json", "--output", dest="output",
                            default=str(Path(settings.BASE_DIR) / "var" / "bench" / "care.json"))

    def handle(self, *args, **opts):
        if opts["quick"]:
            opts.update(schools=20, children=10, repeat=2, sample=50)
        with throwaway.throwaway_database(opts["database"]):
            call_command("migrate", verbosity=0, interactive=False)
            result = self._run(opts)
        out = Path(opts["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        sb, naive = result["set_based"], result["naive_loop"]
        self.stdout.write(f"risk index of {result['children']:,} children in {result['schools']} schools")
        self.stdout.write(f"  set-based: median {sb['median_s']:.3f} s, queries {sb['queries']} "
                          f"(at 10 schools: {result['queries_at_10_schools']})")
        self.stdout.write(f"  naive loop: {naive['per_child_ms']:.2f} ms/child on {naive['sample']} children, "
                          f"extrapolated {naive['extrapolated_s']:.1f} s, {naive['queries_per_child']} queries/child")
        self.stdout.write(f"  ratio naive/set-based: {result['ratio']:.0f}x  (levels: {result['levels']})")
        self.stdout.write(f"written to {out}")

    def _run(self, opts) -> dict:
        from benchmarks import benchdata
        from care import risk, risk_yaml
        from schools.models import CareContact, Child, Semester
        from tenancy import services as tenancy_services
        from tenancy.models import District
        from tenancy.scoping import district_scope, tenant_scope

        today = dt.date.today()
        t0 = time.perf_counter()
        district = District.objects.create(name="基准测试教育局", code="bench")
        with district_scope(district):
            semester = Semester.objects.create(district=district, name="本学期", start=today - dt.timedelta(days=60),
                                               end=today + dt.timedelta(days=60))
        user = tenancy_services.user_create(username="bench_teacher", password=None)
        heads, villages = benchdata.create_schools(district=district, centres=max(1, opts["schools"] // 10),
                                                   villages_per_centre=9)
        schools = heads + villages
        ids = [s.id for s in schools]
        with tenant_scope(ids):
            rows = benchdata.generate_records(school_ids=ids, semester=semester, user=user, children=opts["children"])
            child_t, contact_t = Child._meta.db_table, CareContact._meta.db_table
            with connection.cursor() as cursor:
                # Register values spread by hash: ~8% poor/none, some new guardians, parents out of touch.
                cursor.execute(f"""
                    UPDATE {child_t} SET
                      guardianship_assessment = (ARRAY['good','good','good','fair','fair','fair','good','poor','none',
                                                       'good','fair','good'])[1 + abs(hashtext(id || ':g')) %% 12],
                      guardian_since = %(today)s - (abs(hashtext(id || ':s')) %% 1500),
                      parents_last_contact_on = CASE WHEN abs(hashtext(id || ':p')) %% 10 = 0 THEN NULL
                                                     ELSE %(today)s - (abs(hashtext(id || ':p')) %% 200) END
                    WHERE school_id = ANY(%(ids)s)""", {"today": today, "ids": ids})
                cursor.execute(f"""
                    UPDATE {contact_t} SET concern = true, concern_reason = '情绪低落', happened_on = %(today)s - 3
                    WHERE school_id = ANY(%(ids)s) AND kind = 'talk' AND abs(hashtext(id || ':c')) %% 25 = 0""",
                               {"today": today, "ids": ids})
        throwaway.analyze()
        setup_s = time.perf_counter() - t0
        rules = risk_yaml.default_rules()
        by = {district.pk: rules}

        with tenant_scope(ids):
            risk.risk_scores(schools, today=today, rules_by_district=by)  # warm-up
            times = []
            for _ in range(opts["repeat"]):
                with CaptureQueriesContext(connection) as ctx:
                    t = time.perf_counter()
                    scored = risk.risk_scores(schools, today=today, rules_by_district=by)
                    times.append(time.perf_counter() - t)
                queries = len(ctx.captured_queries)
            with CaptureQueriesContext(connection) as ctx:
                risk.risk_scores(schools[:10], today=today, rules_by_district=by)
            ten = len(ctx.captured_queries)

            # The naive loop on a sample, same rules, same answers.
            by_child = {r.child_id: r for r in scored}
            step = max(1, len(scored) // opts["sample"])
            sample = [r.child_id for r in scored[::step]][: opts["sample"]]
            sig = rules["signals"]
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                for child_id in sample:
                    child = Child.objects.get(pk=child_id)
                    kinds = set(CareContact.objects.filter(child_id=child_id, semester=semester)
                                .values_list("kind", flat=True))
                    concern = CareContact.objects.filter(
                        child_id=child_id, concern=True,
                        happened_on__gte=today - dt.timedelta(days=sig["teacher_concern"]["within_days"])).exists()
                    fired = []
                    if child.guardianship_assessment in sig["guardianship"]["values"]:
                        fired.append("guardianship")
                    if 4 - len(kinds) >= sig["missed_contacts"]["min_missing"]:
                        fired.append("missed_contacts")
                    if child.guardian_since and child.guardian_since >= today - dt.timedelta(
                            days=sig["guardian_changed"]["within_days"]):
                        fired.append("guardian_changed")
                    if concern:
                        fired.append("teacher_concern")
                    last = child.parents_last_contact_on
                    if last is None or last < today - dt.timedelta(days=sig["parents_out_of_touch"]["over_days"]):
                        fired.append("parents_out_of_touch")
                    score = sum(sig[k]["weight"] for k in fired)
                    assert (score, sorted(fired)) == (by_child[child_id].score, sorted(by_child[child_id].fired)), child_id
                naive_s = time.perf_counter() - t
            naive_queries = len(ctx.captured_queries)

        median = statistics.median(times)
        per_child = naive_s / len(sample)
        extrapolated = per_child * len(scored)
        levels = {lvl: sum(1 for r in scored if r.level == lvl) for lvl in (risk.HIGH, risk.MEDIUM, risk.LOW)}
        return {
            "schools": len(ids), "children_per_school": opts["children"], "children": len(scored),
            "setup": {"generate_s": round(setup_s, 2), "rows": rows},
            "set_based": {"median_s": round(median, 4), "best_s": round(min(times), 4), "queries": queries},
            "queries_at_10_schools": ten,
            "naive_loop": {"sample": len(sample), "sample_s": round(naive_s, 3), "per_child_ms": round(per_child * 1000, 3),
                           "queries_per_child": round(naive_queries / len(sample), 2),
                           "extrapolated_s": round(extrapolated, 2), "extrapolated_queries": naive_queries // len(sample)
                           * len(scored), "note": "measured on a sample, extrapolated linearly to every child"},
            "ratio": round(extrapolated / median, 1) if median else None,
            "levels": levels,
        }
