"""The risk index (风险指数): every child's score, level and fired signals, set-based in SQL.

`risk_scores(schools)` runs, whatever the number of children:
  1. the districts' current semesters (one query),
  2. the districts' active rules (one query),
  3. one statement per district: the children with their signals, score and level computed by
     PostgreSQL (a grouped pass over the semester's contacts, one over recent concern flags, and
     the child rows), nothing per child in Python but building the result rows.
It runs inside the caller's tenant scope; row-level security filters the same rows the explicit
`school_id = ANY(...)` names. Reads only, logs nothing (the pages and the API log the read).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from schools.models import CareContact, Child, Semester

from . import risk_yaml
from .models import RiskRuleVersion

HIGH, MEDIUM, LOW = "high", "medium", "low"
LEVEL_LABELS = {HIGH: pgettext_lazy("risk", "high"), MEDIUM: pgettext_lazy("risk", "medium"),
                LOW: pgettext_lazy("risk", "low")}
LEVEL_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}
SIGNAL_LABELS = {
    "guardianship": gettext_lazy("Guardianship assessed as poor or no one cares"),
    "missed_contacts": gettext_lazy("Four contacts missing this semester"),
    "guardian_changed": gettext_lazy("Guardian changed recently"),
    "teacher_concern": gettext_lazy("A teacher flagged a concern"),
    "parents_out_of_touch": gettext_lazy("Parents out of touch for long"),
}
KIND_BITS = {"home_visit": 1, "talk": 2, "guardian_contact": 4, "letter": 8}


@dataclass
class RiskRow:
    child_id: int
    school_id: int
    score: int
    level: str
    fired: list[str] = field(default_factory=list)  # signal keys, in the rules' order
    missing_contacts: int | None = None  # of the four kinds, how many are missing (None: no semester)

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    def explanation(self, rules: dict) -> list[str]:
        """Why this level, one line per fired signal with its weight (为什么是高风险)."""
        out = []
        for key in self.fired:
            spec = rules["signals"][key]
            line = str(SIGNAL_LABELS[key])
            if key == "missed_contacts" and self.missing_contacts is not None:
                line = _("%(label)s: %(n)d of 4 missing") % {"label": line, "n": self.missing_contacts}
            elif key in ("guardian_changed", "teacher_concern"):
                line = _("%(label)s (within %(n)d days)") % {"label": line, "n": spec["within_days"]}
            elif key == "parents_out_of_touch":
                line = _("%(label)s (over %(n)d days or never recorded)") % {"label": line, "n": spec["over_days"]}
            out.append(_("%(line)s: +%(w)d") % {"line": line, "w": spec["weight"]})
        return out


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _semesters(district_ids, today) -> dict[int, int]:
    """The current semester of each district (schools.selectors.semester_current, batched): the one
    containing today, else the latest that has started."""
    out: dict[int, int] = {}
    rows = (Semester.objects.filter(district_id__in=district_ids, start__lte=today)
            .order_by("district_id", "-start").values_list("district_id", "id", "start", "end"))
    containing: dict[int, int] = {}
    for district_id, sid, _start, end in rows:
        out.setdefault(district_id, sid)
        if end >= today:
            containing.setdefault(district_id, sid)
    out.update(containing)
    return out


def active_rules(district_ids) -> dict[int, tuple[RiskRuleVersion | None, dict]]:
    """district id -> (its active version or None, the rules in force: the shipped default if none)."""
    found = {v.district_id: v for v in RiskRuleVersion.objects.filter(district_id__in=district_ids, active=True)}
    default = None
    out = {}
    for d in district_ids:
        if d in found:
            out[d] = (found[d], found[d].rules)
        else:
            default = default or risk_yaml.default_rules()
            out[d] = (None, default)
    return out


def _statement(rules: dict) -> tuple[str, dict, list[str]]:
    """The one statement for a district's schools under `rules` (parameters by name)."""
    sig = rules["signals"]
    cases = " ".join(f"WHEN '{k}' THEN {bit}" for k, bit in KIND_BITS.items())
    missing = " + ".join(f"(coalesce(m.mask, 0) & {bit} = 0)::int" for bit in KIND_BITS.values())
    flags: dict[str, str] = {}
    params: dict = {}
    if "guardianship" in sig:
        flags["guardianship"] = "ch.guardianship_assessment = ANY(%(g_values)s::text[])"
        params["g_values"] = list(sig["guardianship"]["values"])
    if "missed_contacts" in sig:
        flags["missed_contacts"] = "(%(semester)s::bigint IS NOT NULL AND missing >= %(min_missing)s)"
        params["min_missing"] = sig["missed_contacts"]["min_missing"]
    if "guardian_changed" in sig:
        flags["guardian_changed"] = "coalesce(ch.guardian_since >= %(guardian_after)s, false)"
        params["guardian_changed_days"] = sig["guardian_changed"]["within_days"]
    if "teacher_concern" in sig:
        flags["teacher_concern"] = "cc.child_id IS NOT NULL"
        params["concern_days"] = sig["teacher_concern"]["within_days"]
    if "parents_out_of_touch" in sig:
        unknown = "true" if sig["parents_out_of_touch"].get("when_unknown", True) else "false"
        flags["parents_out_of_touch"] = f"coalesce(ch.parents_last_contact_on < %(parents_before)s, {unknown})"
        params["parents_days"] = sig["parents_out_of_touch"]["over_days"]
    names = list(flags)
    params.update({f"w_{k}": sig[k]["weight"] for k in names})
    params.update(high=rules["levels"]["high"], medium=rules["levels"]["medium"])
    fired_cols = ", ".join(f"({cond}) AS f_{k}" for k, cond in flags.items()) or "NULL AS none"
    score = " + ".join(f"(CASE WHEN f_{k} THEN %(w_{k})s ELSE 0 END)" for k in names) or "0"
    concern_join = ""
    if "teacher_concern" in flags:
        concern_join = f"""
            LEFT JOIN (SELECT DISTINCT child_id FROM {_table(CareContact)}
                       WHERE school_id = ANY(%(ids)s::bigint[]) AND concern AND happened_on >= %(concern_after)s) cc
                   ON cc.child_id = ch.id"""
    sql = f"""
        SELECT id, school_id, missing, score,
               CASE WHEN score >= %(high)s THEN 'high' WHEN score >= %(medium)s THEN 'medium' ELSE 'low' END,
               {", ".join(f"f_{k}" for k in names) or "NULL"}
        FROM (
            SELECT id, school_id, missing, {", ".join(f"f_{k}" for k in names) + "," if names else ""} {score} AS score
            FROM (
                SELECT ch.id, ch.school_id, x.missing, {fired_cols}
                FROM {_table(Child)} ch
                LEFT JOIN (SELECT child_id, bit_or(CASE kind {cases} ELSE 0 END) AS mask FROM {_table(CareContact)}
                           WHERE school_id = ANY(%(ids)s::bigint[]) AND semester_id = %(semester)s::bigint
                           GROUP BY child_id) m ON m.child_id = ch.id
                CROSS JOIN LATERAL (SELECT CASE WHEN %(semester)s::bigint IS NULL THEN NULL
                                                ELSE {missing} END AS missing) x
                {concern_join}
                WHERE ch.school_id = ANY(%(ids)s::bigint[]) AND ch.status = 'active'
                  AND (%(only)s::bigint[] IS NULL OR ch.id = ANY(%(only)s::bigint[]))
            ) signals
        ) scored
        ORDER BY school_id, id"""
    return sql, params, names


