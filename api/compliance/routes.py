"""The compliance endpoints' routes under /api/v1/."""
from __future__ import annotations

from django.urls import path

from .assessments import AssessmentViewSet
from .checklists import ChecklistViewSet
from .exports import ExportViewSet
from .manual_scores import ManualScoreChangeViewSet, ManualScoreViewSet
from .scores import ScoreViewSet, SnapshotViewSet


def register(router) -> None:
    router.register("compliance/checklists", ChecklistViewSet, basename="compliance-checklists")
    router.register("compliance/assessments", AssessmentViewSet, basename="compliance-assessments")
    router.register("compliance/scores", ScoreViewSet, basename="compliance-scores")
    router.register("compliance/snapshots", SnapshotViewSet, basename="compliance-snapshots")
    router.register("compliance/manual-scores", ManualScoreViewSet, basename="compliance-manual-scores")
    router.register("compliance/manual-score-changes", ManualScoreChangeViewSet,
                    basename="compliance-manual-score-changes")
    router.register("compliance/exports", ExportViewSet, basename="compliance-exports")


# GET-only file downloads: each is an ExtraRoute of its isolation case (tests/api/cases_compliance.py).
extra_patterns = [
    path("compliance/checklists/<int:pk>/yaml/", ChecklistViewSet.as_view({"get": "yaml_export"}),
         name="compliance-checklists-yaml"),
    path("compliance/exports/<int:pk>/download/", ExportViewSet.as_view({"get": "download"}),
         name="compliance-exports-download"),
]
