"""Near-duplicate narratives: character shingles, MinHash, LSH banding, exact Jaccard, shared passages.

Pure Python, no Django and no numpy, so it can be unit-tested and benchmarked on its own.

Why characters and not words: Chinese has no spaces, and a word segmenter would add a heavy
dependency and its own errors. Overlapping character k-grams (after dropping whitespace and
punctuation) capture copied sentences in any language.

Pipeline:
1. `normalise` keeps letters and digits (NFKC, lower case) and remembers where each kept
   character was in the original text, so shared passages can be highlighted in the original.
2. `shingles` = the set of k-grams of the normalised text, hashed to 64-bit integers.
3. `signature` = MinHash over `num_perm` universal hash functions (a·x + b mod a Mersenne prime).
4. `band_keys` split the signature into bands of `rows` values; two texts that agree on a whole
   band land in the same bucket. Stored per narrative, a new text meets only its bucket-mates
   instead of every stored text (the caller keeps the buckets in an indexed table).
5. Candidates are confirmed by the exact Jaccard of their shingle sets; `shared_passages` lists
   the maximal common substrings above a length, for highlighting.
"""
from __future__ import annotations

import hashlib
import random
import struct
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

SHINGLE_SIZE = 5
NUM_PERM = 64
BANDS = 16  # 16 bands x 4 rows: the S-curve's threshold is about (1/16)^(1/4) = 0.5
THRESHOLD = 0.5  # exact Jaccard at or above which a pair is flagged
MIN_PASSAGE = 12  # normalised characters; shorter common runs are stock phrases, not copying

_MERSENNE = (1 << 61) - 1
_MASK64 = (1 << 64) - 1


def _permutations(num_perm: int) -> list[tuple[int, int]]:
    # A fixed seed: signatures stored today must stay comparable with signatures computed later.
    rng = random.Random(20260401)
    return [(rng.randrange(1, _MERSENNE), rng.randrange(0, _MERSENNE)) for _ in range(num_perm)]


_PERMS_CACHE: dict[int, list[tuple[int, int]]] = {}


def permutations(num_perm: int = NUM_PERM) -> list[tuple[int, int]]:
    if num_perm not in _PERMS_CACHE:
        _PERMS_CACHE[num_perm] = _permutations(num_perm)
    return _PERMS_CACHE[num_perm]


# ---------------------------------------------------------------- text
def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Letters and digits only: whitespace (Z*), punctuation (P*), symbols (S*) and controls go.
    return cat[0] in ("L", "N")


