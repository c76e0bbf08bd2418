"""The SQL floor: every school's automatic-item totals in ONE hand-written statement.

The benchmark (`manage.py bench_compliance`) times this next to compute_scores: it is
the practical lower bound for scoring in PostgreSQL (one round trip, shared scans, the rule math
in SQL, no Python per school), so `compute_scores / floor` shows what the metric registry and the
Python side cost. It is NOT the product's scoring path: compute_scores stays the one source of
truth (metrics are pluggable, items can be manual, snapshots keep values); a test pins that both
agree on the default checklist.

Supported:
- the metrics of the default checklist (compliance.metrics.DEFAULT_METRIC_KEYS), with the same
  definitions and the same "not applicable" (NULL) cases as the metric functions;
- the three rules as compliance.scoring.apply_rule applies them: `threshold` (full points at
  value >= threshold), `proportional` (points x clamp(value / target, 0, 1)) and `bands` (the
  points of the last band in list order whose minimum the value reaches, capped at the item's
  points), each rounded half-up to cents. The rule parameters are read from the checklist item
  rows inside the statement, so an edited version is scored as published.
Metric values are float8 as the metric functions return them, turned into numeric through their
shortest text form: the same digits Python's `Decimal(str(float))` sees in apply_rule.
A checklist using any other metric raises ValueError (the floor is a benchmark, not a fallback).
"""
from __future__ import annotations

from decimal import Decimal

from django.db import connection

from compliance.metrics.registry import _work_mem
from compliance.metrics.sql import (
    ALL_CONTACTS,
    CONTACT_KIND_BITS,
    EQUIPMENT_KINDS,
    LEADERSHIP_MIN_MEMBERS,
    _m2m_table,
    _table,
)

SUPPORTED_METRICS = frozenset({
    "leadership_group_set_up", "designated_site", "equipment_present", "rule_documents_present",
    "proxy_parent_trainings", "four_contact_coverage", "weekday_schedule_held", "activities_evidenced_share",
    "archive_completeness", "submissions_on_time",
})
SUPPORTED_RULES = frozenset({"threshold", "proportional", "bands"})


