"""The compile job: build one reserved package version's files, store them, complete it."""
from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext as _

from config.storage import storage_replace
from documents.workbook import safe_workbook
from tenancy.replica import replica_reads
from tenancy.scoping import tenant_scope

from .. import services
from ..models import Narrative, PackageVersion, ReportKind, Submission
from .figures import DOCX_NAME, XLSX_NAME, Figures, gather_figures
from .summary_docx import write_docx
from .workbook import write_activities_sheet, write_contacts_sheet, write_summary_sheet


def _publish(local: Path, name: str) -> None:
    """Store a finished local file under its storage name, replacing an earlier run's copy. The
    version is marked done only afterwards, so no reader opens a half-replaced file."""
    with local.open("rb") as fh:
        storage_replace(name, fh)



def _step_delay() -> None:
    delay = float(getattr(settings, "SUBMISSIONS_COMPILE_STEP_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)


def _progress(school_id: int, version: PackageVersion, value: int, note: str, started: bool = False) -> bool:
    with tenant_scope([school_id]):
        return services.package_version_progress(version=version, progress=value, note=note, started=started)


def compile_package(*, school_id: int, version_id: int, now: datetime | None = None) -> PackageVersion | None:
    """Build the files of one reserved package version and complete it. Safe to run any number
    of times (and to resume after a crash); returns the version, or None if it does not exist."""
    with translation.override(settings.LANGUAGE_CODE):
        return _compile(school_id, version_id, now)


def _compile(school_id: int, version_id: int, now: datetime | None) -> PackageVersion | None:
    with tenant_scope([school_id]):
        version = (PackageVersion.objects.filter(pk=version_id, school_id=school_id)
                   .select_related("submission__report_type", "submission__period", "submission__school").first())
        if version is None or version.is_finished:
            return version
        submission = version.submission
    if not _progress(school_id, version, 5, _("Reading the records"), started=True):
        return _reload(school_id, version_id)
    _step_delay()
    with tenant_scope([school_id]), replica_reads(reason="package figures"):
        figures = gather_figures(submission, now=now)
        narrative = Narrative.objects.filter(submission=submission).first()
        sections = dict(narrative.sections) if narrative else {}
    key = version.storage_key
    with tempfile.TemporaryDirectory(prefix="compile-") as tmp:
        return _build(school_id, version_id, version, submission, figures, sections, key, Path(tmp), now)


def _build(school_id: int, version_id: int, version: PackageVersion, submission: Submission, figures: Figures,
           sections: dict, key: str, folder: Path, now: datetime | None) -> PackageVersion:
    """Write the files into the local temporary `folder`, store them under `key`, complete."""
    files = {"xlsx": f"{key}/{XLSX_NAME}"}
    xlsx_local = folder / XLSX_NAME
    workbook = safe_workbook(str(xlsx_local), constant_memory=True)
    try:
        _progress(school_id, version, 15, _("Summary sheet"))
        with tenant_scope([school_id]), replica_reads(reason="package summary sheet"):
            write_summary_sheet(workbook, submission, figures, version.version)
        _step_delay()
        _progress(school_id, version, 30, _("Activity list"))
        with tenant_scope([school_id]), replica_reads(reason="package activities"):
            write_activities_sheet(workbook, submission)
        _step_delay()
        _progress(school_id, version, 50, _("Contact log"))
        with tenant_scope([school_id]), replica_reads(reason="package contacts"):
            write_contacts_sheet(workbook, submission)
        _step_delay()
    finally:
        workbook.close()
    _publish(xlsx_local, files["xlsx"])
    if submission.report_type.kind == ReportKind.HALF_YEAR_SUMMARY:
        _progress(school_id, version, 75, _("Work summary"))
        docx_local = folder / DOCX_NAME
        with tenant_scope([school_id]):
            write_docx(docx_local, submission, figures, sections)
        files["docx"] = f"{key}/{DOCX_NAME}"
        _publish(docx_local, files["docx"])
        _step_delay()
    _progress(school_id, version, 95, _("Finishing"))
    with tenant_scope([school_id]):
        version = PackageVersion.objects.get(pk=version_id)
        return services.package_version_complete(version=version, files=files, figures=figures.as_dict(), now=now)


def _reload(school_id: int, version_id: int) -> PackageVersion | None:
    with tenant_scope([school_id]):
        return PackageVersion.objects.filter(pk=version_id).first()


def package_file_name(version: PackageVersion, kind: str) -> str | None:
    """The storage name of a done version's file ("xlsx" or "docx") if it is in storage, or None.
    Read it with default_storage.open()."""
    name = (version.files or {}).get(kind)
    if not name or version.status != PackageVersion.Status.DONE:
        return None
    return name if default_storage.exists(name) else None
