"""Near-duplicate narratives: character shingles, MinHash, LSH banding, exact Jaccard, shared passages.

No Django, so it can be unit-tested and benchmarked on its own; numpy (already installed for the
photo pipeline's ImageHash) does the arithmetic of the hashing in bulk.

Why characters and not words: Chinese has no spaces, and a word segmenter would add a heavy
dependency and its own errors. Overlapping character k-grams (after dropping whitespace and
punctuation) capture copied sentences in any language.

Pipeline:
1. `normalise` keeps letters and digits (NFKC, lower case) and remembers where each kept
   character was in the original text, so shared passages can be highlighted in the original.
2. `shingles` = the set of k-grams of the normalised text, hashed to 64-bit integers (two
   polynomial hashes modulo 32-bit primes: about 1e-18 chance that two different k-grams collide).
3. `signature` = MinHash over `num_perm` multiply-add-shift hash functions of the shingles folded
   to 32 bits, ((a·x + b) mod 2^64) >> 32 (Dietzfelbinger; 2-independent, and no division).
4. `band_keys` split the signature into bands of `rows` values; two texts that agree on a whole
   band land in the same bucket. Stored per narrative, a new text meets only its bucket-mates
   instead of every stored text (the caller keeps the buckets in an indexed table).
5. Candidates are confirmed by the exact Jaccard of their shingle sets; `shared_passages` lists
   the maximal common substrings above a length, for highlighting.

The LSH layout: a pair with Jaccard J shares at least one bucket with probability
1 - (1 - J^rows)^bands. With 96 permutations in 32 bands of 3 rows that is 0.986 at the 0.5
threshold (0.997 at 0.55), while a pair at J = 0.1 becomes a candidate 3 % of the time, and a
stored signature drops most of those before the exact comparison (`estimated_jaccard`). The
earlier 64 permutations in 16 bands of 4 rows found a pair at J = 0.5 only 64 % of the time.
Changing NUM_PERM, BANDS or the hash functions changes every stored bucket: ship a migration that
recomputes them (see migrations/0003_similarity_layout_32x3.py).
"""
from __future__ import annotations

import hashlib
import random
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

SHINGLE_SIZE = 5
NUM_PERM = 96
BANDS = 32  # 32 bands x 3 rows: P(candidate | J=0.5) = 1 - (1 - 0.5**3)**32 = 0.986
THRESHOLD = 0.5  # exact Jaccard at or above which a pair is flagged
# A stored candidate whose MinHash estimate is this far below the threshold is not compared
# exactly: with 96 permutations a true J = 0.5 pair estimates below 0.3 with probability < 1e-4.
PREFILTER_MARGIN = 0.2
MIN_PASSAGE = 12  # normalised characters; shorter common runs are stock phrases, not copying

_EMPTY = 1 << 32  # the signature of an empty text: above every hash value
_SHINGLE_HASHES = ((4294967279, 1000003), (4294967231, 91138233))  # (prime, base) of the two k-gram hashes
_CHUNK = 4096  # shingles per block of the signature computation (bounds the temporary array)
_MASK64 = (1 << 64) - 1


def _permutations(num_perm: int) -> list[tuple[int, int]]:
    # A fixed seed: signatures stored today must stay comparable with signatures computed later.
    rng = random.Random(20261128)
    return [(rng.getrandbits(64) | 1, rng.getrandbits(64)) for _ in range(num_perm)]


_PERMS_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def permutations(num_perm: int = NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    """The hash functions as two column vectors (a, b), so one block of shingles hashes at once."""
    if num_perm not in _PERMS_CACHE:
        perms = _permutations(num_perm)
        _PERMS_CACHE[num_perm] = (np.array([a for a, _b in perms], dtype=np.uint64)[:, None],
                                  np.array([b for _a, b in perms], dtype=np.uint64)[:, None])
    return _PERMS_CACHE[num_perm]


# ---------------------------------------------------------------- text
def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Letters and digits only: whitespace (Z*), punctuation (P*), symbols (S*) and controls go.
    return cat[0] in ("L", "N")


_KEPT: dict[str, str] = {}  # character -> what normalisation keeps of it (few thousand entries)


def _kept(ch: str) -> str:
    out = _KEPT.get(ch)
    if out is None:
        out = _KEPT[ch] = "".join(c for c in unicodedata.normalize("NFKC", ch).lower() if _keep(c))
    return out


def normalise(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, for each of its characters, the offset in `text`."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text or ""):
        kept = _kept(ch)
        if kept:
            out.append(kept)
            offsets.extend([i] * len(kept))
    return "".join(out), offsets


def shingles(norm: str, k: int = SHINGLE_SIZE) -> set[int]:
    """The set of hashed character k-grams. A text shorter than k is one shingle (if not empty)."""
    if not norm:
        return set()
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)
    width = min(k, len(codes))
    n = len(codes) - width + 1
    parts = []
    for prime, base in _SHINGLE_HASHES:
        p, b = np.uint64(prime), np.uint64(base)
        h = np.zeros(n, dtype=np.uint64)
        for j in range(width):  # Horner over the window, every window at once
            h = (h * b + codes[j:j + n]) % p
        parts.append(h)
    return set(((parts[0] << np.uint64(32)) | parts[1]).tolist())


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


# ---------------------------------------------------------------- MinHash + LSH
def signature(sh: Iterable[int], num_perm: int = NUM_PERM) -> list[int]:
    """MinHash signature: for each hash function, the minimum over the shingles."""
    xs = np.fromiter((x & _MASK64 for x in sh), dtype=np.uint64)
    if not len(xs):
        return [_EMPTY] * num_perm
    shift = np.uint64(32)
    xs = (xs ^ (xs >> shift)) & np.uint64(0xFFFFFFFF)
    a, b = permutations(num_perm)
    mins = np.full(num_perm, _EMPTY, dtype=np.uint64)
    for i in range(0, len(xs), _CHUNK):  # uint64 arithmetic wraps modulo 2**64, as the hash wants
        np.minimum(mins, ((a * xs[i:i + _CHUNK] + b) >> shift).min(axis=1), out=mins)
    return mins.tolist()


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
    def of(cls, text: str, *, k: int = SHINGLE_SIZE, num_perm: int = NUM_PERM, bands: int = BANDS,
           minhash: bool = True) -> Fingerprint:
        """minhash=False skips the signature and buckets: enough to confirm a candidate exactly."""
        norm, offsets = normalise(text)
        sh = shingles(norm, k)
        sig = signature(sh, num_perm) if minhash else []
        return cls(norm=norm, offsets=offsets, shingles=sh, signature=sig, bands=band_keys(sig, bands) if minhash else [])


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
