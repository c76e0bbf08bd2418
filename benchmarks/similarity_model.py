"""The copied-narrative model measured outside the product: an in-memory LSH index, synthetic
narratives, the recall study of the LSH layout and the in-memory benchmark
(submissions.similarity is what the product runs)."""
from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from submissions.similarity import (
    BANDS,
    NUM_PERM,
    PREFILTER_MARGIN,
    THRESHOLD,
    Fingerprint,
    band_keys,
    estimated_jaccard,
    jaccard,
)


@dataclass
class LSHIndex:
    """Buckets per band, in memory. The database version is the NarrativeBand table."""

    bands: int = BANDS
    buckets: dict[int, set] = field(default_factory=dict)

    def add(self, key, fp: Fingerprint) -> None:
        for b in fp.bands:
            self.buckets.setdefault(b, set()).add(key)

    def candidates(self, fp: Fingerprint) -> set:
        found: set = set()
        for b in fp.bands:
            found |= self.buckets.get(b, set())
        return found



# ---------------------------------------------------------------- benchmark
# Synthetic narratives: sentences of "words" (2-4 CJK characters, Zipf-weighted), so independent
# texts share the odd stock word, as real ones do, but no long passage.
_CJK = "".join(chr(0x4E00 + i) for i in range(3000))


class Corpus:
    def __init__(self, seed: int = 1, words: int = 6000):
        self.rng = random.Random(seed)
        self.words = ["".join(self.rng.choice(_CJK) for _ in range(self.rng.randint(2, 4))) for _ in range(words)]
        self.weights = [1 / (r + 1) for r in range(words)]

    def sentence(self) -> str:
        return "".join(self.rng.choices(self.words, self.weights, k=self.rng.randint(6, 14))) + "。"

    def text(self, length: int) -> list[str]:
        """A narrative of about `length` characters, as its sentences."""
        out, n = [], 0
        while n < length:
            out.append(self.sentence())
            n += len(out[-1])
        return out

    def copy(self, sentences: list[str], target: float) -> str:
        """A copy that keeps each sentence with the probability that gives Jaccard ~ `target`
        (kept share f of both texts: J = f / (2 - f)); the others are written afresh."""
        keep = 2 * target / (1 + target)
        return "".join(s if self.rng.random() < keep else self.sentence() for s in sentences)


def lsh_candidate(fa: Fingerprint, fb: Fingerprint) -> bool:
    return bool(set(fa.bands) & set(fb.bands))