def normalise(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, for each of its characters, the offset in `text`."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text or ""):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if _keep(c):
                out.append(c)
                offsets.append(i)
    return "".join(out), offsets


def _hash64(s: str) -> int:
    return struct.unpack("<Q", hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest())[0]


def shingles(norm: str, k: int = SHINGLE_SIZE) -> set[int]:
    """The set of hashed character k-grams. A text shorter than k is one shingle (if not empty)."""
    if not norm:
        return set()
    if len(norm) <= k:
        return {_hash64(norm)}
    return {_hash64(norm[i:i + k]) for i in range(len(norm) - k + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


# ---------------------------------------------------------------- MinHash + LSH
def signature(sh: Iterable[int], num_perm: int = NUM_PERM) -> list[int]:
    """MinHash signature: for each hash function, the minimum over the shingles."""
    xs = [x & _MASK64 for x in sh]
    if not xs:
        return [_MERSENNE] * num_perm
    return [min((a * x + b) % _MERSENNE for x in xs) for a, b in permutations(num_perm)]


def estimated_jaccard(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    if not sig_a or len(sig_a) != len(sig_b):
        return 0.0
    return sum(1 for x, y in zip(sig_a, sig_b) if x == y) / len(sig_a)


def band_keys(sig: Sequence[int], bands: int = BANDS) -> list[int]:
    """One signed 63-bit bucket key per band (fits a PostgreSQL bigint), band index mixed in."""
    rows = len(sig) // bands
    keys = []
    for band in range(bands):
        chunk = sig[band * rows:(band + 1) * rows]
        h = hashlib.blake2b(digest_size=8)
        h.update(struct.pack("<I", band))
        for v in chunk:
            h.update(struct.pack("<Q", v & _MASK64))
        keys.append(struct.unpack("<q", h.digest())[0])
    return keys


@dataclass
class Fingerprint:
    """Everything needed to index and compare one text."""

    norm: str
    offsets: list[int]
    shingles: set[int]
    signature: list[int]
    bands: list[int]

    @classmethod
    def of(cls, text: str, *, k: int = SHINGLE_SIZE, num_perm: int = NUM_PERM, bands: int = BANDS) -> "Fingerprint":
        norm, offsets = normalise(text)
        sh = shingles(norm, k)
        sig = signature(sh, num_perm)
        return cls(norm=norm, offsets=offsets, shingles=sh, signature=sig, bands=band_keys(sig, bands))


# ---------------------------------------------------------------- shared passages
def _common_runs(a: str, b: str, min_len: int) -> list[tuple[int, int, int]]:
    """Maximal common substrings of a and b at least `min_len` long, as (start_a, start_b, length).

    Greedy over b: at each position, extend every occurrence in a of the anchoring k-gram and
    keep the longest run; then jump past it. Works for reordered passages, unlike a diff.
    Runs are non-overlapping in b; in a they may repeat (a paragraph copied twice).
    """
    k = min(min_len, 8)
    if len(a) < min_len or len(b) < min_len:
        return []
    index: dict[str, list[int]] = {}
    for i in range(len(a) - k + 1):
        index.setdefault(a[i:i + k], []).append(i)
    runs = []
    j = 0
    nb, na = len(b), len(a)
    while j <= nb - k:
        best_len, best_i = 0, -1
        for i in index.get(b[j:j + k], ()):
            n = k
            while i + n < na and j + n < nb and a[i + n] == b[j + n]:
                n += 1
            # Also grow backwards is unnecessary: j only advances, and an earlier start was tried.
            if n > best_len:
                best_len, best_i = n, i
        if best_len >= min_len:
            runs.append((best_i, j, best_len))
            j += best_len
        else:
            j += 1
    return runs


def shared_passages(fa: Fingerprint, text_a: str, fb: Fingerprint, text_b: str,
                    min_len: int = MIN_PASSAGE) -> list[dict]:
    """Shared passages with their spans in both original texts (end exclusive), longest first."""
    out = []
    for ia, ib, n in _common_runs(fa.norm, fb.norm, min_len):
        a_start, a_end = fa.offsets[ia], fa.offsets[ia + n - 1] + 1
        b_start, b_end = fb.offsets[ib], fb.offsets[ib + n - 1] + 1
        out.append({"a": [a_start, a_end], "b": [b_start, b_end], "length": n, "text": text_b[b_start:b_end]})
    out.sort(key=lambda p: (-p["length"], p["b"][0]))
    return out


def coverage(passages: list[dict], side: str, norm_len: int) -> float:
    """Share of one side's normalised text covered by shared passages."""
    if not norm_len:
        return 0.0
    return min(1.0, sum(p["length"] for p in passages) / norm_len)


# ---------------------------------------------------------------- an in-memory index (benchmark, tests)
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


@dataclass
class Match:
    score: float
    passages: list[dict]


def compare(text_a: str, text_b: str, *, threshold: float = THRESHOLD, min_len: int = MIN_PASSAGE) -> Match | None:
    """Exact comparison of two texts: the Match if their Jaccard reaches the threshold."""
    fa, fb = Fingerprint.of(text_a), Fingerprint.of(text_b)
    return compare_fingerprints(fa, text_a, fb, text_b, threshold=threshold, min_len=min_len)


def compare_fingerprints(fa: Fingerprint, text_a: str, fb: Fingerprint, text_b: str, *,
                         threshold: float = THRESHOLD, min_len: int = MIN_PASSAGE) -> Match | None:
    score = jaccard(fa.shingles, fb.shingles)
    if score < threshold:
        return None
    return Match(score=score, passages=shared_passages(fa, text_a, fb, text_b, min_len))


# ---------------------------------------------------------------- benchmark
def _synthetic_text(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def benchmark(schools: int = 300, periods: int = 24, length: int = 1500, seed: int = 1) -> dict:
    """Time indexing `schools x periods` narratives and querying one new text against them.

    Synthetic texts over a 400-character CJK alphabet, with a planted copy, so the result also
    shows that LSH finds it. Returns timings in seconds; call it from a shell:
        python -c "from submissions.similarity import benchmark; print(benchmark())"
    """
    rng = random.Random(seed)
    alphabet = "".join(chr(0x4E00 + i) for i in range(400))
    n = schools * periods
    texts = [_synthetic_text(rng, alphabet, length) for _ in range(n)]
    t0 = time.perf_counter()
    index = LSHIndex()
    fps = []
    for i, text in enumerate(texts):
        fp = Fingerprint.of(text)
        fps.append(fp)
        index.add(i, fp)
    t_index = time.perf_counter() - t0
    # A new text copying 90 % of text 0.
    copied = texts[0][: int(length * 0.9)] + _synthetic_text(rng, alphabet, length - int(length * 0.9))
    t1 = time.perf_counter()
    fp = Fingerprint.of(copied)
    cands = index.candidates(fp)
    flagged = [c for c in cands if jaccard(fp.shingles, fps[c].shingles) >= THRESHOLD]
    t_query = time.perf_counter() - t1
    t2 = time.perf_counter()
    brute = [i for i in range(n) if jaccard(fp.shingles, fps[i].shingles) >= THRESHOLD]
    t_brute = time.perf_counter() - t2
    return {
        "narratives": n, "text_length": length,
        "index_seconds": round(t_index, 3), "per_text_fingerprint_ms": round(1000 * t_index / n, 2),
        "query_seconds": round(t_query, 4), "candidates": len(cands), "flagged": sorted(flagged),
        "brute_force_seconds": round(t_brute, 4), "brute_force_flagged": brute,
    }
