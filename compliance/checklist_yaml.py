"""Checklists as YAML: parse, validate, and serialise (round-trips).

Format (see default_checklist.yaml)::

    checklist: default            # code, unique in the district
    title_zh: 留守儿童之家建设和管理考核细则
    title_en: Assessment of the left-behind children's home
    total: 100                    # declared total: the items' points must add up to it
    sections:
      - code: A
        title_zh: 组织领导
        title_en: Leadership
        sections: []              # optional nested sections
        items:
          - code: A1
            title_zh: 成立领导小组
            title_en: Leadership group set up
            requirement_zh: 校长任组长……        # the target requirement (目标要求)
            requirement_en: ...
            points: 4
            check: records        # records | document | spot_check
            scoring: automatic    # automatic | manual
            metric: leadership_group_set_up
            rule: threshold       # threshold | proportional | bands
            threshold: 1          # rule threshold: full points at value >= threshold, else 0
            # target: 4           # rule proportional: points x min(value / target, 1)
            # bands: [[1, 2], [3, 4]]   # rule bands: [min_value, points], min_value increasing

Validation collects every error (it does not stop at the first) and names the item code and the
field in each message, e.g. ``item A1, field "metric": unknown metric "foo"``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import yaml
from django.utils.translation import gettext as _

from . import metrics

CHECK_METHODS = ("records", "document", "spot_check")
SCORING = ("automatic", "manual")
RULES = ("threshold", "proportional", "bands")

TOP_KEYS = {"checklist", "title_zh", "title_en", "total", "sections"}
SECTION_KEYS = {"code", "title_zh", "title_en", "sections", "items"}
ITEM_KEYS = {"code", "title_zh", "title_en", "requirement_zh", "requirement_en", "points", "check", "scoring",
             "metric", "rule", "threshold", "target", "bands"}


@dataclass(frozen=True)
class ChecklistError:
    where: str   # "item A1", "section B", "checklist" (translated for display)
    field: str
    message: str
    item: str = ""  # the item's code when the error is about an item (not translated: for machines)

    def __str__(self):
        return _('%(where)s, field "%(field)s": %(message)s') % {
            "where": self.where, "field": self.field, "message": self.message}


def _num(value) -> Decimal | None:
    """A YAML number (int/float/numeric string) as Decimal; None if it is not numeric."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def number_out(d) -> int | float | None:
    """Decimal -> the plainest YAML number (4, 2.5), so exports stay readable and stable."""
    if d is None:
        return None
    d = Decimal(d)
    if d == d.to_integral_value():
        return int(d)
    return float(d.normalize())


