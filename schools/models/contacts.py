"""The four contacts (四个一次) with each child per semester."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import SchoolOwnedModel, SensitiveRecord

from .children import Child
from .semesters import Semester


# ---------------------------------------------------------------- the four contacts (四个一次)
class CareContact(SensitiveRecord, SchoolOwnedModel):
    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("home visit")
        TALK = "talk", _("heart-to-heart talk")
        GUARDIAN_CONTACT = "guardian_contact", _("guardian contact")
        LETTER = "letter", _("letter")

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    happened_on = models.DateField(_("date"), validators=[sane_date])
    # Set by the service from happened_on; a contact outside every semester is refused.
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="+")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("made by"))
    notes = models.TextField(_("notes"), blank=True)
    # A teacher's 关注 flag: this child needs attention, and why.
    concern = models.BooleanField(_("needs attention"), default=False)
    concern_reason = models.CharField(_("reason for attention"), max_length=200, blank=True)
    # Bumped by every edit: an edit made elsewhere (another device, offline) names the version it
    # started from, and a stale one is shown to its author instead of overwriting.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-happened_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(concern=False) | ~models.Q(concern_reason=""),
                                   name="contact_concern_has_reason"),
        ]
        indexes = [
            # Child before kind: the compliance metrics read a semester's contacts per child in index
            # order (one streaming aggregate per child, no hash table of every child).
            models.Index(fields=["school", "semester", "child", "kind"], name="contact_school_sem_child"),
            models.Index(fields=["school", "child", "semester"], name="contact_school_child"),
        ]


class ChildContactSummary(SchoolOwnedModel):
    """Which of the four contact kinds a child had in a semester, in its school: a bit mask
    (compliance.metrics.sql.CONTACT_KIND_BITS). Derived data, kept by PostgreSQL triggers on the
    contacts table (migration schools/0006), so every write path keeps it: the services, bulk
    inserts, imports, deletions, cascades and the retention purge. Never written by Python.

    The compliance metric reads one row per child here instead of aggregating every contact,
    which keeps scoring cost per school flat as a province's contacts grow."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    semester = models.ForeignKey(Semester, on_delete=models.CASCADE, related_name="+")
    mask = models.SmallIntegerField()

    objects = ScopedManager(school="school")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "semester", "child"], name="contact_summary_key"),
        ]
