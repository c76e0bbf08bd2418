"""Building an audit pack: the report's figures (selectors.figures, the one composition) written as
an XLSX (every figure with the SQL that produced it) and a DOCX (the report, with the SQL in an
appendix), stored under names derived from the row, so a redelivered job overwrites its own files.

Each step on the job row is a short transaction in the district's scope, so the page sees the
progress while the job runs. The files name no child: the report holds counts, staff, schools.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext as _

from config.storage import storage_replace
from documents.workbook import safe_workbook
from tenancy.scoping import district_id_of_row, district_scope

from .models import AuditPack, audit_pack_storage_key
from .selectors.figures import all_figures, all_tables, audit_report, open_findings

KINDS = ("xlsx", "docx")


def _title(report: dict) -> str:
    return _("%(district)s minors' personal data compliance audit %(year)d") % {
        "district": report["district"], "year": report["year"]}


def _period(report: dict) -> str:
    return _("Covers %(start)s to %(end)s") % {"start": report["period"][0], "end": report["period"][1]}


def write_xlsx(path: Path, report: dict) -> None:
    wb = safe_workbook(str(path))
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    sheet = wb.add_worksheet(_("Figures"))
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 26)
    sheet.set_column(2, 2, 48)
    sheet.set_column(3, 3, 10)
    sheet.set_column(4, 4, 100)
    sheet.write_row(0, 0, [_title(report), _period(report)], bold)
    sheet.write_row(2, 0, [_("Section"), _("Figure"), _("What is counted"), _("Value"), _("SQL that produced it")], bold)
    for r, (section, f) in enumerate(all_figures(report), start=3):
        sheet.write_row(r, 0, [section, f["key"], f["label"], f["value"]])
        sheet.write_string(r, 4, f["sql"], wrap)
    tables = wb.add_worksheet(_("Tables"))
    tables.set_column(0, 6, 20)
    r = 0
    for section, t in all_tables(report):
        tables.write_row(r, 0, [section, t["label"]], bold)
        tables.write_row(r + 1, 0, [_("SQL that produced it"), t["sql"]])
        tables.write_row(r + 2, 0, t["header"], bold)
        r += 3
        for row in t["rows"]:
            tables.write_row(r, 0, row)
            r += 1
        r += 1
    findings = wb.add_worksheet(_("Open findings"))
    findings.set_column(0, 0, 60)
    findings.write_row(0, 0, [_("Finding"), _("Count")], bold)
    for r, f in enumerate(open_findings(report), start=1):
        findings.write_row(r, 0, [f["label"], f["value"]])
    wb.close()


def write_docx(path: Path, report: dict) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    heading = doc.add_heading(_title(report), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(_period(report))
    doc.add_paragraph(_("Every figure below is counted from the platform's records; the query behind each is in "
                        "the appendix (figure number in brackets). No child is named in this report."))
    findings = open_findings(report)
    doc.add_heading(_("Open findings"), level=1)
    if findings:
        for f in findings:
            doc.add_paragraph(f"{f['label']}: {f['value']}", style="List Bullet")
    else:
        doc.add_paragraph(_("None."))
    number = 0
    for sec in report["sections"]:
        doc.add_heading(sec["title"], level=1)
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for f in sec["figures"]:
            number += 1
            cells = table.add_row().cells
            cells[0].text, cells[1].text = f"{f['label']} [{number}]", str(f["value"])
        for t in sec["tables"]:
            doc.add_paragraph(t["label"]).runs[0].bold = True
            if not t["rows"]:
                doc.add_paragraph(_("None."))
                continue
            grid = doc.add_table(rows=1, cols=len(t["header"]))
            grid.style = "Table Grid"
            for cell, text in zip(grid.rows[0].cells, t["header"]):
                cell.text = str(text)
            for row in t["rows"]:
                for cell, value in zip(grid.add_row().cells, row):
                    cell.text = str(value)
        for note in sec["notes"]:
            doc.add_paragraph(note).runs[0].italic = True
    doc.add_page_break()
    doc.add_heading(_("Appendix: the query behind each figure"), level=1)
    for number, (_section, f) in enumerate(all_figures(report), start=1):
        doc.add_paragraph(f"[{number}] {f['label']}").runs[0].bold = True
        doc.add_paragraph(f["sql"]).style = "Quote"
    for section, t in all_tables(report):
        doc.add_paragraph(f"{section} · {t['label']}").runs[0].bold = True
        doc.add_paragraph(t["sql"]).style = "Quote"
    doc.save(str(path))


def build_pack(pack_id: int, *, task_id: str | None = None, now=None) -> AuditPack | None:
    """Build the pack's files. Safe to run again (redelivery): a finished row is left alone."""
    district_id = district_id_of_row(AuditPack, pack_id)
    if district_id is None:
        return None
    with district_scope(district_id):
        pack = AuditPack.objects.select_related("district").filter(pk=pack_id).first()
        if pack is None or pack.is_finished:
            return pack
        AuditPack.claim(pack_id, task_id or "", progress=5, note=_("Counting the records"))

    def progress(percent: int, step: str) -> None:
        with district_scope(district_id):
            AuditPack.report_progress(pack_id, percent, step)

    with translation.override(settings.LANGUAGE_CODE):
        report = audit_report(pack.district, pack.year, now=now, progress=progress)
        files = {}
        with tempfile.TemporaryDirectory(prefix="audit-pack-") as tmp:
            for i, (kind, write) in enumerate((("xlsx", write_xlsx), ("docx", write_docx))):
                progress(75 + 10 * i, _("Writing the workbook") if kind == "xlsx" else _("Writing the report"))
                local = Path(tmp) / f"pack.{kind}"
                write(local, report)
                name = audit_pack_storage_key(pack.pk, district_id, kind)
                with local.open("rb") as fh:
                    storage_replace(name, fh)
                files[kind] = name
    with district_scope(district_id):
        AuditPack.finish(pack_id, task_id=task_id, now=now, figures=report, files=files, note="")
        pack.refresh_from_db()
    return pack


def pack_file_name(pack: AuditPack, kind: str) -> str | None:
    """The storage name of a done pack's file if it is in storage, or None."""
    name = (pack.files or {}).get(kind)
    if pack.status != AuditPack.Status.DONE or not isinstance(name, str):
        return None
    return name if default_storage.exists(name) else None
