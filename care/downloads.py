"""Read actions for the care app's files."""
from __future__ import annotations

import io

from django.http import Http404
from django.utils.translation import gettext as _

from tenancy.downloads import Download, download_name

from .models import RiskRuleVersion


def rules_yaml(*, user, district, version: RiskRuleVersion) -> Download:
    """A rules version as the YAML uploaded, for anyone with a role in the district. Not
    access-logged: the rules are the district's published weights, no school's or child's data."""
    if version.district_id != district.pk:
        raise Http404(_("No such rules version."))
    return Download(handle=io.BytesIO(version.source.encode("utf-8")), content_type="application/yaml; charset=utf-8",
                    filename=download_name(_("risk rules"), _("v%(n)d") % {"n": version.number}, ext="yaml"),
                    ascii_filename=f"risk-rules-v{version.number}.yaml")
