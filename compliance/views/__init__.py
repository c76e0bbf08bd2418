"""The compliance web UI: district dashboard, school page, drill-down, checklists, assessments,
manual scores and exports.

Views validate, call a selector or a service, render. Every page with an assessment in its URL
looks it up among the assessments the user can see (404 otherwise, never 403). Pages for overseers
answer 403 to school staff; a bureau-only ACTION by an overseer who may not do it (a township admin)
comes back as a clear message, since the service is what decides.

Checklist versions belong to a district, not a school: their pages take the version in the query
string or the POSTed form (tests/web/test_compliance_checklists.py holds their isolation tests),
and are for bureau users only."""
from .assessments import assessment_lock, assessment_new, snapshot_take
from .checklists import (
    checklist_download,
    checklist_new_draft,
    checklist_publish,
    checklist_upload,
    checklists,
    district_settings,
)
from .dashboard import dashboard, index, my_score
from .drilldown import item_page, manual_score, school_page
from .exports import export_download, export_run, export_status, exports, exports_latest
from .ranking import ranking_export, ranking_print

__all__ = [
    "assessment_lock", "assessment_new", "checklist_download", "checklist_new_draft", "checklist_publish",
    "checklist_upload", "checklists", "dashboard", "district_settings", "export_download", "export_run",
    "export_status", "exports",
    "exports_latest", "index", "item_page", "manual_score", "my_score", "ranking_export", "ranking_print", "school_page",
    "snapshot_take",
]
