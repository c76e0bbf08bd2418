"""Every write of the compliance app: keyword-only arguments, one transaction each.

`actor=None` is reserved for system jobs (seeding, Celery beat); every user-facing call passes the
user, whose permission is checked here (the views and the API hold no logic). By subdomain:
checklists, assessments (with snapshots and manual scores), exports.
"""
from .assessments import (
    assessment_create,
    assessment_lock,
    assessment_rebind,
    manual_score_set,
    snapshot_history_rebuild,
    snapshot_take,
)
from .checklists import (
    DEFAULT_CHECKLIST_PATH,
    EDITABLE_ITEM_FIELDS,
    ChecklistInvalid,
    checklist_export_yaml,
    checklist_import_yaml,
    checklist_item_update,
    checklist_load_default,
    checklist_version_errors,
    checklist_version_new_draft,
    checklist_version_publish,
)
from .exports import _export_task_name, export_request, export_schedule_remove, export_schedule_set
from .settings import district_settings_update

__all__ = [
    "DEFAULT_CHECKLIST_PATH", "EDITABLE_ITEM_FIELDS", "ChecklistInvalid", "_export_task_name", "assessment_create",
    "assessment_lock", "assessment_rebind", "checklist_export_yaml", "checklist_import_yaml", "checklist_item_update",
    "checklist_load_default", "checklist_version_errors", "checklist_version_new_draft", "checklist_version_publish",
    "export_request", "export_schedule_remove", "export_schedule_set", "manual_score_set", "snapshot_history_rebuild",
    "snapshot_take", "district_settings_update",
]
