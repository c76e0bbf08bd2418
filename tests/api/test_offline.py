"""The offline snapshot (GET /api/v1/offline/) and contact edits with their version (409 when stale)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from PIL import Image

from schools import services as ss
from schools.models import CareContact
from tenancy.scoping import tenant_scope
from tests.support.api import client_for

from .cases_schools import assign, child, semester, today
from .harness import SENSITIVE_KEYS, SENSITIVE_VALUES

SNAPSHOT = reverse("api:v1:offline")


def contact_url(pk):
    return reverse("api:v1:care-contacts-detail", args=[pk])


def test_the_snapshot_holds_the_teachers_own_children_and_nothing_sensitive(tree):
    semester(tree)
    mine, other = child(tree.gupei), child(tree.gupei)
    assign(tree, mine)
    with tenant_scope([tree.gupei.id]):
        contact = ss.care_contact_record(actor=tree.gupei_teacher, child_id=mine.id, kind="talk", happened_on=today(),
                                         notes="谈心")
    response = client_for(tree.gupei_teacher).get(SNAPSHOT)
    assert response.status_code == 200
    body = response.json()
    assert [c["name"] for c in body["children"]] == [mine.name]
    row = body["children"][0]
    assert set(row) == {"id", "school", "name", "class_name", "semester", "cells"}
    assert row["cells"]["talk"] == {"count": 1, "last": today().isoformat()}
    assert row["cells"]["home_visit"] == {"count": 0, "last": None}
    assert body["contacts"] == [{"id": contact.id, "school": tree.gupei.id, "child": mine.id, "kind": "talk",
                                 "happened_on": today().isoformat(), "notes": "谈心", "version": 1}]
    assert body["max_age_days"] >= 1 and body["todo"]["sections"]
    assert {"id": tree.gupei.id, "name": tree.gupei.name, "activities": False, "contacts": True} in body["schools"]
    text = response.content.decode()
    assert f'"{other.name}"' not in text
    for value in SENSITIVE_VALUES:
        assert value not in text
    for key in SENSITIVE_KEYS:
        assert f'"{key}"' not in text


def test_the_school_admins_phone_does_not_carry_the_whole_school(tree):
    semester(tree)
    child(tree.gupei)
    body = client_for(tree.gupei_admin).get(SNAPSHOT).json()
    assert body["children"] == [] and body["contacts"] == []


def test_a_stale_edit_is_409_with_the_stored_contact_and_writes_nothing(tree):
    semester(tree)
    kid = child(tree.gupei)
    assign(tree, kid)
    with tenant_scope([tree.gupei.id]):
        contact = ss.care_contact_record(actor=tree.gupei_teacher, child_id=kid.id, kind="talk", happened_on=today(),
                                         notes="原来")
    client = client_for(tree.gupei_teacher)
    first = client.patch(contact_url(contact.id), {"notes": "手机一", "version": 1}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["version"] == 2
    stale = client.patch(contact_url(contact.id), {"notes": "手机二", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["notes"] == "手机一" and stale.json()["current"]["version"] == 2
    assert stale.json()["detail"]
    with tenant_scope([tree.gupei.id]):
        stored = CareContact.objects.get(pk=contact.pk)
    assert (stored.notes, stored.version) == ("手机一", 2)
    # Chosen after seeing the stored version: applied on top of it.
    chosen = client.patch(contact_url(contact.id), {"notes": "手机二", "version": 2}, format="json")
    assert chosen.status_code == 200 and chosen.json()["version"] == 3
    # An edit without a version (the web form) still bumps it.
    plain = client.patch(contact_url(contact.id), {"notes": "网页"}, format="json")
    assert plain.status_code == 200 and plain.json()["version"] == 4


def test_the_service_worker_and_manifest_are_served_from_the_root(tree):
    client = Client()
    sw = client.get("/sw.js")
    assert sw.status_code == 200
    assert sw["Content-Type"].startswith("text/javascript")
    assert sw["Service-Worker-Allowed"] == "/"
    body = sw.content.decode()
    assert "/offline/tracker/" in body and "/static/offline/offline.js" in body
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["name"] == "留守儿童之家" and data["display"] == "standalone"
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    for icon in data["icons"]:
        path = finders.find(icon["src"].removeprefix(settings.STATIC_URL))
        assert path and Image.open(path).size == (int(icon["sizes"].split("x")[0]),) * 2
    # The offline pages hold no data: the same for everyone, in Chinese.
    page = client.get("/offline/")
    assert page.status_code == 200 and "需要网络" in page.content.decode()


def test_logging_out_tells_the_browser_to_clear_its_storage(tree):
    client = Client()
    client.force_login(tree.gupei_teacher)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
