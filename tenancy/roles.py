"""Roles and the object permissions each one grants (django-guardian)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Role(models.TextChoices):
    BUREAU_ADMIN = "bureau_admin", _("Bureau admin")
    BUREAU_INSPECTOR = "bureau_inspector", _("Bureau inspector")
    TOWNSHIP_ADMIN = "township_admin", _("Township admin")
    SCHOOL_ADMIN = "school_admin", _("School admin")
    TEACHER = "teacher", _("Teacher / proxy parent")
    CLERK = "clerk", _("Materials clerk")


# Granted on a District object; they cover every school of the district.
DISTRICT_ROLES = {Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR}
# Granted on a School object. A township admin's grant also covers the school's subtree.
SCHOOL_ROLES = {Role.TOWNSHIP_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK}
SUBTREE_ROLES = DISTRICT_ROLES | {Role.TOWNSHIP_ADMIN}

# Object permissions. The same codenames exist on District and on School, so a grant at any
# level of the tree can be checked the same way.
PERMISSIONS: list[tuple[str, StrOrPromise]] = [
    ("view_home", _("See the school's home")),
    ("view_aggregates", _("See aggregate figures across schools")),
    ("manage_staff", _("Manage staff and their roles")),
    ("manage_schools", _("Create and edit schools")),
    ("view_access_log", _("Read the access log")),
    ("manage_children", _("Manage the children's archive")),
    ("view_child_identity", _("See children's identities and sensitive fields")),
    ("record_contacts", _("Record contacts with assigned children")),
    ("manage_materials", _("Manage activities, meetings, rules and evidence")),
    ("submit_reports", _("Compile and submit reports")),
    ("review_submissions", _("Review schools' submissions")),
    ("approve_reports", _("Approve village schools' reports before the bureau")),
    ("manage_checklists", _("Manage compliance checklists")),
    ("score_manual_items", _("Score manual checklist items")),
]
PERMISSION_CODENAMES = [code for code, _label in PERMISSIONS]

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.BUREAU_ADMIN: {
        "view_home", "view_aggregates", "manage_staff", "manage_schools", "view_access_log",
        "review_submissions", "manage_checklists", "score_manual_items",
    },
    Role.BUREAU_INSPECTOR: {"view_home", "view_aggregates", "score_manual_items"},
    Role.TOWNSHIP_ADMIN: {"view_home", "view_aggregates", "manage_staff", "view_access_log", "approve_reports"},
    Role.SCHOOL_ADMIN: {
        "view_home", "manage_staff", "view_access_log", "manage_children", "view_child_identity",
        "record_contacts", "manage_materials", "submit_reports",
    },
    Role.TEACHER: {"view_home", "record_contacts"},
    Role.CLERK: {"view_home", "manage_materials", "submit_reports"},
}

# Which roles a holder of a role may grant (never one above their own), inside their own scope.
GRANTABLE: dict[str, set[str]] = {
    Role.BUREAU_ADMIN: set(Role.values),
    Role.TOWNSHIP_ADMIN: {Role.TOWNSHIP_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK},
    Role.SCHOOL_ADMIN: {Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK},
    Role.BUREAU_INSPECTOR: set(),
    Role.TEACHER: set(),
    Role.CLERK: set(),
}
