"""Minors' data paperwork (儿童个人信息网络保护规定): the guardian's consent decisions, the
guardian's requests to see, correct or delete a child's data, and the school's person
responsible for children's data."""
from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from tenancy.dates import past_date, sane_date
from tenancy.models import SchoolOwnedModel, SensitiveRecord


class ConsentRecord(SensitiveRecord, SchoolOwnedModel):
    """One decision of a child's guardian on the school keeping the child's data. Append-only:
    a new decision is a new row; the newest one is mirrored on Child.consent."""

    class Decision(models.TextChoices):
        GIVEN = "given", _("given")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    child = models.ForeignKey("schools.Child", on_delete=models.CASCADE, related_name="consent_records",
                              verbose_name=_("child"))
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices)
    guardian_name = models.CharField(_("guardian"), max_length=64)
    guardian_relation = models.CharField(_("guardian's relation"), max_length=32, blank=True)
    method = models.CharField(_("consent method"), max_length=100)
    decided_on = models.DateField(_("decided on"), validators=[past_date])
    limits = models.TextField(_("what the refusal limits"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["child", "-decided_on", "-id"]
        indexes = [models.Index(fields=["school", "child", "decided_on"], name="consent_school_child")]

    def __str__(self):
        return f"{self.get_decision_display()} {self.decided_on}"


def guardian_request_due(received_on: datetime.date) -> datetime.date:
    return received_on + datetime.timedelta(days=settings.PRIVACY_GUARDIAN_REQUEST_DAYS)


class GuardianRequest(SensitiveRecord, SchoolOwnedModel):
    """A guardian's request to see, correct or delete what the school holds about a child. Kept
    when the child's record goes (the school's own log of what it answered)."""

    class Kind(models.TextChoices):
        SEE = "see", _("see the data")
        CORRECT = "correct", _("correct the data")
        DELETE = "delete", _("delete the data")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        REFUSED = "refused", _("refused")

    child = models.ForeignKey("schools.Child", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="guardian_requests", verbose_name=_("child"))
    child_label = models.CharField(_("child's name"), max_length=64)
    kind = models.CharField(_("request"), max_length=8, choices=Kind.choices)
    requester_name = models.CharField(_("requested by"), max_length=64)
    requester_relation = models.CharField(_("relation to the child"), max_length=32, blank=True)
    received_on = models.DateField(_("received on"), validators=[past_date])
    due_on = models.DateField(_("due on"), validators=[sane_date])
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(_("outcome"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True, validators=[sane_date])
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("handled by"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("guardian request")
        verbose_name_plural = _("guardian requests")
        ordering = ["status", "due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True) | (~Q(status="open") & Q(closed_on__isnull=False)),
                name="guardianrequest_closed_has_date",
            ),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("received_on")),
                                   name="guardianrequest_due_after_received"),
        ]
        indexes = [models.Index(fields=["school", "status", "due_on"], name="guardianreq_school_open")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.received_on}"

    def save(self, *args, **kwargs):
        if self.due_on is None and self.received_on is not None:
            self.due_on = guardian_request_due(self.received_on)
        super().save(*args, **kwargs)


class DataOfficer(SchoolOwnedModel):
    """The school's person responsible for children's personal data (个人信息保护负责人): a staff
    member of the school, or a name and phone for someone without an account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("staff member"))
    name = models.CharField(pgettext_lazy("person", "name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    appointed_on = models.DateField(_("appointed on"), validators=[past_date])
    appointed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("appointed by"))
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("person responsible for children's data")
        verbose_name_plural = _("people responsible for children's data")
        constraints = [
            models.UniqueConstraint(fields=["school"], name="dataofficer_one_per_school"),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(name=""), name="dataofficer_named"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.user_id:
            return str(self.user)
        return ""
