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
        from django.conf import settings
        from django.db import connection

        self.value = getattr(settings, "COMPLIANCE_METRICS_WORK_MEM", "64MB")
        self.previous = None
        if not self.value or not connection.in_atomic_block:
            return self
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [self.value])
            self.previous = cursor.fetchone()[0]
        return self

    def __exit__(self, *exc):
        from django.db import connection

        if self.previous is not None and exc[0] is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [self.previous])


def load_extra_metric_modules() -> None:
    """Import the modules listed in settings.COMPLIANCE_METRIC_MODULES (they register metrics).

    The records' metrics (issue #3/#5) will live in modules listed there or imported below; tests
    use it to register test-only metrics in a Celery worker process too.
    """
    from django.conf import settings

    for name in getattr(settings, "COMPLIANCE_METRIC_MODULES", []) or []:
        importlib.import_module(name)


# --------------------------------------------------------------------------- default metrics
# The keys the default checklist (default_checklist.yaml) needs. Each reads the school's home
# records (schools/, issue #3) or the submissions (submissions/, issue #5) with ONE statement
# grouped by school_id over every school in `school_ids`. They run inside the assessment's tenant
# scope, so row-level security filters the same rows the explicit `school_id = ANY(...)` names.
#
# The semester is taken as its date window (start..end), so a SemesterWindow without a database
# row and a schools.Semester behave alike; a record counts for the semester its date falls in.
# The heavy ones are plain SQL: hash joins and one pass over each table, no per-row sub-plans.

CONTACT_KIND_BITS = {"home_visit": 1, "talk": 2, "guardian_contact": 4, "letter": 8}
ALL_CONTACTS = 15
EQUIPMENT_KINDS = ("computer", "tv", "family_phone", "books")
# Leader (the principal) plus at least the dean, the general-affairs director and the Young
# Pioneers counsellor (titles are free text, so the count is what can be checked).
LEADERSHIP_MIN_MEMBERS = 4


def _table(app_model: str) -> str:
    from django.apps import apps

    return apps.get_model(app_model)._meta.db_table


def _m2m_table(app_model: str, field: str) -> str:
    from django.apps import apps

    return apps.get_model(app_model)._meta.get_field(field).remote_field.through._meta.db_table


def _sql(sql: str, params) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _by_school(rows, school_ids, default=0):
    found = {sid: value for sid, value in rows}
    return {sid: found.get(sid, default) for sid in school_ids}


def _active_children_sql(alias: str = "ch") -> str:
    """Children on the archive during the semester: active now, or left after it ended."""
    return f"({alias}.status = 'active' OR {alias}.status_since > %(end)s)"


def _contact_mask_sql() -> str:
    """(school_id, child_id) -> bit mask of the four contact kinds held in the semester. Grouped
    by school then child, the order of the (school, semester, child, kind) index: an index-only
    scan feeds a streaming aggregate instead of a hash table of every child. Join it on both
    columns (the services keep a contact in its child's school)."""
    cases = " ".join(f"WHEN '{k}' THEN {bit}" for k, bit in CONTACT_KIND_BITS.items())
    return f"""
        SELECT school_id, child_id, bit_or(CASE kind {cases} ELSE 0 END) AS mask
        FROM {_table('schools.CareContact')}
        WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND {_in_semester('happened_on')}
        GROUP BY school_id, child_id"""


def _archive_complete_sql(alias: str = "ch") -> dict[str, str]:
    """Each required archive field -> SQL that is true when it is filled. After a refusal of
    consent only the minimum may be stored, so the sensitive ones count as complete then."""
    refused = f"{alias}.consent = 'refused'"
    return {
        "class_name": f"{alias}.class_name <> ''",
        "left_behind_kind": f"{alias}.left_behind_kind <> ''",
        "parents_work_place": f"({refused} OR {alias}.parents_work_place <> '')",
        "guardian_name": f"({refused} OR {alias}.guardian_name <> '')",
        "guardian_relation": f"({refused} OR {alias}.guardian_relation <> '')",
        "guardian_phone": f"({refused} OR {alias}.guardian_phone <> '')",
        "proxy_parent": "pa.child_id IS NOT NULL",
    }


