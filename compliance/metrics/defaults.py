"""The default metrics: what the default checklist's automatic items measure.

Imported by ComplianceConfig.ready, which registers them (and their gaps, metrics/gaps.py).
"""
from __future__ import annotations

from django.utils import timezone

from .registry import register_metric
from .sql import (
    ALL_CONTACTS,
    EQUIPMENT_KINDS,
    LEADERSHIP_MIN_MEMBERS,
    _active_children_sql,
    _activities_sql,
    _archive_complete_sql,
    _by_school,
    _contact_mask_sql,
    _expected_submissions_sql,
    _held_weekdays_sql,
    _params,
    _proxy_assigned_sql,
    _sql,
    _table,
    _theme_weekdays_sql,
)


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


@register_metric("submissions_on_time", "按时报送", "Submissions on time", "share 0..1")
def submissions_on_time(school_ids, semester):
    """Share of the semester's expected submissions sent on time (DHIS2's timeliness: on time ÷
    expected). None for a school with no report type assigned (or nothing due yet)."""
    rows = _sql(f"""
        SELECT school_id, count(*) FILTER (WHERE timeliness = 'on_time')::float / count(*)
        FROM ({_expected_submissions_sql()}) e GROUP BY school_id""",
                _params(school_ids, semester, today=timezone.localdate()))
    return _by_school(rows, school_ids, default=None)
