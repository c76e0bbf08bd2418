"""The read actions for the submissions' files: a compiled package (XLSX/DOCX) and a district
export. Each is the one door for its file, used by the web page and the API alike: it checks the
user, checks that the stored key lies in the object's own folder, writes the access-log row and
returns a Download (tenancy.downloads) for the caller to stream."""
from __future__ import annotations

import io

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from documents.table_xlsx import table_workbook
from tenancy.downloads import DOCX, XLSX, Download, FileUnavailable, NotReady, download_name, open_stored
from tenancy.models import AccessLog, School
from tenancy.scoping import tenant_scope
from tenancy.selectors import permissions_on_district
from tenancy.services import access_log_record, access_log_record_many

from . import selectors
from .models import DistrictExport, PackageVersion, district_export_folder, package_storage_key

PACKAGE_KINDS = {"xlsx": XLSX, "docx": DOCX}
# What each file of a package is, in its saved name (the school, report and period come first).
PACKAGE_KIND_NAMES = {"xlsx": lambda: _("data workbook"), "docx": lambda: _("work summary")}


@transaction.atomic
def package_file(*, user, version: PackageVersion, kind: str, request=None) -> Download:
    """One file of a finished package version, for whoever takes part in the school's reporting
    (its admin and clerk, the bureau, the overseers; not a teacher: PermissionDenied). The version
    comes from a scoped lookup (another school's is 404 before this). Logged as an export of the
    version."""
    submission = version.submission
    if not selectors.takes_part_in_reporting(user=user, school=submission.school):
        raise PermissionDenied(_("You have no part in this school's reporting."))
    if kind not in PACKAGE_KINDS or version.status != PackageVersion.Status.DONE:
        raise FileUnavailable(_("This file is not available."))
    # The folder is derived from the row's identity, not read from it: a stored key pointing at
    # another school's or another version's files is refused.
    folder = package_storage_key(version.school_id, version.submission_id, version.version)
    handle = open_stored((version.files or {}).get(kind), under=folder)
    try:
        access_log_record(user=user, school_id=version.school_id, action=AccessLog.Action.EXPORT, obj=version,
                          request=request, detail={"file": kind, "version": version.version})
    except BaseException:
        handle.close()
        raise
    period = submission.period
    filename = download_name(submission.school.name, submission.report_type.name,
                             f"{period.start_on:%Y%m%d}-{period.end_on:%Y%m%d}", PACKAGE_KIND_NAMES[kind](),
                             _("v%(n)d") % {"n": version.version}, ext=kind)
    ascii_filename = (f"{submission.report_type.code}-{period.start_on:%Y%m%d}-{submission.school.code}"
                      f"-v{version.version}.{kind}")
    return Download(handle=handle, content_type=PACKAGE_KINDS[kind], filename=filename,
                    ascii_filename=ascii_filename)


@transaction.atomic
def district_export_file(*, user, export: DistrictExport, request=None) -> Download:
    """A finished district export's workbook, for the bureau's readers of that district (the
    inspector too). It holds every school's figures, so the download is logged as an export on
    every school of the district, like its creation."""
    if not permissions_on_district(user, export.district) & selectors.OVERSIGHT_PERMS:
        raise Http404  # not one of the user's districts' exports: as if it did not exist
    if export.status != DistrictExport.Status.DONE:
        raise NotReady(_("This export is not ready."))
    handle = open_stored(export.file, under=district_export_folder(export.district_id))
    try:
        ids = list(School.objects.filter(district_id=export.district_id).values_list("id", flat=True))
        with tenant_scope(ids):
            access_log_record_many(user=user, school_ids=ids, action=AccessLog.Action.EXPORT,
                                   object_type=export._meta.label_lower, object_id=export.pk, request=request,
                                   detail={"period": export.period_id})
    except BaseException:
        handle.close()
        raise
    period = export.period
    filename = download_name(export.district.name, export.report_type.name,
                             f"{period.start_on:%Y%m%d}-{period.end_on:%Y%m%d}", _("district summary"), ext="xlsx")
    return Download(handle=handle, content_type=XLSX, filename=filename,
                    ascii_filename=f"{export.report_type.code}-{period.start_on:%Y%m%d}-district.xlsx")



# The object type of the access-log rows of a matrix export (one per school in the file).
MATRIX_TYPE = "submissions.matrix"


def _rate(value) -> float | None:
    return None if value is None else round(value * 100, 1)


@transaction.atomic
def matrix_workbook(*, user, report_type, params, today=None, request=None) -> Download:
    """The reporting matrix as the user filtered and sorted it (selectors.matrix_table), for whoever
    oversees the report type's district (PermissionDenied otherwise). It holds those schools'
    reporting: logged as an export on each school in it."""
    table = selectors.matrix_table(user=user, report_type=report_type, params=params, today=today)
    matrix = table["matrix"]
    header = [_("School"), _("Township"), *[f"{p.start_on:%m-%d}–{p.end_on:%m-%d}" for p in matrix.periods],
              _("Reporting rate (%)"), _("On-time rate (%)"), _("Approved by the centre")]
    rows = [[row.school.name, row.township, *[str(selectors.CELL_LABELS[c.status][1]) for c in row.cells],
             _rate(row.rates.reporting_rate), _rate(row.rates.on_time_rate), row.rates.approved]
            for row in matrix.rows]
    content = table_workbook(sheet=_("Reporting"), title=f"{report_type.name} · {matrix.today:%Y-%m-%d}",
                             header=header, rows=rows)
    ids = [row.school.id for row in matrix.rows]
    if ids:
        with tenant_scope(ids):
            access_log_record_many(user=user, school_ids=ids, action=AccessLog.Action.EXPORT, object_type=MATRIX_TYPE,
                                   object_id=report_type.pk, request=request, detail=table["query"].params())
    return Download(handle=io.BytesIO(content), content_type=XLSX,
                    filename=download_name(_("%(name)s reporting") % {"name": report_type.name}, ext="xlsx"),
                    ascii_filename=f"reporting-{report_type.code}.xlsx")
