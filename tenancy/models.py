"""Who owns what: districts, the school tree, users, memberships, the access log.

School-owned data elsewhere subclasses `SchoolOwnedModel`: a NOT NULL `school` FK, a default
manager that refuses to query without a scope (django-scopes), and row-level security in
PostgreSQL (see tenancy/rls.py). District-owned data (the calendar, checklists, assessments, the
bureau's exports) gets the same two guarantees on the `district` dimension through
`DistrictOwnedModel`, and the tables below such a row through `DistrictOwnedChild`.
"""
from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from guardian.models import UserObjectPermissionBase
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from .dates import sane_date
from .roles import PERMISSIONS, Role


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            # "Gupei_Admin" beside "gupei_admin" reads as the same person to everyone who sees it.
            # The services refuse it with a clear message (tenancy.services.user_create); this
            # catches every other path.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique",
                                    violation_error_message=_("This username is already taken.")),
        ]

    def __str__(self):
        return self.display_name or self.username


class District(models.Model):
    """An education bureau (教育局): the root of an org tree."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["id"]
        permissions = PERMISSIONS

    def __str__(self):
        return self.name


class School(models.Model):
    """A school and its home. A township centre school is the parent of its village schools."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("overseen by"),
    )
    # Materialised path of ids, e.g. "/4/17/": a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=32)
    township = models.CharField(_("township"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    opened_on = models.DateField(_("joined the platform on"), null=True, blank=True, validators=[sane_date])
    closed_on = models.DateField(_("left the platform on"), null=True, blank=True, validators=[sane_date])
    created_at = models.DateTimeField(auto_now_add=True)

    #: Not a column: the depth below the listing's topmost school, set by the home view for display.
    indent: int

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["path"]
        permissions = PERMISSIONS
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="school_code_unique_in_district"),
            models.UniqueConstraint(fields=["district", "name"], name="school_name_unique_in_district"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="school_not_own_parent"),
        ]

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class Membership(models.Model):
    """A role held by a user on a district or a school. Guardian permissions mirror it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["id"]
        constraints = [
            # Exactly one of district / school, matching the kind of role.
            models.CheckConstraint(
                condition=(
                    models.Q(role__in=["bureau_admin", "bureau_inspector"], district__isnull=False, school__isnull=True)
                    | models.Q(
                        role__in=["township_admin", "school_admin", "teacher", "clerk"],
                        district__isnull=True, school__isnull=False,
                    )
                ),
                name="membership_target_matches_role",
            ),
            models.UniqueConstraint(fields=["user", "role", "district"], name="membership_unique_district_role",
                                    condition=models.Q(district__isnull=False)),
            models.UniqueConstraint(fields=["user", "role", "school"], name="membership_unique_school_role",
                                    condition=models.Q(school__isnull=False)),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.district or self.school}"

    @property
    def target(self):
        return self.district or self.school


# Direct-FK object permission models (guardian's performance guide): real FKs, no text pks,
# no orphans on delete.
class DistrictUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class SchoolUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(School, on_delete=models.CASCADE)


class SchoolOwnedModel(models.Model):
    """Base for every school-owned table: fail-closed ORM scope plus PostgreSQL RLS."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school"))

    objects = ScopedManager(school="school")

    class Meta:
        abstract = True


class DistrictOwnedModel(models.Model):
    """Base for every district-owned table: a NOT NULL `district` FK, a default manager that
    refuses to query without a scope on the `district` dimension, and PostgreSQL RLS on
    `app.district_ids` (tenancy/rls.py). A subclass may redeclare `district` to keep its own
    related_name and on_delete; it must stay a NOT NULL FK to District.
    """

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))

    objects = ScopedManager(district="district")

    class Meta:
        abstract = True


