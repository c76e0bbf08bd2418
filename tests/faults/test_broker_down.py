"""Broker down: a school submits a report and compiles the next one, and the
bureau runs a compliance export, while the broker is STOPPED (a private redis-server of this test, never the machine's).

The rule (jobs/outbox.py): the request succeeds and records its work in the transactional outbox;
once the broker is back, the beat job `jobs.flush_outbox` publishes it and a real worker runs each
job exactly once. No state in between: the submission is "submitted" with its comparison queued
in the database, never "submitted" with the work silently lost.

The last test needs no broker server (kombu's filesystem transport), so the outbox path also runs
on a bare machine.
"""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from compliance import services as compliance_services
from compliance.models import ComplianceExport
from jobs.outbox import outbox_flush
from submissions import services
from submissions.models import Narrative, PackageVersion, PeriodType, SimilarityFlag, Status, Submission
from submissions.narrative import split_sections
from tenancy.models import TaskOutbox
from tenancy.scoping import district_scope, tenant_scope
from tests.support.celery_worker import celery_worker, configured_app
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.support.waiting import wait_until

from .support import PrivateRedis, export_files

METRICS = {"COMPLIANCE_METRIC_MODULES": "tests.support.compliance_metrics"}
SIMILARITY = "submissions.compute_similarity"
EXPORT = "compliance.run_export"
COMPILE = "submissions.compile_package"


def _received(log: str, task: str) -> int:
    return sum(1 for line in log.splitlines() if f"{task}[" in line and "received" in line)


def _compiled_submissions(tree):
    """Gupei and Menzhuang each have a compiled report with the seed's (nearly identical)
    narratives; Menzhuang's was sent and fingerprinted already."""
    from submissions.demo_texts import seed_summaries
    from tests.support.submissions import compile_

    today = timezone.localdate()
    report = services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="进展报送", code="progress",
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=20), end_on=today + timedelta(days=40),
        schools=[tree.gupei, tree.menzhuang])
    services.periods_open(today=today)
    texts = dict(zip([tree.menzhuang.id, tree.gupei.id], seed_summaries()))
    subs = {}
    for school, actor in ((tree.menzhuang, tree.menzhuang_admin), (tree.gupei, tree.gupei_clerk)):
        with tenant_scope([school.id]):
            sub = Submission.objects.filter(report_type=report, school=school).order_by("period__seq").first()
            services.narrative_update(actor=actor, submission=sub, sections=split_sections(texts[school.id]))
            compile_(sub, actor)
            subs[school.id] = sub
    with tenant_scope([tree.menzhuang.id]):
        services.submission_submit(actor=tree.menzhuang_admin, submission=subs[tree.menzhuang.id],
                                   enqueue_similarity=False)
    services.submission_similarity_compute(school_id=tree.menzhuang.id, submission_id=subs[tree.menzhuang.id].pk)
    return subs[tree.gupei.id]


def _assessment(tree):
    from tests.support.compliance import SEMESTER, TEST_YAML

    draft = compliance_services.checklist_import_yaml(district=tree.district, text=TEST_YAML, actor=tree.bureau_admin)
    version = compliance_services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    return compliance_services.assessment_create(district=tree.district, checklist_version=version, title="导出",
                                                 actor=tree.bureau_admin, **SEMESTER)


def _version(school_id, version_id):
    with tenant_scope([school_id]):
        return PackageVersion.objects.get(pk=version_id)


def _narrative(school_id, submission_id):
    with tenant_scope([school_id]):
        return Narrative.objects.get(submission_id=submission_id)


