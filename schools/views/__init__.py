"""Pages of a school's home and children's archive, and the district's academic calendar.

Views validate, call a selector or a service, render. Every school page is guarded by
tenancy.views.school_page: the school comes from those the user can see (another school is 404,
never 403) with the page's permission (else 403), and an object from inside that school (another
school's object is 404 too). Reading needs `view_home`; writes are checked again by the services
(PermissionDenied → 403). A page that edits something still answers GET to readers without the
write permission, read-only, so overseers can look at it. In the archive, a child is found among
the children the user may see (else 404, whoever asks: another school's child and a teacher's
unassigned child look the same).

Evidence files are never served from MEDIA_URL: `evidence_file` checks the scope and streams the
bytes from the storage API, so a file name (a SHA-256) is useless without a session that may see it.
"""

from .activities import (  # noqa: F401
    activities_week,
    activity_create,
    activity_detail,
    activity_edit,
    activity_themes,
    evidence_file,
    evidence_thumb,
    reuse_flags,
)
from .archive_io import (  # noqa: F401
    IMPORT_DIR,
    IMPORT_MAX_AGE,
    IMPORT_SESSION_KEY,
    children_export,
    children_import,
    children_import_confirm,
    children_import_template,
    logger,
    register_export,
)
from .children import child_consent_refuse, child_create, child_detail, child_edit, child_status, children_list  # noqa: F401
from .contacts import (  # noqa: F401
    CONTACTS_PAGE_SIZE,
    contact_detail,
    contact_edit,
    contact_record,
    contact_tracker,
    contacts_list,
    school_dashboard,
)
from .home import home_equipment_edit, home_leader_edit, home_rule_detail, home_setup, home_site_edit  # noqa: F401
from .proxy import (  # noqa: F401
    assignment_edit,
    meeting_detail,
    meeting_edit,
    meetings,
    proxy_parents,
    work_record_detail,
    work_record_edit,
    work_records,
)
from .semesters import district_semester_delete, district_semester_edit, district_semesters  # noqa: F401
from .study import study_pair_detail, study_pair_edit, study_pairs, tutoring_session_edit  # noqa: F401
