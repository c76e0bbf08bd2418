"""Assessments in the UI: create, lock with a confirm step, snapshots, manual scores and their audit."""
from __future__ import annotations

from django.urls import reverse

from compliance.models import Assessment, ManualScore, Snapshot
from tenancy.scoping import district_scope, tenant_scope
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)


def test_bureau_admin_creates_an_assessment(client, tree, version):
    client.force_login(tree.bureau_admin)
    response = client.post(reverse("compliance_assessment_new"), {
        "checklist_version": version.pk, "title": "2026春考核", "semester_label": "2026年春季学期",
        "semester_start": "2026-02-01", "semester_end": "2026-07-15", "root_school": tree.gupei.pk})
    with district_scope(tree.district):
        created = Assessment.objects.get(title="2026春考核")
    assert response.status_code == 302 and response["Location"] == reverse("compliance_dashboard",
                                                                           kwargs={"pk": created.pk})
    assert created.root_school == tree.gupei
    bad = client.post(reverse("compliance_assessment_new"), {
        "checklist_version": version.pk, "title": "x", "semester_label": "x",
        "semester_start": "2026-07-01", "semester_end": "2026-02-01"})
    assert bad.status_code == 200 and bad.context["form"].errors["semester_end"]
    for username in ("bureau_inspector", "gupei_township", "gupei_admin"):
        client.force_login(getattr(tree, username))
        assert client.get(reverse("compliance_assessment_new")).status_code == 403


def test_snapshot_now(client, tree, assessment):
    client.force_login(tree.bureau_admin)
    response = client.post(reverse("compliance_snapshot_take", kwargs={"pk": assessment.pk}))
    assert response.status_code == 302
    with district_scope(tree.district):
        assert Snapshot.objects.filter(assessment=assessment, kind="manual").count() == 1
    client.force_login(tree.gupei_township)  # an overseer, but snapshots are the bureau's
    client.post(reverse("compliance_snapshot_take", kwargs={"pk": assessment.pk}))
    with district_scope(tree.district):
        assert Snapshot.objects.filter(assessment=assessment).count() == 1


def test_manual_score_form_and_audit_trail(client, tree, assessment):
    url = reverse("compliance_item", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk, "code": "M1"})
    post = reverse("compliance_manual_score", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk, "code": "M1"})
    client.force_login(tree.bureau_inspector)
    assert client.get(url).context["can_score"] is True
    # Out of range: the form says so, nothing is saved.
    response = client.post(post, {"score": "5", "comment": "x"})
    assert response.status_code == 400 and response.context["form"].errors["score"]
    response = client.post(post, {"score": "3", "comment": "周三未开放", "evidence_ids": "12, 15"})
    assert response.status_code == 302
    client.force_login(tree.bureau_admin)
    client.post(post, {"score": "4", "comment": "复查已开放"})
    page = client.get(url)
    history = page.context["data"]["history"]
    assert [(h["changed_by"], str(h["new_score"])) for h in history] == [("bureau_inspector", "3.00"),
                                                                          ("bureau_admin", "4.00")]
    html = page.content.decode()
    assert "周三未开放" in html and "复查已开放" in html and "12, 15" in html
    # The school itself sees the trail but has no form.
    client.force_login(tree.gupei_admin)
    page = client.get(url)
    assert page.context["can_score"] is False and "复查已开放" in page.content.decode()
    client.post(post, {"score": "0"})
    with tenant_scope([tree.gupei.id]):
        assert ManualScore.objects.get(assessment=assessment, school=tree.gupei).score == 4


def test_lock_needs_confirmation_then_edits_are_refused(client, tree, assessment):
    lock = reverse("compliance_assessment_lock", kwargs={"pk": assessment.pk})
    client.force_login(tree.bureau_admin)
    assert client.get(lock).status_code == 200
    response = client.post(lock, {})
    assert response.status_code == 400 and response.context["form"].errors["confirm"]
    with district_scope(tree.district):
        assessment.refresh_from_db()
    assert not assessment.is_locked
    assert client.post(lock, {"confirm": "on"}).status_code == 302
    with district_scope(tree.district):
        assessment.refresh_from_db()
        assert assessment.is_locked and Snapshot.objects.filter(assessment=assessment, kind="lock").exists()
    # After the lock: a score is refused with a clear message, nothing written.
    post = reverse("compliance_manual_score", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk, "code": "M1"})
    response = client.post(post, {"score": "2"}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "locked" in text or "锁定" in text
    with tenant_scope([tree.gupei.id]):
        assert not ManualScore.objects.filter(assessment=assessment).exists()
    # The item page no longer offers the form; snapshots are refused too.
    item = client.get(reverse("compliance_item", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk,
                                                         "code": "M1"}))
    assert item.context["can_score"] is False
    response = client.post(reverse("compliance_snapshot_take", kwargs={"pk": assessment.pk}), follow=True)
    assert any("locked" in str(m) or "锁定" in str(m) for m in response.context["messages"])
    with district_scope(tree.district):
        assert Snapshot.objects.filter(assessment=assessment).count() == 1
    assert client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk})).status_code == 200
