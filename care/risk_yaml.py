"""The risk rules as YAML: parse, validate (every error, each naming its field), serialise.

Format (see default_risk_rules.yaml): `signals` maps each known signal to its `weight` and its
parameters, `levels` gives the minimum score of `high` and `medium`, `open_case_at` the level
from which a case is opened automatically, `case_due_days` when a new case's follow-up is due.
A signal left out of the document does not count.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from django.utils.translation import gettext as _

DEFAULT_PATH = Path(__file__).with_name("default_risk_rules.yaml")

ASSESSMENTS = ("good", "fair", "poor", "none")
# signal -> {parameter: kind}; "days" and "count" are non-negative integers.
SIGNALS: dict[str, dict[str, str]] = {
    "guardianship": {"values": "assessments"},
    "missed_contacts": {"min_missing": "count4"},
    "guardian_changed": {"within_days": "days"},
    "teacher_concern": {"within_days": "days"},
    "parents_out_of_touch": {"over_days": "days", "when_unknown": "bool"},
}
LEVELS = ("high", "medium")
TOP_KEYS = {"rules", "title_zh", "signals", "levels", "open_case_at", "case_due_days"}


def _int(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def parse(text: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(_("The file is not valid YAML: %(error)s") % {"error": exc}) from exc
    if not isinstance(data, dict):
        raise ValueError(_("The file must be a YAML mapping with signals and levels."))
    return data


def validate(data: dict) -> list[str]:
    """Every problem of a rules document, in Chinese; empty when it can be saved."""
    errors: list[str] = []

    def err(field, message):
        errors.append(_('field "%(field)s": %(message)s') % {"field": field, "message": message})

    for key in sorted(set(data) - TOP_KEYS):
        err(key, _("unknown field"))
    signals = data.get("signals")
    if not isinstance(signals, dict) or not signals:
        err("signals", _("at least one signal is needed"))
        signals = {}
    for name, spec in signals.items():
        where = f"signals.{name}"
        if name not in SIGNALS:
            err(where, _("unknown signal; known: %(known)s") % {"known": ", ".join(SIGNALS)})
            continue
        if not isinstance(spec, dict):
            err(where, _("must be a mapping"))
            continue
        for key in sorted(set(spec) - set(SIGNALS[name]) - {"weight"}):
            err(f"{where}.{key}", _("unknown field"))
        weight = _int(spec.get("weight"))
        if weight is None or weight <= 0:
            err(f"{where}.weight", _("the weight must be a positive whole number, got %(v)r") % {"v": spec.get("weight")})
        for key, kind in SIGNALS[name].items():
            value = spec.get(key)
            if kind == "assessments":
                if (not isinstance(value, list) or not value
                        or any(v not in ASSESSMENTS for v in value)):
                    err(f"{where}.{key}", _("must be a list of %(choices)s") % {"choices": ", ".join(ASSESSMENTS)})
            elif kind == "bool":
                if value is not None and not isinstance(value, bool):
                    err(f"{where}.{key}", _("must be true or false"))
            else:
                n = _int(value)
                top = 4 if kind == "count4" else 3660
                low = 1 if kind == "count4" else 0
                if n is None or not low <= n <= top:
                    err(f"{where}.{key}", _("must be a whole number from %(low)s to %(top)s, got %(v)r") % {
                        "low": low, "top": top, "v": value})
    levels = data.get("levels")
    if not isinstance(levels, dict):
        err("levels", _("the minimum scores of high and medium are needed"))
    else:
        for key in sorted(set(levels) - set(LEVELS)):
            err(f"levels.{key}", _("unknown level"))
        high, medium = _int(levels.get("high")), _int(levels.get("medium"))
        if high is None or high <= 0:
            err("levels.high", _("must be a positive whole number"))
        if medium is None or medium <= 0:
            err("levels.medium", _("must be a positive whole number"))
        if high is not None and medium is not None and medium >= high:
            err("levels", _("the high level's minimum must be above the medium one's"))
    if data.get("open_case_at", "high") not in (*LEVELS, "never"):
        err("open_case_at", _("must be high, medium or never"))
    due = data.get("case_due_days", 14)
    if _int(due) is None or not 1 <= due <= 365:
        err("case_due_days", _("must be a whole number from 1 to 365"))
    return errors


def load(text: str) -> dict:
    """The validated document; ValueError with every problem, one per line."""
    data = parse(text)
    errors = validate(data)
    if errors:
        raise ValueError("\n".join(errors))
    data.setdefault("open_case_at", "high")
    data.setdefault("case_due_days", 14)
    return data


def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def default_source() -> str:
    return DEFAULT_PATH.read_text(encoding="utf-8")


def default_rules() -> dict:
    return load(default_source())
