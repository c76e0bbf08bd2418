"""Weekly themes, activities and their participants."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import SchoolOwnedModel

from .children import Child
from .evidence import Evidence
from .semesters import Semester


# ---------------------------------------------------------------- activities
class ThemeSchedule(SchoolOwnedModel):
    """The theme of each weekday (Monday=1 … Friday=5) in one semester."""

    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    theme = models.CharField(_("theme"), max_length=100)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("weekday theme")
        verbose_name_plural = _("theme schedule")
        ordering = ["semester", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["school", "semester", "weekday"], name="theme_unique_weekday"),
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=5), name="theme_weekday_mon_fri"),
        ]


class ActivityQuerySet(models.QuerySet):
    def with_evidence(self):
        """Annotate `photo_count` and `evidenced` (≥1 photo AND a non-empty text record), in SQL,
        so a list of any length costs one query."""
        photos = Evidence.objects.filter(activity=OuterRef("pk"), kind=Evidence.Kind.PHOTO)
        # Sub-selects rather than a JOIN + GROUP BY, so the annotation composes with others.
        count = photos.order_by().values("activity").annotate(n=models.Count("id")).values("n")
        return self.annotate(
            has_photo=Exists(photos),
            photo_count=Coalesce(Subquery(count, output_field=models.IntegerField()), 0),
        ).annotate(
            evidenced=models.ExpressionWrapper(
                Q(has_photo=True) & ~Q(text_record=""), output_field=models.BooleanField()
            )
        )

    def evidence_totals(self) -> dict:
        """{'total': n, 'evidenced': m} for the whole queryset, in one query."""
        photos = Exists(Evidence.objects.filter(activity=OuterRef("pk"), kind=Evidence.Kind.PHOTO))
        return self.aggregate(
            total=models.Count("id"),
            evidenced=models.Count("id", filter=Q(photos) & ~Q(text_record="")),
        )

    def evidenced(self):
        photos = Evidence.objects.filter(activity=OuterRef("pk"), kind=Evidence.Kind.PHOTO)
        return self.filter(Exists(photos)).exclude(text_record="")


class Activity(SchoolOwnedModel):
    class Kind(models.TextChoices):
        THEME = "theme_activity", _("theme activity")
        COMPETITION = "competition", _("competition")
        TRAINING = "training", _("training")

    date = models.DateField(_("date"), validators=[sane_date])
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    text_record = models.TextField(_("text record"), blank=True)
    participants = models.ManyToManyField(Child, through="ActivityParticipant", related_name="activities",
                                          verbose_name=_("participants"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # At least one photo among its evidence. Kept by triggers on the evidence table (migration
    # schools/0007), never written by Python: the compliance metric reads it instead of joining the
    # district's evidence, a join whose hash table outgrows memory at a province's size.
    photographed = models.BooleanField(db_default=False, editable=False)

    objects = ScopedManager(school="school", _manager_class=models.Manager.from_queryset(ActivityQuerySet))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["school", "date"], name="activity_school_date"),
            models.Index(fields=["school", "semester", "kind"], name="activity_school_semester"),
        ]

    def __str__(self):
        return self.title


class ActivityParticipant(SchoolOwnedModel):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    # Competitions: 1 = first place; the label carries the wording (一等奖, 第二名 …).
    placing = models.PositiveSmallIntegerField(_("placing"), null=True, blank=True)
    placing_label = models.CharField(_("award"), max_length=32, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "child"], name="participant_unique")]
        indexes = [models.Index(fields=["school", "activity"], name="participant_school_activity")]
