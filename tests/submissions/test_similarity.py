"""Copied narratives: shingles + MinHash + LSH, exact Jaccard, shared passages; the service and the task."""
import time
from datetime import date

import pytest

from benchmarks import similarity_model
from submissions import selectors, services, similarity
from submissions.demo_texts import independent_summary, seed_summaries, split_seed_document
from submissions.models import NarrativeBand, PeriodType, ReportKind, SimilarityFlag, Submission
from submissions.narrative import split_sections
from tenancy.scoping import tenant_scope
from tests.support.celery_worker import celery_worker
from tests.support.submissions import at, compile_, district_ids


# ---------------------------------------------------------------- pure
def test_seed_document_splits_into_the_two_summaries():
    menzhuang, gupei = seed_summaries()
    assert menzhuang.startswith("我校留守儿童之家建设在短短的几个月中")
    assert gupei.startswith("我校留守儿童之家建设起步于明光市教育局")
    for text in (menzhuang, gupei):
        assert "下载" not in text and "资源" not in text and "扩展阅读" not in text and "第 6 页" not in text
    assert split_seed_document("站点说明\n标题.doc\n甲校工作总结正文一扩展阅读:乙校工作总结正文二第 1 页 共 1 页") == ("正文一", "正文二")


def test_the_seed_pair_is_a_near_duplicate_and_the_independent_text_is_not():
    menzhuang, gupei = seed_summaries()
    independent = independent_summary()
    fm, fg, fi = (similarity.Fingerprint.of(t) for t in (menzhuang, gupei, independent))
    # "The same length": the independent text is within 10 % of the seed summaries.
    assert abs(len(fi.norm) - len(fm.norm)) / len(fm.norm) < 0.1
    assert similarity.jaccard(fm.shingles, fg.shingles) > 0.75
    assert similarity.jaccard(fi.shingles, fg.shingles) < 0.05
    assert similarity.jaccard(fi.shingles, fm.shingles) < 0.05
    # LSH: the pair shares a bucket; the independent text shares none with either.
    assert set(fm.bands) & set(fg.bands)
    assert not set(fi.bands) & (set(fm.bands) | set(fg.bands))
    assert similarity.compare(menzhuang, gupei) is not None
    assert similarity.compare(independent, gupei) is None and similarity.compare(independent, menzhuang) is None


def test_shared_passages_point_into_both_original_texts():
    menzhuang, gupei = seed_summaries()
    match = similarity.compare(menzhuang, gupei)
    longest = match.passages[0]
    assert longest["length"] > 200
    a0, a1 = longest["a"]
    b0, b1 = longest["b"]
    norm = lambda s: similarity.normalise(s)[0]  # noqa: E731
    assert norm(menzhuang[a0:a1]) == norm(gupei[b0:b1]) == norm(longest["text"])
    assert "四个一次" in " ".join(p["text"] for p in match.passages)
    # The sentence only Gupei wrote is not part of any shared passage.
    only_gupei = gupei.index("自2022年4月以来")
    assert not any(p["b"][0] <= only_gupei < p["b"][1] for p in match.passages)


def test_normalisation_ignores_whitespace_punctuation_and_width():
    assert similarity.normalise("留守 儿童，之家！ＡＢ")[0] == "留守儿童之家ab"
    copied = "我们严格做到“四个一次”，即每学期到留守儿童家中走访1次以上。"
    reformatted = "我们严格做到 四个一次 ,即每学期到留守儿童家中走访１次以上"
    assert similarity.jaccard(similarity.Fingerprint.of(copied).shingles,
                              similarity.Fingerprint.of(reformatted).shingles) == 1.0


def test_benchmark_runs_and_finds_the_planted_copy():
    result = similarity_model.benchmark(schools=4, periods=5, length=400)
    assert result["narratives"] == 20
    assert result["flagged"] == [0] == result["brute_force_flagged"]
    assert result["candidates"] < 20  # LSH looked at a few texts, not all of them


def _planted(target: float) -> tuple[str, str]:
    """The Menzhuang seed summary and a copy sharing its first part, the rest from the
    independent text: the cut is searched so that the exact Jaccard is about `target`."""
    original, other = seed_summaries()[0], independent_summary()
    fo = similarity.Fingerprint.of(original)

    def j(cut):
        return similarity.jaccard(fo.shingles, similarity.Fingerprint.of(original[:cut] + other[cut:]).shingles)

    lo, hi = 0, min(len(original), len(other))
    while hi - lo > 1:  # Jaccard grows with the copied share
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if j(mid) < target else (lo, mid)
    return original, original[:hi] + other[hi:]


