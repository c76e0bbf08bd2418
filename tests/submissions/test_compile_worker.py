"""THE kill-a-worker test: a real worker on a real broker server (RabbitMQ and/or Redis, from
TEST_BROKER_URLS) is killed with SIGKILL in the middle of a compile, in two ways:
- "pool": the pool process running the job dies (an OOM kill). With prefork + acks_late +
  reject_on_worker_lost the main process requeues the message and a new pool process finishes it;
- "whole": the whole worker dies, main process included, so nobody is left to requeue anything.
  The unacknowledged message comes back from the broker itself (RabbitMQ when the connection
  drops; Redis after its visibility timeout, 10 s here) and a freshly started worker finishes it.
Either way nothing is duplicated: one package version, one current, one compile event, one set
of files.

Skipped with a reason on a bare machine; a failure under REQUIRE_SERVICES=1 (CI).
"""
from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.storage import default_storage

from submissions import services
from submissions.models import PackageVersion, PeriodType, ReportKind, Status, Submission, SubmissionEvent
from submissions.narrative import split_sections
from tenancy.scoping import tenant_scope
from tests.support.celery_worker import broker_reachable, celery_worker, server_broker_urls
from tests.support.servers import require
from tests.support.waiting import wait_until

from .test_compile import make_records

STEP_DELAY = 1.5  # seconds between the compile's steps: a window to kill the worker in


def _brokers():
    return server_broker_urls() or ["no-broker-server"]


def _version(school_id, submission_id):
    with tenant_scope([school_id]):
        return PackageVersion.objects.filter(submission_id=submission_id).order_by("version").first()


@pytest.mark.needs_broker
@pytest.mark.platform_language  # the worker process writes in the platform language (zh-hans)
@pytest.mark.parametrize("kill", ["pool", "whole"])
@pytest.mark.parametrize("broker_url", _brokers())
def test_killed_worker_compile_is_redelivered_and_finishes_once(transactional_db, tmp_path, tree, broker_url, kill):
    require(broker_url != "no-broker-server",
            "the kill-a-worker test needs a broker server: set TEST_BROKER_URLS (RabbitMQ and/or Redis)")
    require(broker_reachable(broker_url), f"broker {broker_url} is not reachable")
    from docx import Document
    from openpyxl import load_workbook

    from submissions.demo_texts import seed_summaries

    make_records(tree)
    summary = services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="上半年工作总结", code="summary",
        kind=ReportKind.HALF_YEAR_SUMMARY, period_type=PeriodType.HALF_YEAR, start_on=date(2026, 1, 1),
        end_on=date(2026, 6, 30), due_offset_days=10, timely_within_days=10, lock_after_days=30,
        schools=[tree.gupei],
    )
    services.periods_open(today=date(2026, 7, 1))
    gupei = tree.gupei.id
    with tenant_scope([gupei]):
        sub = Submission.objects.get(report_type=summary, school=tree.gupei)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections=split_sections(seed_summaries()[1]))

    extra = {"SUBMISSIONS_COMPILE_STEP_DELAY": str(STEP_DELAY), "CELERY_VISIBILITY_TIMEOUT": "10"}
    with celery_worker(tmp_path, broker_url, extra_env=extra) as worker:
        with tenant_scope([gupei]):  # committed on exit: on_commit enqueues the job for real
            sub = Submission.objects.get(pk=sub.pk)
            reserved = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
        # Mid-job: the summary sheet is being written (progress reported, not finished).
        seen = wait_until(lambda: (v := _version(gupei, sub.pk)) and v.status == "running" and v.progress >= 15 and v,
                          timeout=60, what="the compile to start", detail=worker.log)
        assert seen.status == "running" and seen.progress < 100
        if kill == "pool":
            assert worker.kill_child_processes(), "no pool process to kill"
            done = wait_until(lambda: (v := _version(gupei, sub.pk)) and v.status in ("done", "failed") and v,
                              timeout=120, what="the redelivered compile to finish", detail=worker.log)
            log = worker.log()
        else:
            worker.kill()
            assert worker.proc.returncode == -9
            first_log = worker.log()
            fresh_dir = tmp_path / "fresh"
            fresh_dir.mkdir()
            with celery_worker(fresh_dir, broker_url, extra_env=extra, queue=worker.queue) as fresh:
                done = wait_until(lambda: (v := _version(gupei, sub.pk)) and v.status in ("done", "failed") and v,
                                  timeout=180, what="the fresh worker to finish the redelivered compile",
                                  detail=fresh.log)
                log = first_log + fresh.log()
            assert "succeeded" not in first_log, "the killed worker must not have finished the job"
            assert "submissions.compile_package[" in fresh.log(), "the fresh worker ran the redelivered job"
    assert done.status == "done", f"{done.error}\n{log}"
    if kill == "pool":
        assert "WorkerLostError" in log or "SIGKILL" in log or "signal 9" in log, log
    task_lines = [line for line in log.splitlines() if "submissions.compile_package[" in line and "received" in line]
    assert len(task_lines) >= 2, f"the message was not redelivered:\n{log}"

    with tenant_scope([gupei]):
        versions = list(PackageVersion.objects.filter(submission=sub))
        assert [(v.pk, v.version) for v in versions] == [(reserved.pk, 1)], "one version, reused by the redelivery"
        assert PackageVersion.objects.filter(submission=sub, is_current=True).count() == 1
        assert SubmissionEvent.objects.filter(submission=sub, action="compile").count() == 1
        sub.refresh_from_db()
        assert sub.status == Status.COMPILED
    dirs, names = default_storage.listdir(done.storage_key)
    assert (dirs, sorted(names)) == ([], ["package.xlsx", "summary.docx"]), "no partial or duplicate files"
    with default_storage.open(done.files["xlsx"], "rb") as fh:
        wb = load_workbook(io.BytesIO(fh.read()), read_only=True)
    assert [ws.title for ws in wb.worksheets] == ["汇总", "活动", "联系记录"]
    values = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        label = gettext("Children (active)")
    assert label != "Children (active)", "the label is translated"
    assert values[label] == done.figures["children"] == 4
    with default_storage.open(done.files["docx"], "rb") as fh:
        doc = Document(io.BytesIO(fh.read()))
    assert sum(1 for p in doc.paragraphs if p.style.name == "Heading 1") == 7
