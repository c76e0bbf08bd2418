"""The children's archive: a child's record, its object permissions and status history."""
from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager
from guardian.models import UserObjectPermissionBase

from tenancy.dates import past_date, sane_date
from tenancy.models import SchoolOwnedModel, SensitiveRecord


class Child(SensitiveRecord, SchoolOwnedModel):
    """One child's record in the archive (留守儿童档案). Personal data of a minor.

    The national ID number is stored only encrypted (MultiFernet, see schools/crypto.py), with a
    keyed hash for duplicate detection within the school and a masked form for display.
    Field names match schools.importing.ChildRow so the import maps 1:1.
    """

    class Gender(models.TextChoices):
        MALE = "male", _("male")
        FEMALE = "female", _("female")

    class LeftBehindKind(models.TextChoices):
        BOTH = "both", _("both parents away")
        FATHER = "father", _("father away")
        MOTHER = "mother", _("mother away")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        NO_LONGER = "no_longer", _("no longer left behind")
        TRANSFERRED = "transferred", _("transferred out")
        GRADUATED = "graduated", _("graduated")

    class Consent(models.TextChoices):
        PENDING = "pending", _("not yet recorded")
        GIVEN = "given", _("given")
        REFUSED = "refused", _("refused")

    # The civil-affairs register's (农村留守儿童信息管理系统) classifications.
    class CustodyType(models.TextChoices):
        BOTH_AWAY = "both_away", _("both parents work away")
        ONE_AWAY_OTHER_UNABLE = "one_away_other_unable", _("one parent away, the other unable to care")

    class Assessment(models.TextChoices):
        GOOD = "good", _("good")
        FAIR = "fair", _("fair")
        POOR = "poor", _("poor")
        NONE = "none", _("no one cares for the child")

    class IncomeSource(models.TextChoices):
        MIGRANT_WORK = "migrant_work", _("migrant work")
        FARMING = "farming", _("farming")
        BUSINESS = "business", _("business")
        SUBSIDY = "subsidy", _("government subsidy")
        OTHER = "other", _("other")

    class Assistance(models.TextChoices):
        DIBAO = "dibao", _("minimum living allowance")
        TEMPORARY = "temporary", _("temporary assistance")
        MEDICAL = "medical", _("medical assistance")
        HOUSING = "housing", _("housing assistance")

    class Health(models.TextChoices):
        HEALTHY = "healthy", _("healthy")
        ILL = "ill", _("ill")
        DISABLED = "disabled", _("disabled")
        ILL_AND_DISABLED = "ill_and_disabled", _("ill and disabled")

    # Fields a refusal of consent or a purge clears; the minimum kept is name, gender, grade,
    # class, left-behind kind and status.
    SENSITIVE_FIELDS = (
        "birth_date", "id_number_ciphertext", "id_number_hash", "id_number_masked", "parents_work_place",
        "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
        "home_village", "health_notes", "wellbeing_notes",
        # the register's fields about the family's means, health and care
        "guardianship_assessment", "parents_last_contact_on", "income_source", "assistance", "health_status",
        "disability", "illness", "household_registration",
    )

    name = models.CharField(pgettext_lazy("person", "name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True, validators=[past_date])
    id_number_ciphertext = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    grade = models.PositiveSmallIntegerField(_("grade"))
    class_name = models.CharField(_("class"), max_length=32)
    left_behind_kind = models.CharField(_("left-behind situation"), max_length=8, choices=LeftBehindKind.choices)
    parents_work_place = models.CharField(_("where the parents work"), max_length=200, blank=True)
    guardian_name = models.CharField(_("guardian"), max_length=64, blank=True)
    guardian_relation = models.CharField(_("guardian's relation"), max_length=32, blank=True)
    guardian_phone = models.CharField(_("guardian's phone"), max_length=32, blank=True)
    second_contact_name = models.CharField(_("second contact"), max_length=64, blank=True)
    second_contact_phone = models.CharField(_("second contact's phone"), max_length=32, blank=True)
    home_village = models.CharField(_("home village"), max_length=100, blank=True)
    health_notes = models.TextField(_("health notes"), blank=True)
    wellbeing_notes = models.TextField(_("wellbeing notes"), blank=True)
    # The register's fields. guardian_* above hold the entrusted guardian (受委托监护人).
    custody_type = models.CharField(_("custody type"), max_length=24, choices=CustodyType.choices, blank=True)
    guardianship_assessment = models.CharField(_("guardianship assessment"), max_length=8,
                                               choices=Assessment.choices, blank=True)
    guardian_since = models.DateField(_("guardian since"), null=True, blank=True, validators=[past_date])
    parents_last_contact_on = models.DateField(_("parents last in touch on"), null=True, blank=True,
                                               validators=[past_date])
    income_source = models.CharField(_("family's main income"), max_length=16, choices=IncomeSource.choices,
                                     blank=True)
    assistance = ArrayField(models.CharField(max_length=16, choices=Assistance.choices), default=list, blank=True,
                            verbose_name=_("assistance received"))
    health_status = models.CharField(_("health"), max_length=16, choices=Health.choices, blank=True)
    disability = models.CharField(_("disability"), max_length=100, blank=True)
    illness = models.CharField(_("illness"), max_length=100, blank=True)
    household_registration = models.CharField(_("household registration"), max_length=100, blank=True)
    consent = models.CharField(_("guardian consent"), max_length=8, choices=Consent.choices,
                               default=Consent.PENDING)
    consent_date = models.DateField(_("consent date"), null=True, blank=True, validators=[past_date])
    consent_method = models.CharField(_("consent method"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_since = models.DateField(_("status since"), validators=[sane_date])
    purged_at = models.DateTimeField(_("sensitive fields purged at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["grade", "class_name", "name", "id"]
        permissions = [("care_for_child", _("Care for this child as their proxy parent"))]
        constraints = [
            models.UniqueConstraint(fields=["school", "id_number_hash"], condition=~Q(id_number_hash=""),
                                    name="child_id_number_unique_in_school"),
            models.CheckConstraint(
                condition=Q(consent="given", consent_date__isnull=False) | ~Q(consent="given"),
                name="child_consent_given_has_date",
            ),
            models.CheckConstraint(
                # After a refusal only the minimum may be stored (the services also refuse it).
                condition=~Q(consent="refused") | Q(
                    id_number_ciphertext="", birth_date__isnull=True, parents_work_place="", guardian_phone="",
                    second_contact_name="", second_contact_phone="", home_village="", health_notes="",
                    wellbeing_notes="", parents_last_contact_on__isnull=True, income_source="", assistance=[],
                    health_status="", disability="", illness="", household_registration="",
                    guardianship_assessment="",
                ),
                name="child_refusal_keeps_minimum",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status", "class_name"], name="child_school_status_class"),
            models.Index(fields=["school", "status", "status_since"], name="child_school_left"),
        ]

    def __str__(self):
        return self.name or f"#{self.pk}"

    @classmethod
    def sensitive_cleared(cls) -> dict:
        """{field: its empty value} for SENSITIVE_FIELDS: None for a nullable field (dates), [] for
        a list, "" for text. The one place a refusal and a purge learn what "cleared" means."""
        cleared = {}
        for name in cls.SENSITIVE_FIELDS:
            field = cls._meta.get_field(name)
            cleared[name] = None if field.null else ([] if isinstance(field, ArrayField) else "")
        return cleared

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None


class ChildUserObjectPermission(UserObjectPermissionBase):
    """django-guardian direct-FK permission: a proxy parent's access to a currently assigned child.

    Mirrors active ProxyAssignment rows (services.proxy_assignments_sync); never written by hand.
    """

    content_object = models.ForeignKey(Child, on_delete=models.CASCADE)


class ChildStatusChange(SensitiveRecord, SchoolOwnedModel):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="status_history")
    status = models.CharField(_("status"), max_length=16, choices=Child.Status.choices)
    since = models.DateField(_("since"), validators=[sane_date])
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["child", "since", "id"]
        indexes = [models.Index(fields=["school", "child", "since"], name="childstatus_school_child")]
