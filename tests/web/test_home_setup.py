"""The home setup page: the nine rule documents present/missing, rule versions checked by content,
and who may change what."""
from __future__ import annotations

import datetime as dt
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools import services
from schools.models import Equipment, RuleDocumentVersion, RuleKind
from tenancy.scoping import tenant_scope
from tests.support.documents import pdf_bytes
from tests.support.images import jpeg_bytes

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PDF = pdf_bytes("rule document")


def _rule(school, kind, data=PDF, day=dt.date(2025, 9, 1)):
    with tenant_scope([school.id]):
        return services.rule_document_version_add(actor=None, school=school, kind=kind,
                                                  uploaded_file=SimpleUploadedFile("r.pdf", data), adopted_on=day)


def _states(html: str) -> dict[str, str]:
    """{rule kind: "present" | "missing"} as the page marks them."""
    return {kind: state for state, kind in re.findall(r'<li class="(present|missing)" data-rule="([a-z_]+)"', html)}


def test_nine_rules_show_which_are_present_and_which_missing(client, tree):
    _rule(tree.gupei, RuleKind.ANNUAL_PLAN)
    _rule(tree.gupei, RuleKind.PROXY_PARENT)
    _rule(tree.menzhuang, RuleKind.MANAGEMENT)  # another school's document counts for nothing here
    client.force_login(tree.gupei_teacher)  # teachers read
    html = client.get(reverse("home_setup", args=[tree.gupei.pk]), **EN).content.decode()
    states = _states(html)
    assert len(states) == 9 and set(states) == set(RuleKind.values)
    assert {k for k, v in states.items() if v == "present"} == {"annual_plan", "proxy_parent"}
    assert states["management"] == "missing"
    assert "2 of 9 present" in html and "7 missing" in html
    assert "Upload a rule document" not in html  # no write controls for a teacher


def test_clerk_uploads_versions_and_a_non_document_is_refused(client, tree):
    client.force_login(tree.gupei_clerk)
    url = reverse("home_rule_detail", args=[tree.gupei.pk, RuleKind.ANNUAL_PLAN])
    # A photo renamed .pdf is judged by content.
    response = client.post(url, {"adopted_on": "2025-09-01",
                                 "uploaded_file": SimpleUploadedFile("plan.pdf", jpeg_bytes(3))}, **EN)
    assert response.status_code == 200 and "A rule document must be a PDF, Word or Excel file." in response.content.decode()
    with tenant_scope([tree.gupei.id]):
        assert not RuleDocumentVersion.objects.exists()
    for day in ("2025-09-01", "2026-02-20"):
        response = client.post(url, {"adopted_on": day, "uploaded_file": SimpleUploadedFile("plan.pdf", pdf_bytes(f"plan {day}"))})
        assert response.status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert list(RuleDocumentVersion.objects.order_by("number").values_list("number", "adopted_on")) == [
            (1, dt.date(2025, 9, 1)), (2, dt.date(2026, 2, 20))]
    html = client.get(url, **EN).content.decode()
    assert "Version 2" in html and "Version 1" in html and "/evidence/" in html


def test_unknown_rule_kind_is_404(client, tree):
    client.force_login(tree.gupei_admin)
    assert client.get(reverse("home_rule_detail", args=[tree.gupei.pk, "not_a_rule"])).status_code == 404


def test_site_equipment_leadership_through_the_page(client, tree):
    client.force_login(tree.gupei_clerk)
    url = reverse("home_setup", args=[tree.gupei.pk])
    assert client.post(url, {"form": "site", "site-room": "二楼活动室", "site-opened_on": "2019-09-01",
                             "site-area_m2": "72.5", "site-opening_hours": "周一至周五 15:30-17:00"}).status_code == 302
    assert client.post(url, {"form": "equipment", "equipment-kind": "family_phone", "equipment-quantity": "1",
                             "equipment-acquired_on": "2020-03-01"}).status_code == 302
    assert client.post(url, {"form": "leader", "leader-person_name": "王校长", "leader-title": "组长",
                             "leader-is_leader": "on"}).status_code == 302
    bad = client.post(url, {"form": "equipment", "equipment-kind": "tv", "equipment-quantity": "0",
                            "equipment-acquired_on": "2020-03-01"})
    assert bad.status_code == 200
    html = client.get(url).content.decode()
    assert "二楼活动室" in html and "72.5" in html and "王校长" in html
    with tenant_scope([tree.gupei.id]):
        item = Equipment.objects.get()
    assert item.kind == "family_phone"
    edit = reverse("home_equipment_edit", args=[tree.gupei.pk, item.pk])
    assert client.post(edit, {"kind": "family_phone", "quantity": "2", "acquired_on": "2020-03-01"}).status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert Equipment.objects.get().quantity == 2
    assert client.post(edit, {"action": "delete"}).status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert not Equipment.objects.exists()


def test_teacher_cannot_change_the_home(client, tree):
    client.force_login(tree.gupei_teacher)
    response = client.post(reverse("home_setup", args=[tree.gupei.pk]),
                           {"form": "equipment", "equipment-kind": "tv", "equipment-quantity": "1",
                            "equipment-acquired_on": "2020-03-01"})
    assert response.status_code == 403
    with tenant_scope([tree.gupei.id]):
        assert not Equipment.objects.exists()
