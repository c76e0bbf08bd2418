"""How the access log names the privacy app's records (tenancy.access_log_text describers)."""
from __future__ import annotations

from schools.masking import mask_child_name
from tenancy import access_log_text

from .models import ConsentRecord, GuardianRequest


def guardian_requests(ids: list[str]) -> dict[str, str]:
    """A request by its kind and the child's masked name, as the archive masks a child."""
    numeric = [int(i) for i in ids if i.isdigit()]
    return {str(r.pk): f"{r.get_kind_display()} {mask_child_name(r.child_label)}"
            for r in GuardianRequest.objects.filter(pk__in=numeric)}


def consent_records(ids: list[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    return {str(r.pk): f"{r.get_decision_display()} {mask_child_name(r.child.name)}"
            for r in ConsentRecord.objects.filter(pk__in=numeric).select_related("child")}


def register() -> None:
    access_log_text.register("privacy.guardianrequest", guardian_requests)
    access_log_text.register("privacy.consentrecord", consent_records)
