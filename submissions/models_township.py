"""The township roll-up package: one centre school's compile of its village schools' approved
figures for one period, side by side with its own (XLSX + DOCX). Imported at the end of
submissions.models, so it is one of the app's models."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jobs.models import Job, status_field
from tenancy.models import SchoolOwnedModel

from .models import Period, ReportType


class TownshipPackage(Job, SchoolOwnedModel):
    """One compile of a township package, owned by the centre school (its tenant; the bureau reads
    it through its district-wide scope). Idempotency hooks, as for PackageVersion: the version is
    unique per (centre, report type, period), the storage key derives from (centre, period,
    version) only, and at most one version is current, so a redelivered job completes the same row
    and files. `source_digest` names what went in (each school's submission state and compiled
    figures): asking again with nothing changed returns the same package."""

    status = status_field(running=_("Compiling"))
    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="township_packages")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="township_packages")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=False)
    storage_key = models.CharField(max_length=200, unique=True)
    source_digest = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=dict, blank=True)  # {"xlsx": "<key>/township.xlsx", "docx": ...}
    # The schools compiled in, in order (the centre first): id, name, code, centre, submission id,
    # status, package version. Set when the job finishes; the page and the download read it.
    schools = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    job_name = "submissions.township_compile"
    time_limit_setting = "SUBMISSIONS_COMPILE_TIME_LIMIT"
    default_time_limit = 20 * 60
    stale_scope_reason = "the stale-job sweeper fails stuck township compiles of every centre school"
    stale_running_error = _("The compile stopped without finishing (its worker was lost or ran out of time). "
                            "Compile again.")
    stale_queued_error = _("The compile never started (the task queue was unavailable for too long). Compile again.")

    class Meta:
        verbose_name = _("township package")
        verbose_name_plural = _("township packages")
        ordering = ["period_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["school", "report_type", "period", "version"],
                                    name="townshippackage_unique_version"),
            models.UniqueConstraint(fields=["school", "period"], condition=Q(is_current=True),
                                    name="townshippackage_one_current"),
            models.CheckConstraint(condition=Q(is_current=False) | Q(status="done"),
                                   name="townshippackage_current_is_done"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="townshippackage_progress_pct"),
        ]
        indexes = [models.Index(fields=["school", "period"], name="townshippackage_school_period")]

    def __str__(self):
        return f"{self.report_type_id} · {self.period_id} · v{self.version}"


def township_storage_key(school_id: int, period_id: int, version: int) -> str:
    """Deterministic: a rerun of the same compile writes the same files, never new ones."""
    return f"submissions/township/{school_id}/{period_id}/v{version}"
