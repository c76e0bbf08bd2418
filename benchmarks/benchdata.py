"""Synthetic school records for the compliance benchmark and the query-count tests.

`generate_records` fills a semester of records for many schools with a handful of INSERT ... SELECT
statements over generate_series (no Python loop over schools or children): children, proxy
assignments, the four contacts, themed activities with photo and text evidence (files as rows
only), rule documents, equipment, leadership, sites, training meetings, theme schedules and
on-time / late / missing submissions. Values are deterministic pseudo-random functions of the
row ids (hashtext), and each school gets its own "diligence" so scores spread out.

Runs inside tenant_scope(school_ids): the rows are school-owned and RLS checks every insert.
"""
from __future__ import annotations

import datetime as dt

from django.db import connection


def _h(expr: str, mod: int = 100) -> str:
    """A deterministic pseudo-random number 0..mod-1 from a SQL text expression."""
    # %% : these statements run with parameters, so a literal % is doubled.
    return f"(abs(hashtext({expr})) %% {mod})"


# Per-school diligence 70..99: the share (in %) of the expected things a school records.
DILIGENCE = "(70 + " + _h("s_id || 'd'", 30) + ")"


def _exec(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def generate_records(*, school_ids, semester, user, children: int = 100, report_type=None) -> dict[str, int]:
    """Insert a semester of records for every school in `school_ids`. Returns row counts."""
    from django.apps import apps

    t = {name: apps.get_model(name)._meta.db_table for name in (
        "schools.Child", "schools.CareContact", "schools.Activity", "schools.Evidence", "schools.ProxyAssignment",
        "schools.RuleDocument", "schools.RuleDocumentVersion", "schools.Equipment", "schools.LeadershipMember",
        "schools.ActivitySite", "schools.TrainingMeeting", "schools.ThemeSchedule", "submissions.Submission",
        "submissions.Period")}
    days = (semester.end - semester.start).days + 1
    p = {"ids": list(school_ids), "n": children, "start": semester.start, "end": semester.end, "days": days,
         "sem": semester.id, "user": user.id}
    # Each school's diligence as a derived table, joined wherever a share is drawn.
    schools = f"(SELECT s_id, {DILIGENCE} AS dil FROM unnest(%(ids)s::bigint[]) AS u(s_id)) s"
    counts: dict[str, int] = {}
    surname = "substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗', 1 + g %% 20, 1)"
    counts["children"] = _exec(f"""
        INSERT INTO {t['schools.Child']} (school_id, name, gender, id_number_ciphertext, id_number_hash,
            id_number_masked, grade, class_name, left_behind_kind, parents_work_place, guardian_name,
            guardian_relation, guardian_phone, second_contact_name, second_contact_phone, home_village,
            health_notes, wellbeing_notes, consent, consent_method, status, status_since, created_at, updated_at,
            custody_type, guardianship_assessment, income_source, assistance, health_status, disability, illness,
            household_registration)
        SELECT s.s_id, {surname} || '小' || g, CASE WHEN g %% 2 = 0 THEN 'male' ELSE 'female' END, '', '', '',
            1 + g %% 6, (1 + g %% 6) || '(' || (1 + g / 60) || ')班',
            CASE WHEN g %% 3 = 0 THEN 'father' ELSE 'both' END,
            CASE WHEN {_h("s_id || ':' || g || ':w'")} < s.dil + 5 THEN '浙江宁波' ELSE '' END,
            '奶奶', '祖母', CASE WHEN {_h("s_id || ':' || g || ':p'")} < s.dil + 5 THEN '13800000000' ELSE '' END,
            '', '', '', '', '', 'pending', '', 'active', %(start)s, now(), now(),
            CASE WHEN g %% 3 = 0 THEN '' ELSE 'both_away' END, 'good', 'migrant_work', '{{}}', 'healthy', '', '',
            '安徽省明光市'
        FROM {schools} CROSS JOIN generate_series(1, %(n)s) AS g""", p)
    child_rows = f"""(SELECT ch.id AS c_id, ch.school_id AS s_id, s.dil FROM {t['schools.Child']} ch
        JOIN {schools} ON s.s_id = ch.school_id WHERE ch.school_id = ANY(%(ids)s::bigint[])) c"""
    counts["proxy_assignments"] = _exec(f"""
        INSERT INTO {t['schools.ProxyAssignment']} (school_id, child_id, proxy_parent_id, starts_on, created_at)
        SELECT c.s_id, c.c_id, %(user)s, %(start)s, now() FROM {child_rows}
        WHERE {_h("c_id || ':pa'")} < c.dil + 3""", p)
    counts["contacts"] = _exec(f"""
        INSERT INTO {t['schools.CareContact']} (school_id, child_id, kind, happened_on, semester_id, made_by_id,
            notes, created_at, concern, concern_reason, version)
        SELECT c.s_id, c.c_id, k.kind, %(start)s + {_h("c_id || k.kind || r", "%(days)s")}, %(sem)s, %(user)s,
            '', now(), false, '', 1
        FROM {child_rows}
        CROSS JOIN unnest(ARRAY['home_visit', 'talk', 'guardian_contact', 'letter']) AS k(kind)
        CROSS JOIN generate_series(1, 2) AS r
        WHERE {_h("c_id || ':' || k.kind")} < c.dil + 8 AND (r = 1 OR {_h("c_id || ':' || k.kind || ':2'")} < 40)""", p)
    counts["activities"] = _exec(f"""
        INSERT INTO {t['schools.Activity']} (school_id, date, semester_id, kind, title, description, text_record,
            created_at)
        SELECT s.s_id, d::date, %(sem)s, 'theme_activity', '主题活动 ' || to_char(d, 'MM-DD'), '',
            CASE WHEN {_h("s_id || ':' || d::date || ':t'")} < s.dil + 5 THEN '活动记录：开展了主题活动。' ELSE '' END,
            now()
        FROM {schools} CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
        WHERE extract(isodow FROM d) <= 5 AND {_h("s_id || ':' || d::date")} < s.dil - 10""", p)
    counts["photos"] = _exec(f"""
        INSERT INTO {t['schools.Evidence']} (school_id, kind, file, thumbnail, sha256, phash, content_type, size,
            caption, created_at, activity_id)
        SELECT a.school_id, 'photo', 'bench/' || a.id || '-' || k || '.jpg', '', md5(a.id || ':' || k) || md5(k || ':' || a.id),
            '', 'image/jpeg', 120000, '', now(), a.id
        FROM {t['schools.Activity']} a JOIN {schools} ON s.s_id = a.school_id
        CROSS JOIN generate_series(1, 2) AS k
        WHERE a.school_id = ANY(%(ids)s::bigint[]) AND a.date BETWEEN %(start)s AND %(end)s
          AND (k = 1 AND {_h("a.id || ':ph'")} < s.dil + 5 OR k = 2 AND {_h("a.id || ':ph2'")} < 50)""", p)
    counts["theme_schedule"] = _exec(f"""
        INSERT INTO {t['schools.ThemeSchedule']} (school_id, semester_id, weekday, theme)
        SELECT s.s_id, %(sem)s, w, (ARRAY['心理健康', '阅读', '体育', '书画', '亲情电话'])[w]
        FROM {schools} CROSS JOIN generate_series(1, 5) AS w WHERE {_h("s_id || ':tw' || w")} < s.dil + 10""", p)
    counts["rule_documents"] = _exec(f"""
        INSERT INTO {t['schools.RuleDocument']} (school_id, kind, title)
        SELECT s.s_id, k, '' FROM {schools}
        CROSS JOIN unnest(ARRAY['construction_plan', 'annual_plan', 'management', 'assessment', 'accountability',
            'activities', 'counselling', 'health_education', 'proxy_parent']) AS k
        WHERE {_h("s_id || ':' || k")} < s.dil + 5""", p)
    _exec(f"""
        INSERT INTO {t['schools.Evidence']} (school_id, kind, file, thumbnail, sha256, phash, content_type, size,
            caption, created_at)
        SELECT d.school_id, 'document', 'bench/rule-' || d.id || '.pdf', '', md5('rule' || d.id) || md5(d.id || 'rule'),
            '', 'application/pdf', 50000, 'rule:' || d.id, now()
        FROM {t['schools.RuleDocument']} d WHERE d.school_id = ANY(%(ids)s::bigint[])""", p)
    _exec(f"""
        INSERT INTO {t['schools.RuleDocumentVersion']} (school_id, document_id, number, adopted_on, evidence_id,
            created_at, uploaded_by_id)
        SELECT e.school_id, substr(e.caption, 6)::bigint, 1, %(start)s - 30, e.id, now(), NULL
        FROM {t['schools.Evidence']} e WHERE e.school_id = ANY(%(ids)s::bigint[]) AND e.kind = 'document'
          AND e.caption LIKE 'rule:%%'""", p)
    counts["equipment"] = _exec(f"""
        INSERT INTO {t['schools.Equipment']} (school_id, kind, description, quantity, acquired_on)
        SELECT s.s_id, k, '', 1 + {_h("s_id || k", 20)}, %(start)s - 365
        FROM {schools} CROSS JOIN unnest(ARRAY['computer', 'tv', 'family_phone', 'books', 'sports']) AS k
        WHERE {_h("s_id || ':eq' || k")} < s.dil + 12""", p)
    counts["leadership"] = _exec(f"""
        INSERT INTO {t['schools.LeadershipMember']} (school_id, person_name, title, is_leader, "order")
        SELECT s.s_id, '成员' || m, (ARRAY['校长', '教导主任', '总务主任', '少先队辅导员', '班主任'])[m], m = 1, m
        FROM {schools} CROSS JOIN generate_series(1, 5) AS m WHERE m <= 2 OR {_h("s_id || ':lm' || m")} < s.dil""", p)
    counts["sites"] = _exec(f"""
        INSERT INTO {t['schools.ActivitySite']} (school_id, room, opened_on, area_m2, opening_hours, notes)
        SELECT s.s_id, '留守儿童活动室', %(start)s - 700, 72, '', '' FROM {schools}
        WHERE {_h("s_id || ':site'")} < s.dil + 5""", p)
    counts["training_meetings"] = _exec(f"""
        INSERT INTO {t['schools.TrainingMeeting']} (school_id, date, semester_id, topic, minutes)
        SELECT s.s_id, %(start)s + 7 * m, %(sem)s, '以会代训 ' || m, '' FROM {schools}
        CROSS JOIN generate_series(1, 5) AS m WHERE m <= 1 + {_h("s_id || ':tm'", 5)}""", p)
    if report_type is not None:
        report_type.schools.through.objects.bulk_create(
            [report_type.schools.through(reporttype_id=report_type.id, school_id=sid) for sid in school_ids])
        counts["submissions"] = _exec(f"""
            INSERT INTO {t['submissions.Submission']} (school_id, report_type_id, period_id, status, timeliness,
                first_submitted_at, submitted_at, review_comment, created_at, updated_at)
            SELECT s.s_id, p.report_type_id, p.id, 'submitted',
                CASE WHEN {_h("s_id || ':sub' || p.id")} < s.dil THEN 'on_time' ELSE 'late' END,
                p.end_on + 1, p.end_on + 1, '', now(), now()
            FROM {schools} JOIN {t['submissions.Period']} p ON p.report_type_id = %(rt)s
            WHERE p.due_on BETWEEN %(start)s AND %(end)s AND {_h("s_id || ':sent' || p.id")} < s.dil + 10""",
                                     {**p, "rt": report_type.id})
    return counts


def create_report_type(*, district, semester):
    """A monthly report type over the semester, with its periods (from submissions.calendar)."""
    from submissions.calendar import specs_for
    from submissions.models import Period, ReportType
    from tenancy.scoping import district_scope

    with district_scope(district):  # district-owned rows
        rt = ReportType.objects.create(district=district, name="月报", code=f"bench-monthly-{semester.id}",
                                       period_type="monthly", start_on=semester.start, end_on=semester.end,
                                       due_offset_days=3, timely_within_days=3, lock_after_days=14)
        Period.objects.bulk_create([Period(report_type=rt, seq=s.seq, start_on=s.start_on, end_on=s.end_on,
                                           open_on=s.open_on, due_on=s.due_on, lock_on=s.lock_on)
                                    for s in specs_for(rt)])
    return rt


def create_schools(*, district, centres: int, villages_per_centre: int, prefix: str = "bench"):
    """A two-level tree: `centres` township centre schools, each with its village schools. Paths
    are set in two UPDATEs, so 1,000 schools cost a few statements."""
    from tenancy.models import School

    heads = School.objects.bulk_create([
        School(district=district, name=f"{prefix}中心小学{i:04d}", code=f"{prefix}-c{i:04d}", opened_on=dt.date(2020, 9, 1))
        for i in range(centres)])
    School.objects.filter(id__in=[h.id for h in heads]).update(path=_concat_path(None))
    villages = School.objects.bulk_create([
        School(district=district, parent=h, name=f"{prefix}村小{i:04d}-{j:02d}", code=f"{prefix}-v{i:04d}-{j:02d}",
               opened_on=dt.date(2020, 9, 1))
        for i, h in enumerate(heads) for j in range(villages_per_centre)])
    with connection.cursor() as cursor:
        cursor.execute(f"""UPDATE {School._meta.db_table} v SET path = p.path || v.id || '/'
                           FROM {School._meta.db_table} p WHERE p.id = v.parent_id AND v.id = ANY(%s)""",
                       [[v.id for v in villages]])
    return heads, villages


def _concat_path(parent):
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat

    return Concat(Value("/"), Cast(F("id"), CharField()), Value("/"))
