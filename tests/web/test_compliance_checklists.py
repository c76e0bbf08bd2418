"""Checklist pages: list/detail, YAML upload (errors listed, nothing saved), download, publish,
new draft; and their isolation (district objects: version ids in the query string or form)."""
from __future__ import annotations

import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from compliance import services
from compliance.models import Checklist, ChecklistItem, ChecklistVersion
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tests.support.compliance import TEST_YAML, version  # noqa: F401  (fixture)
from tests.support.scopes import every_tenant


def _upload(client, text, name="checklist.yaml"):
    return client.post(reverse("compliance_checklist_upload"),
                       {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="application/x-yaml")})


def test_upload_with_errors_lists_them_and_saves_nothing(client, tree):
    bad = (TEST_YAML.replace("metric: test_has_admin", "metric: no_such_metric")
           .replace("code: T3", "code: T1").replace("total: 20", "total: 25"))
    client.force_login(tree.bureau_admin)
    response = _upload(client, bad)
    assert response.status_code == 400
    errors = response.context["upload_errors"]
    assert {(e["where"].split()[-1], e["field"]) for e in errors} >= {("T2", "metric"), ("T1", "code"),
                                                                      ("checklist", "total")}
    html = response.content.decode()
    assert "no_such_metric" in html and "T2" in html and "<code>metric</code>" in html
    with every_tenant():
        assert not Checklist.objects.exists() and not ChecklistVersion.objects.exists()
        assert not ChecklistItem.objects.exists()
    # Not YAML at all: a clear message, nothing saved either.
    response = _upload(client, "checklist: [unclosed")
    assert response.status_code == 400 and response.context["upload_errors"]
    with every_tenant():
        assert not ChecklistVersion.objects.exists()


def test_upload_publish_download_new_draft(client, tree):
    client.force_login(tree.bureau_admin)
    response = _upload(client, TEST_YAML)
    with every_tenant():
        draft = ChecklistVersion.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?version={draft.pk}")
    page = client.get(reverse("compliance_checklists"), {"version": draft.pk})
    assert page.status_code == 200 and "T1" in page.content.decode() and not page.context["selected_errors"]
    assert client.post(reverse("compliance_checklist_publish"), {"version": draft.pk}).status_code == 302
    with every_tenant():
        draft.refresh_from_db()
    assert draft.is_published
    download = client.get(reverse("compliance_checklist_download"), {"version": draft.pk})
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert yaml.safe_load(download.getvalue().decode()) == yaml.safe_load(services.checklist_export_yaml(version=draft))
    # Publishing again is refused with a message; a new draft is version 2.
    client.post(reverse("compliance_checklist_publish"), {"version": draft.pk})
    response = client.post(reverse("compliance_checklist_new_draft"), {"version": draft.pk})
    with every_tenant():
        new = ChecklistVersion.objects.get(number=2)
    assert new.status == "draft" and response["Location"].endswith(f"?version={new.pk}")


def test_inspector_reads_but_cannot_change(client, tree, version):
    client.force_login(tree.bureau_inspector)
    assert client.get(reverse("compliance_checklists"), {"version": version.pk}).status_code == 200
    assert _upload(client, TEST_YAML.replace("checklist: test", "checklist: other")).status_code == 403
    response = client.post(reverse("compliance_checklist_new_draft"), {"version": version.pk}, follow=True)
    with every_tenant():
        assert ChecklistVersion.objects.count() == 1
    assert any("cannot manage checklists" in str(m) or "无权" in str(m) for m in response.context["messages"])


def test_checklist_pages_isolation(client, tree, version):
    """Checklist versions are district objects: school staff get 403 (the pages are the bureau's),
    another district's bureau 404 for this district's version."""
    for username in ("gupei_admin", "gupei_township", "menzhuang_teacher"):
        client.force_login(getattr(tree, username))
        assert client.get(reverse("compliance_checklists")).status_code == 403, username
        assert client.get(reverse("compliance_checklist_download"), {"version": version.pk}).status_code == 403
    far_bureau = tenancy_services.user_create(username="far_bureau", password=None)
    tenancy_services.membership_grant(user=far_bureau, role=Role.BUREAU_ADMIN, district=tree.other_district)
    client.force_login(far_bureau)
    assert client.get(reverse("compliance_checklists"), {"version": version.pk}).status_code == 404
    assert client.get(reverse("compliance_checklist_download"), {"version": version.pk}).status_code == 404
    assert client.post(reverse("compliance_checklist_new_draft"), {"version": version.pk}).status_code == 404
    assert client.get(reverse("compliance_checklists"), {"version": "x"}).status_code == 404
    client.logout()
    assert client.get(reverse("compliance_checklists")).status_code == 302