def test_a_planted_pair_at_jaccard_055_is_a_candidate_and_flagged():
    original, copy = _planted(0.55)
    fa, fb = similarity.Fingerprint.of(original), similarity.Fingerprint.of(copy)
    score = similarity.jaccard(fa.shingles, fb.shingles)
    assert 0.54 <= score <= 0.57, score
    assert similarity_model.lsh_candidate(fa, fb), "LSH must make a J=0.55 pair a candidate"
    assert similarity.estimated_jaccard(fa.signature, fb.signature) >= similarity.THRESHOLD - similarity.PREFILTER_MARGIN
    match = similarity.compare(original, copy)
    assert match is not None and match.score == pytest.approx(score)


def test_the_layout_finds_pairs_at_the_threshold_95_percent_of_the_time():
    assert similarity.NUM_PERM % similarity.BANDS == 0
    assert similarity_model.candidate_probability(similarity.THRESHOLD) >= 0.95
    assert similarity_model.candidate_probability(0.1) < 0.05  # and rarely a pair of unrelated texts
    # Measured on planted pairs: the old 16 x 4 layout of 64 found about two thirds at J ~ 0.5.
    study = similarity_model.recall_study(levels=(0.5, 0.55), pairs=40, length=800, seed=3)
    near = [lv for lv in study["levels"] if 0.45 <= lv["mean_jaccard"] <= 0.6]
    assert near, study["levels"]
    for lv in near:
        assert lv["candidate_rate"] >= 0.9 and lv["candidate_rate"] > lv["candidate_rate_old_layout"], lv
    assert study["recall"] >= 0.95 and study["precision"] == 1.0


def test_migration_recomputes_buckets_stored_under_the_old_layout(tree, summary):
    """Rows written with the old layout (16 bands) are replaced by the new layout's buckets."""
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    services.periods_open(today=date(2026, 12, 31))
    menzhuang_text, gupei_text = seed_summaries()
    m = _submit_narrative(tree, summary, tree.menzhuang, tree.menzhuang_admin, menzhuang_text)
    with tenant_scope(district_ids(tree)):
        narrative = m.narrative
        NarrativeBand.objects.bulk_create([
            NarrativeBand(school_id=m.school_id, narrative=narrative, report_type_id=m.report_type_id, band=i, bucket=i)
            for i in range(16)])
        narrative.signature = [1] * 64
        narrative.save(update_fields=["signature"])
    migration = import_module("submissions.migrations.0003_similarity_layout_32x3")
    state = MigrationExecutor(connection).loader.project_state(("submissions", "0003_similarity_layout_32x3"))
    with connection.schema_editor(atomic=False) as editor:
        migration.recompute(state.apps, editor)
    fp = similarity.Fingerprint.of(menzhuang_text)
    with tenant_scope(district_ids(tree)):
        narrative.refresh_from_db()
        assert narrative.signature == fp.signature
        assert sorted(NarrativeBand.objects.filter(narrative=narrative).values_list("band", "bucket")) == \
            list(enumerate(fp.bands))
    # The copy sent afterwards meets the recomputed buckets.
    g = _submit_narrative(tree, summary, tree.gupei, tree.gupei_clerk, gupei_text)
    assert len(services.submission_similarity_compute(school_id=g.school_id, submission_id=g.pk)) == 1


# ---------------------------------------------------------------- service
@pytest.fixture
def summary(tree):
    return services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="上半年工作总结", code="summary",
        kind=ReportKind.HALF_YEAR_SUMMARY, period_type=PeriodType.HALF_YEAR, start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31), open_offset_days=140, due_offset_days=10, timely_within_days=10,
        lock_after_days=30, schools=[tree.gupei, tree.menzhuang, tree.village_a],
    )


def _submit_narrative(tree, report, school, actor, text, seq=1, enqueue=False):
    with tenant_scope([school.id]):
        sub = Submission.objects.get(report_type=report, school=school, period__seq=seq)
        services.narrative_update(actor=actor, submission=sub, sections=split_sections(text))
        compile_(sub, actor)
        return services.submission_submit(actor=actor, submission=sub, now=at(sub.period.end_on),
                                          enqueue_similarity=enqueue)


