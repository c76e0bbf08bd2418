"""Checklists, assessments, scores, snapshots and exports.

A district owns checklists. A checklist has numbered versions; a version is a tree of sections
and items and moves draft -> published once. A published version is immutable: services refuse
edits, the models refuse save/delete, and PostgreSQL triggers (migration 0002) refuse any write
that slips past both (queryset.update(), raw SQL).

Checklists, assessments and their exports are district-owned (tenancy.models.DistrictOwnedModel);
versions, sections, items, snapshots and exports follow their parent row (DistrictOwnedChild):
scoped by django-scopes on the district dimension and protected by row-level security.

An assessment binds one published version to a semester and the schools of a subtree. Per-school
rows (manual scores, their audit trail, snapshot rows) are SchoolOwnedModel: scoped by
django-scopes and protected by row-level security like every other school's data.
"""
from __future__ import annotations

from collections import namedtuple
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from jobs.models import Job, status_field
from tenancy.dates import sane_date
from tenancy.models import District, DistrictOwnedChild, DistrictOwnedModel, School, SchoolOwnedModel

# What metrics receive: the assessment's semester window (anything with .start and .end works for a
# metric). `id` is the schools.Semester row when the assessment is bound to one.
SemesterWindow = namedtuple("SemesterWindow", ["start", "end", "label", "id"], defaults=[None])


class ImmutableError(ValidationError):
    """Raised when something tries to change a published checklist version or a locked assessment."""


