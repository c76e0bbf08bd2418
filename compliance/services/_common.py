"""What the compliance services share: permission checks and the assessment's guards."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors

from ..models import Assessment, ImmutableError


def _require_district_perm(actor, codename: str, district_id: int, message: str) -> None:
    if actor is not None and not tenancy_selectors.has_district_perm(actor, codename, district_id):
        raise PermissionDenied(message)


def _require_open(assessment: Assessment) -> None:
    if assessment.is_locked:
        raise ImmutableError(_("The assessment “%(title)s” is locked: nothing in it can change any more.")
                             % {"title": assessment.title})


def _locked_assessment(assessment: Assessment) -> Assessment:
    """Re-read the assessment under a row lock, so a concurrent lock cannot interleave."""
    return Assessment.objects.select_for_update().select_related("checklist_version").get(pk=assessment.pk)


def _bump_revision(assessment: Assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(revision=F("revision") + 1)
    assessment.refresh_from_db(fields=["revision"])
