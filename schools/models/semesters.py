"""The district's academic calendar."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenancy.dates import sane_date
from tenancy.models import District, DistrictOwnedModel


# ---------------------------------------------------------------- academic calendar
class Semester(DistrictOwnedModel):
    """A district's semester. Non-overlap per district is enforced by services.semester_create
    under a lock on the district row (the embedded PostgreSQL ships without btree_gist, so no
    exclusion constraint)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="semesters")
    name = models.CharField(_("name"), max_length=64)
    start = models.DateField(_("first day"), validators=[sane_date])
    end = models.DateField(_("last day"), validators=[sane_date])

    class Meta:
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        ordering = ["district", "start"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="semester_name_unique_in_district"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="semester_end_after_start"),
        ]
        indexes = [models.Index(fields=["district", "start", "end"], name="semester_district_dates")]

    def __str__(self):
        return self.name

    def contains(self, day) -> bool:
        return self.start <= day <= self.end
