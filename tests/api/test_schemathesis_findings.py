"""Regression tests for what the schema fuzzer (test_schemathesis.py) found, one per finding, so
each stays fixed even if the fuzzer's random inputs stop reaching it."""
from __future__ import annotations

import pytest
from django.urls import reverse

from schools import services as school_services
from schools.models import StaffProfile
from tenancy.scoping import tenant_scope


@pytest.mark.parametrize("raw_id", ["null", "abc", "1.5", "-1e-140"])
def test_a_malformed_id_is_a_json_404_not_a_server_error(api_as, raw_id):
    response = api_as("gupei_admin").get(f"/api/v1/schools/{raw_id}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and "detail" in response.json()


def test_an_unknown_api_path_is_a_json_404_and_a_post_there_needs_no_csrf(api_as):
    client = api_as("gupei_admin")
    for method in (client.get, client.post):
        response = method("/api/v1/no-such-thing/1/")
        assert response.status_code == 404 and response.json()["detail"]


def test_creating_a_staff_profile_without_is_proxy_parent_keeps_it(tree, api_as):
    """It was a TypeError (500): the service required the flag the API treats as optional."""
    with tenant_scope([tree.gupei.id]):
        school_services.staff_profile_set(actor=tree.gupei_admin, school=tree.gupei, user=tree.gupei_teacher,
                                          is_proxy_parent=True)
    response = api_as("gupei_admin").post("/api/v1/staff-profiles/", {"school": tree.gupei.id,
                                                                      "user": tree.gupei_teacher.id}, format="json")
    assert response.status_code == 201, response.content
    with tenant_scope([tree.gupei.id]):
        assert StaffProfile.objects.get(school=tree.gupei, user=tree.gupei_teacher).is_proxy_parent is True
    response = api_as("gupei_admin").post("/api/v1/staff-profiles/", {"school": tree.gupei.id,
                                                                      "user": tree.gupei_clerk.id}, format="json")
    assert response.status_code == 201 and response.json()["is_proxy_parent"] is False


def test_every_operation_documents_its_errors(db):
    from rest_framework.test import APIClient

    schema = APIClient().get(reverse("api:schema"), {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if operation.get("security"):
                assert {"401", "403"} <= codes, (method, path, codes)
            if "{id}" in path:
                assert "404" in codes, (method, path, codes)
    # The token endpoint (a plain APIView) gets them too: DELETE without a token is a 401.
    assert "401" in schema["paths"]["/api/v1/auth/token/"]["delete"]["responses"]
