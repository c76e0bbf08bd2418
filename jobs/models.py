"""The life cycle every background job row shares (a package compile, a district export, a
compliance export): queued -> running -> done | failed, with progress for the UI.

`Job` owns the fields and the writes on them; each is one compare-and-set UPDATE, so a
redelivered or late message never overwrites another run's result:
- `claim`: queued -> running. With `exclusive_claim` a running job is taken over only by a
  redelivery of the message that claimed it (same task id): the broker redelivers an acks_late
  message only once its worker is gone, so no live run is displaced. Otherwise any message for an
  unfinished job resumes it (the job is idempotent by its data).
- `report_progress`, `finish`, `fail`: only while the job is still unfinished (and, exclusive,
  still held by the same task id).
- `fail_stale`: the stale rule. A job running past its hard time limit plus a grace period was
  lost for good; a job still queued after JOBS_QUEUED_MAX_HOURS lost its message. One sweeper
  (jobs/stale.py) applies it to every concrete Job model.

These writes bypass nothing: callers enter the tenant scope of the row first.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED)
ERROR_MAX = 4000


def status_field(**labels) -> models.CharField:
    """The status column; a job type may word its states for its users (e.g. running="Compiling")."""
    choices = [(s.value, labels.get(s.value, s.label)) for s in JobStatus]
    return models.CharField(_("status"), max_length=16, choices=choices, default=JobStatus.QUEUED)


def stale_before(time_limit_seconds: float, now: datetime) -> datetime:
    """A job running since before this instant outlived its hard time limit plus a grace period
    (retry back-off, a busy queue): no live worker can still be on it."""
    grace = getattr(settings, "JOBS_STALE_GRACE_SECONDS", 600)
    return now - timedelta(seconds=time_limit_seconds + grace)


def queued_before(now: datetime) -> datetime:
    """A job still waiting since before this instant lost its message (e.g. a broker restarted
    without its data) or waited too long to be of use."""
    return now - timedelta(hours=getattr(settings, "JOBS_QUEUED_MAX_HOURS", 12))


def _percent(value) -> int:
    return max(0, min(100, int(value)))


class Job(models.Model):
    Status = JobStatus

    status = status_field()
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    note = models.CharField(max_length=200, blank=True)  # the current step, or why the job waits
    # The Celery message that claimed the job (exclusive claims compare it).
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Set by each job type.
    job_name = ""  # the sweeper reports under this name
    exclusive_claim = False
    default_time_limit = 15 * 60  # seconds; the task's hard limit (its decorator reads it too)
    time_limit_setting = ""  # a setting that overrides default_time_limit
    stale_scope_reason = ""  # why the sweeper reads every tenant's rows of this type
    stale_running_error = _("The export stopped without finishing (its worker was lost or ran out of time). "
                            "Start it again.")
    stale_queued_error = _("The export never started (the task queue was unavailable for too long). Start it again.")

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def time_limit(cls) -> int:
        if cls.time_limit_setting:
            return int(getattr(settings, cls.time_limit_setting, cls.default_time_limit))
        return cls.default_time_limit

    @classmethod
    def _held(cls, pk: int, task_id: str | None) -> models.QuerySet:
        """The row, if this run may still write its outcome."""
        if cls.exclusive_claim and task_id is not None:
            return cls._default_manager.filter(pk=pk, status=JobStatus.RUNNING, task_id=task_id)
        return cls._default_manager.filter(pk=pk, status__in=UNFINISHED)

    @classmethod
    def claim(cls, pk: int, task_id: str = "", *, progress: int = 0, note: str = "") -> bool:
        """queued -> running (the compare-and-set). False if another run has it or it finished.
        Each claim restarts the clock the stale rule measures."""
        if cls.exclusive_claim:
            takeover = Q(status=JobStatus.RUNNING, task_id=task_id) if task_id else Q(pk__in=[])
            rows = cls._default_manager.filter(Q(status=JobStatus.QUEUED) | takeover, pk=pk)
            extra = {"task_id": task_id}
        else:
            rows, extra = cls._default_manager.filter(pk=pk, status__in=UNFINISHED), {}
        return rows.update(status=JobStatus.RUNNING, started_at=timezone.now(), progress=_percent(progress),
                           note=note[:200], error="", **extra) == 1

    @classmethod
    def report_progress(cls, pk: int, progress: int, note: str | None = None) -> bool:
        """Progress (0-100) of a running job, for the UI. False once it finished or failed."""
        fields: dict[str, object] = {"progress": _percent(progress)}
        if note is not None:
            fields["note"] = note[:200]
        return cls._default_manager.filter(pk=pk, status=JobStatus.RUNNING).update(**fields) == 1

    @classmethod
    def finish(cls, pk: int, *, task_id: str | None = None, now: datetime | None = None, **fields) -> bool:
        return cls._held(pk, task_id).update(status=JobStatus.DONE, progress=100,
                                             finished_at=now or timezone.now(), **fields) == 1

    @classmethod
    def fail(cls, pk: int, error: str, *, task_id: str | None = None) -> bool:
        """Record why the job failed; never overwrites another run's result."""
        return cls._held(pk, task_id).update(status=JobStatus.FAILED, error=str(error)[:ERROR_MAX],
                                             finished_at=timezone.now()) == 1

    @classmethod
    def fail_stale(cls, now: datetime) -> int:
        """The stale rule (see the module docstring). Must run in a scope over every tenant."""
        n = cls._default_manager.filter(status=JobStatus.RUNNING, started_at__lt=stale_before(cls.time_limit(), now)).update(
            status=JobStatus.FAILED, finished_at=now, error=str(cls.stale_running_error))
        n += cls._default_manager.filter(status=JobStatus.QUEUED, created_at__lt=queued_before(now)).update(
            status=JobStatus.FAILED, finished_at=now, error=str(cls.stale_queued_error))
        return n
