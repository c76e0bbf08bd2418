"""Every write about submissions: keyword-only arguments, one transaction each, audited.

By subdomain: report_types (the calendar and its periods), lifecycle (transitions and the
narrative), approval (the centre school's review on the
VIA_CENTRE route), packages (compiles), similarity_flags, reminders, district_exports,
township (the centre's roll-up package).
`now` parameters exist for the beat jobs, the demo and tests; views never pass them.
"""
from ._common import EDITABLE, NarrativeConflict, SubmissionLocked, TransitionConflict, _log_district, school_may_edit
from .approval import (
    approval_batch_create,
    centre_may_decide,
    may_approve,
    submission_approval_withdraw,
    submission_approve,
    submission_centre_return,
    submissions_approve_many,
    submissions_centre_return_many,
)
from .decisions import (
    may_request_unlock,
    submission_remind,
    submissions_remind_late,
    unlock_request_create,
    unlock_request_grant,
    unlock_request_refuse,
)
from .district_exports import district_export_request, district_exports_schedule
from .lifecycle import (
    content_fingerprint,
    narrative_update,
    resend_is_unchanged,
    submission_accept,
    submission_is_locked,
    submission_return,
    submission_submit,
    submission_unlock,
)
from .packages import (
    COMPILE_TASK,
    package_version_complete,
    package_version_fail,
    package_version_progress,
    package_version_start,
    submission_compile_request,
)
from .reminders import REMINDER_ROLES, reminders_send
from .report_types import (
    REPORT_TYPE_EDITABLE,
    periods_generate,
    periods_open,
    report_type_assign,
    report_type_create,
    report_type_delete,
    report_type_update,
)
from .similarity_flags import submission_similarity_compute
from .township import (
    TOWNSHIP_COMPILE_TASK,
    township_package_complete,
    township_package_fail,
    township_package_progress,
    township_package_request,
    township_refusal,
)

__all__ = [
    "approval_batch_create", "centre_may_decide", "may_approve", "school_may_edit", "submission_approval_withdraw", "submission_approve",
    "submission_centre_return", "submissions_approve_many", "submissions_centre_return_many",
    "NarrativeConflict", "content_fingerprint", "may_request_unlock", "resend_is_unchanged",
    "submission_remind", "submissions_remind_late", "unlock_request_create", "unlock_request_grant",
    "unlock_request_refuse",
    "COMPILE_TASK", "EDITABLE", "REMINDER_ROLES", "REPORT_TYPE_EDITABLE", "SubmissionLocked", "TransitionConflict",
    "_log_district", "district_export_request", "district_exports_schedule", "narrative_update",
    "package_version_complete", "package_version_fail", "package_version_progress",
    "package_version_start", "periods_generate", "periods_open", "reminders_send", "report_type_assign",
    "report_type_create", "report_type_delete", "report_type_update", "submission_accept",
    "submission_compile_request", "submission_is_locked", "submission_return", "submission_similarity_compute",
    "submission_submit", "submission_unlock",
    "TOWNSHIP_COMPILE_TASK", "township_package_complete", "township_package_fail", "township_package_progress",
    "township_package_request", "township_refusal",
]
