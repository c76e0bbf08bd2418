"""Exports in the UI: run now (a job and its polled JSON status), the beat schedule, history and
downloads, and who may see them."""
from __future__ import annotations

import io

import openpyxl
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from compliance.exports import run_export
from compliance.models import ComplianceExport
from compliance.scoring import assessment_scores
from compliance.services import _export_task_name
from tenancy.scoping import district_scope
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)


def test_run_now_creates_a_job_and_status_reports_progress(client, tree, assessment, django_capture_on_commit_callbacks):
    client.force_login(tree.bureau_admin)
    # The worker is not started here: the queued task is captured, not sent.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("compliance_export_run", kwargs={"pk": assessment.pk}))
    assert response.status_code == 302 and len(callbacks) == 1
    with district_scope(tree.district):
        job = ComplianceExport.objects.get(assessment=assessment)
    assert (job.status, job.requested_by, job.scheduled) == ("queued", tree.bureau_admin, False)
    status_url = reverse("compliance_export_status", kwargs={"pk": assessment.pk, "job_pk": job.pk})

    page = client.get(reverse("compliance_exports", kwargs={"pk": assessment.pk}))
    html = page.content.decode()
    assert f'data-status-url="{status_url}"' in html and "<progress" in html
    assert "compliance/exports.js" in html and 'http-equiv="refresh"' in html  # works without JS too

    assert client.get(status_url).json() == {
        "id": job.pk, "status": "queued", "status_display": job.get_status_display(), "progress": 0, "error": "",
        "download_url": None, "finished_at": None}
    with district_scope(tree.district):
        ComplianceExport.objects.filter(pk=job.pk).update(status="running", progress=40)
    data = client.get(status_url).json()
    assert (data["status"], data["progress"], data["download_url"]) == ("running", 40, None)
    with district_scope(tree.district):
        ComplianceExport.objects.filter(pk=job.pk).update(status="queued", progress=0)

    assert run_export(job.id) == "done"
    data = client.get(status_url).json()
    assert (data["status"], data["progress"]) == ("done", 100)
    download = client.get(data["download_url"])
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    scores = assessment_scores(assessment, use_cache=False)
    assert [r[1].value for r in wb["Summary"].iter_rows(min_row=6) if r[1].value] == [
        scores["schools"][sid]["name"] for sid in scores["order"]]
    # Done: no more polling or refreshing.
    html = client.get(reverse("compliance_exports", kwargs={"pk": assessment.pk})).content.decode()
    assert "data-status-url" not in html and 'http-equiv="refresh"' not in html
    assert data["download_url"] in html


def test_schedule_create_and_edit_stores_a_periodic_task(client, tree, assessment):
    url = reverse("compliance_exports", kwargs={"pk": assessment.pk})
    client.force_login(tree.bureau_admin)
    assert client.post(url, {"day_of_week": "1", "at": "07:00", "enabled": "on"}).status_code == 302
    task = PeriodicTask.objects.get(name=_export_task_name(assessment.pk))
    c = task.crontab
    assert (c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year) == ("0", "7", "1", "*", "*")
    assert task.enabled and task.task == "compliance.scheduled_export"
    # The form shows the stored schedule; editing updates the same task.
    assert client.get(url).context["form"].initial["day_of_week"] == "1"
    assert client.post(url, {"day_of_week": "3", "at": "18:30"}).status_code == 302
    task = PeriodicTask.objects.get(name=_export_task_name(assessment.pk))
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week, task.enabled) == ("30", "18", "3", False)
    assert PeriodicTask.objects.filter(name__startswith="compliance-export-").count() == 1
    # Bad input: the form refuses it, the task is unchanged.
    response = client.post(url, {"day_of_week": "9", "at": "25:00"})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"day_of_week", "at"}
    assert PeriodicTask.objects.get(name=_export_task_name(assessment.pk)).crontab.hour == "18"


def test_who_may_see_and_run_exports(client, tree, assessment):
    with district_scope(tree.district):
        job = ComplianceExport.objects.create(assessment=assessment, status="running", progress=10)
    url = reverse("compliance_exports", kwargs={"pk": assessment.pk})
    status_url = reverse("compliance_export_status", kwargs={"pk": assessment.pk, "job_pk": job.pk})
    # The inspector reads the history but cannot run or schedule.
    client.force_login(tree.bureau_inspector)
    page = client.get(url)
    assert page.status_code == 200 and page.context["can_manage"] is False
    assert client.get(status_url).status_code == 200
    client.post(reverse("compliance_export_run", kwargs={"pk": assessment.pk}))
    client.post(url, {"day_of_week": "1", "at": "07:00"})
    with district_scope(tree.district):
        assert ComplianceExport.objects.count() == 1
    assert not PeriodicTask.objects.filter(name=_export_task_name(assessment.pk)).exists()
    # A township admin does not oversee every school of a district-wide assessment: 403.
    for username in ("gupei_township", "gupei_admin", "menzhuang_teacher"):
        client.force_login(getattr(tree, username))
        assert client.get(url).status_code == 403, username
        assert client.get(status_url).status_code == 403, username
    # Another assessment's job id under this assessment: 404.
    with district_scope(tree.district):
        other = ComplianceExport.objects.create(assessment=assessment, status="queued")
        ComplianceExport.objects.filter(pk=other.pk).delete()
    client.force_login(tree.bureau_admin)
    assert client.get(reverse("compliance_export_status",
                              kwargs={"pk": assessment.pk, "job_pk": other.pk})).status_code == 404
    assert client.get(reverse("compliance_export_download",
                              kwargs={"pk": assessment.pk, "job_pk": job.pk})).status_code == 404  # not done yet