class Checklist(DistrictOwnedModel):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="checklists")
    code = models.SlugField(_("code"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["district_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="checklist_code_unique_in_district"),
        ]

    def __str__(self):
        return f"{self.district_id}:{self.code}"


class ChecklistVersion(DistrictOwnedChild):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")

    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    declared_total = models.DecimalField(_("declared total points"), max_digits=7, decimal_places=2)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # sha256 of the canonical YAML: lets the default-checklist loader be idempotent.
    digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    district_parent = "checklist"
    objects = ScopedManager(district="checklist__district")

    class Meta:
        verbose_name = _("checklist version")
        verbose_name_plural = _("checklist versions")
        ordering = ["checklist_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "number"], name="checklist_version_number_unique"),
            # One open draft at a time: editing always continues the same draft.
            models.UniqueConstraint(fields=["checklist"], condition=models.Q(status="draft"),
                                    name="checklist_one_draft"),
            models.CheckConstraint(condition=models.Q(declared_total__gt=0), name="checklist_total_positive"),
        ]

    def __str__(self):
        return f"{self.title_zh} v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def _stored_status(self):
        if self.pk is None:
            return None
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        # Second line of defence after the services (the DB trigger is the third).
        if self._stored_status() == self.Status.PUBLISHED:
            raise ImmutableError(_("Checklist version %(n)s is published and cannot be changed.") % {"n": self.number})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == self.Status.PUBLISHED:
            raise ImmutableError(_("Checklist version %(n)s is published and cannot be deleted.") % {"n": self.number})
        return super().delete(*args, **kwargs)


class _VersionPart(DistrictOwnedChild):
    """Sections and items refuse to change once their version is published."""

    district_parent = "version"
    objects = ScopedManager(district="version__checklist__district")

    class Meta:
        abstract = True

    def _guard(self, verb):
        status = ChecklistVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if status == ChecklistVersion.Status.PUBLISHED:
            raise ImmutableError(
                _("%(code)s belongs to a published checklist version and cannot be %(verb)s.")
                % {"code": self.code, "verb": verb}
            )

    def save(self, *args, **kwargs):
        self._guard(_("changed"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._guard(_("deleted"))
        return super().delete(*args, **kwargs)


class ChecklistSection(_VersionPart):
    version = models.ForeignKey(ChecklistVersion, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    code = models.CharField(_("code"), max_length=32)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("checklist section")
        verbose_name_plural = _("checklist sections")
        ordering = ["version_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="checklist_section_code_unique"),
        ]

    def __str__(self):
        return f"{self.code} {self.title_zh}"


class ChecklistItem(_VersionPart):
    class CheckMethod(models.TextChoices):
        RECORDS = "records", _("from the records")
        DOCUMENT = "document", _("read a document")
        SPOT_CHECK = "spot_check", _("spot check")

    class Scoring(models.TextChoices):
        AUTOMATIC = "automatic", _("automatic")
        MANUAL = "manual", _("manual")

    class Rule(models.TextChoices):
        THRESHOLD = "threshold", _("full points at a threshold")
        PROPORTIONAL = "proportional", _("proportional")
        BANDS = "bands", _("bands")

    version = models.ForeignKey(ChecklistVersion, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(ChecklistSection, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=32)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    requirement_zh = models.TextField(_("target requirement (目标要求)"), blank=True)
    requirement_en = models.TextField(_("target requirement (English)"), blank=True)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    check_method = models.CharField(_("how it is checked"), max_length=16, choices=CheckMethod.choices)
    scoring = models.CharField(_("scoring"), max_length=16, choices=Scoring.choices)
    metric = models.CharField(_("metric"), max_length=64, blank=True)
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices, blank=True)
    threshold = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # [[min_value, points], ...], min_value strictly increasing.
    bands = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["version_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="checklist_item_code_unique"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="checklist_item_points_positive"),
            models.CheckConstraint(
                condition=(models.Q(scoring="manual", metric="", rule="")
                           | (models.Q(scoring="automatic") & ~models.Q(metric="") & ~models.Q(rule=""))),
                name="checklist_item_scoring_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title_zh}"


class Assessment(DistrictOwnedModel):
    """A published checklist version x a semester x the schools of a subtree."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        LOCKED = "locked", _("locked")

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="assessments")
    # Null: the whole district. Otherwise a township centre school and its village schools.
    root_school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    checklist_version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="assessments")
    title = models.CharField(_("title"), max_length=200)
    # The district's semester (schools.Semester). Nullable for assessments of a window that is not a
    # semester of the calendar; when set, label/start/end below are copies of it (services and
    # clean() keep them equal, so scores and exports never depend on a later calendar edit).
    school_semester = models.ForeignKey("schools.Semester", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="assessments", verbose_name=_("semester"))
    semester_label = models.CharField(_("semester"), max_length=64)
    semester_start = models.DateField(_("semester start"), validators=[sane_date])
    semester_end = models.DateField(_("semester end"), validators=[sane_date])
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    # Bumped by every write that changes scores; part of the live-score cache key.
    revision = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-semester_start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(semester_end__gte=models.F("semester_start")),
                                   name="assessment_semester_ordered"),
        ]

    def __str__(self):
        return f"{self.title} ({self.semester_label})"

    def clean(self):
        super().clean()
        sem = self.school_semester
        if sem is not None:
            if self.district_id and sem.district_id != self.district_id:
                raise ValidationError({"school_semester": _("The semester belongs to another district.")})
            if (self.semester_start, self.semester_end) != (sem.start, sem.end):
                raise ValidationError({"school_semester": _(
                    "The dates %(start)s–%(end)s differ from the semester “%(name)s” (%(s)s–%(e)s).")
                    % {"start": self.semester_start, "end": self.semester_end, "name": sem.name, "s": sem.start,
                       "e": sem.end}})

    @property
    def semester(self) -> SemesterWindow:
        return SemesterWindow(self.semester_start, self.semester_end, self.semester_label, self.school_semester_id)

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.LOCKED


class ManualScore(SchoolOwnedModel):
    """An inspector's score for a manual item at one school. Every change leaves a ManualScoreChange."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="manual_scores")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    comment = models.TextField(_("comment"), blank=True)
    # Ids of evidence rows; plain ids so this app does not depend on the schools models.
    evidence_ids = models.JSONField(default=list, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("manual item score")
        verbose_name_plural = _("manual item scores")
        constraints = [
            models.UniqueConstraint(fields=["school", "assessment", "item"], name="manual_score_unique"),
            models.CheckConstraint(condition=models.Q(score__gte=0), name="manual_score_not_negative"),
        ]
        indexes = [models.Index(fields=["school", "assessment"], name="manualscore_school_assess")]


class ManualScoreChange(SchoolOwnedModel):
    """Audit trail of manual scores: who, when, old, new, comment. Append-only."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    old_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    new_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    old_comment = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    evidence_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("manual score change")
        verbose_name_plural = _("manual score changes")
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["school", "assessment", "item"], name="manualscorechg_school_item")]


class Snapshot(DistrictOwnedChild):
    """The moment a set of per-school scores was frozen (nightly, on lock, or on request)."""

    class Kind(models.TextChoices):
        NIGHTLY = "nightly", _("nightly")
        LOCK = "lock", _("on lock")
        MANUAL = "manual", _("on request")

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="snapshots")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    school_count = models.PositiveIntegerField(default=0)

    district_parent = "assessment"
    objects = ScopedManager(district="assessment__district")

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["taken_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment"], condition=models.Q(kind="lock"),
                                    name="snapshot_one_lock_per_assessment"),
        ]


class SnapshotSchool(SchoolOwnedModel):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="schools")
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    earned = models.DecimalField(max_digits=7, decimal_places=2)
    applicable_points = models.DecimalField(max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "snapshot"], name="snapshot_school_unique")]


class SnapshotItemScore(SchoolOwnedModel):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="item_scores")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    value = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "snapshot", "item"], name="snapshot_item_unique")]


class ComplianceExport(Job, DistrictOwnedChild):
    """One XLSX export run; the rows are the history."""

    status = status_field(queued=_("queued"), running=_("running"), done=_("done"), failed=_("failed"))
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+")
    scheduled = models.BooleanField(default=False)
    file = models.FileField(upload_to="compliance/exports/", max_length=255, blank=True)

    job_name = "compliance.export"
    # A worker killed mid-export: only the redelivery of the claiming message takes the job over.
    exclusive_claim = True
    default_time_limit = 30 * 60
    stale_scope_reason = "the stale-job sweeper fails stuck compliance exports of every district"

    district_parent = "assessment"
    objects = ScopedManager(district="assessment__district")

    class Meta:
        verbose_name = _("compliance export")
        verbose_name_plural = _("compliance exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="export_progress_max_100"),
        ]


class DistrictComplianceSettings(DistrictOwnedModel):
    """How the district's compliance scoring reads the records, chosen by the bureau. One row per
    district at most; a district without one has the defaults (compliance.metrics.sql reads them
    with COALESCE, so the defaults are stated there and here alike)."""

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="compliance_settings")
    # A village school's report on a VIA_CENTRE type counts once sent (True, the default), or only
    # once its centre school has approved it (or the bureau accepted it).
    count_unapproved_submissions = models.BooleanField(
        _("count reports the centre school has not approved yet"), default=True,
        help_text=_("Off: a village school's report that goes through its centre school counts in the "
                    "“submissions on time” measure only once the centre school has approved it."))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("compliance settings")
        verbose_name_plural = _("compliance settings")