def _proxy_assigned_sql() -> str:
    return f"""
        SELECT DISTINCT child_id FROM {_table('schools.ProxyAssignment')}
        WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND starts_on <= %(end)s AND (ends_on IS NULL OR ends_on >= %(start)s)"""


def _params(school_ids, semester, **extra) -> dict:
    return {"ids": list(school_ids), "start": semester.start, "end": semester.end,
            "semester_id": getattr(semester, "id", None), **extra}


def _in_semester(date_column: str) -> str:
    """A record in the semester. With a schools.Semester row, by its FK (set by the services from
    the record's date, so the same rows), which lets the (school, semester, child, kind) index
    answer the contacts with an index-only scan; else by the date window."""
    return (f"CASE WHEN %(semester_id)s::bigint IS NULL THEN {date_column} BETWEEN %(start)s AND %(end)s "
            f"ELSE semester_id = %(semester_id)s::bigint END")


@register_metric("leadership_group_set_up", "成立留守儿童之家建设领导小组", "Leadership group set up", "yes/no")
def leadership_group_set_up(school_ids, semester):
    """1 if the school recorded a leadership group (领导小组) with a leader and at least three
    more members (dean, general affairs, Young Pioneers counsellor, class teachers); else 0."""
    rows = _sql(f"""
        SELECT school_id, (count(*) FILTER (WHERE is_leader) >= 1 AND count(*) >= %(n)s)::int
        FROM {_table('schools.LeadershipMember')} WHERE school_id + 0 = ANY(%(ids)s::bigint[]) GROUP BY school_id""",
                _params(school_ids, semester, n=LEADERSHIP_MIN_MEMBERS))
    return _by_school(rows, school_ids)


@register_metric("designated_site", "确定留守儿童之家活动场所", "Designated activity site", "yes/no")
def designated_site(school_ids, semester):
    """1 if the school recorded a designated activity room opened by the end of the semester."""
    rows = _sql(f"""
        SELECT school_id, 1 FROM {_table('schools.ActivitySite')}
        WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND opened_on <= %(end)s GROUP BY school_id""",
                _params(school_ids, semester))
    return _by_school(rows, school_ids)


@register_metric("equipment_present", "配备电脑、电视机、电话机、图书", "Equipment present (computer, TV, telephone, books)",
                 "of 4")
def equipment_present(school_ids, semester):
    """How many of the four kinds of equipment are recorded by the end of the semester: computer,
    TV, family telephone (亲情电话), books. 0..4."""
    rows = _sql(f"""
        SELECT school_id, count(DISTINCT kind) FROM {_table('schools.Equipment')}
        WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND kind = ANY(%(kinds)s) AND acquired_on <= %(end)s
        GROUP BY school_id""", _params(school_ids, semester, kinds=list(EQUIPMENT_KINDS)))
    return _by_school(rows, school_ids)


@register_metric("rule_documents_present", "九项制度齐全", "Rule documents present (of nine)", "of 9")
def rule_documents_present(school_ids, semester):
    """How many of the nine rule documents have a version adopted by the end of the semester:
    construction plan, annual plan, management and assessment measures, accountability,
    activities, psychological counselling, health education, proxy-parent system. 0..9."""
    # The school filter sits on the documents only (a version is its document's school's, and RLS
    # still guards both): with the same id list on both sides PostgreSQL 16 evaluated the second
    # one as a linear scan of the list per row (10x slower at 5,000 schools).
    rows = _sql(f"""
        SELECT d.school_id, count(DISTINCT d.kind)
        FROM {_table('schools.RuleDocument')} d
        JOIN {_table('schools.RuleDocumentVersion')} v ON v.document_id = d.id
        WHERE d.school_id + 0 = ANY(%(ids)s::bigint[]) AND v.adopted_on <= %(end)s
        GROUP BY d.school_id""", _params(school_ids, semester))
    return _by_school(rows, school_ids)


