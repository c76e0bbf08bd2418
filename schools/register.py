"""The civil-affairs register (农村留守儿童信息管理系统) on a child's record: its fields and the
cross-field checks (勾稽关系) between them.

The one place for these rules: the services call `register_check` before every write of a child
(page, API and import commit alike) and the import preview calls `register_errors` per row, so a
file shows the same errors before anything is written. Errors refuse the record; warnings are
accepted and shown (`register_warnings`), computed from the stored record whenever it is shown.
Checks read attributes only, so they work on a Child and on an import row alike.
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Child

# The register's own fields on the child (guardian_* hold the entrusted guardian).
REGISTER_FIELDS = (
    "custody_type", "guardianship_assessment", "guardian_since", "parents_last_contact_on", "income_source",
    "assistance", "health_status", "disability", "illness", "household_registration",
)
# Of those, the ones about the family's means, health and care: cleared by a refusal or a purge,
# shown only to the school admin and the child's proxy parent.
SENSITIVE_REGISTER_FIELDS = (
    "guardianship_assessment", "parents_last_contact_on", "income_source", "assistance", "health_status",
    "disability", "illness", "household_registration",
)
ILL = {Child.Health.ILL, Child.Health.ILL_AND_DISABLED}
DISABLED = {Child.Health.DISABLED, Child.Health.ILL_AND_DISABLED}


def _get(record, name: str):
    value = getattr(record, name, None)
    return [] if name == "assistance" and value is None else value


def register_errors(record) -> dict[str, list[str]]:
    """{field: [message]} for each register rule the record breaks (empty when it keeps them all)."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    custody = _get(record, "custody_type") or ""
    kind = _get(record, "left_behind_kind") or ""
    refused = _get(record, "consent") == Child.Consent.REFUSED
    # After a refusal of consent the guardian's details were cleared and the phone may not be stored
    # again: they cannot be required then.
    if custody == Child.CustodyType.BOTH_AWAY and not refused:
        if not _get(record, "guardian_name"):
            fail("guardian_name", _("Both parents work away: the entrusted guardian's name is required."))
        if not _get(record, "guardian_relation"):
            fail("guardian_relation", _("Both parents work away: the entrusted guardian's relation to the child "
                                        "is required."))
        if not _get(record, "guardian_phone"):
            fail("guardian_phone", _("Both parents work away: the entrusted guardian's phone is required."))
    if custody == Child.CustodyType.BOTH_AWAY and kind in (Child.LeftBehindKind.FATHER, Child.LeftBehindKind.MOTHER):
        fail("custody_type", _("The custody type says both parents work away, but the left-behind situation "
                               "says only one parent is away: correct one of the two."))
    elif custody == Child.CustodyType.ONE_AWAY_OTHER_UNABLE and kind == Child.LeftBehindKind.BOTH:
        fail("custody_type", _("The custody type says one parent is away and the other cannot care for the "
                               "child: the left-behind situation must then be father away or mother away."))
    birth = _get(record, "birth_date")
    since = _get(record, "guardian_since")
    if isinstance(birth, dt.date) and isinstance(since, dt.date) and since < birth:
        fail("guardian_since", _("The date the guardian took over cannot be before the child's birth date."))
    last = _get(record, "parents_last_contact_on")
    if isinstance(birth, dt.date) and isinstance(last, dt.date) and last < birth:
        fail("parents_last_contact_on", _("The date the parents were last in touch cannot be before the child's "
                                          "birth date."))
    health = _get(record, "health_status") or ""
    if health in ILL and not (_get(record, "illness") or "").strip():
        fail("illness", _("The health status says the child is ill: describe the illness."))
    if health in DISABLED and not (_get(record, "disability") or "").strip():
        fail("disability", _("The health status says the child is disabled: describe the disability."))
    return errors


def register_warnings(record) -> list[str]:
    """Messages for records that are accepted but need a second look (shown after saving and on the
    child's page)."""
    warnings = []
    if _get(record, "assistance") and not _get(record, "income_source"):
        warnings.append(_("The family receives assistance but its main income source is empty: please fill "
                          "in the family's main income."))
    if _get(record, "guardianship_assessment") == Child.Assessment.NONE:
        warnings.append(_("The guardianship is assessed as no one caring for the child: a follow-up case will "
                          "be opened automatically."))
    return warnings


def register_check(record) -> None:
    """Raise ValidationError({field: messages}) when the record breaks a register rule."""
    errors = register_errors(record)
    if errors:
        raise ValidationError(errors)
