"""The stale-job sweeper (jobs/stale.py, beat task `jobs.sweep_stale`): jobs left "running" past
their hard time limit (+ grace) or "waiting" past JOBS_QUEUED_MAX_HOURS are failed with a clear
message; live and finished jobs are left alone; a late message for a failed job does nothing."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from compliance import services as compliance_services
from compliance.exports import run_export
from compliance.models import ComplianceExport
from jobs import beat
from jobs.stale import job_models, stale_jobs_fail
from jobs.tasks import sweep_stale
from submissions import compile as compiler
from submissions import services
from submissions.models import DistrictExport, PackageVersion
from tenancy.scoping import district_scope, tenant_scope
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.support.submissions import get_sub, opened, report  # noqa: F401  (fixtures)


def _compile_versions(tree, opened):  # noqa: F811
    """Four compiles of Gupei's first period: running for long, running now, pending for long,
    pending now (each reserved directly: the sweeper only looks at the rows)."""
    gupei = tree.gupei.id
    out = []
    with tenant_scope([gupei]):
        for seq in (1, 2, 3, 4):
            sub = get_sub(tree, opened, tree.gupei, seq)
            out.append(services.package_version_start(submission=sub, actor=tree.gupei_clerk))
    return out


def test_sweeper_fails_abandoned_jobs_only(tree, opened, assessment):  # noqa: F811
    now = timezone.now()
    limit = settings.SUBMISSIONS_COMPILE_TIME_LIMIT + settings.JOBS_STALE_GRACE_SECONDS
    old_running, new_running, old_pending, new_pending = _compile_versions(tree, opened)
    with tenant_scope([tree.gupei.id]):
        PackageVersion.objects.filter(pk=old_running.pk).update(status="running", started_at=now - timedelta(seconds=limit + 60))
        PackageVersion.objects.filter(pk=new_running.pk).update(status="running", started_at=now - timedelta(seconds=limit - 60))
        PackageVersion.objects.filter(pk=old_pending.pk).update(
            created_at=now - timedelta(hours=settings.JOBS_QUEUED_MAX_HOURS, minutes=1))

    exports = [compliance_services.export_request(assessment=assessment, actor=tree.bureau_admin) for _ in range(3)]
    with district_scope(tree.district):
        ComplianceExport.objects.filter(pk=exports[0].pk).update(status="running", started_at=now - timedelta(hours=1))
        ComplianceExport.objects.filter(pk=exports[1].pk).update(status="running",
                                                                 started_at=now - timedelta(minutes=5))
        ComplianceExport.objects.filter(pk=exports[2].pk).update(created_at=now - timedelta(days=1))

    period = get_sub(tree, opened, tree.gupei, 1).period
    district_export = services.district_export_request(actor=tree.bureau_admin, period=period)
    with district_scope(tree.district):
        DistrictExport.objects.filter(pk=district_export.pk).update(status="running",
                                                                    started_at=now - timedelta(hours=1))

    counts = stale_jobs_fail(now=now)
    assert counts == {"compliance.export": 2, "submissions.compile": 2, "submissions.district_export": 1,
                      "privacyaudit.build_pack": 0, "submissions.township_compile": 0}

    with tenant_scope([tree.gupei.id]):
        states = {v.pk: (v.status, v.error) for v in PackageVersion.objects.all()}
    assert states[old_running.pk] == (
        "failed", "The compile stopped without finishing (its worker was lost or ran out of time). Compile again.")
    assert states[old_pending.pk] == (
        "failed", "The compile never started (the task queue was unavailable for too long). Compile again.")
    assert states[new_running.pk] == ("running", "") and states[new_pending.pk] == ("queued", "")
    with district_scope(tree.district):
        got = {j.pk: (j.status, j.error) for j in ComplianceExport.objects.all()}
    assert got[exports[0].pk] == (
        "failed", "The export stopped without finishing (its worker was lost or ran out of time). Start it again.")
    assert got[exports[2].pk] == (
        "failed", "The export never started (the task queue was unavailable for too long). Start it again.")
    assert got[exports[1].pk] == ("running", "")
    with district_scope(tree.district):
        district_export.refresh_from_db()
    assert district_export.status == "failed" and "Start it again" in district_export.error

    # Idempotent: a second sweep finds nothing more.
    assert stale_jobs_fail(now=now) == {"compliance.export": 0, "submissions.compile": 0,
                                             "submissions.district_export": 0, "privacyaudit.build_pack": 0,
                                             "submissions.township_compile": 0}
    # A late message for a swept job changes nothing.
    assert compiler.compile_package(school_id=tree.gupei.id, version_id=old_running.pk).status == "failed"
    assert run_export(exports[2].pk) == "failed"
    with district_scope(tree.district):
        assert ComplianceExport.objects.get(pk=exports[2].pk).file.name in ("", None)


def test_sweeper_messages_are_in_the_platform_language(tree, assessment, settings):  # noqa: F811
    settings.LANGUAGE_CODE = "zh-hans"
    job = compliance_services.export_request(assessment=assessment, actor=tree.bureau_admin)
    with district_scope(tree.district):
        ComplianceExport.objects.filter(pk=job.pk).update(status="running",
                                                          started_at=timezone.now() - timedelta(hours=2))
    sweep_stale()  # the beat task itself, in-process
    with district_scope(tree.district):
        job.refresh_from_db()
    assert job.status == "failed" and job.error == "导出未完成即中断（执行进程丢失或超时）。请重新导出。"


def test_beat_runs_the_sweeper_and_the_outbox_flush(db):
    """Registered after migrate, like the other beat jobs (and again idempotently)."""
    beat.sync_periodic_tasks()
    beat.sync_periodic_tasks()
    entries = {p.name: p for p in PeriodicTask.objects.filter(name__startswith="jobs:")}
    assert {n: (p.task, p.interval.every, p.enabled) for n, p in entries.items()} == {
        "jobs: publish the outbox": ("jobs.flush_outbox", 60, True),
        "jobs: fail abandoned jobs": ("jobs.sweep_stale", 300, True),
    }
    assert set(job_models()) == {"compliance.export", "submissions.compile", "submissions.district_export",
                                 "privacyaudit.build_pack", "submissions.township_compile"}


def test_sweeper_fails_an_abandoned_audit_pack(tree):
    from privacyaudit import services as audit_services
    from privacyaudit.models import AuditPack

    now = timezone.now()
    year = timezone.localdate().year
    lost, live = (audit_services.audit_pack_request(actor=tree.bureau_admin, district=tree.district, year=year,
                                                    enqueue=False) for _ in range(2))
    limit = AuditPack.time_limit() + settings.JOBS_STALE_GRACE_SECONDS
    with district_scope(tree.district):
        AuditPack.objects.filter(pk=lost.pk).update(status="running", started_at=now - timedelta(seconds=limit + 60))
        AuditPack.objects.filter(pk=live.pk).update(status="running", started_at=now - timedelta(minutes=1))
    assert stale_jobs_fail(now=now)["privacyaudit.build_pack"] == 1
    with district_scope(tree.district):
        lost.refresh_from_db()
        live.refresh_from_db()
    assert (lost.status, live.status) == ("failed", "running")
    assert lost.error == "The audit pack stopped without finishing. Build it again."