@register_metric("proxy_parent_trainings", "代理家长培训（以会代训）次数", "Proxy-parent trainings held", "meetings")
def proxy_parent_trainings(school_ids, semester):
    """Number of proxy-parent training meetings (以会代训) held in the semester."""
    rows = _sql(f"""
        SELECT school_id, count(*) FROM {_table('schools.TrainingMeeting')}
        WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND date BETWEEN %(start)s AND %(end)s GROUP BY school_id""",
                _params(school_ids, semester))
    return _by_school(rows, school_ids)


@register_metric("four_contact_coverage", "“四个一次”覆盖率", "Four-contact coverage of every child", "share 0..1")
def four_contact_coverage(school_ids, semester):
    """Share of the school's left-behind children on the archive during the semester who had all
    four contacts in it (home visit, talk, guardian contact, letter). 0..1; None with no children."""
    rows = _sql(f"""
        SELECT ch.school_id, count(*) FILTER (WHERE cc.mask = {ALL_CONTACTS})::float / count(*)
        FROM {_table('schools.Child')} ch
        LEFT JOIN ({_contact_mask_sql()}) cc ON cc.school_id = ch.school_id AND cc.child_id = ch.id
        WHERE ch.school_id + 0 = ANY(%(ids)s::bigint[]) AND {_active_children_sql()}
        GROUP BY ch.school_id""", _params(school_ids, semester))
    return _by_school(rows, school_ids, default=None)


def _theme_weekdays_sql() -> str:
    """(school_id, weekday) of the themes scheduled for a semester overlapping the window."""
    return f"""
        SELECT DISTINCT t.school_id, t.weekday
        FROM {_table('schools.ThemeSchedule')} t JOIN {_table('schools.Semester')} sm ON sm.id = t.semester_id
        WHERE t.school_id + 0 = ANY(%(ids)s::bigint[]) AND sm.start <= %(end)s AND sm."end" >= %(start)s"""


def _held_weekdays_sql() -> str:
    return f"""
        SELECT DISTINCT a.school_id, extract(isodow FROM a.date)::int AS weekday
        FROM {_table('schools.Activity')} a
        WHERE a.school_id + 0 = ANY(%(ids)s::bigint[]) AND a.kind = 'theme_activity' AND a.date BETWEEN %(start)s AND %(end)s"""


@register_metric("weekday_schedule_held", "周一至周五主题活动落实", "Monday-to-Friday themed activities held", "of 5")
def weekday_schedule_held(school_ids, semester):
    """Number of weekdays (Mon..Fri) that have a theme in the semester's schedule AND whose themed
    activity was actually held (at least once) in the semester. 0..5."""
    rows = _sql(f"""
        SELECT ts.school_id, count(*)
        FROM ({_theme_weekdays_sql()}) ts JOIN ({_held_weekdays_sql()}) h
          ON h.school_id = ts.school_id AND h.weekday = ts.weekday
        GROUP BY ts.school_id""", _params(school_ids, semester))
    return _by_school(rows, school_ids)


def _activities_sql() -> str:
    """The semester's activities with `evidenced` = a photo AND a text record: the definition of
    schools.models.ActivityQuerySet.with_evidence() (a test pins that both agree). Written as a
    hash join on the photographed activity ids rather than an EXISTS probe per activity."""
    return f"""
        SELECT a.school_id, a.id, a.date, a.title, p.activity_id IS NOT NULL AS has_photo,
               a.text_record <> '' AS has_text
        FROM {_table('schools.Activity')} a
        LEFT JOIN (SELECT DISTINCT activity_id FROM {_table('schools.Evidence')}
                   WHERE school_id + 0 = ANY(%(ids)s::bigint[]) AND kind = 'photo' AND activity_id IS NOT NULL) p
               ON p.activity_id = a.id
        WHERE a.school_id + 0 = ANY(%(ids)s::bigint[]) AND a.date BETWEEN %(start)s AND %(end)s"""


