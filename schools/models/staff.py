"""Staff profiles, proxy parents' assignments, training meetings and the work record book."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import SchoolOwnedModel, SensitiveRecord

from .children import Child
from .semesters import Semester


# ---------------------------------------------------------------- proxy parents and staff
class StaffProfile(SchoolOwnedModel):
    """A staff member's standing in one school's home, e.g. flagged as a proxy parent (代理家长)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profiles")
    is_proxy_parent = models.BooleanField(_("proxy parent"), default=False)
    title = models.CharField(_("title"), max_length=64, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["school", "user"], name="staffprofile_unique")]


class ProxyAssignment(SchoolOwnedModel):
    """A child assigned to a proxy parent from one date to another (open-ended while current)."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="proxy_assignments")
    proxy_parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("proxy parent"))
    starts_on = models.DateField(_("from"), validators=[sane_date])
    ends_on = models.DateField(_("to"), null=True, blank=True, validators=[sane_date])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("proxy-parent assignment")
        verbose_name_plural = _("proxy-parent assignments")
        ordering = ["child", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["child"], condition=Q(ends_on__isnull=True),
                                    name="proxyassignment_one_open_per_child"),
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                                   name="proxyassignment_dates_ordered"),
        ]
        indexes = [
            models.Index(fields=["school", "proxy_parent", "ends_on"], name="proxy_school_parent"),
            models.Index(fields=["school", "child", "starts_on"], name="proxy_school_child"),
        ]

    @classmethod
    def active_q(cls, day, prefix: str = "") -> Q:
        return Q(**{f"{prefix}starts_on__lte": day}) & (
            Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
        )


class TrainingMeeting(SchoolOwnedModel):
    """A proxy-parent training meeting (以会代训)."""

    date = models.DateField(_("date"), validators=[sane_date])
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    topic = models.CharField(_("topic"), max_length=200)
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TrainingAttendance",
                                       related_name="+", verbose_name=_("attendees"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("training meeting")
        verbose_name_plural = _("training meetings")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["school", "semester", "date"], name="meeting_school_semester")]


class TrainingAttendance(SchoolOwnedModel):
    meeting = models.ForeignKey(TrainingMeeting, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    objects = ScopedManager(school="school")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendance_unique")]
        indexes = [models.Index(fields=["school", "meeting"], name="attendance_school_meeting")]


class WorkRecordEntry(SensitiveRecord, SchoolOwnedModel):
    """An entry of a proxy parent's work record book (工作记录簿)."""

    proxy_parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("proxy parent"))
    date = models.DateField(_("date"), validators=[sane_date])
    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    text = models.TextField(_("entry"))
    child = models.ForeignKey(Child, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              verbose_name=_("about child"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("work record entry")
        verbose_name_plural = _("work record book")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["school", "proxy_parent", "date"], name="workrecord_school_parent")]