def candidate_probability(j: float, *, bands: int = BANDS, rows: int = NUM_PERM // BANDS) -> float:
    """The S-curve: P(a pair with Jaccard j shares at least one bucket)."""
    return 1 - (1 - j ** rows) ** bands


OLD_LAYOUT = (64, 16)  # the layout before migration 0003, for comparison in the benchmark


def recall_study(levels: Sequence[float] = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9), pairs: int = 200,
                 length: int = 1500, seed: int = 7, threshold: float = THRESHOLD) -> dict:
    """Planted pairs at several Jaccard levels: how often LSH makes them candidates (this layout
    and the old one) and how often they are flagged; recall and precision at the threshold."""
    corpus = Corpus(seed)
    rows = []
    tp = fn = fp_ = 0
    for level in levels:
        found = found_old = flagged = above = 0
        scores = []
        for _ in range(pairs):
            base = corpus.text(length)
            a, b = "".join(base), corpus.copy(base, level)
            fa, fb = Fingerprint.of(a), Fingerprint.of(b)
            score = jaccard(fa.shingles, fb.shingles)
            scores.append(score)
            cand = lsh_candidate(fa, fb)
            old_bands = OLD_LAYOUT[1]
            old = bool(set(band_keys(fa.signature[:OLD_LAYOUT[0]], old_bands))
                       & set(band_keys(fb.signature[:OLD_LAYOUT[0]], old_bands)))
            found += cand
            found_old += old
            hit = cand and score >= threshold
            flagged += hit
            if score >= threshold:
                above += 1
                tp += hit
                fn += not hit
            else:
                fp_ += hit  # cannot happen (exact confirmation); counted to show it
        rows.append({
            "target_jaccard": level, "pairs": pairs, "mean_jaccard": round(sum(scores) / pairs, 3),
            "candidate_rate": round(found / pairs, 3), "candidate_rate_old_layout": round(found_old / pairs, 3),
            "predicted": round(candidate_probability(sum(scores) / pairs), 3),
            "at_or_above_threshold": above, "flagged": flagged,
        })
    return {
        "layout": f"{NUM_PERM} permutations, {BANDS} bands x {NUM_PERM // BANDS} rows",
        "old_layout": f"{OLD_LAYOUT[0]} permutations, {OLD_LAYOUT[1]} bands x {OLD_LAYOUT[0] // OLD_LAYOUT[1]} rows",
        "threshold": threshold, "levels": rows,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "precision": round(tp / (tp + fp_), 4) if tp + fp_ else None,
        "p_candidate_at_threshold": round(candidate_probability(threshold), 4),
        "p_candidate_at_threshold_old_layout": round(
            candidate_probability(threshold, bands=OLD_LAYOUT[1], rows=OLD_LAYOUT[0] // OLD_LAYOUT[1]), 4),
    }


def benchmark(schools: int = 300, periods: int = 24, length: int = 1500, seed: int = 1, queries: int = 20) -> dict:
    """Index `schools x periods` narratives in memory, then query planted copies (J ~ 0.6-0.9 of
    a stored text) and independent texts: time per text, candidates, recall and precision.

    The planted copy of text 0 is the first query (the `flagged` / `brute_force_*` keys)."""
    corpus = Corpus(seed)
    n = schools * periods
    bases = [corpus.text(length) for _ in range(n)]
    texts = ["".join(b) for b in bases]
    t0 = time.perf_counter()
    index = LSHIndex()
    fps = []
    for i, text in enumerate(texts):
        fp = Fingerprint.of(text)
        fps.append(fp)
        index.add(i, fp)
    t_index = time.perf_counter() - t0
    rng = random.Random(seed)
    plan = [(0, 0.9)] + [(rng.randrange(n), rng.uniform(0.6, 0.9)) if q % 2 else (None, 0.0) for q in range(1, queries)]
    times, n_cands, n_prefiltered, results = [], [], [], []
    true_flags = false_flags = missed = 0
    for base_i, level in plan:
        text = corpus.copy(bases[base_i], level) if base_i is not None else "".join(corpus.text(length))
        t = time.perf_counter()
        fp = Fingerprint.of(text)
        cands = index.candidates(fp)
        kept = [c for c in cands if estimated_jaccard(fp.signature, fps[c].signature) >= THRESHOLD - PREFILTER_MARGIN]
        flagged = sorted(c for c in kept if jaccard(fp.shingles, fps[c].shingles) >= THRESHOLD)
        times.append(time.perf_counter() - t)
        n_cands.append(len(cands))
        n_prefiltered.append(len(kept))
        results.append(flagged)
        if base_i is not None and jaccard(fp.shingles, fps[base_i].shingles) >= THRESHOLD:
            true_flags += base_i in flagged
            missed += base_i not in flagged
        false_flags += len([c for c in flagged if c != base_i])
    first = Fingerprint.of(corpus.copy(bases[0], 0.9))
    t2 = time.perf_counter()
    brute = [i for i in range(n) if jaccard(first.shingles, fps[i].shingles) >= THRESHOLD]
    t_brute = time.perf_counter() - t2
    first_query = times[0]
    times.sort()
    return {
        "narratives": n, "text_length": length, "index_seconds": round(t_index, 3),
        "per_text_fingerprint_ms": round(1000 * t_index / n, 2),
        "queries": len(plan), "query_ms_median": round(1000 * times[len(times) // 2], 2),
        "query_ms_max": round(1000 * times[-1], 2), "query_seconds": round(first_query, 4),
        "candidates_mean": round(sum(n_cands) / len(n_cands), 2), "candidates": n_cands[0],
        "after_prefilter_mean": round(sum(n_prefiltered) / len(n_prefiltered), 2),
        "flagged": results[0], "true_flags": true_flags, "missed": missed, "false_flags": false_flags,
        "brute_force_seconds": round(t_brute, 4), "brute_force_flagged": brute,
    }
