"""A school's home (留守儿童之家): calendar, site, rules, proxy parents, the children's archive,
the four contacts, activities, study support and evidence.

Everything except Semester is school-owned (tenancy.models.SchoolOwnedModel): NOT NULL school FK,
a manager that refuses to query without a scope, and PostgreSQL row-level security applied after
migrate. Semester is district-owned (tenancy.models.DistrictOwnedModel): the same on the district.
Indexes lead with `school` so the RLS predicate and the filters share them.

Writes go through schools/services.py only; reads that need scope or aggregation through
schools/selectors.py.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from guardian.models import UserObjectPermissionBase

from tenancy.dates import past_date, sane_date
from tenancy.models import District, DistrictOwnedModel, SchoolOwnedModel, SensitiveRecord


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


# ---------------------------------------------------------------- evidence
def evidence_folder(school_id: int) -> str:
    """Where a school's evidence files live (a download refuses a stored name outside it)."""
    return f"evidence/{school_id}"


class Evidence(SchoolOwnedModel):
    """One uploaded photo or document, written only by services.evidence_upload.

    Files live under evidence/<school_id>/<sha256>… (deterministic, so a retried upload reuses the
    same file). An item is attached to at most one record; a rule document version points at its
    document from the other side.
    """

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        DOCUMENT = "document", _("document")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), max_length=255)
    thumbnail = models.FileField(_("thumbnail"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    phash = models.CharField(_("perceptual hash"), max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(auto_now_add=True)
    activity = models.ForeignKey("Activity", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="evidence")
    training_meeting = models.ForeignKey("TrainingMeeting", on_delete=models.CASCADE, null=True, blank=True,
                                         related_name="evidence")
    care_contact = models.ForeignKey("CareContact", on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="evidence")

    objects = ScopedManager(school="school")

    ATTACHMENTS = ("activity", "training_meeting", "care_contact")

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(activity__isnull=True, training_meeting__isnull=True)
                    | Q(activity__isnull=True, care_contact__isnull=True)
                    | Q(training_meeting__isnull=True, care_contact__isnull=True)
                ),
                name="evidence_attached_to_at_most_one",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "sha256"], name="evidence_school_sha"),
            models.Index(fields=["school", "activity", "kind"], name="evidence_school_activity"),
            models.Index(fields=["school", "training_meeting"], name="evidence_school_meeting"),
            models.Index(fields=["school", "care_contact"], name="evidence_school_contact"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sha256[:12]}"

    @property
    def attached_to(self):
        for name in self.ATTACHMENTS:
            if getattr(self, f"{name}_id"):
                return getattr(self, name)
        return None


class ReusedEvidenceFlag(SchoolOwnedModel):
    """The same (or a near-identical) file was already used elsewhere: by another record of the
    same school, or by another school of the district. Owned by the uploading school, so the
    bureau (whose scope is the whole district) sees it. The match in another school is named by
    ids only (no FK): a foreign key would make deleting the other school's row depend on rows
    that school cannot see under row-level security.
    """

    class Reason(models.TextChoices):
        SAME_FILE = "sha256", _("identical file")
        SIMILAR_PHOTO = "phash", _("near-identical photo")

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="reuse_flags")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    distance = models.PositiveSmallIntegerField(_("hash distance"), default=0)
    matched_school = models.ForeignKey("tenancy.School", on_delete=models.CASCADE, related_name="+",
                                       verbose_name=_("school of the earlier use"))
    matched_evidence_id = models.BigIntegerField()
    matched_object_type = models.CharField(max_length=64, blank=True)
    matched_object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("reused evidence flag")
        verbose_name_plural = _("reused evidence flags")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "matched_evidence_id"], name="reuse_flag_unique_pair"),
        ]
        indexes = [models.Index(fields=["school", "-created_at"], name="reuseflag_school_at")]

    @property
    def cross_school(self) -> bool:
        return self.matched_school_id != self.school_id


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

    # Fields a refusal of consent or a purge clears; the minimum kept is name, gender, grade,
    # class, left-behind kind and status.
    SENSITIVE_FIELDS = (
        "birth_date", "id_number_ciphertext", "id_number_hash", "id_number_masked", "parents_work_place",
        "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
        "home_village", "health_notes", "wellbeing_notes",
    )

    name = models.CharField(_("name"), max_length=64)
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
                    wellbeing_notes="",
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
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(school="school")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-happened_on", "-id"]
        indexes = [
            # Child before kind: the compliance metrics read a semester's contacts per child in index
            # order (one streaming aggregate per child, no hash table of every child).
            models.Index(fields=["school", "semester", "child", "kind"], name="contact_school_sem_child"),
            models.Index(fields=["school", "child", "semester"], name="contact_school_child"),
        ]


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
