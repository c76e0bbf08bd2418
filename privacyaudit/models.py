"""The audit pack (a background job per district, year and version) and recorded data breaches.

Both are district-owned. A breach of one school also names that school; its row-level policy then
admits it only inside that school's scope too (tenancy/rls.py), so a neighbouring school never
reads it while the bureau reads every breach of its district.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from jobs.models import Job, status_field
from tenancy.dates import sane_date
from tenancy.models import District, DistrictOwnedChild, DistrictOwnedModel, School


class AuditPack(Job, DistrictOwnedModel):
    """One build of a district's audit report for a calendar year: a DOCX and an XLSX. Every build
    is a new version (history kept); the January beat job builds version 1 of last year once."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("On demand")
        SCHEDULED = "scheduled", _("Scheduled")

    status = status_field(running=_("Building"))
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="audit_packs",
                                 verbose_name=_("district"))
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    version = models.PositiveIntegerField(_("version"), default=1)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    # The figures as built (what the HTML view shows once the pack is done), and the files.
    figures = models.JSONField(default=dict, blank=True)
    files = models.JSONField(default=dict, blank=True)  # kind ("docx"/"xlsx") -> storage name

    job_name = "privacyaudit.build_pack"
    stale_scope_reason = "the stale-job sweeper fails stuck audit packs of every district"
    stale_running_error = _("The audit pack stopped without finishing. Build it again.")
    stale_queued_error = _("The audit pack never started (the task queue was unavailable for too long). "
                           "Build it again.")

    class Meta:
        verbose_name = _("audit pack")
        verbose_name_plural = _("audit packs")
        ordering = ["-year", "-version", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "version"], name="auditpack_one_per_version"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="auditpack_progress_pct"),
        ]

    def __str__(self):
        return f"{self.year} v{self.version}"


def audit_pack_folder(district_id: int) -> str:
    """Where a district's packs live (a download refuses a stored name outside it)."""
    return f"privacy-audit/{district_id}"


def audit_pack_storage_key(pack_id: int, district_id: int, kind: str) -> str:
    """Deterministic per row: a redelivered build overwrites its own files, never adds one."""
    return f"{audit_pack_folder(district_id)}/pack-{pack_id}.{kind}"


class Breach(DistrictOwnedModel):
    """A personal-data breach (个人信息泄露事件): when it happened, what data, how many children, what
    was done. No child is named: the record counts them."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    # Set for a school's own breach (recorded by its admin); empty for one the bureau records.
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("school"))
    occurred_on = models.DateField(_("happened on"), validators=[sane_date])
    discovered_on = models.DateField(_("discovered on"), validators=[sane_date])
    data_involved = models.CharField(_("data involved"), max_length=300)
    children_affected = models.PositiveIntegerField(_("children affected"))
    description = models.TextField(_("what happened"), max_length=2000)
    measures = models.TextField(_("measures taken"), max_length=2000)
    # The schools whose children's data was involved (their staff are told). A school's own breach: itself.
    affected_schools = ArrayField(models.BigIntegerField(), default=list, blank=True, verbose_name=_("affected schools"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # The row-level policy also narrows to the school when there is one (tenancy/rls.py).
    rls_narrow_to_school = True
    objects = ScopedManager(district="district")

    class Meta:
        verbose_name = _("data breach")
        verbose_name_plural = _("data breaches")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(discovered_on__gte=models.F("occurred_on")),
                                   name="breach_discovered_after_occurred"),
        ]

    def __str__(self):
        return f"{self.occurred_on} {self.data_involved[:40]}"


class BreachNotice(DistrictOwnedChild):
    """One batch of notices to the guardians of the affected children: how, when, and the text sent."""

    class Method(models.TextChoices):
        PHONE = "phone", _("phone call")
        SMS = "sms", _("text message")
        LETTER = "letter", _("letter")
        MEETING = "meeting", _("parents' meeting")
        IN_PERSON = "in_person", _("in person")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="notices")
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    sent_on = models.DateField(_("sent on"), validators=[sane_date])
    guardians_notified = models.PositiveIntegerField(_("guardians notified"))
    text = models.TextField(_("text of the notice"), max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    district_parent = "breach"
    objects = ScopedManager(district="breach__district")

    class Meta:
        verbose_name = _("breach notice")
        verbose_name_plural = _("breach notices")
        ordering = ["sent_on", "id"]
