"""A worker killed during a compliance export, after the compile test in
tests/submissions/test_compile_worker.py: a real worker on a real broker server (TEST_BROKER_URLS)
is killed with SIGKILL mid-export. prefork + acks_late + reject_on_worker_lost put the message
back; its redelivery takes the job over (same task id, compliance/exports.py _claim) and finishes
it: one job, done, one file, nothing left "running".

Skipped with a reason on a bare machine; a failure under REQUIRE_SERVICES=1 (CI).
"""
from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from compliance import services
from compliance.models import ComplianceExport
from jobs.stale import stale_jobs_fail
from tenancy.models import TaskOutbox
from tenancy.scoping import district_id_of_row, district_scope
from tests.support.celery_worker import broker_reachable, celery_worker, server_broker_urls
from tests.support.servers import require
from tests.support.waiting import wait_until

from .support import export_files

STEP_DELAY = 1.5  # seconds between the export's steps: a window to kill the worker in
EXPORT = "compliance.run_export"


def _brokers():
    return server_broker_urls() or ["no-broker-server"]


def _job(pk):
    with district_scope(district_id_of_row(ComplianceExport, pk)):  # the job row is district-owned
        return ComplianceExport.objects.get(pk=pk)


@pytest.mark.needs_broker
@pytest.mark.parametrize("broker_url", _brokers())
def test_killed_worker_export_is_redelivered_and_finishes_once(transactional_db, tmp_path, tree, broker_url):
    require(broker_url != "no-broker-server",
            "the kill-a-worker test needs a broker server: set TEST_BROKER_URLS (RabbitMQ and/or Redis)")
    require(broker_reachable(broker_url), f"broker {broker_url} is not reachable")
    import tests.support.compliance_metrics  # noqa: F401  (the test checklist's metrics, in this process too)
    from tests.support.compliance import SEMESTER, TEST_YAML

    draft = services.checklist_import_yaml(district=tree.district, text=TEST_YAML, actor=tree.bureau_admin)
    version = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    assessment = services.assessment_create(district=tree.district, checklist_version=version, title="导出",
                                            actor=tree.bureau_admin, **SEMESTER)
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=Decimal("2.5"),
                              actor=tree.bureau_inspector)

    extra = {"COMPLIANCE_EXPORT_STEP_DELAY": str(STEP_DELAY), "CELERY_VISIBILITY_TIMEOUT": "10",
             "COMPLIANCE_METRIC_MODULES": "tests.support.compliance_metrics"}
    with celery_worker(tmp_path, broker_url, extra_env=extra) as worker:
        job = services.export_request(assessment=assessment, actor=tree.bureau_admin)  # published on commit
        # Mid-job: the scores are computed, the workbook is being written.
        seen = wait_until(lambda: (j := _job(job.pk)).status == "running" and j.progress >= 20 and j, timeout=90,
                          what="the export to start", detail=worker.log)
        killed = worker.kill_child_processes()
        assert killed, "no pool process to kill"
        assert seen.progress < 100 and seen.task_id
        done = wait_until(lambda: (j := _job(job.pk)).status in ("done", "failed") and j, timeout=120,
                          what="the redelivered export to finish", detail=worker.log)
        time.sleep(2)  # a third delivery, if there were one, would show in the log by now
        log = worker.log()
    assert done.status == "done", f"{done.error}\n{log}"
    assert "WorkerLostError" in log or "SIGKILL" in log or "signal 9" in log, log
    received = [line for line in log.splitlines() if f"{EXPORT}[" in line and "received" in line]
    assert len(received) == 2, f"one delivery, one redelivery:\n{log}"
    assert f"[{seen.task_id}]" in received[1], "the redelivery is the same message, which took the job over"
    # Finished once: one job, one file under its fixed name, nothing left running or queued.
    with district_scope(tree.district):
        assert list(ComplianceExport.objects.filter(assessment=assessment).values_list("id", flat=True)) == [job.pk]
        assert not ComplianceExport.objects.filter(status__in=["queued", "running"]).exists()
    assert (done.progress, done.task_id, done.error) == (100, seen.task_id, "")
    assert export_files(done) == [Path(done.file.name).name]
    assert TaskOutbox.objects.filter(task=EXPORT, args=[job.pk]).count() == 1
    # The sweeper leaves a finished job alone.
    stale_jobs_fail()
    assert _job(job.pk).status == "done"
