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
from dataclasses import dataclass, field
from typing import Callable, Iterable

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
    for key in sorted(set(keys)):
        metric = REGISTRY.get(key)
        out[key] = metric.compute(school_ids, semester) if metric else {i: None for i in school_ids}
    return out


def load_extra_metric_modules() -> None:
    """Import the modules listed in settings.COMPLIANCE_METRIC_MODULES (they register metrics).

    The records' metrics (issue #3/#5) will live in modules listed there or imported below; tests
    use it to register test-only metrics in a Celery worker process too.
    """
    from django.conf import settings

    for name in getattr(settings, "COMPLIANCE_METRIC_MODULES", []) or []:
        importlib.import_module(name)


# --------------------------------------------------------------------------- default metrics
# The keys the default checklist (default_checklist.yaml) needs. Every one of them reads the
# school's home records of issue #3 (or the submissions of issue #5), which do not exist yet, so
# each is a documented STUB that answers "not applicable" (None) for every school without running
# a query. Items using them are left out of a school's score until a later task implements them as
# one aggregate query grouped by school_id over the records named in each docstring.

def _not_applicable(school_ids, semester):
    return {i: None for i in school_ids}


@register_metric("leadership_group_set_up", "成立留守儿童之家建设领导小组", "Leadership group set up", "yes/no")
def leadership_group_set_up(school_ids, semester):
    """STUB (issue #3). 1 if the school recorded a leadership group (领导小组) led by the principal
    with at least the dean, general-affairs director, Young Pioneers counsellor and a class teacher
    as members, in force during the semester; else 0."""
    return _not_applicable(school_ids, semester)


@register_metric("designated_site", "确定留守儿童之家活动场所", "Designated activity site", "yes/no")
def designated_site(school_ids, semester):
    """STUB (issue #3). 1 if the school recorded a designated activity room for the home."""
    return _not_applicable(school_ids, semester)


@register_metric("equipment_present", "配备电脑、电视机、电话机、图书", "Equipment present (computer, TV, telephone, books)",
                 "of 4")
def equipment_present(school_ids, semester):
    """STUB (issue #3). How many of the four kinds of equipment are recorded: computer, TV,
    family telephone (亲情电话), books. 0..4."""
    return _not_applicable(school_ids, semester)


@register_metric("rule_documents_present", "九项制度齐全", "Rule documents present (of nine)", "of 9")
def rule_documents_present(school_ids, semester):
    """STUB (issue #3). How many of the nine rule documents are on file: construction plan, annual
    plan, management measures, assessment measures, accountability, activities, psychological
    counselling, health education, proxy-parent system. 0..9."""
    return _not_applicable(school_ids, semester)


@register_metric("proxy_parent_trainings", "代理家长培训（以会代训）次数", "Proxy-parent trainings held", "meetings")
def proxy_parent_trainings(school_ids, semester):
    """STUB (issue #3). Number of proxy-parent training meetings (以会代训) held in the semester."""
    return _not_applicable(school_ids, semester)


@register_metric("four_contact_coverage", "“四个一次”覆盖率", "Four-contact coverage of every child", "share 0..1")
def four_contact_coverage(school_ids, semester):
    """STUB (issue #3). Share of the school's left-behind children who received all four contacts
    in the semester (home visit, talk, guardian contact, letter). 0..1; None with no children."""
    return _not_applicable(school_ids, semester)


@register_metric("weekday_schedule_held", "周一至周五主题活动落实", "Monday-to-Friday themed activities held", "of 5")
def weekday_schedule_held(school_ids, semester):
    """STUB (issue #3). Number of weekdays (Mon..Fri) whose scheduled themed activity was actually
    held in the semester (at least once), 0..5."""
    return _not_applicable(school_ids, semester)


@register_metric("activities_evidenced_share", "活动有照片和文字材料", "Activities with complete evidence", "share 0..1")
def activities_evidenced_share(school_ids, semester):
    """STUB (issue #3). Share of the semester's activities with both a photo and a text record.
    0..1; None with no activities."""
    return _not_applicable(school_ids, semester)


@register_metric("archive_completeness", "留守儿童档案完整率", "Children's archive completeness", "share 0..1")
def archive_completeness(school_ids, semester):
    """STUB (issue #3). Share of the children's records with every required field filled (class,
    kind of situation, parents' workplace, guardian with relation and phone, proxy parent). 0..1."""
    return _not_applicable(school_ids, semester)


@register_metric("submissions_on_time", "按时报送", "Submissions on time", "share 0..1")
def submissions_on_time(school_ids, semester):
    """STUB (issue #5). Share of the semester's expected submissions sent by their due date (DHIS2's
    timeliness: on time / expected). Not applicable until the submissions of #5 exist."""
    return _not_applicable(school_ids, semester)


DEFAULT_METRIC_KEYS = (
    "leadership_group_set_up", "designated_site", "equipment_present", "rule_documents_present",
    "proxy_parent_trainings", "four_contact_coverage", "weekday_schedule_held",
    "activities_evidenced_share", "archive_completeness", "submissions_on_time",
)
