"""SQL building blocks of the default metrics and their gaps (and the benchmark's SQL floor).

Each reads the school's home records or the submissions with ONE statement grouped by school_id
over every school in `school_ids`. They run inside the assessment's tenant scope, so row-level
security filters the same rows the explicit `school_id = ANY(...)` names.

The semester is taken as its date window (start..end), so a SemesterWindow without a database
row and a schools.Semester behave alike; a record counts for the semester its date falls in.
The heavy ones are plain SQL: hash joins and one pass over each table, no per-row sub-plans.
"""
from __future__ import annotations

from django.apps import apps

from tenancy.replica import read_connection

CONTACT_KIND_BITS = {"home_visit": 1, "talk": 2, "guardian_contact": 4, "letter": 8}
ALL_CONTACTS = 15
EQUIPMENT_KINDS = ("computer", "tv", "family_phone", "books")
# Leader (the principal) plus at least the dean, the general-affairs director and the Young
# Pioneers counsellor (titles are free text, so the count is what can be checked).
LEADERSHIP_MIN_MEMBERS = 4


def _table(app_model: str) -> str:
    return apps.get_model(app_model)._meta.db_table


def _m2m_table(app_model: str, field: str) -> str:
    return apps.get_model(app_model)._meta.get_field(field).remote_field.through._meta.db_table


def _sql(sql: str, params) -> list[tuple]:
    # The primary, or the replica inside a replica_reads() block (the bureau's heavy reads).
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _by_school(rows, school_ids, default=0):
    found = {sid: value for sid, value in rows}
    return {sid: found.get(sid, default) for sid in school_ids}


def _active_children_sql(alias: str = "ch") -> str:
    """Children on the archive during the semester: active now, or left after it ended."""
    return f"({alias}.status = 'active' OR {alias}.status_since > %(end)s)"


def _contact_mask_sql() -> str:
    """(school_id, child_id) -> bit mask of the four contact kinds held in the semester.

    With a schools.Semester row: one row per child read from schools.ChildContactSummary, which
    triggers on the contacts table keep (same key, same bits), so the cost follows the children,
    not their contacts. With a bare date window (a truncated `as_of` window has no row): the
    contacts themselves, grouped by school then child in the order of the (school, semester,
    child, kind) index. The parameter is bound before planning, so the branch that does not apply
    is pruned as a one-time false filter. Join it on both columns (the services keep a contact in
    its child's school)."""
    cases = " ".join(f"WHEN '{k}' THEN {bit}" for k, bit in CONTACT_KIND_BITS.items())
    return f"""
        SELECT school_id, child_id, mask::int AS mask
        FROM {_table('schools.ChildContactSummary')}
        WHERE %(semester_id)s::bigint IS NOT NULL AND school_id + 0 = ANY(%(ids)s::bigint[])
          AND semester_id = %(semester_id)s::bigint
        UNION ALL
        SELECT school_id, child_id, bit_or(CASE kind {cases} ELSE 0 END) AS mask
        FROM {_table('schools.CareContact')}
        WHERE %(semester_id)s::bigint IS NULL AND school_id + 0 = ANY(%(ids)s::bigint[])
          AND happened_on BETWEEN %(start)s AND %(end)s
        GROUP BY school_id, child_id"""


def _contact_mask_from_contacts_sql() -> str:
    """The same masks always aggregated from the contacts (the summary's definition; tests compare)."""
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
        # The civil-affairs register's fields (schools.register). Only both parents away makes the
        # custody type certain; with one parent away the school may leave it empty.
        "custody_type": f"({alias}.left_behind_kind <> 'both' OR {alias}.custody_type <> '')",
        "guardianship_assessment": f"({refused} OR {alias}.guardianship_assessment <> '')",
        "income_source": f"({refused} OR {alias}.income_source <> '')",
        "health_status": f"({refused} OR {alias}.health_status <> '')",
        "household_registration": f"({refused} OR {alias}.household_registration <> '')",
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


def _activities_sql() -> str:
    """The semester's activities with `has_photo` and `has_text`: together the definition of
    schools.models.ActivityQuerySet.with_evidence() (a test pins that both agree). The photo flag
    is the activity's own trigger-kept column (schools.Activity.photographed), so no join with the
    district's evidence: that join's hash table spilled to disk and grew faster than the schools."""
    return f"""
        SELECT a.school_id, a.id, a.date, a.title, a.photographed AS has_photo, a.text_record <> '' AS has_text
        FROM {_table('schools.Activity')} a
        WHERE a.school_id + 0 = ANY(%(ids)s::bigint[]) AND a.date BETWEEN %(start)s AND %(end)s"""


def _counted_sent_sql() -> str:
    """The submission counts as sent. The district's setting (compliance.DistrictComplianceSettings,
    default on when the district has no row) decides whether a village school's report on a
    VIA_CENTRE type counts once sent, or only once its centre school approved it (or the bureau
    accepted it): the one place the compliance measures apply it."""
    return ("(sub.first_submitted_at IS NOT NULL AND (coalesce(cs.count_unapproved_submissions, true) "
            "OR rt.route <> 'via_centre' OR sc.parent_id IS NULL OR sub.status IN ('approved', 'accepted')))")


def _expected_submissions_sql() -> str:
    """One row per (school, report type, period) expected in the semester (DHIS2): the school is
    assigned, the type is active, the period is due within the semester and the school was open
    during it; expected once due, or earlier if already sent. `timeliness` is the submission's
    when it counts as sent (_counted_sent_sql), else NULL."""
    sent = _counted_sent_sql()
    return f"""
        SELECT rs.school_id, rt.id AS report_type_id, rt.name AS report_type, p.id AS period_id,
               p.start_on, p.end_on, p.due_on, CASE WHEN {sent} THEN sub.timeliness END AS timeliness
        FROM {_m2m_table('submissions.ReportType', 'schools')} rs
        JOIN {_table('submissions.ReportType')} rt ON rt.id = rs.reporttype_id AND rt.is_active
        JOIN {_table('submissions.Period')} p ON p.report_type_id = rt.id AND p.due_on BETWEEN %(start)s AND %(end)s
        JOIN {_table('tenancy.School')} sc ON sc.id = rs.school_id
             AND (sc.opened_on IS NULL OR sc.opened_on <= p.end_on)
             AND (sc.closed_on IS NULL OR sc.closed_on >= p.start_on)
        LEFT JOIN {_table('compliance.DistrictComplianceSettings')} cs ON cs.district_id = sc.district_id
        LEFT JOIN {_table('submissions.Submission')} sub
             ON sub.school_id = rs.school_id AND sub.report_type_id = rt.id AND sub.period_id = p.id
        WHERE rs.school_id + 0 = ANY(%(ids)s::bigint[]) AND (p.due_on < %(today)s OR {sent})"""