@pytest.mark.needs_broker
def test_submit_and_export_with_the_broker_stopped_run_once_it_is_back(transactional_db, tree, tmp_path, client):
    import tests.support.compliance_metrics  # noqa: F401  (the test checklist's metrics, in this process too)

    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    gupei = tree.gupei.id
    sub = _compiled_submissions(tree)
    assessment = _assessment(tree)
    redis.stop()
    (tmp_path / "results").mkdir()

    # ---- the broker is down: both requests succeed, and the work waits in the outbox
    with configured_app(redis.url, "test-broker-down", tmp_path / "results", tmp_path / "fs"):
        client.force_login(tree.gupei_clerk)
        response = client.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
        assert response.status_code == 302
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["Submitted to the bureau."]
        # A compile of the school's next report: the version waits, and the page says why.
        with tenant_scope([gupei]):
            next_sub = Submission.objects.filter(school_id=gupei, report_type=sub.report_type).exclude(pk=sub.pk).get()
        response = client.post(reverse("submission_compile", kwargs={"pk": next_sub.pk}))
        assert response.status_code == 302
        status = client.get(reverse("submission_status", kwargs={"pk": next_sub.pk})).json()
        assert (status["state"], status["finished"]) == ("queued", False)
        assert status["note"] == "The task queue is unavailable; the compile starts by itself when it is back."
        client.force_login(tree.bureau_admin)
        response = client.post(reverse("compliance_export_run", kwargs={"pk": assessment.pk}))
        assert response.status_code == 302
        assert outbox_flush() == 0, "the broker is still down"
    with tenant_scope([gupei]):
        sub.refresh_from_db()
        assert sub.status == Status.SUBMITTED and sub.first_submitted_at is not None
    narrative = _narrative(gupei, sub.pk)
    assert narrative.fingerprint_digest != narrative.digest, "not compared yet"
    with district_scope(tree.district):
        job = ComplianceExport.objects.get(assessment=assessment)
    assert job.status == ComplianceExport.Status.QUEUED and not job.file
    unsent = {row.task: row for row in TaskOutbox.objects.filter(sent_at__isnull=True)}
    assert set(unsent) == {SIMILARITY, COMPILE, EXPORT}
    assert unsent[SIMILARITY].args == [gupei, sub.pk] and unsent[EXPORT].args == [job.pk]
    with tenant_scope([gupei]):
        version = PackageVersion.objects.get(submission=next_sub)
    assert version.status == "queued" and unsent[COMPILE].args == [gupei, version.pk]
    assert all(row.attempts >= 1 and "Connection refused" in row.last_error for row in unsent.values())
    # The flush tried the oldest row again and stopped at the first refusal (no hammering).
    assert (unsent[SIMILARITY].attempts, unsent[COMPILE].attempts, unsent[EXPORT].attempts) == (2, 1, 1)

    # ---- the broker is back: the beat job publishes the outbox; each job runs exactly once
    redis.start()
    with celery_worker(tmp_path / "w", redis.url, extra_env=METRICS) as worker:
        assert outbox_flush() == 3
        assert outbox_flush() == 0, "nothing is published twice"
        wait_until(lambda: (n := _narrative(gupei, sub.pk)).fingerprint_digest == n.digest, timeout=60,
                   interval=0.2, what="the comparison", detail=worker.log)
        wait_until(lambda: _export(job).status in ("done", "failed"), timeout=60, interval=0.2, what="the export",
                   detail=worker.log)
        wait_until(lambda: _version(gupei, version.pk).status in ("done", "failed"), timeout=60, interval=0.2,
                   what="the compile", detail=worker.log)
        time.sleep(2)  # a duplicate delivery, if there were one, would show in the log by now
        log = worker.log()
    redis.stop()
    assert _received(log, SIMILARITY) == 1, log
    assert _received(log, EXPORT) == 1, log
    assert _received(log, COMPILE) == 1, log
    assert _version(gupei, version.pk).status == "done"
    assert not TaskOutbox.objects.filter(sent_at__isnull=True).exists()
    job = _export(job)
    assert job.status == "done", job.error
    assert export_files(job) == [Path(job.file.name).name], "one file, no duplicate"
    with tenant_scope([gupei, tree.menzhuang.id]):
        flags = SimilarityFlag.objects.filter(submission_b=sub) | SimilarityFlag.objects.filter(submission_a=sub)
        assert flags.count() == 1, "the copied narrative is flagged once"


def _export(job):
    """The export job row as it is now (district-owned: read in its district's scope)."""
    with district_scope(job):
        return ComplianceExport.objects.get(pk=job.pk)


def test_outbox_without_a_broker_server(transactional_db, tree, tmp_path):
    """Same rule on a bare machine: a refused broker leaves the job queued in the outbox; a worker
    on the filesystem transport runs it once the flush can publish."""
    import tests.support.compliance_metrics  # noqa: F401

    assessment = _assessment(tree)
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
    (tmp_path / "results").mkdir()
    with configured_app(dead, "test-dead", tmp_path / "results", tmp_path / "fs"):
        job = compliance_services.export_request(assessment=assessment, actor=tree.bureau_admin)
        assert outbox_flush() == 0
    row = TaskOutbox.objects.get(task=EXPORT, args=[job.pk])
    assert row.sent_at is None and row.attempts == 2  # after commit, then the flush
    assert _export(job).status == "queued"
    with celery_worker(tmp_path / "w", extra_env=METRICS) as worker:
        assert outbox_flush() == 1
        wait_until(lambda: _export(job).status in ("done", "failed"), timeout=90, interval=0.2, what="the export",
                   detail=worker.log)
    job = _export(job)
    row.refresh_from_db()
    assert job.status == "done", job.error
    assert row.sent_at is not None and row.task_id
