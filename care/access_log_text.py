"""How the access log names the care app's records (tenancy.access_log_text describers): by the
child they are about, masked as every list of children shows it to staff."""
from __future__ import annotations

from schools.masking import mask_child_name

from .models import Case, CaseAction, Referral

RISK_LIST = "care.risklist"  # a read of a school's risk list (object id: the school)


def _by_child(model, ids: list[str], path: str = "child__name") -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    return {str(pk): mask_child_name(name) for pk, name in model.objects.filter(pk__in=numeric).values_list("pk", path)}


def cases(ids: list[str]) -> dict[str, str]:
    return _by_child(Case, ids)


def actions(ids: list[str]) -> dict[str, str]:
    return _by_child(CaseAction, ids, "case__child__name")


def referrals(ids: list[str]) -> dict[str, str]:
    return _by_child(Referral, ids)
