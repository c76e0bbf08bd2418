"""The OpenAPI schema generates cleanly and the docs work offline."""
from __future__ import annotations

from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient


def test_schema_generates_without_warnings_or_errors(tmp_path):
    out = tmp_path / "schema.yml"
    # --fail-on-warn raises on any warning; --validate checks it against the OpenAPI spec.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/schools/", "/api/v1/memberships/{id}/", "/api/v1/me/", "/api/v1/auth/token/"):
        assert path in text


def test_schema_endpoint(db):
    response = APIClient().get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    # Lists document their pagination.
    list_200 = schema["paths"]["/api/v1/schools/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert list_200["$ref"].endswith("PaginatedSchoolList")


def test_swagger_ui_is_served_from_local_assets(db):
    response = APIClient().get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