def parse_yaml(text: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(_("The file is not valid YAML: %(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict):
        raise ValueError(_("The file must be a YAML mapping with checklist, title_zh, total and sections."))
    return data


def validate(data: dict) -> list[ChecklistError]:
    """Every problem in a checklist document; an empty list means it can be published."""
    errors: list[ChecklistError] = []
    item_codes: dict[str, str] = {}  # translated "where" of an item -> its code
    err = lambda where, field, msg: errors.append(  # noqa: E731
        ChecklistError(where, field, msg, item_codes.get(str(where), "")))

    for key in sorted(set(data) - TOP_KEYS):
        err("checklist", key, _("unknown field"))
    if not str(data.get("checklist") or "").strip():
        err("checklist", "checklist", _("the checklist code is missing"))
    if not str(data.get("title_zh") or "").strip():
        err("checklist", "title_zh", _("the Chinese title is missing"))
    total = _num(data.get("total"))
    if total is None or total <= 0:
        err("checklist", "total", _("the declared total must be a positive number, got %(v)r") % {"v": data.get("total")})
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        err("checklist", "sections", _("at least one section is needed"))
        return errors

    known = metrics.metric_keys()
    seen_items: set[str] = set()
    seen_sections: set[str] = set()
    points_sum = Decimal(0)

    def walk_section(sec, path):
        nonlocal points_sum
        if not isinstance(sec, dict):
            err(f"section {path}", "section", _("must be a mapping"))
            return
        code = str(sec.get("code") or "").strip()
        where = _("section %(code)s") % {"code": code or path}
        for key in sorted(set(sec) - SECTION_KEYS):
            err(where, key, _("unknown field"))
        if not code:
            err(where, "code", _("the section code is missing"))
        elif code in seen_sections:
            err(where, "code", _("duplicate section code %(code)s") % {"code": code})
        seen_sections.add(code)
        if not str(sec.get("title_zh") or "").strip():
            err(where, "title_zh", _("the Chinese title is missing"))
        for i, child in enumerate(sec.get("sections") or []):
            walk_section(child, f"{path}.{i + 1}")
        items = sec.get("items") or []
        if not isinstance(items, list):
            err(where, "items", _("must be a list"))
            return
        for i, item in enumerate(items):
            points_sum += walk_item(item, f"{code or path}[{i + 1}]")

    def walk_item(item, path) -> Decimal:
        if not isinstance(item, dict):
            err(f"item {path}", "item", _("must be a mapping"))
            return Decimal(0)
        code = str(item.get("code") or "").strip()
        where = _("item %(code)s") % {"code": code or path}
        item_codes[str(where)] = code or path
        for key in sorted(set(item) - ITEM_KEYS):
            err(where, key, _("unknown field"))
        if not code:
            err(where, "code", _("the item code is missing"))
        elif len(code) > 32:
            err(where, "code", _("the item code is longer than 32 characters"))
        elif code in seen_items:
            err(where, "code", _("duplicate item code %(code)s") % {"code": code})
        seen_items.add(code)
        for f in ("title_zh", "title_en"):
            if not str(item.get(f) or "").strip():
                err(where, f, _("the title is missing"))
        points = _num(item.get("points"))
        if points is None or points <= 0:
            err(where, "points", _("points must be a positive number, got %(v)r") % {"v": item.get("points")})
            points = None
        if item.get("check") not in CHECK_METHODS:
            err(where, "check", _("must be one of %(choices)s, got %(v)r") % {
                "choices": ", ".join(CHECK_METHODS), "v": item.get("check")})
        scoring = item.get("scoring")
        if scoring not in SCORING:
            err(where, "scoring", _("must be one of %(choices)s, got %(v)r") % {
                "choices": ", ".join(SCORING), "v": scoring})
        elif scoring == "manual":
            for f in ("metric", "rule", "threshold", "target", "bands"):
                if item.get(f) not in (None, "", []):
                    err(where, f, _("a manual item takes no %(field)s (an inspector scores it)") % {"field": f})
        else:
            _validate_rule(item, where, points, known, err)
        return points or Decimal(0)

    for i, sec in enumerate(sections):
        walk_section(sec, str(i + 1))

    if not seen_items:
        err("checklist", "sections", _("the checklist has no items"))
    if total is not None and total > 0 and points_sum != total:
        err("checklist", "total", _("the items' points add up to %(sum)s, but the declared total is %(total)s") % {
            "sum": number_out(points_sum), "total": number_out(total)})
    return errors


def _validate_rule(item, where, points, known, err):
    metric = item.get("metric")
    if not metric:
        err(where, "metric", _("an automatic item needs a metric"))
    elif metric not in known:
        err(where, "metric", _('unknown metric "%(key)s"') % {"key": metric})
    rule = item.get("rule")
    if rule not in RULES:
        err(where, "rule", _("must be one of %(choices)s, got %(v)r") % {"choices": ", ".join(RULES), "v": rule})
        return
    others = {"threshold": ("target", "bands"), "proportional": ("threshold", "bands"),
              "bands": ("threshold", "target")}[rule]
    for f in others:
        if item.get(f) not in (None, "", []):
            err(where, f, _("the %(rule)s rule takes no %(field)s") % {"rule": rule, "field": f})
    if rule == "threshold":
        t = _num(item.get("threshold"))
        if item.get("threshold") is None:
            err(where, "threshold", _("the threshold rule needs a threshold"))
        elif t is None:
            err(where, "threshold", _("the threshold must be a number, got %(v)r") % {"v": item.get("threshold")})
        elif t < 0:
            err(where, "threshold", _("the threshold must not be negative, got %(v)s") % {"v": number_out(t)})
    elif rule == "proportional":
        t = _num(item.get("target"))
        if item.get("target") is None:
            err(where, "target", _("the proportional rule needs a target"))
        elif t is None:
            err(where, "target", _("the target must be a number, got %(v)r") % {"v": item.get("target")})
        elif t <= 0:
            err(where, "target", _("the target must be greater than 0, got %(v)s") % {"v": number_out(t)})
    else:
        bands = item.get("bands")
        if not isinstance(bands, list) or not bands:
            err(where, "bands", _("the bands rule needs a list of [min_value, points]"))
            return
        previous = None
        for n, band in enumerate(bands, start=1):
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                err(where, "bands", _("band %(n)s must be a pair [min_value, points], got %(v)r") % {"n": n, "v": band})
                continue
            lo, pts = _num(band[0]), _num(band[1])
            if lo is None or pts is None:
                err(where, "bands", _("band %(n)s must hold two numbers, got %(v)r") % {"n": n, "v": band})
                continue
            if lo < 0:
                err(where, "bands", _("band %(n)s: the minimum value must not be negative") % {"n": n})
            if pts < 0:
                err(where, "bands", _("band %(n)s: points must not be negative") % {"n": n})
            if points is not None and pts > points:
                err(where, "bands", _("band %(n)s gives %(b)s points, more than the item's %(p)s") % {
                    "n": n, "b": number_out(pts), "p": number_out(points)})
            if previous is not None and lo <= previous:
                err(where, "bands", _("band %(n)s: minimum values must be strictly increasing") % {"n": n})
            previous = lo


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def item_to_dict(item) -> dict:
    out = {
        "code": item.code, "title_zh": item.title_zh, "title_en": item.title_en,
        "requirement_zh": item.requirement_zh, "requirement_en": item.requirement_en,
        "points": number_out(item.points), "check": item.check_method, "scoring": item.scoring,
    }
    if not out["requirement_en"]:
        del out["requirement_en"]
    if item.scoring == "automatic":
        out["metric"] = item.metric
        out["rule"] = item.rule
        if item.rule == "threshold":
            out["threshold"] = number_out(item.threshold)
        elif item.rule == "proportional":
            out["target"] = number_out(item.target)
        elif item.rule == "bands":
            out["bands"] = [[number_out(Decimal(str(lo))), number_out(Decimal(str(p)))] for lo, p in item.bands]
    return out


def version_to_dict(version) -> dict:
    """The document form of a stored version (2 queries: sections, items)."""
    sections = list(version.sections.order_by("position", "id"))
    items = list(version.items.order_by("position", "id"))
    by_section: dict[int, list] = {}
    for it in items:
        by_section.setdefault(it.section_id, []).append(item_to_dict(it))
    children: dict[int | None, list] = {}
    for s in sections:
        children.setdefault(s.parent_id, []).append(s)

    def sec_dict(s):
        d = {"code": s.code, "title_zh": s.title_zh, "title_en": s.title_en}
        kids = children.get(s.id, [])
        if kids:
            d["sections"] = [sec_dict(k) for k in kids]
        d["items"] = by_section.get(s.id, [])
        return d

    return {
        "checklist": version.checklist.code,
        "title_zh": version.title_zh,
        "title_en": version.title_en,
        "total": number_out(version.declared_total),
        "sections": [sec_dict(s) for s in children.get(None, [])],
    }
