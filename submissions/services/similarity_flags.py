"""Copied narratives: fingerprint a sent narrative and flag near-duplicates (the submit-time job)."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from tenancy.models import School
from tenancy.scoping import system_scope

from .. import similarity
from ..models import Narrative, NarrativeBand, SimilarityFlag, Submission
from ._common import _setting
from .notices import flag_notify


def _district_school_ids(school_id: int) -> list[int]:
    district_id = School.objects.filter(pk=school_id).values_list("district_id", flat=True).first()
    if district_id is None:
        return []
    return list(School.objects.filter(district_id=district_id).values_list("id", flat=True))


def submission_similarity_compute(*, school_id: int, submission_id: int) -> list[SimilarityFlag]:
    """Fingerprint a sent narrative, store its LSH buckets, and flag near-duplicates among the
    other schools' sent narratives of the same report type (every period).

    Runs in an explicit scope of the submission's district (the comparison crosses schools by
    design; the result is shown only to the bureau). Idempotent: re-running gives the same flags.
    """
    with system_scope("copied narratives are looked for across the district's schools",
                      school_ids=_district_school_ids(school_id)):
        return _similarity_compute(submission_id)


def _similarity_compute(submission_id: int) -> list[SimilarityFlag]:
    cfg = _setting("SUBMISSIONS_SIMILARITY", {})
    threshold = cfg.get("THRESHOLD", similarity.THRESHOLD)
    min_len = cfg.get("MIN_PASSAGE", similarity.MIN_PASSAGE)
    submission = Submission.objects.filter(pk=submission_id).select_related("report_type").first()
    if submission is None:
        return []
    narrative = Narrative.objects.filter(submission=submission).first()
    text = narrative.text if narrative else ""
    involving = Q(submission_a=submission) | Q(submission_b=submission)
    if narrative is None or not text.strip() or not submission.is_sent:
        if narrative is not None:
            NarrativeBand.objects.filter(narrative=narrative).delete()
        SimilarityFlag.objects.filter(involving).delete()
        return []
    fp = similarity.Fingerprint.of(text)
    if narrative.signature != fp.signature or narrative.fingerprint_digest != narrative.digest:
        narrative.signature = fp.signature
        narrative.fingerprint_digest = narrative.digest
        narrative.save(update_fields=["signature", "fingerprint_digest"])
    # Rewrite the buckets only when they differ, so a re-run (redelivery, demo re-seed) leaves
    # the rows as they were.
    wanted_bands = list(enumerate(fp.bands))
    stored = NarrativeBand.objects.filter(narrative=narrative)
    if list(stored.order_by("band").values_list("band", "bucket")) != wanted_bands or stored.exclude(
            school_id=submission.school_id, report_type_id=submission.report_type_id).exists():
        stored.delete()
        NarrativeBand.objects.bulk_create([
            NarrativeBand(school_id=submission.school_id, narrative=narrative, report_type_id=submission.report_type_id,
                          band=i, bucket=key)
            for i, key in wanted_bands
        ])
    candidate_ids = set(
        NarrativeBand.objects.filter(report_type_id=submission.report_type_id, bucket__in=fp.bands)
        .exclude(school_id=submission.school_id).values_list("narrative_id", flat=True)
    )
    others = Narrative.objects.filter(id__in=candidate_ids).select_related("submission")
    kept = []
    for other in others:
        if not other.submission.is_sent:
            continue
        # Bucket-mates far below the threshold by their stored signature are not worth the exact
        # comparison (a signature of another text or layout is not trusted: compare exactly).
        if (other.fingerprint_digest == other.digest and len(other.signature) == len(fp.signature)
                and similarity.estimated_jaccard(fp.signature, other.signature) < threshold - similarity.PREFILTER_MARGIN):
            continue
        other_text = other.text
        ofp = similarity.Fingerprint.of(other_text, minhash=False)
        if submission.pk < other.submission_id:
            a, ta, fa, b, tb, fb = submission, text, fp, other.submission, other_text, ofp
        else:
            a, ta, fa, b, tb, fb = other.submission, other_text, ofp, submission, text, fp
        match = similarity.compare_fingerprints(fa, ta, fb, tb, threshold=threshold, min_len=min_len)
        if match is None:
            continue
        kept.append(_flag_upsert(a, b, submission.report_type_id, match))
    SimilarityFlag.objects.filter(involving).exclude(id__in=[f.id for f in kept]).delete()
    return kept


def _flag_upsert(a: Submission, b: Submission, report_type_id: int, match) -> SimilarityFlag:
    defaults = {"school_id": a.school_id, "school_b_id": b.school_id, "report_type_id": report_type_id,
                "score": round(match.score, 4), "passages": match.passages}
    existing = SimilarityFlag.objects.filter(submission_a=a, submission_b=b).first()
    if existing is None:
        flag = _flag_upsert_write(a, b, defaults)
        flag_notify(flag)  # a new pair concerns both schools; a changed score is not news
        return flag
    if existing is not None and all(getattr(existing, k) == v for k, v in defaults.items()):
        return existing  # unchanged: no write, so updated_at keeps meaning "the match changed"
    return _flag_upsert_write(a, b, defaults)


def _flag_upsert_write(a: Submission, b: Submission, defaults: dict) -> SimilarityFlag:
    for attempt in range(2):
        try:
            with transaction.atomic():
                flag, _created = SimilarityFlag.objects.update_or_create(submission_a=a, submission_b=b, defaults=defaults)
            return flag
        except IntegrityError:
            # The other school's task inserted the same pair at the same moment; update it instead.
            if attempt:
                raise
    raise AssertionError("unreachable")