def test_service_flags_the_seed_pair_and_not_the_independent_text(tree, summary):
    services.periods_open(today=date(2026, 12, 31))
    menzhuang_text, gupei_text = seed_summaries()
    m = _submit_narrative(tree, summary, tree.menzhuang, tree.menzhuang_admin, menzhuang_text)
    assert services.submission_similarity_compute(school_id=m.school_id, submission_id=m.pk) == []  # alone so far
    v = _submit_narrative(tree, summary, tree.village_a, tree.village_a_admin, independent_summary())
    assert services.submission_similarity_compute(school_id=v.school_id, submission_id=v.pk) == []
    g = _submit_narrative(tree, summary, tree.gupei, tree.gupei_clerk, gupei_text)
    flags = services.submission_similarity_compute(school_id=g.school_id, submission_id=g.pk)
    assert len(flags) == 1
    flag = flags[0]
    assert {flag.submission_a_id, flag.submission_b_id} == {m.pk, g.pk}
    assert flag.submission_a_id < flag.submission_b_id
    assert flag.score > 0.75 and flag.passages[0]["length"] > 200
    # Idempotent: computing again (e.g. a redelivered task) changes nothing.
    again = services.submission_similarity_compute(school_id=g.school_id, submission_id=g.pk)
    assert [f.pk for f in again] == [flag.pk]
    with tenant_scope(district_ids(tree)):
        assert SimilarityFlag.objects.count() == 1
        assert NarrativeBand.objects.count() == 3 * similarity.BANDS
        # The bureau sees the flag; a school does not, through the selector.
        assert [f.pk for f in selectors.similarity_flags(user=tree.bureau_admin, district=tree.district)] == [flag.pk]
        assert not selectors.similarity_flags(user=tree.gupei_admin, district=tree.district).exists()
        # The township admin oversees Gupei's subtree only: Menzhuang's side is outside it.
        assert not selectors.similarity_flags(user=tree.gupei_township, district=tree.district).exists()


def test_service_flags_a_planted_pair_at_jaccard_055(tree, summary):
    services.periods_open(today=date(2026, 12, 31))
    original, copy = _planted(0.55)
    m = _submit_narrative(tree, summary, tree.menzhuang, tree.menzhuang_admin, original)
    services.submission_similarity_compute(school_id=m.school_id, submission_id=m.pk)
    g = _submit_narrative(tree, summary, tree.gupei, tree.gupei_clerk, copy)
    flags = services.submission_similarity_compute(school_id=g.school_id, submission_id=g.pk)
    assert [(f.submission_a_id, f.submission_b_id) for f in flags] == [(min(m.pk, g.pk), max(m.pk, g.pk))]
    assert 0.5 <= flags[0].score < 0.6


def test_past_periods_count_and_own_school_does_not(tree):
    report = services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="月报", code="monthly", period_type=PeriodType.MONTHLY,
        start_on=date(2026, 3, 1), end_on=date(2026, 4, 30), lock_after_days=30, schools=[tree.gupei, tree.menzhuang])
    services.periods_open(today=date(2026, 12, 31))
    menzhuang_text, gupei_text = seed_summaries()
    # Gupei copies its own March text in April: not a flag (same school).
    g1 = _submit_narrative(tree, report, tree.gupei, tree.gupei_clerk, gupei_text, seq=1)
    services.submission_similarity_compute(school_id=g1.school_id, submission_id=g1.pk)
    g2 = _submit_narrative(tree, report, tree.gupei, tree.gupei_clerk, gupei_text, seq=2)
    assert services.submission_similarity_compute(school_id=g2.school_id, submission_id=g2.pk) == []
    # Menzhuang's April text matches both of Gupei's (current and past period).
    m2 = _submit_narrative(tree, report, tree.menzhuang, tree.menzhuang_admin, menzhuang_text, seq=2)
    flags = services.submission_similarity_compute(school_id=m2.school_id, submission_id=m2.pk)
    assert sorted((f.submission_a_id, f.submission_b_id) for f in flags) == sorted([(g1.pk, m2.pk), (g2.pk, m2.pk)])


def test_submit_enqueues_the_task_after_commit(tree, summary, django_capture_on_commit_callbacks):
    services.periods_open(today=date(2026, 12, 31))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submit_narrative(tree, summary, tree.gupei, tree.gupei_clerk, seed_summaries()[1], enqueue=True)
    assert len(callbacks) == 1


# ---------------------------------------------------------------- the task, on a real worker
def test_the_task_flags_the_pair_on_a_real_worker(transactional_db, tmp_path, tree, summary):
    services.periods_open(today=date(2026, 12, 31))
    menzhuang_text, gupei_text = seed_summaries()
    with celery_worker(tmp_path) as worker:
        # on_commit fires for real here (transactional test): submit enqueues compute_similarity.
        _submit_narrative(tree, summary, tree.menzhuang, tree.menzhuang_admin, menzhuang_text, enqueue=True)
        _submit_narrative(tree, summary, tree.village_a, tree.village_a_admin, independent_summary(), enqueue=True)
        _submit_narrative(tree, summary, tree.gupei, tree.gupei_clerk, gupei_text, enqueue=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if worker.log().count("succeeded") >= 3:
                break
            time.sleep(0.5)
        log = worker.log()
        assert log.count("succeeded") >= 3, log
    with tenant_scope(district_ids(tree)):
        pairs = list(SimilarityFlag.objects.values_list("school_id", "school_b_id"))
        assert NarrativeBand.objects.values("narrative").distinct().count() == 3
    assert len(pairs) == 1 and set(pairs[0]) == {tree.gupei.id, tree.menzhuang.id}
