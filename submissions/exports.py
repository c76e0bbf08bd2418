"""The consolidated district export: one period of one report type across all the district's
schools, as one XLSX (a row per school: status, timeliness, submitted at, key figures).

Runs in an explicit system scope of the district's schools (the bureau's view, by design); the
job row itself is district-owned and each step on it is a short transaction in the district's
scope, so its progress is visible while the job runs.
Idempotent like the compile job: the row is claimed (jobs.models.Job.claim), the file name is
derived from the row id; the file is built in a temporary file and stored under that name,
replacing an earlier run's copy (config.storage.storage_replace), through the storage API only.
"""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.storage import storage_replace
from documents.workbook import safe_workbook
from tenancy.models import School
from tenancy.replica import replica_reads
from tenancy.scoping import district_id_of_row, district_scope, system_scope

from .calendar import school_open_during
from .models import DistrictExport, PackageVersion, Submission, Timeliness, district_export_storage_key
from .selectors import Cell
from .services.notices import export_ready_notify

FIGURE_COLUMNS = [
    ("children", "Children"),
    ("activities", "Activities held"),
    ("activities_evidenced", "Activities evidenced"),
    ("competitions", "Competitions"),
    ("meetings", "Training meetings"),
    ("tutoring_sessions", "Tutoring sessions"),
]
COVERAGE_KINDS = ["home_visit", "talk", "guardian_contact", "letter"]


def cell_status(*, school: School, period, timeliness: str, today: date) -> str:
    if timeliness == Timeliness.ON_TIME:
        return Cell.ON_TIME
    if timeliness == Timeliness.LATE:
        return Cell.LATE
    if not school_open_during(school.opened_on, school.closed_on, period.start_on, period.end_on):
        return Cell.NOT_EXPECTED
    return Cell.MISSING if today > period.due_on else Cell.NOT_DUE


def export_rows(export: DistrictExport, today: date | None = None) -> list[dict]:
    """One dict per assigned school, in tree order. Must run in a scope over the district."""
    today = today or timezone.localdate()
    period = export.period
    schools = list(export.report_type.schools.filter(district_id=export.district_id).order_by("path"))
    subs = {s.school_id: s for s in Submission.objects.filter(period=period, report_type=export.report_type)}
    current = {v.submission_id: v for v in PackageVersion.objects.filter(
        submission__period=period, submission__report_type=export.report_type, is_current=True)}
    rows = []
    for school in schools:
        sub = subs.get(school.id)
        version = current.get(sub.pk) if sub else None
        figures = version.figures if version else {}
        rows.append({
            "school": school, "submission": sub,
            "cell": cell_status(school=school, period=period, timeliness=sub.timeliness if sub else "", today=today),
            "status": sub.get_status_display() if sub else "",
            "timeliness": sub.get_timeliness_display() if sub and sub.timeliness else "",
            "submitted_at": timezone.localtime(sub.first_submitted_at) if sub and sub.first_submitted_at else None,
            "version": version.version if version else None,
            "figures": figures,
        })
    return rows


def _write(path: Path, export: DistrictExport, rows: list[dict]) -> None:
    labels = {Cell.ON_TIME: _("on time"), Cell.LATE: _("late"), Cell.MISSING: _("missing"),
              Cell.NOT_DUE: _("not due"), Cell.NOT_EXPECTED: _("not expected")}
    wb = safe_workbook(str(path), constant_memory=True)
    bold = wb.add_format({"bold": True})
    sheet = wb.add_worksheet(_("Matrix"))
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 20, 14)
    period = export.period
    sheet.write_row(0, 0, [export.report_type.name, f"{period.start_on} – {period.end_on}",
                           _("due on %(due)s") % {"due": period.due_on.isoformat()}], bold)
    header = [_("School"), _("Code"), _("Cell"), _("Status"), _("Timeliness"), _("Submitted at"), _("Package version")]
    header += [_(label) for _key, label in FIGURE_COLUMNS]
    header += [_("Coverage %%: %(kind)s") % {"kind": k} for k in COVERAGE_KINDS]
    sheet.write_row(2, 0, header, bold)
    r = 2
    for row in rows:
        r += 1
        f = row["figures"] or {}
        cov = f.get("coverage", {})
        values = [row["school"].name, row["school"].code, str(labels[row["cell"]]), str(row["status"]),
                  str(row["timeliness"]),
                  row["submitted_at"].strftime("%Y-%m-%d %H:%M") if row["submitted_at"] else "",
                  row["version"] if row["version"] is not None else ""]
        values += [f.get(key, "") for key, _l in FIGURE_COLUMNS]
        values += [cov.get(k, {}).get("percent", "") if cov else "" for k in COVERAGE_KINDS]
        sheet.write_row(r, 0, values)
    counts = {c: sum(1 for row in rows if row["cell"] == c) for c in labels}
    expected = counts[Cell.ON_TIME] + counts[Cell.LATE] + counts[Cell.MISSING]
    r += 2
    sheet.write_row(r, 0, [_("Reporting rate"), f"{(counts[Cell.ON_TIME] + counts[Cell.LATE]) / expected:.0%}"
                           if expected else "–"], bold)
    sheet.write_row(r + 1, 0, [_("On-time rate"), f"{counts[Cell.ON_TIME] / expected:.0%}" if expected else "–"], bold)
    wb.close()


def run_export(export_id: int, today: date | None = None) -> DistrictExport | None:
    """Build the export's file. Safe to run again (redelivery): a done or failed row is left alone."""
    district_id = district_id_of_row(DistrictExport, export_id)
    if district_id is None:
        return None
    with district_scope(district_id):
        export = DistrictExport.objects.select_related("report_type", "period", "district").filter(pk=export_id).first()
    if export is None or export.is_finished:
        return export
    # Each step on the job row is its own short transaction in the district's scope.
    with district_scope(district_id):
        DistrictExport.claim(export_id, progress=10)
    school_ids = list(School.objects.filter(district_id=export.district_id).values_list("id", flat=True))
    with translation.override(settings.LANGUAGE_CODE):
        with system_scope("a district export reads every school of the district", school_ids=school_ids,
                          district_ids=[district_id]), replica_reads(reason="district export"):
            rows = export_rows(export, today=today)
        with district_scope(district_id):
            DistrictExport.report_progress(export_id, 60)
        name = district_export_storage_key(export.pk, export.district_id)
        with tempfile.TemporaryDirectory(prefix="district-export-") as tmp:
            local = Path(tmp) / "export.xlsx"
            _write(local, export, rows)
            with local.open("rb") as fh:
                storage_replace(name, fh)
    with district_scope(district_id), translation.override(settings.LANGUAGE_CODE):
        if DistrictExport.finish(export_id, file=name, rows=len(rows)):
            export.refresh_from_db()
            export_ready_notify(export)
        else:
            export.refresh_from_db()
    return export


def export_file_name(export: DistrictExport) -> str | None:
    """The storage name of a done export's file if it is in storage, or None (read it with
    default_storage.open())."""
    if export.status != DistrictExport.Status.DONE or not export.file:
        return None
    return export.file if default_storage.exists(export.file) else None
