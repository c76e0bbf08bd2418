"""Drill-down gaps of the default metrics: the exact missing things behind a lost point.

Each provider is `(school_ids, semester) -> list[dict]`, ONE statement for all schools (like the
metrics), registered on its metric with `register_gaps`. A gap has:
- `school_id`, `detail` (a readable sentence, never a child's name);
- `kind` (what is missing) and `missing` (machine-readable codes);
- for gaps about a child: `child` (the child's name) and `child_id`. Callers decide what a reader
  may see: the export masks `child`, the drill-down selector shows it only with the identity
  permission (compliance.selectors.item_gaps), otherwise masked like "张*".
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from .registry import register_gaps
from .sql import (
    ALL_CONTACTS,
    CONTACT_KIND_BITS,
    EQUIPMENT_KINDS,
    LEADERSHIP_MIN_MEMBERS,
    _active_children_sql,
    _activities_sql,
    _archive_complete_sql,
    _contact_mask_sql,
    _expected_submissions_sql,
    _held_weekdays_sql,
    _params,
    _proxy_assigned_sql,
    _sql,
    _table,
    _theme_weekdays_sql,
)


def _labels(choices) -> dict[str, str]:
    return {k: str(v) for k, v in choices}


def _contact_labels() -> dict[str, str]:
    from schools.models import CareContact

    return _labels(CareContact.Kind.choices)


def _weekday_label(n: int) -> str:
    return {1: _("Monday"), 2: _("Tuesday"), 3: _("Wednesday"), 4: _("Thursday"), 5: _("Friday")}[n]


def _missing_kinds(school_ids, semester, kinds: list[str], exists_sql: str) -> list[tuple[int, str]]:
    """(school_id, kind) for each kind with no row in `exists_sql` (a subquery on s.id and k.kind),
    in the order of `kinds`: the shape of every "which required things are missing" gap."""
    return _sql(f"""
        SELECT s.id, k.kind
        FROM unnest(%(ids)s::bigint[]) AS s(id) CROSS JOIN unnest(%(kinds)s::text[]) AS k(kind)
        WHERE NOT EXISTS ({exists_sql})
        ORDER BY s.id, array_position(%(kinds)s::text[], k.kind)""", _params(school_ids, semester, kinds=kinds))


@register_gaps("four_contact_coverage")
def four_contact_gaps(school_ids, semester):
    """Which children lack which of the four contacts this semester."""
    labels = _contact_labels()
    rows = _sql(f"""
        SELECT ch.school_id, ch.id, ch.name, ch.class_name, coalesce(cc.mask, 0)
        FROM {_table('schools.Child')} ch
        LEFT JOIN ({_contact_mask_sql()}) cc ON cc.school_id = ch.school_id AND cc.child_id = ch.id
        WHERE ch.school_id + 0 = ANY(%(ids)s::bigint[]) AND {_active_children_sql()} AND coalesce(cc.mask, 0) <> {ALL_CONTACTS}
        ORDER BY ch.school_id, ch.grade, ch.class_name, ch.id""", _params(school_ids, semester))
    out = []
    for sid, child_id, name, class_name, mask in rows:
        missing = [k for k, bit in CONTACT_KIND_BITS.items() if not mask & bit]
        out.append({
            "school_id": sid, "kind": "contact_missing", "missing": missing, "child": name, "child_id": child_id,
            "class_name": class_name,
            "detail": _("%(class)s: no %(kinds)s this semester")
            % {"class": class_name, "kinds": ", ".join(labels[k] for k in missing)},
        })
    return out


@register_gaps("activities_evidenced_share")
def activity_evidence_gaps(school_ids, semester):
    """Which of the semester's activities lack a photo or a text record."""
    rows = _sql(f"""
        SELECT school_id, id, date, title, has_photo, has_text FROM ({_activities_sql()}) x
        WHERE NOT (has_photo AND has_text) ORDER BY school_id, date, id""", _params(school_ids, semester))
    out = []
    for sid, activity_id, date, title, photo, text in rows:
        missing = [k for k, ok in (("photo", photo), ("text_record", text)) if not ok]
        what = {("photo",): _("no photo"), ("text_record",): _("no text record")}.get(
            tuple(missing), _("no photo and no text record"))
        out.append({"school_id": sid, "kind": "activity_evidence_missing", "missing": missing,
                    "object_id": activity_id, "date": date,
                    "detail": _("%(date)s “%(title)s”: %(what)s") % {"date": date, "title": title, "what": what}})
    return out


@register_gaps("rule_documents_present")
def rule_document_gaps(school_ids, semester):
    """Which of the nine rule documents are missing (no version adopted by the semester's end)."""
    from schools.models import RuleKind

    labels = _labels(RuleKind.choices)
    rows = _missing_kinds(school_ids, semester, list(labels), f"""
        SELECT 1 FROM {_table('schools.RuleDocument')} d
        JOIN {_table('schools.RuleDocumentVersion')} v ON v.document_id = d.id
        WHERE d.school_id = s.id AND d.kind = k.kind AND v.adopted_on <= %(end)s""")
    return [{"school_id": sid, "kind": "rule_document_missing", "missing": [kind],
             "detail": _("missing: %(doc)s") % {"doc": labels[kind]}} for sid, kind in rows]


@register_gaps("equipment_present")
def equipment_gaps(school_ids, semester):
    from schools.models import Equipment

    labels = _labels(Equipment.Kind.choices)
    rows = _missing_kinds(school_ids, semester, list(EQUIPMENT_KINDS), f"""
        SELECT 1 FROM {_table('schools.Equipment')} e
        WHERE e.school_id = s.id AND e.kind = k.kind AND e.acquired_on <= %(end)s""")
    return [{"school_id": sid, "kind": "equipment_missing", "missing": [kind],
             "detail": _("no %(kind)s recorded") % {"kind": labels[kind]}} for sid, kind in rows]


