"""A school's reporting pages: the calendar, the submission page, the narrative, submitting,
the lock, the package download and the compile progress."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from submissions import services
from submissions.models import Narrative, Status, SubmissionEvent
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope

from .pages_submissions import compile_with_files, fresh_report, reload, submission_of


@pytest.fixture
def en(client):
    """Pages in English, so the assertions read the msgids (the UI default is zh-hans)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def _follow_messages(client, response):
    return _messages(client.get(response["Location"]))


def test_calendar_lists_the_schools_submissions_with_due_dates(en, tree):
    report = fresh_report(tree, [tree.gupei, tree.menzhuang])
    en.force_login(tree.gupei_clerk)
    response = en.get(reverse("school_submissions", kwargs={"pk": tree.gupei.pk}))
    assert response.status_code == 200
    body = response.content.decode()
    p1, p2 = submission_of(report, tree.gupei, 1), submission_of(report, tree.gupei, 2)
    for sub in (p1, p2):
        assert sub.period.due_on.isoformat() in body
        assert reverse("submission_detail", kwargs={"pk": sub.pk}) in body
    # Period 1 is past its due date and not sent: shown as overdue (not yet locked).
    assert "Overdue" in body and "Locked" not in body
    # Menzhuang's submissions are not on Gupei's calendar.
    other = submission_of(report, tree.menzhuang, 1)
    assert reverse("submission_detail", kwargs={"pk": other.pk}) not in body


def test_calendar_shows_a_teacher_dates_without_links(en, tree):
    report = fresh_report(tree, [tree.gupei])
    en.force_login(tree.gupei_teacher)
    body = en.get(reverse("school_submissions", kwargs={"pk": tree.gupei.pk})).content.decode()
    sub = submission_of(report, tree.gupei, 1)
    assert sub.period.due_on.isoformat() in body
    assert reverse("submission_detail", kwargs={"pk": sub.pk}) not in body


