"""The submissions web UI: a school's reporting calendar and submission pages, the bureau's
completeness matrix, review screen and copied-narrative flags.

Views validate, call a selector or a service, render. Access, in this order:
- a submission outside the user's scope, or of a school they cannot see, is 404 (never 403);
- a user who has no part in the school's reporting (a teacher) gets 403 on submission pages;
- anyone else may try an action; the service decides, and its refusal is shown as a message
  (so a school admin pressing "accept" learns that only the bureau accepts, and nothing changes)."""
from .centre import (
    centre_approve,
    centre_decide_many,
    centre_queue,
    centre_return,
    centre_review,
    centre_withdraw,
)
from .decisions import (
    reporting_remind_late,
    submission_remind,
    submission_unlock_request,
    unlock_request_grant,
    unlock_request_refuse,
    unlock_requests,
)
from .district_exports import district_export_download, district_exports
from .overview import (
    CELL_LABELS,
    highlight_segments,
    matrix_export,
    matrix_print,
    reporting_matrix,
    similarity_list,
    similarity_pair,
)
from .review import submission_accept, submission_return, submission_review, submission_unlock
from .routes import report_type_route, report_type_routes
from .school import (
    package_download,
    school_submissions,
    submission_compile,
    submission_detail,
    submission_narrative,
    submission_status,
    submission_submit,
)
from .township import (
    township_overview,
    township_package_compile,
    township_package_download,
    township_package_status,
    township_packages,
)

__all__ = [
    "centre_approve", "centre_decide_many", "centre_queue", "centre_return", "centre_review", "centre_withdraw",
    "CELL_LABELS", "district_export_download", "district_exports", "highlight_segments",
    "matrix_export", "matrix_print", "package_download", "report_type_route", "report_type_routes", "reporting_matrix", "school_submissions",
    "similarity_list", "similarity_pair", "submission_accept", "submission_compile", "submission_detail",
    "submission_narrative", "submission_return", "submission_review", "submission_status", "submission_submit",
    "submission_unlock", "reporting_remind_late", "submission_remind", "submission_unlock_request",
    "unlock_request_grant", "unlock_request_refuse", "unlock_requests",
    "township_overview", "township_package_compile", "township_package_download", "township_package_status",
    "township_packages",
]
