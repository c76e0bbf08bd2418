"""Reads of the school's home that need scope, masking or aggregation.

Who sees a child (tenancy roles + django-guardian):
- ADMIN: `manage_children` on the school (school admin): every field, the full ID number;
- IDENTITY: `view_child_identity` without `manage_children` (an explicit grant, e.g. to the
  bureau): identity and sensitive fields, but the ID number masked and no wellbeing notes;
- PROXY: the child's current proxy parent (guardian object permission `care_for_child`, mirrored
  from ProxyAssignment): all fields incl. wellbeing, the ID number masked;
- BASIC: `manage_materials` (materials clerk): name, grade and class only;
- anyone else (bureau/township without an explicit grant, other teachers): not visible → 404.

Listing filters by school first and lets guardian decide the teacher's exceptions
(docs/ARCHITECTURE.md, "How tenancy fails closed"). Selectors only read: the access log of a detail read is written by
the read actions in schools.services (`child_read`, `contact_read_log`).
"""

from .children import (  # noqa: F401
    ADMIN,
    BASIC,
    BASIC_FIELDS,
    FULL_ID_LEVELS,
    IDENTITY,
    PROXY,
    PROXY_FIELDS,
    WELLBEING_LEVELS,
    ChildView,
    assigned_child_ids,
    child_access_level,
    child_fields,
    child_for_contact,
    child_get_for_view,
    child_level_in,
    child_levels,
    children_list,
    children_visible_to,
    children_with_identity_visible_to,
    level_from_perms,
    school_child_level,
)
from .contacts import (  # noqa: F401
    ContactView,
    TrackerGrid,
    contact_cell,
    contact_filter_choices,
    contact_get_for_view,
    contact_tracker_grid,
    contacts_for_child,
    contacts_list,
    contacts_visible_to,
)
from .duplicates import (  # noqa: F401
    ID_NUMBER_ELSEWHERE,
    RowIssue,
    id_numbers_elsewhere_in_district,
    id_numbers_in_school,
    import_duplicates,
    same_name_and_birth,
)
from .evidence import (  # noqa: F401
    reuse_flags_visible_to,
    reuse_match_q,
    reused_annotation,
)
from .export import (  # noqa: F401
    EXPORT_FULL_COLUMNS,
    EXPORT_MASKED_COLUMNS,
    REGISTER_COLUMNS,
    children_export_rows,
    register_export_rows,
)
from .home import (  # noqa: F401
    activities_for_week,
    home_overview,
    rule_documents_missing,
    rule_documents_status,
    school_dashboard,
    study_pairs_visible_to,
    training_meetings_list,
    work_record_entries_visible_to,
)
from .offline import offline_children, offline_schools  # noqa: F401
from .semesters import (  # noqa: F401
    may_set_calendar,
    semester_current,
    semester_for_date,
    semesters_of,
)
from .work import (  # noqa: F401
    activities_on,
    children_without_consent,
    teachers_without_home_role,
)
