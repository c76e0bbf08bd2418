"""The township compile job: one reserved TownshipPackage's XLSX (the villages' figures side by
side with the centre's own, and a total) and DOCX, from each school's current compiled package
(the figures the centre approved), stored under the package's deterministic key.

Idempotent like the school's compile (job.py): the row was reserved before it was enqueued, the
files replace an earlier run's copy (config.storage.storage_replace), completion is
compare-and-set. The job checks again that every village is approved (a village may have been
returned since the request) and fails with the same message the request gives otherwise.

It reads in a tenant scope of the centre's subtree: the centre and its village schools, nothing
else (the package row itself is the centre's)."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from documents.workbook import safe_workbook
from tenancy.models import School
from tenancy.replica import replica_reads
from tenancy.scoping import tenant_scope

from .. import services
from ..models import TownshipPackage
from ..township.selectors import Readiness, SchoolRow, township_readiness
from .job import _publish, _step_delay
from .workbook import _kind_labels

XLSX_NAME = "township.xlsx"
DOCX_NAME = "township.docx"
COUNT_KEYS = [
    ("children", "Children (active)"),
    ("activities", "Activities held"),
    ("activities_evidenced", "Activities with photos and a text record"),
    ("competitions", "Competitions"),
    ("theme_activities", "Theme activities"),
    ("meetings", "Training meetings"),
    ("tutoring_sessions", "Tutoring sessions"),
    ("tutoring_minutes", "Tutoring minutes"),
    ("study_pairs", "Study pairs"),
    ("proxy_parents", "Proxy parents"),
]


def figure_table(rows: list[SchoolRow]) -> list[list]:
    """The side-by-side table: a label, then one value per school (in `rows` order), then the
    total. Coverage totals are children covered ÷ children across the schools, not a mean of
    percentages. A school without a compiled package shows empty cells."""
    out = []
    for key, label in COUNT_KEYS:
        values = [r.figures.get(key) if r.version is not None else None for r in rows]
        out.append([_(label), *values, sum(v or 0 for v in values)])
    labels = _kind_labels()
    for kind, kind_label in labels.items():
        values = [(r.figures.get("contacts") or {}).get(kind) if r.version is not None else None for r in rows]
        out.append([_("Contacts in the period: %(kind)s") % {"kind": kind_label}, *values, sum(v or 0 for v in values)])
    for kind, kind_label in labels.items():
        cov = [(r.figures.get("coverage") or {}).get(kind) or {} for r in rows]
        values = [c.get("percent") if r.version is not None else None for c, r in zip(cov, rows, strict=True)]
        done = sum(c.get("done", 0) for c in cov)
        children = sum(r.figures.get("children", 0) or 0 for r in rows)
        out.append([_("Coverage %%: %(kind)s") % {"kind": kind_label}, *values,
                    round(100 * done / children) if children else 0])
    return out


def _role(row: SchoolRow) -> str:
    return _("Centre school") if row.centre else _("Village school")


def _status(row: SchoolRow) -> str:
    return row.submission.get_status_display() if row.submission is not None else _("Not submitted")


def _at(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def write_xlsx(path: Path, package: TownshipPackage, readiness: Readiness) -> None:
    rows = readiness.rows
    wb = safe_workbook(str(path), constant_memory=True)
    bold = wb.add_format({"bold": True})
    sheet = wb.add_worksheet(_("Summary"))
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, len(rows) + 1, 16)
    period = package.period
    sheet.write_row(0, 0, [_("%(school)s township summary") % {"school": readiness.centre.name},
                           package.report_type.name], bold)
    sheet.write_row(1, 0, [_("Period"), f"{period.start_on:%Y-%m-%d} – {period.end_on:%Y-%m-%d}"])
    sheet.write_row(2, 0, [_("Package version"), package.version])
    sheet.write_row(4, 0, [_("Figure"), *[r.school.name for r in rows], _("Total")], bold)
    for i, line in enumerate(figure_table(rows)):
        sheet.write_row(5 + i, 0, line)
    schools = wb.add_worksheet(_("Schools"))
    schools.set_column(0, 0, 24)
    schools.set_column(1, 6, 16)
    schools.write_row(0, 0, [_("School"), _("Code"), _("Role"), _("Status"), _("Submitted at"),
                             _("Approved by the centre at"), _("Package version")], bold)
    for i, row in enumerate(rows, start=1):
        sub = row.submission
        schools.write_row(i, 0, [row.school.name, row.school.code, _role(row), _status(row),
                                 _at(sub.first_submitted_at) if sub else "", _at(sub.approved_at) if sub else "",
                                 row.version.version if row.version else ""])
    wb.close()


def write_docx(path: Path, package: TownshipPackage, readiness: Readiness) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    rows = readiness.rows
    doc = Document()
    title = doc.add_heading(_("%(school)s township summary") % {"school": readiness.centre.name}, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    period = package.period
    doc.add_paragraph(f"{package.report_type.name} · {period.start_on:%Y-%m-%d} – {period.end_on:%Y-%m-%d}")
    doc.add_heading(_("Schools"), level=1)
    table = doc.add_table(rows=0, cols=3)
    table.style = "Table Grid"
    for row in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = row.school.name, _role(row), _status(row)
    doc.add_heading(_("Figures"), level=1)
    figures = doc.add_table(rows=1, cols=len(rows) + 2)
    figures.style = "Table Grid"
    for cell, text in zip(figures.rows[0].cells, [_("Figure"), *[r.school.name for r in rows], _("Total")],
                          strict=True):
        cell.text = str(text)
    for line in figure_table(rows):
        for cell, value in zip(figures.add_row().cells, line, strict=True):
            cell.text = "" if value is None else str(value)
    doc.save(str(path))


def _progress(school_id: int, package: TownshipPackage, value: int, note: str, started: bool = False) -> bool:
    with tenant_scope([school_id]):
        return services.township_package_progress(package=package, progress=value, note=note, started=started)


def compile_township(*, school_id: int, package_id: int, now: datetime | None = None) -> TownshipPackage | None:
    """Build one reserved township package and complete it. Safe to run any number of times;
    returns the package, or None if it does not exist."""
    with translation.override(settings.LANGUAGE_CODE):
        return _compile(school_id, package_id, now)


def _reload(school_id: int, package_id: int) -> TownshipPackage | None:
    with tenant_scope([school_id]):
        return TownshipPackage.objects.filter(pk=package_id).first()


def _compile(school_id: int, package_id: int, now: datetime | None) -> TownshipPackage | None:
    centre = School.objects.filter(pk=school_id).first()
    if centre is None:
        return None
    subtree = list(School.objects.filter(path__startswith=centre.path).values_list("id", flat=True))
    with tenant_scope([school_id]):
        package = (TownshipPackage.objects.filter(pk=package_id, school_id=school_id)
                   .select_related("report_type", "period__report_type").first())
        if package is None or package.is_finished:
            return package
    if not _progress(school_id, package, 5, _("Reading the records"), started=True):
        return _reload(school_id, package_id)
    _step_delay()
    with tenant_scope(subtree), replica_reads(reason="township package figures"):
        readiness = township_readiness(centre=centre, period=package.period)
        refusal = services.township_refusal(readiness)
    if refusal is not None:
        with tenant_scope([school_id]):
            services.township_package_fail(package=package, error=refusal)
        return _reload(school_id, package_id)
    key = package.storage_key
    files = {"xlsx": f"{key}/{XLSX_NAME}", "docx": f"{key}/{DOCX_NAME}"}
    with tempfile.TemporaryDirectory(prefix="township-") as tmp:
        folder = Path(tmp)
        _progress(school_id, package, 30, _("Summary sheet"))
        write_xlsx(folder / XLSX_NAME, package, readiness)
        _publish(folder / XLSX_NAME, files["xlsx"])
        _step_delay()
        _progress(school_id, package, 70, _("Work summary"))
        write_docx(folder / DOCX_NAME, package, readiness)
        _publish(folder / DOCX_NAME, files["docx"])
        _step_delay()
    _progress(school_id, package, 95, _("Finishing"))
    with tenant_scope([school_id]):
        package = TownshipPackage.objects.get(pk=package_id)
        return services.township_package_complete(package=package, files=files, now=now,
                                                  schools=[row.as_json() for row in readiness.rows],
                                                  source_digest=readiness.digest())


def township_file_name(package: TownshipPackage, kind: str) -> str | None:
    """The storage name of a done package's file ("xlsx" or "docx") if it is in storage."""
    name = (package.files or {}).get(kind)
    if not name or package.status != TownshipPackage.Status.DONE:
        return None
    return name if default_storage.exists(name) else None
