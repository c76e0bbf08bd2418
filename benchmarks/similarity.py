"""Copied-narrative detection at district scale: `make bench` section "similarity".

1. In memory (benchmarks.similarity_model.benchmark): `schools x periods` narratives of ~1,500
   characters fingerprinted into an LSH index; planted copies and independent texts queried.
2. Planted pairs at several Jaccard levels (benchmarks.similarity_model.recall_study): how often LSH
   makes them candidates with this layout and with the old one, recall and precision at 0.5.
3. In a throwaway database: the same district stored for real (submissions, narratives, their
   signatures and NarrativeBand rows), timed; then new submissions, planted copies and
   independent texts, each checked by the submit-time Celery task function
   (submissions.tasks.compute_similarity, run in this process), timed per submit.
"""
from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from django.core.management import call_command
from django.utils import timezone

from benchmarks import similarity_model, throwaway


def run(*, schools: int, periods: int, length: int, pairs: int, queries: int, database: str) -> dict:
    memory = similarity_model.benchmark(schools=schools, periods=periods, length=length, queries=queries)
    study = similarity_model.recall_study(pairs=pairs, length=length)
    with throwaway.throwaway_database(database):
        call_command("migrate", verbosity=0, interactive=False)
        stored = _database(schools=schools, periods=periods, length=length, queries=queries)
    return {"schools": schools, "periods": periods, "text_length": length, "memory": memory, "recall": study,
            "database": stored}


def _database(*, schools: int, periods: int, length: int, queries: int) -> dict:
    from benchmarks import benchdata
    from submissions import narrative as narrative_mod
    from submissions import similarity, tasks
    from submissions.calendar import specs_for
    from submissions.models import Narrative, NarrativeBand, Period, ReportType, SimilarityFlag, Submission
    from tenancy.models import District
    from tenancy.scoping import district_scope, tenant_scope

    district = District.objects.create(name="相似度基准教育局", code="bench-similarity")
    heads, villages = benchdata.create_schools(district=district, centres=max(1, schools // 10),
                                               villages_per_centre=9, prefix="sim")
    ids = [s.id for s in heads + villages]
    start = dt.date(2025, 1, 6)  # a Monday: `periods` weekly periods, plus one for the new submissions
    with district_scope(district):  # the calendar rows are district-owned
        rt = ReportType.objects.create(district=district, name="每周进展", code="bench-sim", period_type="weekly",
                                       start_on=start, end_on=start + dt.timedelta(weeks=periods + 1, days=-1))
        rt.schools.set(ids)
        Period.objects.bulk_create([Period(report_type=rt, seq=s.seq, start_on=s.start_on, end_on=s.end_on,
                                           open_on=s.open_on, due_on=s.due_on, lock_on=s.lock_on)
                                    for s in specs_for(rt)])
        period_list = list(Period.objects.filter(report_type=rt).order_by("seq"))
    stored_periods, new_period = period_list[:periods], period_list[periods]
    corpus = similarity_model.Corpus(seed=11)
    now = timezone.now()

    def sent(school_id, period):
        return Submission(school_id=school_id, report_type=rt, period=period, status="submitted",
                          timeliness="on_time", first_submitted_at=now, submitted_at=now)

    def narrative(sub, text):
        sections = {"s1": text}
        return Narrative(school_id=sub.school_id, submission=sub, sections=sections,
                         digest=narrative_mod.digest(sections))

    with tenant_scope(ids):
        subs = Submission.objects.bulk_create([sent(sid, p) for sid in ids for p in stored_periods])
        bases = [corpus.text(length) for _ in subs]
        narratives = Narrative.objects.bulk_create([narrative(s, "".join(b)) for s, b in zip(subs, bases)],
                                                   batch_size=1000)
    # What the task does for each stored narrative: fingerprint, keep the signature, store the buckets.
    t = time.perf_counter()
    fingerprints = [similarity.Fingerprint.of(n.sections["s1"]) for n in narratives]
    fingerprint_s = time.perf_counter() - t
    t = time.perf_counter()
    with tenant_scope(ids):
        for n, fp in zip(narratives, fingerprints):
            n.signature, n.fingerprint_digest = fp.signature, n.digest
        Narrative.objects.bulk_update(narratives, ["signature", "fingerprint_digest"], batch_size=1000)
        NarrativeBand.objects.bulk_create(
            [NarrativeBand(school_id=n.school_id, narrative=n, report_type=rt, band=i, bucket=key)
             for n, fp in zip(narratives, fingerprints) for i, key in enumerate(fp.bands)], batch_size=5000)
    store_s = time.perf_counter() - t
    throwaway.analyze()  # what autovacuum does for a live database

    # New submissions in the next period: every other one a planted copy of another school's text.
    rng = random.Random(5)
    plan = []
    for q in range(queries):
        school_id = ids[q % len(ids)]
        if q % 2 == 0:
            source = rng.choice([i for i, s in enumerate(subs) if s.school_id != school_id])
            plan.append((school_id, source, corpus.copy(bases[source], rng.uniform(0.55, 0.9))))
        else:
            plan.append((school_id, None, "".join(corpus.text(length))))
    with tenant_scope(ids):
        new = Submission.objects.bulk_create([sent(school_id, new_period) for school_id, _s, _t in plan])
        Narrative.objects.bulk_create([narrative(sub, text) for sub, (_i, _s, text) in zip(new, plan)])
    times, found, missed, false_flags, planted_above = [], 0, 0, 0, 0
    for sub, (school_id, source, text) in zip(new, plan):
        t = time.perf_counter()
        tasks.compute_similarity(school_id, sub.pk)  # the task body, in this process
        times.append(time.perf_counter() - t)
        with tenant_scope(ids):
            partners = {f.submission_a_id if f.submission_b_id == sub.pk else f.submission_b_id
                        for f in SimilarityFlag.objects.filter(submission_b=sub) | SimilarityFlag.objects.filter(submission_a=sub)}
        truth = set()
        if source is not None:
            fa, fb = similarity.Fingerprint.of(text, minhash=False), fingerprints[source]
            if similarity.jaccard(fa.shingles, fb.shingles) >= similarity.THRESHOLD:
                truth = {subs[source].pk}
                planted_above += 1
        found += len(truth & partners)
        missed += len(truth - partners)
        false_flags += len(partners - truth)
    with tenant_scope(ids):
        bands = NarrativeBand.objects.count()
    times.sort()
    n = len(narratives)
    return {
        "narratives": n, "band_rows": bands,
        "fingerprint_s": round(fingerprint_s, 2), "store_s": round(store_s, 2),
        "fingerprint_and_store_s": round(fingerprint_s + store_s, 2),
        "per_narrative_ms": round(1000 * (fingerprint_s + store_s) / n, 2),
        "submits": len(times), "task_ms_median": round(1000 * statistics.median(times), 1),
        "task_ms_p95": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "task_ms_max": round(1000 * times[-1], 1),
        "planted_at_or_above_threshold": planted_above, "planted_found": found, "planted_missed": missed,
        "false_flags": false_flags,
    }
