"""The submissions endpoints' routes under /api/v1/."""
from __future__ import annotations

from django.urls import path

from .approval import ApprovalBatchViewSet
from .bureau import DistrictExportViewSet, NotificationViewSet, SimilarityFlagViewSet
from .calendar import PeriodViewSet, ReportTypeViewSet
from .lifecycle import SubmissionEventViewSet, SubmissionViewSet, UnlockRequestViewSet
from .packages import NarrativeViewSet, PackageVersionViewSet
from .township import TownshipPackageViewSet


def register(router) -> None:
    router.register("report-types", ReportTypeViewSet, basename="report-types")
    router.register("report-periods", PeriodViewSet, basename="report-periods")
    router.register("submissions", SubmissionViewSet, basename="submissions")
    router.register("submission-events", SubmissionEventViewSet, basename="submission-events")
    router.register("approval-batches", ApprovalBatchViewSet, basename="approval-batches")
    router.register("unlock-requests", UnlockRequestViewSet, basename="unlock-requests")
    router.register("package-versions", PackageVersionViewSet, basename="package-versions")
    router.register("narratives", NarrativeViewSet, basename="narratives")
    router.register("similarity-flags", SimilarityFlagViewSet, basename="similarity-flags")
    router.register("notifications", NotificationViewSet, basename="notifications")
    router.register("district-exports", DistrictExportViewSet, basename="district-exports")
    router.register("township-packages", TownshipPackageViewSet, basename="township-packages")


# Each is an ExtraRoute of its isolation case (tests/api/cases_submissions.py).
extra_patterns = [
    path("report-types/<int:pk>/matrix/", ReportTypeViewSet.as_view({"get": "matrix"}), name="report-types-matrix"),
    path("package-versions/<int:pk>/download/<str:kind>/", PackageVersionViewSet.as_view({"get": "download"}),
         name="package-versions-download"),
    path("district-exports/<int:pk>/download/", DistrictExportViewSet.as_view({"get": "download"}),
         name="district-exports-download"),
    path("township-packages/<int:pk>/download/<str:kind>/", TownshipPackageViewSet.as_view({"get": "download"}),
         name="township-packages-download"),
]
