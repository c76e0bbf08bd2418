"""The performance targets of `manage.py bench`, checked against its result dict.

`evaluate(result)` returns one entry per target: {"key", "section", "target", "value", "met"}
(plus "detail"). `met` is True or False when the figure exists, None when its section was not
run, was skipped (no replica, no pgbouncer) or failed; "reason" then says which. Nothing here
measures: the same function checks a crafted dict in tests and a real run in bench.json.
"""
from __future__ import annotations

import operator
from collections.abc import Callable

OPS: dict[str, Callable] = {"<": operator.lt, "≤": operator.le, "≥": operator.ge, "=": operator.eq}


def _get(result: dict, path: str):
    value = result
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _api_worst(load: dict, fn) -> tuple[float | None, str]:
    """The worst endpoint (the aggregate included) by fn(stats), and its name."""
    worst: tuple[float | None, str] = (None, "")
    for name, st in (load.get("endpoints") or {}).items():
        v = fn(st)
        if v is not None and (worst[0] is None or v > worst[0]):
            worst = (v, name)
    return worst


def _p99_over_p50(st: dict) -> float | None:
    return round(st["p99_ms"] / st["p50_ms"], 2) if st.get("p50_ms") and st.get("p99_ms") is not None else None


def _api_targets(prefix: str, section: str, load: dict | None) -> list[tuple]:
    """(key, section, op, threshold, unit, value, detail) for one Locust run."""
    load = load or {}
    ratio, ratio_at = _api_worst(load, _p99_over_p50)
    p95, p95_at = _api_worst(load, lambda st: st.get("p95_ms"))
    errors = _get(load, "endpoints.all.errors")
    return [
        (f"{prefix}.p99_over_p50", section, "≤", 4, "×", ratio, f"worst endpoint: {ratio_at}" if ratio_at else ""),
        (f"{prefix}.p95", section, "<", 100, " ms", p95, f"worst endpoint: {p95_at}" if p95_at else ""),
        (f"{prefix}.errors", section, "=", 0, "", errors, ""),
    ]


def _specs(r: dict) -> list[tuple]:
    care_constant = None
    if isinstance(r.get("care"), dict) and _get(r, "care.set_based.queries") is not None:
        care_constant = _get(r, "care.set_based.queries") == _get(r, "care.queries_at_10_schools")
    offline_once = _get(r, "offline.exactly_once")
    pooler = r.get("pooler") or {}
    direct_rps, pooled_rps = _get(pooler, "direct.endpoints.all.req_per_s"), _get(pooler, "pooled.endpoints.all.req_per_s")
    specs = [
        ("scoring.time", "scoring", "<", 1, " s", _get(r, "scoring.median_s"), ""),
        ("scoring.sql_floor", "scoring", "≤", 1.5, "×", _get(r, "scoring.ratio_to_sql_floor"), "of the hand-written SQL"),
        ("growth.per_school_max_over_min", "growth", "≤", 1.3, "", _get(r, "growth.max_over_min_per_school"), ""),
        ("export.time", "export", "<", 10, " s", _get(r, "export.xlsxwriter_constant_memory.seconds"), "xlsxwriter"),
        ("export.memory", "export", "≤", 60, " MB", _get(r, "export.xlsxwriter_constant_memory.peak_mb_above_baseline"),
         "above baseline"),
        *_api_targets("api", "api", r.get("api")),
        ("scoped_vs_superuser.ratio", "scoped_vs_superuser", "≤", 1.25, "×", _get(r, "scoped_vs_superuser.ratio"), ""),
        ("rls.district", "rls", "≤", 1.10, "×", _get(r, "rls.district_contacts_per_school.ratio"), "district-wide"),
        ("rls.one_school", "rls", "≤", 1.10, "×", _get(r, "rls.school_contacts_page.ratio"), "one school's page"),
        ("photo.time", "photo", "<", 0.5, " s", _get(r, "photo.seconds"), "12 MP JPEG"),
        ("photo.memory", "photo", "<", 250, " MiB", _get(r, "photo.max_rss_mib"), "peak RSS"),
        ("similarity.recall_at_threshold", "similarity", "≥", 0.95, "",
         _get(r, "similarity.recall.p_candidate_at_threshold"), "P(candidate | J=0.5)"),
        ("similarity.per_submit", "similarity", "<", 1000, " ms", _get(r, "similarity.database.task_ms_p95"),
         "p95 of the submit-time task"),
        ("care.constant_queries", "care", "=", True, "", care_constant, "queries at full size = at 10 schools"),
        ("care.vs_naive", "care", "≥", 10, "×", _get(r, "care.ratio"), "faster than a per-child loop"),
        ("offline.sync", "offline", "<", 30, " s", _get(r, "offline.sync_s"), "all contacts and photos confirmed"),
        ("offline.exactly_once", "offline", "=", True, "", offline_once, ""),
        *_api_targets("pooler", "pooler", pooler.get("pooled")),
        ("pooler.throughput_vs_direct", "pooler", "≥", 0.9, "×",
         round(pooled_rps / direct_rps, 2) if pooled_rps and direct_rps else None, "req/s through PgBouncer / direct"),
    ]
    dq = _get(r, "replica.dashboard_queries") or {}
    primary_with, primary_without = _get(dq, "with_replica.primary"), _get(dq, "without_replica.primary")
    writes = _get(r, "replica.teacher_write_under_bureau_load") or {}
    p95_with, p95_without = _get(writes, "with_replica.p95_ms"), _get(writes, "without_replica.p95_ms")
    specs += [
        # The standby takes most of the bureau's dashboard off the primary ...
        ("replica.primary_queries", "replica", "≤", 0.5, "×",
         round(primary_with / primary_without, 2) if primary_with is not None and primary_without else None,
         f"primary queries per bureau dashboard, {primary_with} with the replica / {primary_without} without"
         if primary_without else ""),
        # ... and with it, bureau reads never make a teacher's write slower than without it.
        ("replica.teacher_write_p95", "replica", "≤", 1.0, "×",
         round(p95_with / p95_without, 2) if p95_with is not None and p95_without else None,
         f"teacher write p95 under bureau load, {p95_with} ms with the replica / {p95_without} ms without"
         if p95_without else ""),
    ]
    return specs


def _reason(r: dict, section: str) -> str:
    s = r.get(section)
    if s is None:
        return "section not run"
    if isinstance(s, dict) and "error" in s:
        return "section failed"
    if isinstance(s, dict) and "skipped" in s:
        return f"skipped: {s['skipped']}"
    return "figure not reported"


def evaluate(result: dict) -> list[dict]:
    out = []
    for key, section, op, threshold, unit, value, detail in _specs(result):
        shown = {True: "yes", False: "no"}.get(threshold, threshold) if isinstance(threshold, bool) else threshold
        entry = {"key": key, "section": section, "target": f"{op} {shown}{unit}", "value": value,
                 "met": None if value is None else bool(OPS[op](value, threshold))}
        if detail:
            entry["detail"] = detail
        if entry["met"] is None:
            entry["reason"] = _reason(result, section)
        out.append(entry)
    return out


def summary(targets: list[dict]) -> dict:
    return {"met": sum(t["met"] is True for t in targets), "missed": sum(t["met"] is False for t in targets),
            "not_measured": sum(t["met"] is None for t in targets)}
