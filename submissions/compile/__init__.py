"""The compile job: a submission's package (XLSX workbook + DOCX work summary) from the period's
records of that school.

Idempotent by construction, so acks_late redelivery is safe:
- the job works on ONE PackageVersion row, reserved before it was enqueued (services
  .submission_compile_request); a redelivered message finds the same row and resumes it;
- the files are built in a private temporary folder, then stored under the version's
  deterministic storage key, replacing what an earlier run stored there (config.storage
  .storage_replace): a rerun overwrites, never adds. Only the storage API is used, so packages
  live wherever the default storage does (filesystem or S3);
- completion is compare-and-set (services.package_version_complete): a second run is a no-op.

Every read runs in an explicit tenant scope of the submission's school. Each step is its own
short scope (transaction), so progress is committed and visible to the UI while the job runs."""
from schools.masking import mask_child_name as mask_child

from .figures import DOCX_HEADINGS, DOCX_NAME, XLSX_NAME, Figures, gather_figures
from .job import compile_package, package_file_name
from .summary_docx import _strip_heading, figure_rows, section_figures, write_docx
from .workbook import activity_rows, evidence_refs, write_activities_sheet, write_contacts_sheet, write_summary_sheet

__all__ = [
    "DOCX_HEADINGS", "DOCX_NAME", "Figures", "XLSX_NAME", "_strip_heading", "activity_rows", "compile_package",
    "evidence_refs", "figure_rows", "gather_figures", "mask_child", "package_file_name", "section_figures",
    "write_activities_sheet", "write_contacts_sheet", "write_docx", "write_summary_sheet",
]