class DistrictOwnedChild(models.Model):
    """Base for a table owned through a district-owned parent row (a checklist's versions, a report
    type's periods, an assessment's snapshots). It carries no district column of its own: the
    row-level policy admits a row only while its parent row is visible (tenancy/rls.py), and the
    default manager filters on the path to the district, e.g.

        district_parent = "checklist"
        objects = ScopedManager(district="checklist__district")

    tests/tenancy/test_district_scoping.py checks both for every subclass.
    """

    #: The FK to the district-owned (or itself district-owned-child) parent the row follows.
    district_parent: ClassVar[str]

    class Meta:
        abstract = True


def district_path(model) -> str:
    """The ORM path from a district-owned model to its district: "district" for a
    DistrictOwnedModel, e.g. "version__checklist__district" for a child of a child."""
    if issubclass(model, DistrictOwnedModel):
        return "district"
    if issubclass(model, DistrictOwnedChild):
        parent = model._meta.get_field(model.district_parent).related_model
        return f"{model.district_parent}__{district_path(parent)}"
    raise TypeError(f"{model.__name__} is not district-owned.")


def owning_district(obj) -> District:
    """The district that owns a district-owned row (following its parents)."""
    while isinstance(obj, DistrictOwnedChild):
        obj = getattr(obj, obj.district_parent)
    if not isinstance(obj, DistrictOwnedModel):
        raise TypeError(f"{type(obj).__name__} is not district-owned.")
    return obj.district


class SensitiveRecord:
    """Mixin marking a school-owned model whose every read of one record is access-logged.

    Declarative, so a read path cannot forget it: the API base viewset logs a VIEW for every
    successful detail read of a marked model (api/base.py), and tests walk every marked model's
    detail route. List it first: `class Child(SensitiveRecord, SchoolOwnedModel)`.
    """

    access_log_reads = True


def is_sensitive(model) -> bool:
    return getattr(model, "access_log_reads", False) is True


class AccessLog(SchoolOwnedModel):
    """One row per read of a sensitive record and per write. Written only by access_log_record."""

    class Action(models.TextChoices):
        VIEW = "view", _("view")
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")
        EXPORT = "export", _("export")
        PURGE = "purge", _("purge")
        VERIFY = "verify", _("two-factor check")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # The object is named by type and id only: the log must not copy children's names.
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "-at"], name="accesslog_school_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_type}#{self.object_id}"


class TaskOutbox(models.Model):
    """A Celery message written in the same transaction as the work it asks for (transactional
    outbox, jobs/outbox.py). Published right after commit; if the broker is down the row stays
    unsent and the beat job `jobs.flush_outbox` publishes it once the broker is back.

    Not school-owned: it holds a task name and ids only, never personal data.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name="taskoutbox_unsent")]

    def __str__(self):
        return f"{self.task}{tuple(self.args)} {'sent' if self.sent_at else 'unsent'}"


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox, swapped in by KNOX_TOKEN_MODEL): only a SHA-512 digest of the
    token is stored, with its expiry. A user may hold several and revokes each (tenancy/tokens.py).

    Knox keys its own table by the digest; an integer id lets the owner name a token in a URL
    without handing the digest around.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    # What the owner called it when asking for it ("phone", "report script"), to tell tokens apart.
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "expiry"], name="apitoken_user_expiry")]

    def __str__(self):
        return f"{self.user} {self.token_key[:8]}…"

    @property
    def key_prefix(self) -> str:
        """The token's first characters: enough for its owner to recognise it, useless to anyone else."""
        return self.token_key[:8]


class IdempotencyKey(DistrictOwnedModel):
    """A create the client named with its own id (a form's client_id, an API Idempotency-Key): sent
    again, it returns the first result instead of writing a second row. The unique (user, key)
    index is claimed in the create's own transaction, so a concurrent double submit waits on it and
    then finds the first result. Holds references only, never the created record's data.

    Row-level security: the district, and the school when there is one (tenancy/rls.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # What was asked (a digest of the method, path and body): the same key for another request is refused.
    fingerprint = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self):
        return f"{self.key} → {self.object_type}:{self.object_id}"
