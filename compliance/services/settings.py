"""The district's compliance settings: how its scoring reads the records (one row per district)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from tenancy.models import District
from tenancy.scoping import in_district_scope

from .. import audit
from ..models import Assessment, DistrictComplianceSettings
from ._common import _require_district_perm


@in_district_scope("district")
@transaction.atomic
def district_settings_update(*, district: District, actor, count_unapproved_submissions: bool
                             ) -> DistrictComplianceSettings:
    """Set whether reports the centre school has not approved yet count as sent. The bureau
    admin's (manage_checklists, the grant that decides how schools are scored). Open assessments
    are scored again at once (their revision moves on, so no cached score survives the change)."""
    _require_district_perm(actor, "manage_checklists", district.id, _("You cannot manage checklists here."))
    row, _created = DistrictComplianceSettings.objects.select_for_update().get_or_create(district=district)
    if row.count_unapproved_submissions == count_unapproved_submissions:
        return row
    row.count_unapproved_submissions = count_unapproved_submissions
    row.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save()
    Assessment.objects.filter(district=district, status=Assessment.Status.OPEN).update(revision=F("revision") + 1)
    audit.log_district(actor, district.id, "update", row,
                       detail={"count_unapproved_submissions": count_unapproved_submissions})
    return row
