"""Follow-up of the children who most need attention: the district's risk rules, follow-up cases
(帮扶个案) with their actions, and referrals to other agencies (including mandatory reports).

A district owns its risk rules: each upload is a new, immutable version and exactly one version is
active. Cases, actions and referrals are school-owned (scoped and protected by row-level
security) and are about a child, so every read of one is access-logged (SensitiveRecord).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import District, DistrictOwnedModel, SchoolOwnedModel, SensitiveRecord


class RiskRuleVersion(DistrictOwnedModel):
    """One saved version of a district's risk rules (YAML in, YAML out). Never edited: a change is
    a new version; only which version is active moves."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="risk_rule_versions")
    number = models.PositiveIntegerField(_("version"))
    source = models.TextField(_("rules (YAML)"))
    rules = models.JSONField(default=dict)  # the validated document, as the scorer reads it
    digest = models.CharField(max_length=64)
    active = models.BooleanField(_("active"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("risk rules version")
        verbose_name_plural = _("risk rules versions")
        ordering = ["district_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["district", "number"], name="riskrules_number_unique"),
            models.UniqueConstraint(fields=["district"], condition=Q(active=True), name="riskrules_one_active"),
        ]

    def __str__(self):
        return f"v{self.number}"

    def save(self, *args, **kwargs):
        # A version is what the scores of its time were computed with: its text never changes
        # (services only flip `active`, with an UPDATE of that column).
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exclude(source=self.source).exists():
            raise ValidationError(_("A saved rules version cannot be changed; upload a new one."))
        super().save(*args, **kwargs)


class Case(SensitiveRecord, SchoolOwnedModel):
    """A follow-up case (帮扶个案): someone owns the child's follow-up until it is closed."""

    class Reason(models.TextChoices):
        RISK = "risk", _("risk threshold reached")
        CONCERN = "concern", _("teacher's concern flag")
        UNATTENDED = "unattended", _("no one cares for the child")
        MANUAL = "manual", _("opened by hand")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    child = models.ForeignKey("schools.Child", on_delete=models.CASCADE, related_name="care_cases",
                              verbose_name=_("child"))
    opened_reason = models.CharField(_("why it was opened"), max_length=16, choices=Reason.choices)
    opened_note = models.CharField(_("note"), max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("owner"))
    due_on = models.DateField(_("follow up by"), validators=[sane_date])
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    close_reason = models.CharField(_("why it was closed"), max_length=300, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("opened by"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("follow-up case")
        verbose_name_plural = _("follow-up cases")
        ordering = ["due_on", "id"]
        constraints = [
            # However it is opened (beat job, signal, by hand, twice at once), one open case per child.
            models.UniqueConstraint(fields=["child"], condition=Q(status="open"), name="case_one_open_per_child"),
            models.CheckConstraint(condition=Q(status="open") | ~Q(close_reason=""), name="case_closed_has_reason"),
        ]
        indexes = [
            models.Index(fields=["school", "status", "due_on"], name="case_school_status_due"),
            models.Index(fields=["school", "owner", "status"], name="case_school_owner"),
        ]

    def __str__(self):
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CaseAction(SensitiveRecord, SchoolOwnedModel):
    """What was done for the case, when and by whom (the case's timeline)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    done_on = models.DateField(_("date"), validators=[sane_date])
    text = models.TextField(_("what was done"))
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("by"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("case action")
        verbose_name_plural = _("case actions")
        ordering = ["-done_on", "-id"]
        indexes = [models.Index(fields=["school", "case", "done_on"], name="caseaction_school_case")]


class Referral(SensitiveRecord, SchoolOwnedModel):
    """A referral of a child to another agency (转介), or a mandatory report (强制报告)."""

    class To(models.TextChoices):
        VILLAGE_DIRECTOR = "village_director", _("village children's director")
        CIVIL_AFFAIRS = "civil_affairs", _("civil affairs office")
        WOMENS_FEDERATION = "womens_federation", _("women's federation")
        POLICE = "police", _("police")

    # The legal grounds on which a child's data may be shared without the guardian's consent.
    class LegalGround(models.TextChoices):
        MANDATORY_REPORT = "mandatory_report", _("Mandatory report (Minors Protection Law, art. 11)")
        EMERGENCY = "emergency", _("Emergency: to protect the child's personal safety")
        POLICE_REQUEST = "police_request", _("Requested by the police according to law")

    child = models.ForeignKey("schools.Child", on_delete=models.CASCADE, related_name="referrals",
                              verbose_name=_("child"))
    to = models.CharField(_("referred to"), max_length=24, choices=To.choices)
    made_on = models.DateField(_("date"), validators=[sane_date])
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("by"))
    reason = models.TextField(_("reason"))
    is_mandatory_report = models.BooleanField(_("mandatory report of suspected harm"), default=False)
    shares_data = models.BooleanField(_("shares the child's data"), default=False)
    consent_recorded_on = models.DateField(_("consent recorded on"), null=True, blank=True, validators=[sane_date])
    consent_given_by = models.CharField(_("consent given by (guardian)"), max_length=64, blank=True)
    legal_ground = models.CharField(_("legal ground"), max_length=24, choices=LegalGround.choices, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True, validators=[sane_date])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-made_on", "-id"]
        constraints = [
            # The data-sharing gate again in the database (the service says why in Chinese).
            models.CheckConstraint(
                condition=Q(shares_data=False) | ~Q(legal_ground="")
                | (Q(consent_recorded_on__isnull=False) & ~Q(consent_given_by="")),
                name="referral_sharing_needs_consent_or_ground"),
        ]
        indexes = [models.Index(fields=["school", "child", "made_on"], name="referral_school_child")]