def _statement(*, by_semester_id: bool) -> str:
    t = _table
    # A record in the semester: by its semester FK when the window is a schools.Semester row (the
    # services set it from the record's date), else by the date window. Chosen here, in Python,
    # because a hand-written statement is written for the case at hand.
    def in_sem(alias: str, date_column: str) -> str:
        return f"{alias}.semester_id = %(semester_id)s" if by_semester_id else \
            f"{alias}.{date_column} BETWEEN %(start)s AND %(end)s"

    kinds = " ".join(f"WHEN '{k}' THEN {bit}" for k, bit in CONTACT_KIND_BITS.items())
    active = "(ch.status = 'active' OR ch.status_since > %(end)s)"
    refused = "ch.consent = 'refused'"
    complete = " AND ".join([
        "ch.class_name <> ''", "ch.left_behind_kind <> ''",
        *(f"({refused} OR ch.{f} <> '')" for f in ("parents_work_place", "guardian_name", "guardian_relation",
                                                    "guardian_phone")),
        "pa.child_id IS NOT NULL",
    ])
    ids = "school_id + 0 = ANY(%(ids)s::bigint[])"  # a hashed filter; RLS uses the school_id index
    # With a Semester row, the trigger-kept per-child summary; else the contacts themselves.
    masks = (f"SELECT school_id, child_id, mask FROM {t('schools.ChildContactSummary')} "
             f"WHERE {ids} AND semester_id = %(semester_id)s") if by_semester_id else (
        f"SELECT school_id, child_id, bit_or(CASE kind {kinds} ELSE 0 END) AS mask "
        f"FROM {t('schools.CareContact')} cc WHERE {ids} AND {in_sem('cc', 'happened_on')} GROUP BY school_id, child_id")
    return f"""
WITH
masks AS ({masks}),
assigned AS (
    SELECT DISTINCT child_id FROM {t('schools.ProxyAssignment')}
    WHERE {ids} AND starts_on <= %(end)s AND (ends_on IS NULL OR ends_on >= %(start)s)),
-- One pass over the children for both child-based metrics.
kids AS (
    SELECT ch.school_id, count(*) AS n,
           count(*) FILTER (WHERE m.mask = {ALL_CONTACTS}) AS four,
           count(*) FILTER (WHERE {complete}) AS complete
    FROM {t('schools.Child')} ch
    LEFT JOIN masks m ON m.school_id = ch.school_id AND m.child_id = ch.id
    LEFT JOIN assigned pa ON pa.child_id = ch.id
    WHERE ch.{ids} AND {active}
    GROUP BY ch.school_id),
acts AS (  -- the trigger-kept photo flag, as the metric reads it
    SELECT a.school_id, count(*) AS n,
           count(*) FILTER (WHERE a.photographed AND a.text_record <> '') AS evidenced
    FROM {t('schools.Activity')} a
    WHERE a.{ids} AND a.date BETWEEN %(start)s AND %(end)s
    GROUP BY a.school_id),
held AS (
    SELECT DISTINCT school_id, extract(isodow FROM date)::int AS weekday FROM {t('schools.Activity')}
    WHERE {ids} AND kind = 'theme_activity' AND date BETWEEN %(start)s AND %(end)s),
weekdays AS (
    SELECT ts.school_id, count(DISTINCT ts.weekday) AS n
    FROM {t('schools.ThemeSchedule')} ts
    JOIN {t('schools.Semester')} sm ON sm.id = ts.semester_id AND sm.start <= %(end)s AND sm."end" >= %(start)s
    JOIN held h ON h.school_id = ts.school_id AND h.weekday = ts.weekday
    WHERE ts.{ids}
    GROUP BY ts.school_id),
leaders AS (
    SELECT school_id, (count(*) FILTER (WHERE is_leader) >= 1 AND count(*) >= %(min_members)s)::int AS ok
    FROM {t('schools.LeadershipMember')} WHERE {ids} GROUP BY school_id),
sites AS (
    SELECT DISTINCT school_id FROM {t('schools.ActivitySite')} WHERE {ids} AND opened_on <= %(end)s),
equipment AS (
    SELECT school_id, count(DISTINCT kind) AS n FROM {t('schools.Equipment')}
    WHERE {ids} AND kind = ANY(%(kinds)s::text[]) AND acquired_on <= %(end)s GROUP BY school_id),
rules AS (
    SELECT d.school_id, count(DISTINCT d.kind) AS n
    FROM {t('schools.RuleDocument')} d JOIN {t('schools.RuleDocumentVersion')} v ON v.document_id = d.id
    WHERE d.{ids} AND v.adopted_on <= %(end)s GROUP BY d.school_id),
trainings AS (
    SELECT school_id, count(*) AS n FROM {t('schools.TrainingMeeting')}
    WHERE {ids} AND date BETWEEN %(start)s AND %(end)s GROUP BY school_id),
submitted AS (
    SELECT rs.school_id, count(*) AS expected, count(*) FILTER (WHERE sub.timeliness = 'on_time') AS on_time
    FROM {_m2m_table('submissions.ReportType', 'schools')} rs
    JOIN {t('submissions.ReportType')} rt ON rt.id = rs.reporttype_id AND rt.is_active
    JOIN {t('submissions.Period')} p ON p.report_type_id = rt.id AND p.due_on BETWEEN %(start)s AND %(end)s
    JOIN {t('tenancy.School')} sc ON sc.id = rs.school_id
         AND (sc.opened_on IS NULL OR sc.opened_on <= p.end_on) AND (sc.closed_on IS NULL OR sc.closed_on >= p.start_on)
    LEFT JOIN {t('submissions.Submission')} sub
         ON sub.school_id = rs.school_id AND sub.report_type_id = rt.id AND sub.period_id = p.id
    WHERE rs.school_id + 0 = ANY(%(ids)s::bigint[]) AND (p.due_on < %(today)s OR sub.first_submitted_at IS NOT NULL)
    GROUP BY rs.school_id),
-- Every school's value of every metric (float8 like the metric functions; NULL = not applicable).
vals AS (
    SELECT s.id AS school_id, v.metric, v.value
    FROM unnest(%(ids)s::bigint[]) AS s(id)
    LEFT JOIN kids ON kids.school_id = s.id
    LEFT JOIN acts ON acts.school_id = s.id
    LEFT JOIN weekdays ON weekdays.school_id = s.id
    LEFT JOIN leaders ON leaders.school_id = s.id
    LEFT JOIN sites ON sites.school_id = s.id
    LEFT JOIN equipment ON equipment.school_id = s.id
    LEFT JOIN rules ON rules.school_id = s.id
    LEFT JOIN trainings ON trainings.school_id = s.id
    LEFT JOIN submitted ON submitted.school_id = s.id
    CROSS JOIN LATERAL (VALUES
        ('four_contact_coverage', kids.four::float8 / kids.n),
        ('archive_completeness', kids.complete::float8 / kids.n),
        ('activities_evidenced_share', acts.evidenced::float8 / acts.n),
        ('submissions_on_time', submitted.on_time::float8 / submitted.expected),
        ('weekday_schedule_held', coalesce(weekdays.n, 0)::float8),
        ('leadership_group_set_up', coalesce(leaders.ok, 0)::float8),
        ('designated_site', (sites.school_id IS NOT NULL)::int::float8),
        ('equipment_present', coalesce(equipment.n, 0)::float8),
        ('rule_documents_present', coalesce(rules.n, 0)::float8),
        ('proxy_parent_trainings', coalesce(trainings.n, 0)::float8)
    ) AS v(metric, value)),
-- The rules, as compliance.scoring.apply_rule applies them.
scored AS (
    SELECT vals.school_id, it.points, round(CASE it.rule
        WHEN 'threshold' THEN CASE WHEN x.v >= it.threshold THEN it.points ELSE 0 END
        WHEN 'proportional' THEN it.points * least(greatest(x.v / it.target, 0), 1)
        WHEN 'bands' THEN least(it.points, coalesce((
            SELECT (b.band ->> 1)::numeric FROM jsonb_array_elements(it.bands) WITH ORDINALITY AS b(band, pos)
            WHERE x.v >= (b.band ->> 0)::numeric ORDER BY b.pos DESC LIMIT 1), 0))
        END, 2) AS earned
    FROM {t('compliance.ChecklistItem')} it
    JOIN vals ON vals.metric = it.metric
    CROSS JOIN LATERAL (SELECT vals.value::text::numeric AS v) x
    WHERE it.version_id = %(version_id)s AND it.scoring = 'automatic' AND vals.value IS NOT NULL)
SELECT s.id, coalesce(sum(scored.earned), 0), coalesce(sum(scored.points), 0)
FROM unnest(%(ids)s::bigint[]) AS s(id) LEFT JOIN scored ON scored.school_id = s.id
GROUP BY s.id"""


