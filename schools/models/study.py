"""Study support: teacher-child pairs and their tutoring sessions."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import SchoolOwnedModel

from .children import Child
from .semesters import Semester


# ---------------------------------------------------------------- study support
class StudyPair(SchoolOwnedModel):
    """A teacher paired with a child for study support (结对帮扶)."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("teacher"))
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="study_pairs")
    starts_on = models.DateField(_("from"), validators=[sane_date])
    ends_on = models.DateField(_("to"), null=True, blank=True, validators=[sane_date])
    subject = models.CharField(_("subject"), max_length=32, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("study pair")
        verbose_name_plural = _("study pairs")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="studypair_dates_ordered"),
            models.UniqueConstraint(fields=["teacher", "child"], condition=Q(ends_on__isnull=True),
                                    name="studypair_one_open"),
        ]
        indexes = [models.Index(fields=["school", "teacher"], name="studypair_school_teacher")]


class TutoringSession(SchoolOwnedModel):
    pair = models.ForeignKey(StudyPair, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(_("date"), validators=[sane_date])
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("tutoring session")
        verbose_name_plural = _("tutoring sessions")
        ordering = ["-date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(minutes__gt=0), name="tutoring_minutes_positive")]
        indexes = [models.Index(fields=["school", "pair", "date"], name="tutoring_school_pair")]
