"""The school's home under /api/v1/: the home's records and per-school pages (home, activities,
evidence, rules, pages), the children's archive and records about a child (children, staff,
contacts, study), and the children import (children_import)."""
from __future__ import annotations

from django.urls import path

from .activities import ActivityViewSet
from .children import ChildStatusChangeViewSet, ChildViewSet, ConsentViewSet
from .children_import import ChildImportViewSet
from .contacts import CareContactViewSet
from .evidence import EvidenceViewSet, ReusedEvidenceFlagViewSet
from .home import (
    ActivitySiteViewSet,
    EquipmentViewSet,
    LeadershipMemberViewSet,
    SemesterViewSet,
    ThemeScheduleViewSet,
    TrainingMeetingViewSet,
)
from .pages import ContactTrackerViewSet, RuleStatusViewSet, SchoolDashboardViewSet
from .rules import RuleDocumentViewSet, RuleVersionViewSet
from .staff import ProxyAssignmentViewSet, StaffProfileViewSet, WorkRecordEntryViewSet
from .study import StudyPairViewSet, TutoringSessionViewSet

# route prefix -> viewset; the prefix is also the basename of its URL names.
VIEWSETS = [
    ("children", ChildViewSet),
    ("child-status-changes", ChildStatusChangeViewSet),
    ("child-consents", ConsentViewSet),
    ("proxy-assignments", ProxyAssignmentViewSet),
    ("staff-profiles", StaffProfileViewSet),
    ("care-contacts", CareContactViewSet),
    ("work-record-entries", WorkRecordEntryViewSet),
    ("study-pairs", StudyPairViewSet),
    ("tutoring-sessions", TutoringSessionViewSet),
    ("semesters", SemesterViewSet),
    ("activity-sites", ActivitySiteViewSet),
    ("equipment", EquipmentViewSet),
    ("leadership-members", LeadershipMemberViewSet),
    ("theme-schedules", ThemeScheduleViewSet),
    ("training-meetings", TrainingMeetingViewSet),
    ("activities", ActivityViewSet),
    ("evidence", EvidenceViewSet),
    ("evidence-reuse-flags", ReusedEvidenceFlagViewSet),
    ("rule-documents", RuleDocumentViewSet),
    ("rule-document-versions", RuleVersionViewSet),
    ("school-dashboards", SchoolDashboardViewSet),
    ("contact-trackers", ContactTrackerViewSet),
    ("rule-status", RuleStatusViewSet),
]


def register(router) -> None:
    for prefix, viewset in VIEWSETS:
        router.register(prefix, viewset, basename=prefix)


# The children import takes no object, so the generic harness cannot run it: it is listed in
# test_isolation.OBJECTLESS_ROUTES, and tests/api/test_schools_import.py runs it as every role.
extra_patterns = [
    path("children/import/template/", ChildImportViewSet.as_view({"get": "template"}),
         name="children-import-template"),
    path("children/import/preview/", ChildImportViewSet.as_view({"post": "preview"}),
         name="children-import-preview"),
    path("children/import/commit/", ChildImportViewSet.as_view({"post": "commit"}),
         name="children-import-commit"),
]