def check_supported(version_id: int) -> None:
    """Raise ValueError if the version's automatic items use a metric or rule the floor lacks."""
    from compliance.models import ChecklistItem

    used = set(ChecklistItem.objects.filter(version_id=version_id, scoring="automatic").values_list("metric", "rule"))
    metrics = {m for m, _r in used} - SUPPORTED_METRICS
    rules = {r for _m, r in used} - SUPPORTED_RULES
    if metrics or rules:
        raise ValueError(f"the SQL floor does not support metrics {sorted(metrics)} / rules {sorted(rules)}")


def automatic_totals(*, version_id: int, semester, school_ids, today=None) -> dict[int, tuple[Decimal, Decimal]]:
    """{school_id: (earned points, applicable points)} over the version's automatic items, in one
    statement. Run it inside tenant_scope(school_ids) (row-level security applies as everywhere).
    `today` decides which submissions are due, as in the submissions_on_time metric."""
    from django.utils import timezone

    ids = [int(i) for i in school_ids]
    if not ids:
        return {}
    semester_id = getattr(semester, "id", None)
    params = {"ids": ids, "start": semester.start, "end": semester.end, "semester_id": semester_id,
              "today": today or timezone.localdate(), "version_id": version_id, "kinds": list(EQUIPMENT_KINDS),
              "min_members": LEADERSHIP_MIN_MEMBERS}
    # The same work_mem as the metric statements get (compute_metrics), so both hash in memory.
    with _work_mem(), connection.cursor() as cursor:
        cursor.execute(_statement(by_semester_id=semester_id is not None), params)
        return {sid: (Decimal(earned), Decimal(points)) for sid, earned, points in cursor.fetchall()}


def totals_of_scores(scores: dict) -> dict[int, tuple[Decimal, Decimal]]:
    """The same totals read from compute_scores' result (automatic items that were scored)."""
    automatic = {it["code"] for it in scores["items"] if it["scoring"] == "automatic"}
    out = {}
    for sid, row in scores["schools"].items():
        cells = [c for code, c in row["items"].items() if code in automatic and c["status"] == "scored"]
        out[sid] = (sum((c["score"] for c in cells), Decimal(0)), sum((Decimal(c["points"]) for c in cells), Decimal(0)))
    return out