@register_gaps("weekday_schedule_held")
def weekday_gaps(school_ids, semester):
    """Weekdays without a scheduled theme, or whose theme activity was never held."""
    rows = _sql(f"""
        SELECT s.id, d.weekday, ts.weekday IS NOT NULL AS scheduled
        FROM unnest(%(ids)s::bigint[]) AS s(id) CROSS JOIN generate_series(1, 5) AS d(weekday)
        LEFT JOIN ({_theme_weekdays_sql()}) ts ON ts.school_id = s.id AND ts.weekday = d.weekday
        LEFT JOIN ({_held_weekdays_sql()}) h ON h.school_id = s.id AND h.weekday = d.weekday
        WHERE ts.weekday IS NULL OR h.weekday IS NULL
        ORDER BY s.id, d.weekday""", _params(school_ids, semester))
    out = []
    for sid, weekday, scheduled in rows:
        detail = (_("%(day)s: the theme activity was never held") if scheduled
                  else _("%(day)s: no theme scheduled")) % {"day": _weekday_label(weekday)}
        out.append({"school_id": sid, "kind": "weekday_not_held" if scheduled else "weekday_not_scheduled",
                    "missing": [weekday], "detail": detail})
    return out


@register_gaps("archive_completeness")
def archive_gaps(school_ids, semester):
    """Which children's records miss which required fields."""
    from schools.models import Child

    checks = _archive_complete_sql()
    labels = {name: str(Child._meta.get_field(name).verbose_name) for name in checks if name != "proxy_parent"}
    labels["proxy_parent"] = _("proxy parent")
    cols = ", ".join(f"({sql}) AS {name}" for name, sql in checks.items())
    incomplete = " OR ".join(f"NOT ({sql})" for sql in checks.values())
    rows = _sql(f"""
        SELECT ch.school_id, ch.id, ch.name, ch.class_name, {cols}
        FROM {_table('schools.Child')} ch LEFT JOIN ({_proxy_assigned_sql()}) pa ON pa.child_id = ch.id
        WHERE ch.school_id + 0 = ANY(%(ids)s::bigint[]) AND {_active_children_sql()} AND ({incomplete})
        ORDER BY ch.school_id, ch.grade, ch.class_name, ch.id""", _params(school_ids, semester))
    out = []
    for sid, child_id, name, class_name, *flags in rows:
        missing = [field for field, ok in zip(checks, flags) if not ok]
        out.append({"school_id": sid, "kind": "archive_incomplete", "missing": missing, "child": name,
                    "child_id": child_id, "class_name": class_name,
                    "detail": _("%(class)s: missing %(fields)s")
                    % {"class": class_name, "fields": ", ".join(labels[f] for f in missing)}})
    return out


@register_gaps("leadership_group_set_up")
def leadership_gaps(school_ids, semester):
    rows = _sql(f"""
        SELECT s.id, count(m.id) FILTER (WHERE m.is_leader), count(m.id)
        FROM unnest(%(ids)s::bigint[]) AS s(id)
        LEFT JOIN {_table('schools.LeadershipMember')} m ON m.school_id = s.id
        GROUP BY s.id HAVING count(m.id) FILTER (WHERE m.is_leader) = 0 OR count(m.id) < %(n)s
        ORDER BY s.id""", _params(school_ids, semester, n=LEADERSHIP_MIN_MEMBERS))
    out = []
    for sid, leaders, members in rows:
        missing = (["leader"] if not leaders else []) + (["members"] if members < LEADERSHIP_MIN_MEMBERS else [])
        out.append({"school_id": sid, "kind": "leadership_incomplete", "missing": missing,
                    "detail": _("leadership group: %(n)s members recorded, %(leader)s; at least %(min)s needed, "
                                "led by the principal")
                    % {"n": members, "leader": _("with a leader") if leaders else _("no leader"),
                       "min": LEADERSHIP_MIN_MEMBERS}})
    return out


@register_gaps("designated_site")
def site_gaps(school_ids, semester):
    rows = _sql(f"""
        SELECT s.id FROM unnest(%(ids)s::bigint[]) AS s(id)
        WHERE NOT EXISTS (SELECT 1 FROM {_table('schools.ActivitySite')} a
                          WHERE a.school_id = s.id AND a.opened_on <= %(end)s)
        ORDER BY s.id""", _params(school_ids, semester))
    return [{"school_id": sid, "kind": "site_missing", "missing": ["site"],
             "detail": _("no designated activity room recorded")} for (sid,) in rows]


@register_gaps("submissions_on_time")
def submission_gaps(school_ids, semester):
    """Expected submissions of the semester that were late or never sent."""
    from django.utils import timezone

    rows = _sql(f"""
        SELECT school_id, report_type, period_id, start_on, end_on, due_on, coalesce(timeliness, '')
        FROM ({_expected_submissions_sql()}) e WHERE coalesce(timeliness, '') <> 'on_time'
        ORDER BY school_id, due_on, report_type""", _params(school_ids, semester, today=timezone.localdate()))
    out = []
    for sid, report_type, period_id, start_on, end_on, due_on, timeliness in rows:
        late = timeliness == "late"
        out.append({"school_id": sid, "kind": "submission_late" if late else "submission_missing",
                    "missing": [period_id], "object_id": period_id,
                    "detail": (_("%(type)s %(start)s–%(end)s (due %(due)s): sent late") if late
                               else _("%(type)s %(start)s–%(end)s (due %(due)s): not sent"))
                    % {"type": report_type, "start": start_on, "end": end_on, "due": due_on}})
    return out
