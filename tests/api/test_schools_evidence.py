"""Evidence uploads over the API (multipart): EXIF/GPS stripped, a corrupt image is a clear 400,
and who may upload where."""
from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from schools import services
from schools.models import Evidence
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for

from .cases_schools import in_scope, jpeg, today

LIST = reverse("api:v1:evidence-list")


def gps_jpeg() -> SimpleUploadedFile:
    img = Image.new("RGB", (80, 60), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (32.0, 46.0, 0.0), "E", (117.0, 59.0, 0.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(buf.getvalue())).getexif().get_ifd(0x8825)
    return SimpleUploadedFile("gps.jpg", buf.getvalue(), content_type="image/jpeg")


def count() -> int:
    with tenant_scope(system_school_ids()):
        return Evidence.objects.count()


def test_upload_strips_exif_and_gps(tree):
    activity = in_scope(tree.gupei, services.activity_create, actor=None, school=tree.gupei, date=today(),
                        kind="theme_activity", title="读书会")
    response = client_for(tree.gupei_clerk).post(
        LIST, {"school": tree.gupei.id, "activity": activity.id, "file": gps_jpeg(), "caption": "读书"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "photo" and body["activity"] == activity.id
    with tenant_scope([tree.gupei.id]):
        item = Evidence.objects.get(pk=body["id"])
    with default_storage.open(item.file.name) as fh:
        stored = Image.open(io.BytesIO(fh.read()))
        assert not stored.getexif(), dict(stored.getexif())
        assert stored.size == (60, 80)  # the orientation was applied before the tags were dropped


def test_corrupt_image_is_a_clear_400(tree):
    broken = jpeg(1).read()[:200]
    response = client_for(tree.gupei_admin).post(
        LIST, {"school": tree.gupei.id, "file": SimpleUploadedFile("x.jpg", broken, content_type="image/jpeg")})
    assert response.status_code == 400
    assert response.json()["file"][0]
    assert count() == 0


@pytest.mark.parametrize("role,want", [
    ("gupei_admin", 201), ("gupei_clerk", 201),
    ("gupei_teacher", 403), ("bureau_admin", 403), ("gupei_township", 403),
    ("menzhuang_admin", 400), ("nobody", 400), ("anonymous", 401),
])
def test_upload_isolation(tree, api_as, role, want):
    response = api_as(role).post(LIST, {"school": tree.gupei.id, "file": jpeg(7)})
    assert response.status_code == want, response.content
    assert count() == (1 if want == 201 else 0)


def test_rule_version_upload_and_status(tree):
    from .cases_schools import PDF

    client = client_for(tree.gupei_clerk)
    response = client.post(reverse("api:v1:rule-document-versions-list"), {
        "school": tree.gupei.id, "kind": "management", "adopted_on": today().isoformat(),
        "file": SimpleUploadedFile("m.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 201, response.content
    photo = client.post(reverse("api:v1:rule-document-versions-list"), {
        "school": tree.gupei.id, "kind": "management", "adopted_on": today().isoformat(), "file": jpeg(3)})
    assert photo.status_code == 400
    status = client.get(reverse("api:v1:rule-status-detail", args=[tree.gupei.id])).json()
    assert status["present"] == 1 and status["missing"] == 8
    assert {r["kind"] for r in status["documents"] if r["present"]} == {"management"}
    assert client_for(tree.menzhuang_admin).post(reverse("api:v1:rule-document-versions-list"), {
        "school": tree.gupei.id, "kind": "management", "adopted_on": today().isoformat(),
        "file": SimpleUploadedFile("m.pdf", PDF, content_type="application/pdf")}).status_code == 400


def test_evidence_list_query_count_does_not_grow(tree, django_assert_max_num_queries):
    from tests.support.api import queries_for

    client = client_for(tree.gupei_admin)
    seeds = iter(range(1000, 2000))

    def grow(n):
        for _ in range(n):
            in_scope(tree.gupei, services.evidence_upload, actor=None, school=tree.gupei,
                     uploaded_file=jpeg(next(seeds)))

    grow(2)
    small = queries_for(lambda: client.get(LIST, {"page_size": 200}))
    grow(8)
    with django_assert_max_num_queries(small):
        assert len(client.get(LIST, {"page_size": 200}).json()["results"]) == 10


def test_evidence_urls_point_at_the_scoped_view_not_public_storage(tree):
    """Photos of children are served only through the permission-checked view."""
    from django.test import Client

    from tests.support.api import client_for

    admin = client_for(tree.gupei_admin)
    items = admin.get("/api/v1/evidence/").json()["results"]
    if not items:
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (64, 48), "red").save(buf, "JPEG")
        buf.seek(0)
        buf.name = "p.jpg"
        created = admin.post("/api/v1/evidence/", {"school": tree.gupei.id, "file": buf}, format="multipart")
        assert created.status_code == 201, created.content
        items = [created.json()]
    url = items[0]["file_url"]
    assert url.startswith(f"/schools/{tree.gupei.id}/evidence/") and "/media/" not in url
    web = Client()
    web.force_login(tree.menzhuang_admin)
    assert web.get(url).status_code == 404
    web.force_login(tree.gupei_admin)
    assert web.get(url).status_code == 200
