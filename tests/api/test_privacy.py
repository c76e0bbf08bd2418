"""The minors'-data paperwork through the API: the same services as the pages (a refusal clears
the child's fields, closing a deletion request purges the child), school admins only."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from privacy.models import DataOfficer, GuardianRequest
from schools.models import Child
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child


def _child(pk, school):
    with tenant_scope([school.id]):
        return Child.objects.get(pk=pk)


def test_a_refusal_through_the_api_clears_the_child(api_as, tree):
    kid = add_child(tree.gupei, 1)
    today = timezone.localdate()
    client = api_as("gupei_admin")
    body = {"child": kid.pk, "decision": "refused", "guardian_name": "王奶奶", "method": "电话",
            "decided_on": today.isoformat()}
    response = client.post("/api/v1/consent-records/", body, format="json", HTTP_IDEMPOTENCY_KEY="consent-key-1")
    assert response.status_code == 201, response.content
    assert "身份证号" in response.json()["limits"]
    again = client.post("/api/v1/consent-records/", body, format="json", HTTP_IDEMPOTENCY_KEY="consent-key-1")
    assert again.status_code == 201 and again.json()["id"] == response.json()["id"]
    child = _child(kid.pk, tree.gupei)
    assert child.consent == "refused" and child.guardian_phone == "" and child.birth_date is None
    history = client.get(f"/api/v1/consent-records/?child={kid.pk}").json()["results"]
    assert [r["decision"] for r in history] == ["refused"]
    # A future date is refused, in Chinese, and writes nothing.
    bad = client.post("/api/v1/consent-records/", {**body, "decision": "given",
                                                   "decided_on": (today + dt.timedelta(days=2)).isoformat()},
                      format="json")
    assert bad.status_code == 400
    assert _child(kid.pk, tree.gupei).consent == "refused"


def test_closing_a_deletion_request_purges_the_child_and_keeps_the_request(api_as, tree):
    kid = add_child(tree.gupei, 2)
    client = api_as("gupei_admin")
    created = client.post("/api/v1/guardian-requests/", {
        "child": kid.pk, "kind": "delete", "requester_name": "王奶奶",
        "received_on": (timezone.localdate() - dt.timedelta(days=20)).isoformat()}, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["overdue"] is True and data["status"] == "open" and data["child_label"] == "孩子2"
    pk = data["id"]
    # Every read of a request is access-logged.
    with tenant_scope([tree.gupei.id]):
        views = AccessLog.objects.filter(object_type="privacy.guardianrequest", object_id=str(pk), action="view")
        before = views.count()
    assert client.get(f"/api/v1/guardian-requests/{pk}/").status_code == 200
    with tenant_scope([tree.gupei.id]):
        assert views.count() == before + 1
    closed = client.patch(f"/api/v1/guardian-requests/{pk}/", {"status": "done", "outcome": "已删除"}, format="json")
    assert closed.status_code == 200, closed.content
    child = _child(kid.pk, tree.gupei)
    assert child.purged_at is not None and child.name == "" and child.wellbeing_notes == ""
    with tenant_scope([tree.gupei.id]):
        req = GuardianRequest.objects.get(pk=pk)
    assert (req.status, req.child_label) == ("done", "孩子2")
    assert client.patch(f"/api/v1/guardian-requests/{pk}/", {"status": "refused", "outcome": "x"},
                        format="json").status_code == 400


def test_the_data_officer_through_the_api(api_as, tree):
    client = api_as("gupei_admin")
    today = timezone.localdate().isoformat()
    stranger = client.post("/api/v1/data-officers/", {"school": tree.gupei.pk, "user": tree.menzhuang_admin.pk,
                                                      "appointed_on": today}, format="json")
    assert stranger.status_code == 400
    response = client.post("/api/v1/data-officers/", {"school": tree.gupei.pk, "user": tree.gupei_admin.pk,
                                                      "phone": "13900001234", "appointed_on": today}, format="json")
    assert response.status_code == 201, response.content
    assert client.post("/api/v1/data-officers/", {"school": tree.gupei.pk, "name": "又一位",
                                                  "appointed_on": today}, format="json").status_code == 400
    changed = client.patch(f"/api/v1/data-officers/{response.json()['id']}/", {"phone": "13900005678"}, format="json")
    assert changed.status_code == 200 and changed.json()["user"] == tree.gupei_admin.pk
    with tenant_scope([tree.gupei.id]):
        assert DataOfficer.objects.get(school=tree.gupei).phone == "13900005678"
    assert api_as("gupei_teacher").get("/api/v1/data-officers/").json()["results"] == []
