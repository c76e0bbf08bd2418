"""Reused-evidence flags stay inside the viewer's reach: a school sees matches inside the school, a
township admin inside its subtree, the bureau across its district. Nothing of another school (its
name, id, evidence or record ids) reaches a school user, neither on the flags' list nor as the
evidence list's `reused` boolean, and the bureau's page shows each overseer only its own reach."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools import services
from schools.models import ReusedEvidenceFlag
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for
from tests.support.images import jpeg_bytes
from tests.support.schools import semester, today  # noqa: F401  (fixtures)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _activity(school, title, day):
    with tenant_scope([school.id]):
        return services.activity_create(actor=None, school=school, date=day, kind="theme_activity", title=title,
                                        text_record="记录")


def _upload(school, data, attach_to):
    with tenant_scope([school.id]):
        return services.evidence_upload(actor=None, school=school, attach_to=attach_to,
                                        uploaded_file=SimpleUploadedFile("p.jpg", data))


@pytest.fixture
def reuse(tree, semester, today):  # noqa: F811
    """Four flags: Gupei's photo again at Menzhuang (cross-school, outside any township), a village
    school's photo again at Gupei (cross-school inside Gupei's subtree), and one photo used for two
    activities inside Gupei and inside Menzhuang each."""
    r = {}
    g1, g2, g3 = (_activity(tree.gupei, f"古沛{i}", today) for i in range(3))
    m1, m2, m3 = (_activity(tree.menzhuang, f"门庄{i}", today) for i in range(3))
    v1 = _activity(tree.village_a, "村小", today)
    r["gupei_original"] = _upload(tree.gupei, jpeg_bytes(71), g1)
    r["menzhuang_copy"] = _upload(tree.menzhuang, jpeg_bytes(71), m1)
    r["village_original"] = _upload(tree.village_a, jpeg_bytes(72), v1)
    r["gupei_copy_of_village"] = _upload(tree.gupei, jpeg_bytes(72), g2)
    _upload(tree.gupei, jpeg_bytes(73), g2)
    r["gupei_again"] = _upload(tree.gupei, jpeg_bytes(73), g3)
    _upload(tree.menzhuang, jpeg_bytes(74), m2)
    r["menzhuang_again"] = _upload(tree.menzhuang, jpeg_bytes(74), m3)
    with tenant_scope(system_school_ids()):
        flag = {e: ReusedEvidenceFlag.objects.get(evidence=r[e]) for e in
                ("menzhuang_copy", "gupei_copy_of_village", "gupei_again", "menzhuang_again")}
        r["flags"] = flag
        r["gupei_ids"] = {r["gupei_original"].id, r["gupei_copy_of_village"].id, g1.id, g2.id, g3.id,
                          tree.gupei.id}
    r["cross"], r["subtree"] = flag["menzhuang_copy"], flag["gupei_copy_of_village"]
    r["gupei_inside"], r["menzhuang_inside"] = flag["gupei_again"], flag["menzhuang_again"]
    return r


def _flag_ids(client) -> set[int]:
    response = client.get(reverse("api:v1:evidence-reuse-flags-list"), {"page_size": 200})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("role, visible", [
    ("menzhuang_admin", {"menzhuang_inside"}),
    ("gupei_admin", {"gupei_inside"}),
    ("gupei_clerk", {"gupei_inside"}),
    ("gupei_teacher", set()),
    ("menzhuang_teacher", set()),
    ("gupei_township", {"gupei_inside", "subtree"}),
    ("bureau_admin", {"gupei_inside", "subtree", "cross", "menzhuang_inside"}),
    ("bureau_inspector", {"gupei_inside", "subtree", "cross", "menzhuang_inside"}),
])
def test_flags_list_and_detail_stay_inside_the_reach(tree, reuse, role, visible):
    client = client_for(getattr(tree, role))
    assert _flag_ids(client) == {reuse[label].id for label in visible}
    for label in ("cross", "subtree", "gupei_inside", "menzhuang_inside"):
        response = client.get(reverse("api:v1:evidence-reuse-flags-detail", args=[reuse[label].id]))
        assert response.status_code == (200 if label in visible else 404), (role, label)


def test_menzhuang_learns_nothing_of_gupei(tree, reuse):
    """The probe's finding: Menzhuang's admin listed Gupei's school, name, evidence id and record id."""
    client = client_for(tree.menzhuang_admin)
    for query in ({}, {"cross_school": "true"}, {"reason": "sha256"}):
        body = client.get(reverse("api:v1:evidence-reuse-flags-list"), {"page_size": 200, **query}).json()
        text = json.dumps(body, ensure_ascii=False)
        assert "古沛" not in text
        for row in body["results"]:
            assert row["school"] == row["matched_school"] == tree.menzhuang.id
            assert row["cross_school"] is False
            assert row["matched_evidence_id"] not in reuse["gupei_ids"]
    # The evidence list's `reused` flag is no oracle either: Menzhuang's copy of Gupei's photo is not
    # "reused" to Menzhuang, its own photo used twice is.
    rows = client.get(reverse("api:v1:evidence-list"), {"page_size": 200}).json()["results"]
    reused = {row["id"]: row["reused"] for row in rows}
    assert reused[reuse["menzhuang_copy"].id] is False
    assert reused[reuse["menzhuang_again"].id] is True
    only = client.get(reverse("api:v1:evidence-list"), {"reused": "true", "page_size": 200}).json()["results"]
    assert {row["id"] for row in only} == {reuse["menzhuang_again"].id}


