"""Every write of the school's home: keyword-only arguments, one transaction each, access log here.

`actor=None` means a system job or the demo seed: permission checks are skipped, the access log
still records the write (with no user). Callers run inside a tenant scope (the request middleware
or an explicit `tenant_scope` in tasks); without one the scoped managers refuse to query.

Errors: django ValidationError (bad input, nothing written), PermissionDenied (may see but not
act), Model.DoesNotExist (not visible to this user: the view answers 404),
schools.evidence.EvidenceError (an upload that does not decode or is too big).
"""

from .activities import (  # noqa: F401
    ACTIVITY_FIELDS,
    activity_create,
    activity_delete,
    activity_update,
    theme_schedule_set,
)
from .children import (  # noqa: F401
    CHILD_FIELDS,
    CHILD_NOTES_MAX,
    IMPORT_FIELDS,
    REFUSAL_BLOCKED,
    ImportNeedsConfirmation,
    ImportRejected,
    PossibleDuplicate,
    child_consent_give,
    child_consent_refuse,
    child_create,
    child_purge,
    child_read,
    child_read_log,
    child_status_set,
    child_update,
    children_import_commit,
    children_purge_expired,
    children_rekey,
)
from .contacts import (  # noqa: F401
    CONTACT_FIELDS,
    CONTACT_NOTES_MAX,
    ContactVersionConflict,
    care_contact_delete,
    care_contact_record,
    care_contact_update,
    contact_read_log,
)
from .evidence import (  # noqa: F401
    CAPTION_MAX,
    MAX_REUSE_FLAGS_PER_UPLOAD,
    ORPHAN_MIN_AGE,
    PHASH_REUSE_DISTANCE,
    evidence_delete,
    evidence_orphans_sweep,
    evidence_upload,
)
from .home import (  # noqa: F401
    EQUIPMENT_FIELDS,
    LEADERSHIP_FIELDS,
    SITE_FIELDS,
    activity_site_create,
    activity_site_update,
    equipment_create,
    equipment_update,
    home_record_delete,
    leadership_member_create,
    leadership_member_update,
    rule_document_version_add,
)
from .semesters import (  # noqa: F401
    SEMESTER_DATED,
    SEMESTER_FIELDS,
    _log_calendar,
    semester_create,
    semester_delete,
    semester_references,
    semester_update,
)
from .staff import (  # noqa: F401
    ASSIGNMENT_FIELDS,
    MEETING_FIELDS,
    WORK_RECORD_FIELDS,
    _sync_child_permissions,
    proxy_assignment_create,
    proxy_assignment_end,
    proxy_assignment_update,
    proxy_assignments_sync,
    staff_profile_set,
    training_meeting_create,
    training_meeting_delete,
    training_meeting_update,
    work_record_add,
    work_record_delete,
    work_record_update,
)
from .study import (  # noqa: F401
    STUDY_PAIR_FIELDS,
    TUTORING_FIELDS,
    study_pair_create,
    study_pair_end,
    study_pair_update,
    tutoring_session_delete,
    tutoring_session_record,
    tutoring_session_update,
)
