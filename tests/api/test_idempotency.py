"""One request, one record: every create endpoint of the API honours an Idempotency-Key header
(api.base.ScopedViewSet), so a client that sends its create again gets the first result and
nothing is written twice; the same key for another body is refused."""
from __future__ import annotations

import uuid

from django.urls import reverse

from schools.models import CareContact, Child
from tenancy.models import IdempotencyKey
from tenancy.scoping import tenant_scope
from tests.support.api import client_for

from .cases_schools import child, semester, today

CHILDREN = reverse("api:v1:children-list")
CONTACTS = reverse("api:v1:care-contacts-list")


def new_child(tree, **extra):
    return {"school": tree.gupei.id, "name": "新同学", "gender": "male", "grade": 3, "class_name": "三(1)班",
            "left_behind_kind": "both", **extra}


def count(model, school):
    with tenant_scope([school.id]):
        return model.objects.filter(school=school).count()


def test_the_same_key_twice_creates_one_child_and_answers_with_the_first(tree):
    client = client_for(tree.gupei_admin)
    key = str(uuid.uuid4())
    first = client.post(CHILDREN, new_child(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(CHILDREN, new_child(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.json()
    assert again.status_code == 201, again.json()
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert count(Child, tree.gupei) == 1


def test_without_a_key_each_create_is_its_own(tree):
    client = client_for(tree.gupei_admin)
    assert client.post(CHILDREN, new_child(tree), format="json").status_code == 201
    assert client.post(CHILDREN, new_child(tree, name="另一个"), format="json").status_code == 201
    assert count(Child, tree.gupei) == 2


def test_the_same_key_for_another_body_is_refused_and_writes_nothing(tree):
    client = client_for(tree.gupei_admin)
    key = str(uuid.uuid4())
    assert client.post(CHILDREN, new_child(tree), format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    other = client.post(CHILDREN, new_child(tree, name="别人"), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 422, other.json()
    assert "Idempotency-Key" in other.json()["detail"] or "请求" in other.json()["detail"]
    assert count(Child, tree.gupei) == 1


def test_a_refused_create_leaves_the_key_free_for_the_corrected_request(tree):
    client = client_for(tree.gupei_admin)
    key = str(uuid.uuid4())
    bad = client.post(CHILDREN, new_child(tree, grade=12), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert bad.status_code == 400
    good = client.post(CHILDREN, new_child(tree, grade=3, name="改好了"), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert good.status_code == 201 and count(Child, tree.gupei) == 1


def test_keys_are_per_user(tree):
    key = str(uuid.uuid4())
    assert client_for(tree.gupei_admin).post(CHILDREN, new_child(tree), format="json",
                                             HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    other = client_for(tree.menzhuang_admin).post(CHILDREN, new_child(tree, school=tree.menzhuang.id),
                                                  format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 201 and count(Child, tree.menzhuang) == 1


def test_a_malformed_key_is_a_400(tree):
    response = client_for(tree.gupei_admin).post(CHILDREN, new_child(tree), format="json",
                                                 HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 400 and count(Child, tree.gupei) == 0


def test_every_create_endpoint_gets_it_a_contact_too(tree):
    kid = child(tree.gupei)
    semester(tree)
    client = client_for(tree.gupei_admin)
    key = str(uuid.uuid4())
    body = {"child": kid.id, "kind": "home_visit", "happened_on": today().isoformat()}
    first = client.post(CONTACTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(CONTACTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.json()
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert count(CareContact, tree.gupei) == 1


def test_another_schools_user_cannot_see_the_key_rows(tree):
    key = str(uuid.uuid4())
    client_for(tree.gupei_admin).post(CHILDREN, new_child(tree), format="json", HTTP_IDEMPOTENCY_KEY=key)
    with tenant_scope([tree.menzhuang.id]):
        assert not IdempotencyKey.objects.exists()
    with tenant_scope([tree.gupei.id]):
        assert IdempotencyKey.objects.filter(key=key).count() == 1
