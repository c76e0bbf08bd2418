"""The read actions for compliance files: an export workbook and a checklist version's YAML.
Each is the one door for its file, used by the web page and the API alike (see tenancy.downloads)."""
from __future__ import annotations

import io

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.table_xlsx import table_workbook
from tenancy.downloads import XLSX, Download, NotReady, download_name, open_stored
from tenancy.models import AccessLog

from . import audit, selectors, services
from .exports import export_folder
from .models import ChecklistVersion, ComplianceExport

# The object type of the access-log rows of a ranking export (one per school in the file).
RANKING_TYPE = "compliance.ranking"


@transaction.atomic
def export_file(*, user, job: ComplianceExport, request=None) -> Download:
    """A finished export's workbook, for whoever may read its assessment's exports (the bureau; a
    township admin for an assessment rooted in their subtree: selectors.can_view_exports). It holds
    every assessed school's scores, so the download is logged as an export on each of them, like
    the run that made it."""
    assessment = job.assessment
    if not selectors.can_view_exports(user, assessment):
        raise PermissionDenied(_("You cannot read this assessment's exports."))
    if job.status != ComplianceExport.Status.DONE:
        raise NotReady(_("The export is not ready yet."))
    handle = open_stored(job.file.name if job.file else "", under=export_folder(assessment.pk))
    try:
        audit.log_assessed(user, assessment, AccessLog.Action.EXPORT, job, object_type=audit.EXPORT_TYPE,
                           detail={"assessment": assessment.pk}, request=request)
    except BaseException:
        handle.close()
        raise
    stamp = timezone.localtime(job.finished_at or job.created_at).strftime("%Y%m%d-%H%M")
    filename = download_name(assessment.checklist_version.title_zh, assessment.semester_label, _("compliance"),
                             stamp, ext="xlsx")
    return Download(handle=handle, content_type=XLSX, filename=filename,
                    ascii_filename=f"compliance-{assessment.pk}-{stamp}.xlsx")


def checklist_yaml(*, user, version: ChecklistVersion, request=None) -> Download:
    """A checklist version as a YAML file, for anyone who sees the district's checklists.

    Not access-logged: a checklist is the district's published target (items, points, scoring
    rules); it holds no school's records and no child's data, and reading it is what every school
    of the district is expected to do."""
    if not selectors.checklist_versions_visible_to(user).filter(pk=version.pk).exists():
        raise Http404(_("No such checklist version."))
    text = services.checklist_export_yaml(version=version)
    return Download(handle=io.BytesIO(text.encode("utf-8")), content_type="application/yaml; charset=utf-8",
                    filename=download_name(version.title_zh, _("v%(n)d") % {"n": version.number}, ext="yaml"),
                    ascii_filename=f"checklist-{version.checklist.code}-v{version.number}.yaml")


@transaction.atomic
def ranking_workbook(*, user, assessment, params, request=None) -> Download:
    """The dashboard's ranking as the user filtered and sorted it (selectors.ranking_table), for
    the overseers who see the dashboard. It holds those schools' scores: logged as an export on
    each school in it."""
    if not selectors.can_view_dashboard(user, assessment):
        raise PermissionDenied(_("You cannot see this assessment's dashboard."))
    table = selectors.ranking_table(user, assessment, params)
    header = [_("Rank"), _("School"), _("Township"), _("Score"), _("Change"), _("Points lost"), _("Pending")]
    rows = [[r["rank"], r["name"], r["township"], r["score"], r["score_change"], r["lost"], r["pending"]]
            for r in table["rows"]]
    content = table_workbook(sheet=_("Ranking"), title=f"{assessment.title} · {assessment.semester_label}",
                             header=header, rows=rows)
    ids = [r["school_id"] for r in table["rows"]]
    if ids:
        audit.log_on_schools(user, ids, AccessLog.Action.EXPORT, object_type=RANKING_TYPE, object_id=assessment.pk,
                             detail=table["query"].params(), request=request)
    return Download(handle=io.BytesIO(content), content_type=XLSX,
                    filename=download_name(_("%(title)s ranking") % {"title": assessment.title}, ext="xlsx"),
                    ascii_filename=f"ranking-{assessment.pk}.xlsx")