def risk_scores(schools, *, today: dt.date | None = None, child_ids=None,
                rules_by_district: dict | None = None) -> list[RiskRow]:
    """Every active child of `schools` (School objects), or only `child_ids` among them: the score,
    level and the signals that fired. A constant number of queries per district."""
    today = today or timezone.localdate()
    by_district: dict[int, list[int]] = {}
    for s in schools:
        by_district.setdefault(s.district_id, []).append(s.pk)
    if not by_district:
        return []
    semesters = _semesters(list(by_district), today)
    if rules_by_district is None:
        rules_by_district = {d: rules for d, (_v, rules) in active_rules(list(by_district)).items()}
    out: list[RiskRow] = []
    only = sorted(child_ids) if child_ids is not None else None
    for district_id, ids in sorted(by_district.items()):
        rules = rules_by_district[district_id]
        sql, params, names = _statement(rules)
        sig = rules["signals"]
        params.update(ids=ids, semester=semesters.get(district_id), only=only)
        if "guardian_changed" in sig:
            params["guardian_after"] = today - dt.timedelta(days=params.pop("guardian_changed_days"))
        if "teacher_concern" in sig:
            params["concern_after"] = today - dt.timedelta(days=params.pop("concern_days"))
        if "parents_out_of_touch" in sig:
            params["parents_before"] = today - dt.timedelta(days=params.pop("parents_days"))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for child_id, school_id, missing, score, level, *fired in cursor.fetchall():
                out.append(RiskRow(child_id, school_id, score, level,
                                   [k for k, f in zip(names, fired) if f], missing))
    return out


def by_level(rows: list[RiskRow]) -> list[RiskRow]:
    """Highest level first, then the highest score."""
    return sorted(rows, key=lambda r: (LEVEL_ORDER[r.level], -r.score, r.child_id))
