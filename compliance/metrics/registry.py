"""The metric registry: what an automatic checklist item measures.

A metric is a function `(school_ids: list[int], semester) -> dict[int, float | None]` that computes
its value for ALL the given schools in ONE set-based query (aggregate grouped by school_id), never a
query per school. `None` means "not applicable" for that school (the item is left out of its score).
A school missing from the returned dict is treated as not applicable too.

`semester` is duck-typed: anything with `.start` and `.end` dates (schools.Semester once it exists,
or Assessment.semester, a SemesterWindow).

Metrics run inside the assessment's tenant scope (tenancy.scoping.tenant_scope over the assessed
schools), so school-owned tables are readable through the ORM and RLS.

A metric may also expose "gaps" (the exact missing things, for the drill-down and the export's gaps
sheet) with `@register_gaps(key)`: `(school_ids, semester) -> list[dict]` with keys
`school_id`, `detail` and optionally `child` (the export masks it).
"""
from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings

from tenancy.replica import read_connection

MetricFunc = Callable[[list, object], dict]


@dataclass
class Metric:
    key: str
    title_zh: str
    title_en: str
    unit: str
    func: MetricFunc
    applicable_from: dt.date | None = None
    gaps: Callable | None = field(default=None)

    def applies_to(self, semester) -> bool:
        return self.applicable_from is None or semester.end >= self.applicable_from

    def compute(self, school_ids: list[int], semester) -> dict[int, float | None]:
        """Values for every school; all None (and no query) before `applicable_from`."""
        ids = list(school_ids)
        if not ids or not self.applies_to(semester):
            return {i: None for i in ids}
        raw = self.func(ids, semester) or {}
        return {i: (None if raw.get(i) is None else float(raw[i])) for i in ids}


REGISTRY: dict[str, Metric] = {}

# The keys the default checklist (default_checklist.yaml) needs; metrics/defaults.py registers them.
DEFAULT_METRIC_KEYS = (
    "leadership_group_set_up", "designated_site", "equipment_present", "rule_documents_present",
    "proxy_parent_trainings", "four_contact_coverage", "weekday_schedule_held",
    "activities_evidenced_share", "archive_completeness", "submissions_on_time",
)


def register_metric(key: str, title_zh: str, title_en: str, unit: str, applicable_from: dt.date | None = None):
    """Decorator: register `func` under `key`. Re-registering a key replaces it (module reloads)."""

    def decorator(func: MetricFunc) -> MetricFunc:
        previous = REGISTRY.get(key)
        REGISTRY[key] = Metric(key=key, title_zh=title_zh, title_en=title_en, unit=unit, func=func,
                               applicable_from=applicable_from, gaps=previous.gaps if previous else None)
        return func

    return decorator


def register_gaps(key: str):
    """Decorator: attach a gaps provider to an already registered metric."""

    def decorator(func):
        REGISTRY[key].gaps = func
        return func

    return decorator


def get_metric(key: str) -> Metric | None:
    return REGISTRY.get(key)


def metric_keys() -> set[str]:
    return set(REGISTRY)


def compute_metrics(keys: Iterable[str], school_ids: list[int], semester) -> dict[str, dict[int, float | None]]:
    """Each metric once for all schools. An unknown key (metric removed from code after publishing)
    yields "not applicable" rather than crashing the whole district's scores."""
    out = {}
    with _work_mem():
        for key in sorted(set(keys)):
            metric = REGISTRY.get(key)
            out[key] = metric.compute(school_ids, semester) if metric else {i: None for i in school_ids}
    return out


class _work_mem:
    """Give the metric statements room to hash a district's children in memory (the row-level
    security predicate hides table sizes from the planner, which then under-sizes them and spills
    to disk). Transaction-local, and restored afterwards in case the transaction goes on."""

    def __enter__(self):
        self.value = getattr(settings, "COMPLIANCE_METRICS_WORK_MEM", "64MB")
        self.previous = None
        self.connection = read_connection()  # where the metric statements run
        if not self.value or not self.connection.in_atomic_block:
            return self
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [self.value])
            self.previous = cursor.fetchone()[0]
        return self

    def __exit__(self, *exc):
        if self.previous is not None and exc[0] is None:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [self.previous])


def load_extra_metric_modules() -> None:
    """Import the modules listed in settings.COMPLIANCE_METRIC_MODULES (they register metrics).

    Tests use it to register test-only metrics in a Celery worker process too.
    """
    for name in getattr(settings, "COMPLIANCE_METRIC_MODULES", []) or []:
        importlib.import_module(name)
