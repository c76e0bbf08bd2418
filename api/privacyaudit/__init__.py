"""API of the minors'-data audit: request a district's audit pack (POST /audit-packs/ {district,
year}), follow its progress (GET /audit-packs/<id>/), download its files
(GET /audit-packs/<id>/download/<docx|xlsx>/). The bureau's readers only; no school sees a pack."""
from __future__ import annotations

from django.urls import path

from .packs import AuditPackViewSet


def register(router) -> None:
    router.register("audit-packs", AuditPackViewSet, basename="audit-packs")


# An ExtraRoute of the isolation case (tests/api/cases_privacyaudit.py).
extra_patterns = [
    path("audit-packs/<int:pk>/download/<str:kind>/", AuditPackViewSet.as_view({"get": "download"}),
         name="audit-packs-download"),
]

__all__ = ["extra_patterns", "register"]
