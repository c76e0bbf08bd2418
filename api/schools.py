"""The school's home under /api/v1/ (issue #3). See api/schools_children.py (the archive and
records about a child), api/schools_home.py (the home's records and per-school pages) and
api/schools_import.py (the children import)."""
from __future__ import annotations

from django.urls import path

from .schools_children import VIEWSETS as CHILD_VIEWSETS
from .schools_home import VIEWSETS as HOME_VIEWSETS
from .schools_import import ChildImportViewSet


def register(router) -> None:
    for prefix, viewset in CHILD_VIEWSETS + HOME_VIEWSETS:
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