def test_calendar_marks_a_locked_submission(en, tree):
    fresh_report(tree, [tree.gupei], days_ago=60)  # period 1 ended 47 days ago: locked
    en.force_login(tree.gupei_clerk)
    body = en.get(reverse("school_submissions", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert "Locked" in body


def test_narrative_edit_saves_and_is_used_by_the_package_and_the_bureau(en, tree):
    report = fresh_report(tree, [tree.gupei])
    sub = submission_of(report, tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    url = reverse("submission_narrative", kwargs={"pk": sub.pk})
    form = en.get(url)
    assert form.status_code == 200
    body = form.content.decode()
    for key in ("intro", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "closing"):
        assert f'name="{key}"' in body
    assert "一、提高认识，高度重视" in body and "七、材料积累与宣传" in body
    response = en.post(url, {"s1": "  我校成立了领导小组。<b>粗体</b>\n第二段。 ", "s7": "建立档案。"})
    assert response.status_code == 302 and response["Location"] == reverse("submission_detail", kwargs={"pk": sub.pk})
    with tenant_scope([tree.gupei.id]):
        narrative = Narrative.objects.get(submission=sub)
        assert narrative.sections == {"s1": "我校成立了领导小组。<b>粗体</b>\n第二段。", "s7": "建立档案。"}
        assert SubmissionEvent.objects.filter(submission=sub, action="narrative", actor=tree.gupei_clerk).exists()
    # Compiled from this narrative, then submitted through the page.
    version = compile_with_files(sub, tree.gupei_clerk)
    assert version.narrative_digest == narrative.digest
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert "我校成立了领导小组。&lt;b&gt;粗体&lt;/b&gt;" in detail  # shown, escaped
    response = en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    assert "Submitted to the bureau." in _follow_messages(en, response)
    sub = reload(sub)
    assert sub.status == Status.SUBMITTED
    # The bureau reads the same text on its review screen.
    en.force_login(tree.bureau_admin)
    review = en.get(reverse("submission_review", kwargs={"pk": sub.pk})).content.decode()
    assert "建立档案。" in review and "七、材料积累与宣传" in review


def test_a_narrative_edited_after_the_compile_blocks_submitting(en, tree):
    report = fresh_report(tree, [tree.gupei])
    sub = submission_of(report, tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    en.post(reverse("submission_narrative", kwargs={"pk": sub.pk}), {"s1": "第一稿。"})
    compile_with_files(sub, tree.gupei_clerk)
    en.post(reverse("submission_narrative", kwargs={"pk": sub.pk}), {"s1": "第二稿。"})
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert "The narrative changed after the last compile" in detail
    response = en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    assert any("Compile again before submitting" in m for m in _follow_messages(en, response))
    sub = reload(sub)
    assert sub.status == Status.COMPILED


def test_narrative_too_long_is_refused_and_nothing_is_saved(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    response = en.post(reverse("submission_narrative", kwargs={"pk": sub.pk}), {"s1": "字" * 5001})
    assert response.status_code == 200 and response.context["form"].errors["s1"]
    with tenant_scope([tree.gupei.id]):
        assert not Narrative.objects.filter(submission=sub).exists()


def test_submit_when_locked_says_ask_the_bureau_and_changes_nothing(en, tree):
    report = fresh_report(tree, [tree.gupei], days_ago=60)
    sub = submission_of(report, tree.gupei, 1)
    compile_with_files(sub, tree.gupei_clerk)
    with tenant_scope([tree.gupei.id]):
        events_before = SubmissionEvent.objects.filter(submission=sub).count()
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert "Ask the bureau to unlock it before submitting." in detail
    response = en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    assert response.status_code == 302
    shown = _follow_messages(en, response)
    assert any("Ask the bureau to unlock it before submitting." in m for m in shown), shown
    sub = reload(sub)
    assert sub.status == Status.COMPILED and sub.timeliness == "" and sub.submitted_at is None
    with tenant_scope([tree.gupei.id]):
        assert SubmissionEvent.objects.filter(submission=sub).count() == events_before

    # The bureau unlocks it with a date on the review screen; then the clerk can submit (late).
    en.force_login(tree.bureau_admin)
    review = en.get(reverse("submission_review", kwargs={"pk": sub.pk})).content.decode()
    assert "Locked since" in review
    until = timezone.localdate() + timedelta(days=3)
    response = en.post(reverse("submission_unlock", kwargs={"pk": sub.pk}), {"until": until.isoformat()})
    assert f"Unlocked until {until.isoformat()}." in _follow_messages(en, response)
    en.force_login(tree.gupei_clerk)
    en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    sub = reload(sub)
    assert sub.status == Status.SUBMITTED and sub.timeliness == "late"


def test_clerk_submits_teacher_cannot(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    compile_with_files(sub, tree.gupei_clerk)
    en.force_login(tree.gupei_teacher)
    assert en.post(reverse("submission_submit", kwargs={"pk": sub.pk})).status_code == 403
    assert en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).status_code == 403
    sub = reload(sub)
    assert sub.status == Status.COMPILED
    en.force_login(tree.gupei_clerk)
    en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    sub = reload(sub)
    assert sub.status == Status.SUBMITTED and sub.submitted_by == tree.gupei_clerk and sub.timeliness == "on_time"


def test_submit_before_compiling_is_refused_with_a_message(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    response = en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    assert "Compile the package before submitting." in _follow_messages(en, response)
    sub = reload(sub)
    assert sub.status == Status.OPEN


def test_package_download_streams_the_file_and_logs_it(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei, tree.menzhuang]), tree.gupei, 2)
    version = compile_with_files(sub, tree.gupei_clerk, content=b"workbook-bytes")
    url = reverse("submission_package_download", kwargs={"pk": sub.pk, "version": version.version, "kind": "xlsx"})
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert url in detail and "/media/" not in detail  # through the scoped view, never a public URL
    response = en.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"workbook-bytes"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    with tenant_scope([tree.gupei.id]):
        assert AccessLog.objects.filter(user=tree.gupei_clerk, action="export", object_id=str(version.pk)).exists()
    # No DOCX in this version, a missing version and another school: 404.
    assert en.get(url.replace("/xlsx/", "/docx/")).status_code == 404
    assert en.get(url.replace("/v1/", "/v9/")).status_code == 404
    en.force_login(tree.menzhuang_admin)
    assert en.get(url).status_code == 404
    # The bureau downloads it too.
    en.force_login(tree.bureau_admin)
    assert en.get(url).status_code == 200


def test_compile_button_degrades_until_the_compile_service_exists(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    if getattr(services, "submission_compile_request", None) is None:
        assert "Compiling is not available yet." in detail
        response = en.post(reverse("submission_compile", kwargs={"pk": sub.pk}))
        assert "Compiling is not available yet." in _follow_messages(en, response)
    else:
        assert reverse("submission_compile", kwargs={"pk": sub.pk}) in detail


def test_compile_progress_is_polled_from_the_status_view(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 2)
    en.force_login(tree.gupei_clerk)
    url = reverse("submission_status", kwargs={"pk": sub.pk})
    assert en.get(url).json()["version"] is None
    with tenant_scope([tree.gupei.id]):
        version = services.package_version_start(submission=sub, actor=tree.gupei_clerk)
        services.package_version_progress(version=version, progress=40, note="contacts")
    data = en.get(url).json()
    assert data["version"] == 1 and data["progress"] == 40 and data["state"] == "running" and not data["finished"]
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert f'data-status-url="{url}"' in detail and 'value="40"' in detail
    assert "submissions/progress.js" in detail and "<script>" not in detail  # no inline script
    with tenant_scope([tree.gupei.id]):
        services.package_version_complete(version=version)
    assert en.get(url).json()["finished"] is True
