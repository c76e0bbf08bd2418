"""Package versions: the compile request and the compile job's hooks (jobs.models.Job)."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jobs.models import UNFINISHED
from jobs.outbox import job_enqueue
from tenancy.models import TaskOutbox
from tenancy.scoping import tenant_scope
from tenancy.services import access_log_record

from ..models import Narrative, PackageVersion, Status, Submission, SubmissionEvent, package_storage_key
from ._common import _require, _transition, school_may_edit
from .notices import compile_notify

COMPILE_TASK = "submissions.compile_package"


@transaction.atomic
def package_version_start(*, submission: Submission, actor=None, task_id: str = "") -> PackageVersion:
    """Reserve the next version of a submission's package. `actor=None` only for system jobs."""
    if actor is not None:
        _require(actor, "submit_reports", submission, _("You may not compile reports for this school."))
    if not school_may_edit(submission):
        raise ValidationError(_("A submission that has been sent cannot be compiled again."))
    # Serialise version numbering per submission (of=self: django-scopes' select_for_update caveat).
    Submission.objects.select_for_update(of=("self",)).filter(pk=submission.pk).first()
    last = PackageVersion.objects.filter(submission=submission).aggregate(m=Max("version"))["m"] or 0
    narrative = Narrative.objects.filter(submission=submission).first()
    version = PackageVersion.objects.create(
        school_id=submission.school_id, submission=submission, version=last + 1,
        storage_key=package_storage_key(submission.school_id, submission.pk, last + 1),
        narrative_digest=narrative.digest if narrative else "", task_id=task_id,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    access_log_record(user=actor, school_id=submission.school_id, action="create", obj=version,
                      detail={"version": version.version})
    return version


def package_version_progress(*, version: PackageVersion, progress: int, note: str = "", started: bool = False) -> bool:
    """Report progress (0–100) for the UI. False when the version already finished or failed.

    `started=True` (each run's first step, also a redelivered or retried run) claims the version,
    which restarts the clock of the stale rule; so does the first progress of a version.
    """
    if started or version.started_at is None:
        return PackageVersion.claim(version.pk, progress=progress, note=note)
    return PackageVersion.report_progress(version.pk, progress, note)


@transaction.atomic
def package_version_complete(*, version: PackageVersion, files: dict | None = None,
                             now: datetime | None = None, figures: dict | None = None) -> PackageVersion:
    """Mark a version done and current; the first compile moves the submission open → compiled.

    Idempotent: completing an already-done version changes nothing. An older version finishing
    after a newer one does not take `current` away from it.
    """
    now = now or timezone.now()
    submission = Submission.objects.select_for_update(of=("self",)).get(pk=version.submission_id)
    finished = PackageVersion.finish(version.pk, now=now, files=files or {}, figures=figures or {})
    version.refresh_from_db()
    if not finished:
        if version.status == PackageVersion.Status.DONE:
            return version
        raise ValidationError(_("This package version failed; start a new compile."))
    newer_done = PackageVersion.objects.filter(submission=submission, status=PackageVersion.Status.DONE,
                                               version__gt=version.version).exists()
    if not newer_done:
        # Unset first: the partial unique constraint allows one current row at any instant.
        PackageVersion.objects.filter(submission=submission, is_current=True).update(is_current=False)
        PackageVersion.objects.filter(pk=version.pk).update(is_current=True)
        version.is_current = True
    actor = version.created_by
    if submission.status == Status.OPEN:
        _transition(submission, to=Status.COMPILED, action=SubmissionEvent.Action.COMPILE, actor=actor, now=now,
                    comment=f"v{version.version}")
    else:
        SubmissionEvent.objects.create(school_id=submission.school_id, submission=submission,
                                       action=SubmissionEvent.Action.COMPILE, from_status=submission.status,
                                       to_status=submission.status, actor=actor, at=now, comment=f"v{version.version}")
        access_log_record(user=actor, school_id=submission.school_id, action="update", obj=version,
                          detail={"version": version.version, "status": "done"})
    compile_notify(version, failed=False)
    return version


@transaction.atomic
def package_version_fail(*, version: PackageVersion, error: str) -> bool:
    failed = PackageVersion.fail(version.pk, error)
    if failed:
        compile_notify(version, failed=True)
    return failed


def _compile_stale_after() -> timedelta:
    # A version still "running" after the hard time limit was killed for good (not redelivered).
    return timedelta(seconds=PackageVersion.time_limit() * 2)


@transaction.atomic
def submission_compile_request(*, actor, submission: Submission, enqueue: bool = True,
                               now: datetime | None = None) -> PackageVersion:
    """Ask for a compile: reserve a package version and enqueue the job after commit.

    A second click while a compile of the same narrative is waiting or running returns that
    version instead of starting another (no duplicate work, no duplicate versions).
    """
    now = now or timezone.now()
    _require(actor, "submit_reports", submission, _("You may not compile reports for this school."))
    if not school_may_edit(submission):
        raise ValidationError(_("A submission that has been sent cannot be compiled again."))
    Submission.objects.select_for_update(of=("self",)).filter(pk=submission.pk).first()
    narrative = Narrative.objects.filter(submission=submission).first()
    digest = narrative.digest if narrative else ""
    unfinished = list(PackageVersion.objects.filter(submission=submission, status__in=UNFINISHED))
    version = None
    for candidate in unfinished:
        stale = (candidate.started_at or candidate.created_at) < now - _compile_stale_after()
        if stale or candidate.narrative_digest != digest or version is not None:
            package_version_fail(version=candidate, error=_("Superseded by a newer compile."))
        else:
            version = candidate
    if version is not None and version.status == PackageVersion.Status.RUNNING:
        return version  # a worker has it; a second click changes nothing
    if version is None:
        version = package_version_start(submission=submission, actor=actor)
    if enqueue:
        # Through the outbox (jobs/outbox.py): with the broker down the version waits and the
        # beat job publishes it later. A reused queued version is sent again unless its message
        # is still waiting in the outbox (its first one may have been lost with a broker's data);
        # the job is idempotent, so a second delivery is harmless.
        school_id, version_id = submission.school_id, version.pk
        if not TaskOutbox.objects.filter(task=COMPILE_TASK, args=[school_id, version_id], sent_at__isnull=True).exists():
            def noted(task_id: str) -> None:
                with tenant_scope([school_id]):
                    PackageVersion.objects.filter(pk=version_id, task_id="").update(task_id=task_id)

            def waiting() -> None:  # shown on the submission page while the version waits
                with tenant_scope([school_id]), translation.override(settings.LANGUAGE_CODE):
                    PackageVersion.objects.filter(pk=version_id, status=PackageVersion.Status.QUEUED).update(
                        note=_("The task queue is unavailable; the compile starts by itself when it is back."))

            job_enqueue(COMPILE_TASK, school_id, version_id, on_sent=noted, on_refused=waiting)
    return version