def test_overseers_see_reused_evidence_of_their_reach(tree, reuse):
    def reused(user):
        rows = client_for(user).get(reverse("api:v1:evidence-list"), {"page_size": 200}).json()["results"]
        return {row["id"]: row["reused"] for row in rows}

    bureau = reused(tree.bureau_inspector)
    assert bureau[reuse["menzhuang_copy"].id] is True and bureau[reuse["gupei_copy_of_village"].id] is True
    township = reused(tree.gupei_township)
    assert reuse["menzhuang_copy"].id not in township
    assert township[reuse["gupei_copy_of_village"].id] is True and township[reuse["gupei_again"].id] is True
    gupei = reused(tree.gupei_admin)
    assert gupei[reuse["gupei_copy_of_village"].id] is False, "the village school is not Gupei's own"
    assert gupei[reuse["gupei_again"].id] is True


def test_reuse_page_per_role(client, tree, reuse):
    url = reverse("reuse_flags")
    for role in ("menzhuang_admin", "menzhuang_teacher", "gupei_clerk", "gupei_admin", "gupei_teacher"):
        client.force_login(getattr(tree, role))
        response = client.get(url, **EN)
        assert response.status_code == 403, role
        assert "古沛" not in response.content.decode() and "门庄" not in response.content.decode()
    client.force_login(tree.gupei_township)
    html = client.get(url, **EN).content.decode()
    assert "also used by 古沛村小A" in html and "also used by another record of the same school" in html
    assert "门庄" not in html
    client.force_login(tree.bureau_admin)
    html = client.get(url, **EN).content.decode()
    assert "also used by 古沛中心小学" in html and "also used by 古沛村小A" in html and "门庄小学" in html


@pytest.fixture
def demo(db, settings, tmp_path):
    from schools import demo as schools_demo
    from tenancy import demo as tenancy_demo

    settings.MEDIA_ROOT = str(tmp_path)
    ctx = {}
    tenancy_demo.seed(ctx)
    schools_demo.seed(ctx)
    return ctx


def test_demo_menzhuang_sees_no_trace_of_gupei(demo):
    """On the demo district Menzhuang reuses a Gupei photo and copies a Gupei rule document."""
    users, gupei = demo["users"], demo["schools"]["gupei"]
    with tenant_scope(system_school_ids()):
        assert ReusedEvidenceFlag.objects.filter(school=demo["schools"]["menzhuang"], matched_school=gupei).exists()
    for role in ("menzhuang_admin", "menzhuang_teacher"):
        client = client_for(users[role])
        body = client.get(reverse("api:v1:evidence-reuse-flags-list"), {"page_size": 200}).json()
        assert "古沛" not in json.dumps(body, ensure_ascii=False)
        assert all(row["matched_school"] != gupei.id for row in body["results"]), role
        rows = client.get(reverse("api:v1:evidence-list"), {"reused": "true", "page_size": 200}).json()["results"]
        assert rows == [], role
    bureau = client_for(users["bureau_inspector"]).get(
        reverse("api:v1:evidence-reuse-flags-list"), {"cross_school": "true", "page_size": 200}).json()
    assert {row["matched_school_name"] for row in bureau["results"]} == {"古沛中心小学"}
