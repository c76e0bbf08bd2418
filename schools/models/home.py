"""The home's fixed records: activity site, equipment, leadership group and rule documents."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from tenancy.dates import sane_date
from tenancy.models import SchoolOwnedModel

from .evidence import Evidence


# ---------------------------------------------------------------- the home
class ActivitySite(SchoolOwnedModel):
    room = models.CharField(_("room"), max_length=100)
    opened_on = models.DateField(_("opened on"), validators=[sane_date])
    area_m2 = models.DecimalField(_("area (m²)"), max_digits=7, decimal_places=1)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("activity site")
        verbose_name_plural = _("activity sites")
        ordering = ["opened_on", "id"]
        indexes = [models.Index(fields=["school", "opened_on"], name="site_school_opened")]
        constraints = [models.CheckConstraint(condition=Q(area_m2__gt=0), name="site_area_positive")]

    def __str__(self):
        return self.room


class Equipment(SchoolOwnedModel):
    class Kind(models.TextChoices):
        COMPUTER = "computer", _("computer")
        TV = "tv", _("television")
        FAMILY_PHONE = "family_phone", _("family telephone (亲情电话)")
        BOOKS = "books", _("books")
        SPORTS = "sports", _("sports equipment")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    acquired_on = models.DateField(_("date"), validators=[sane_date])

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["kind", "acquired_on", "id"]
        indexes = [models.Index(fields=["school", "kind"], name="equipment_school_kind")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="equipment_quantity_positive")]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.quantity}"


class LeadershipMember(SchoolOwnedModel):
    """A member of the leadership group (领导小组): a named person or a staff user."""

    person_name = models.CharField(_("name"), max_length=64, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("staff user"))
    title = models.CharField(_("title"), max_length=64)
    is_leader = models.BooleanField(_("group leader"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("leadership group member")
        verbose_name_plural = _("leadership group")
        ordering = ["-is_leader", "order", "id"]
        indexes = [models.Index(fields=["school", "order"], name="leadership_school_order")]
        constraints = [
            models.CheckConstraint(condition=~Q(person_name="") | Q(user__isnull=False),
                                   name="leadership_member_named"),
            models.UniqueConstraint(fields=["school"], condition=Q(is_leader=True), name="leadership_one_leader"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.person_name or (str(self.user) if self.user_id else "")


class RuleKind(models.TextChoices):
    """The nine rule documents (制度) every home keeps."""

    CONSTRUCTION_PLAN = "construction_plan", _("Construction plan (建设规划)")
    ANNUAL_PLAN = "annual_plan", _("Annual plan (年度计划)")
    MANAGEMENT = "management", _("Management measures (管理办法)")
    ASSESSMENT = "assessment", _("Assessment measures (考核办法)")
    ACCOUNTABILITY = "accountability", _("Accountability (责任追究制度)")
    ACTIVITIES = "activities", _("Activities (活动制度)")
    COUNSELLING = "counselling", _("Psychological counselling (心理咨询制度)")
    HEALTH_EDUCATION = "health_education", _("Health education (健康教育制度)")
    PROXY_PARENT = "proxy_parent", _("Proxy-parent system (代理家长制度)")


class RuleDocument(SchoolOwnedModel):
    kind = models.CharField(_("kind"), max_length=32, choices=RuleKind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("rule document")
        verbose_name_plural = _("rule documents")
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["school", "kind"], name="ruledoc_one_per_kind")]

    def __str__(self):
        return self.title or self.get_kind_display()


class RuleDocumentVersion(SchoolOwnedModel):
    document = models.ForeignKey(RuleDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    adopted_on = models.DateField(_("adopted on"), validators=[sane_date])
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="rule_versions",
                                 verbose_name=_("document"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("rule document version")
        verbose_name_plural = _("rule document versions")
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="ruleversion_unique_number")]
        indexes = [models.Index(fields=["school", "document", "-number"], name="ruleversion_school_doc")]