@register_metric("activities_evidenced_share", "活动有照片和文字材料", "Activities with complete evidence", "share 0..1")
def activities_evidenced_share(school_ids, semester):
    """Share of the semester's activities with both a photo and a text record. 0..1; None with
    no activities."""
    rows = _sql(f"""
        SELECT school_id, count(*) FILTER (WHERE has_photo AND has_text)::float / count(*)
        FROM ({_activities_sql()}) x GROUP BY school_id""", _params(school_ids, semester))
    return _by_school(rows, school_ids, default=None)


@register_metric("archive_completeness", "留守儿童档案完整率", "Children's archive completeness", "share 0..1")
def archive_completeness(school_ids, semester):
    """Share of the children on the archive during the semester whose record has every required
    field: class, kind of situation, parents' workplace, guardian with relation and phone, and a
    proxy parent assigned during the semester. 0..1; None with no children."""
    complete = " AND ".join(_archive_complete_sql().values())
    rows = _sql(f"""
        SELECT ch.school_id, count(*) FILTER (WHERE {complete})::float / count(*)
        FROM {_table('schools.Child')} ch LEFT JOIN ({_proxy_assigned_sql()}) pa ON pa.child_id = ch.id
        WHERE ch.school_id + 0 = ANY(%(ids)s::bigint[]) AND {_active_children_sql()}
        GROUP BY ch.school_id""", _params(school_ids, semester))
    return _by_school(rows, school_ids, default=None)


def _expected_submissions_sql() -> str:
    """One row per (school, report type, period) expected in the semester (DHIS2): the school is
    assigned, the type is active, the period is due within the semester and the school was open
    during it; expected once due, or earlier if already sent."""
    return f"""
        SELECT rs.school_id, rt.id AS report_type_id, rt.name AS report_type, p.id AS period_id,
               p.start_on, p.end_on, p.due_on, sub.timeliness
        FROM {_m2m_table('submissions.ReportType', 'schools')} rs
        JOIN {_table('submissions.ReportType')} rt ON rt.id = rs.reporttype_id AND rt.is_active
        JOIN {_table('submissions.Period')} p ON p.report_type_id = rt.id AND p.due_on BETWEEN %(start)s AND %(end)s
        JOIN {_table('tenancy.School')} sc ON sc.id = rs.school_id
             AND (sc.opened_on IS NULL OR sc.opened_on <= p.end_on)
             AND (sc.closed_on IS NULL OR sc.closed_on >= p.start_on)
        LEFT JOIN {_table('submissions.Submission')} sub
             ON sub.school_id = rs.school_id AND sub.report_type_id = rt.id AND sub.period_id = p.id
        WHERE rs.school_id + 0 = ANY(%(ids)s::bigint[]) AND (p.due_on < %(today)s OR sub.first_submitted_at IS NOT NULL)"""


@register_metric("submissions_on_time", "按时报送", "Submissions on time", "share 0..1")
def submissions_on_time(school_ids, semester):
    """Share of the semester's expected submissions sent on time (DHIS2's timeliness: on time ÷
    expected). None for a school with no report type assigned (or nothing due yet)."""
    from django.utils import timezone

    rows = _sql(f"""
        SELECT school_id, count(*) FILTER (WHERE timeliness = 'on_time')::float / count(*)
        FROM ({_expected_submissions_sql()}) e GROUP BY school_id""",
                _params(school_ids, semester, today=timezone.localdate()))
    return _by_school(rows, school_ids, default=None)


DEFAULT_METRIC_KEYS = (
    "leadership_group_set_up", "designated_site", "equipment_present", "rule_documents_present",
    "proxy_parent_trainings", "four_contact_coverage", "weekday_schedule_held",
    "activities_evidenced_share", "archive_completeness", "submissions_on_time",
)

from . import gaps as _gaps  # noqa: E402,F401  (registers the drill-down gaps of the metrics above)
