"""Compliance exports: schedules in django-celery-beat, the XLSX (checked with openpyxl against the
live scores), idempotency, and a run through a real Celery worker."""
import io
import json
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from compliance import services
from compliance.exports import mask_child, run_export, storage_key
from compliance.models import ComplianceExport
from compliance.scoring import assessment_scores
from tenancy.scoping import district_scope
from tests.support.celery_worker import celery_worker
from tests.support.compliance import SEMESTER, TEST_YAML


def _check_workbook(content: bytes, scores: dict):
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["Summary", "Items", "Gaps"]
    summary = wb["Summary"]
    header = [c.value for c in summary[5]]
    assert header[:4] == ["Rank", "School", "Code", "Score"]
    got = [tuple(c.value for c in row[:5]) for row in summary.iter_rows(min_row=6) if row[1].value]
    expected = [(s["rank"], s["name"], s["code"], float(s["score"]), float(s["earned"]))
                for s in (scores["schools"][sid] for sid in scores["order"])]
    assert got == expected
    items = wb["Items"]
    codes = [c.value for c in items[1]][3:]
    assert codes == [it["code"] for it in scores["items"]]
    for row in items.iter_rows(min_row=4, values_only=True):
        school = next(s for s in scores["schools"].values() if s["code"] == row[1])
        assert row[2] == float(school["score"])
        for code, value in zip(codes, row[3:]):
            cell = school["items"][code]
            assert value == (float(cell["score"]) if cell["score"] is not None else
                             ("n/a" if cell["status"] == "not_applicable" else "pending"))
    gaps = wb["Gaps"]
    assert [c.value for c in gaps[1]] == ["School", "Item", "Metric", "Gap", "Child"]
    # A native Excel bar chart, not a picture.
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts and b"<c:barChart>" in z.read(charts[0])
    return wb


def test_export_workbook_equals_live_scores(tree, assessment):
    services.manual_score_set(assessment=assessment, school=tree.menzhuang, item_code="M1", score=3,
                              actor=tree.bureau_inspector)
    job = services.export_request(assessment=assessment, actor=tree.bureau_admin)
    assert job.status == "queued"
    assert run_export(job.id) == "done"
    with district_scope(tree.district):
        job.refresh_from_db()
    assert (job.status, job.progress, job.error) == ("done", 100, "")
    assert job.file.name == storage_key(job) and job.finished_at
    with default_storage.open(job.file.name, "rb") as fh:
        wb = _check_workbook(fh.read(), assessment_scores(assessment, use_cache=False))
    # The gaps sheet masks children: the test metric names "张小明" for schools without an admin.
    gap_rows = list(wb["Gaps"].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in gap_rows} == {tree.village_b.name}
    assert all(r[4] == "张**" for r in gap_rows)
    # Running the same job again (a redelivered message) does nothing.
    assert run_export(job.id) == "done"
    with district_scope(tree.district):
        assert ComplianceExport.objects.filter(assessment=assessment).count() == 1


def test_only_bureau_admins_export(tree, assessment):
    for user in (tree.gupei_township, tree.menzhuang_admin, tree.bureau_inspector):
        with pytest.raises(PermissionDenied):
            services.export_request(assessment=assessment, actor=user)
        with pytest.raises(PermissionDenied):
            services.export_schedule_set(assessment=assessment, actor=user)


def test_export_schedule_is_an_editable_beat_entry(tree, assessment):
    from django_celery_beat.models import PeriodicTask

    task = services.export_schedule_set(assessment=assessment, actor=tree.bureau_admin)
    assert task.task == "compliance.scheduled_export" and task.enabled
    c = task.crontab
    assert (c.minute, c.hour, c.day_of_week, str(c.timezone)) == ("0", "7", "1", "Asia/Shanghai")
    assert json.loads(task.kwargs) == {"assessment_id": assessment.id, "requested_by_id": tree.bureau_admin.id}
    again = services.export_schedule_set(assessment=assessment, actor=tree.bureau_admin, hour="18", day_of_week="5")
    assert again.pk == task.pk and (again.crontab.hour, again.crontab.day_of_week) == ("18", "5")
    assert PeriodicTask.objects.filter(task="compliance.scheduled_export").count() == 1
    with pytest.raises(ValidationError, match="crontab"):
        services.export_schedule_set(assessment=assessment, actor=tree.bureau_admin, hour="25")
    services.export_schedule_remove(assessment=assessment, actor=tree.bureau_admin)
    assert not PeriodicTask.objects.filter(task="compliance.scheduled_export").exists()


def test_scheduled_export_task_queues_a_job(tree, assessment, django_capture_on_commit_callbacks):
    from compliance.tasks import scheduled_export

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job_id = scheduled_export(assessment.id, tree.bureau_admin.id)
    with district_scope(tree.district):
        job = ComplianceExport.objects.get(pk=job_id)
    assert job.scheduled and job.requested_by == tree.bureau_admin and job.status == "queued"
    assert len(callbacks) == 1  # the worker is asked only once the job row is committed


def test_mask_child():
    assert mask_child("张小明") == "张**" and mask_child("李") == "李*" and mask_child("") == ""


def test_export_through_a_real_worker(transactional_db, tree, tmp_path):
    draft = services.checklist_import_yaml(district=tree.district, actor=tree.bureau_admin,
                                           text=TEST_YAML)
    version = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    assessment = services.assessment_create(district=tree.district, checklist_version=version, title="导出",
                                            actor=tree.bureau_admin, **SEMESTER)
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=Decimal("2.5"),
                              actor=tree.bureau_inspector)
    extra = {"COMPLIANCE_METRIC_MODULES": "tests.support.compliance_metrics"}
    with celery_worker(tmp_path, extra_env=extra) as worker:
        job = services.export_request(assessment=assessment, actor=tree.bureau_admin)  # enqueued on commit
        deadline = time.monotonic() + 90
        seen_progress = set()
        while time.monotonic() < deadline:
            with district_scope(tree.district):
                job.refresh_from_db()
            seen_progress.add(job.progress)
            if job.status in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job.status == "done", f"{job.status} {job.error}\n{worker.log()}"
        assert "succeeded" in worker.log()
    assert job.progress == 100
    with default_storage.open(job.file.name, "rb") as fh:
        _check_workbook(fh.read(), assessment_scores(assessment, use_cache=False))
