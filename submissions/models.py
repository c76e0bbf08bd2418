"""Reporting calendar, submissions and their lifecycle, compiled package versions, narratives,
similarity flags and reminders.

District-owned (DistrictOwnedModel: fail-closed ORM scope + PostgreSQL RLS on the district): the
calendar (ReportType, and Period through it), the bureau's exports (DistrictExport) and the
notifications (each belongs to the district whose reporting it is about; within it, to one user's
inbox).
School-owned (SchoolOwnedModel: fail-closed ORM scope + PostgreSQL RLS): everything a school
sends or that is derived from what it sent.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from jobs.models import Job, status_field
from tenancy.dates import sane_date
from tenancy.models import District, DistrictOwnedChild, DistrictOwnedModel, School, SchoolOwnedModel


class ReportKind(models.TextChoices):
    PROGRESS = "progress", _("Progress report")
    HALF_YEAR_SUMMARY = "half_year_summary", _("Half-year work summary")
    OTHER = "other", _("Other")


class PeriodType(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    FORTNIGHTLY = "fortnightly", _("Fortnightly")
    MONTHLY = "monthly", _("Monthly")
    # The district's semesters (schools.Semester): one period per semester.
    SEMESTER = "semester", _("Semester (district calendar)")
    # Half-years, January–June and July–December, as in 上半年/下半年 work summaries.
    HALF_YEAR = "half_year", _("Half-year (Jan–Jun, Jul–Dec)")
    EXPLICIT = "explicit", _("Explicit list of dates")


class ApprovalRoute(models.TextChoices):
    # The bureau reviews every school's submission itself.
    DIRECT = "direct", _("Sent to the bureau for review")
    # A village school's submission is reviewed by its township centre school first; the bureau
    # decides only on what the centre approved. Centre schools still report to the bureau directly.
    VIA_CENTRE = "via_centre", _("Reviewed by the centre school, then sent to the bureau")


class Level(models.TextChoices):
    """Who acted on a submission, along the org tree."""

    SCHOOL = "school", _("School")
    CENTRE = "centre", _("Centre school")
    BUREAU = "bureau", _("Bureau")


class ReportType(DistrictOwnedModel):
    """A DHIS2-style data set: what is reported, how often, by whom, and its deadlines.

    Offsets are in days. open_on = period start + open_offset_days; due_on = period end +
    due_offset_days; on time if submitted on or before period end + timely_within_days; locked
    from period end + lock_after_days + 1 on (a first submission then needs the bureau to unlock).
    """

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="report_types")
    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=24, choices=ReportKind.choices, default=ReportKind.PROGRESS)
    period_type = models.CharField(_("period type"), max_length=16, choices=PeriodType.choices)
    start_on = models.DateField(_("first period starts on"), validators=[sane_date])
    end_on = models.DateField(_("last period ends on"), null=True, blank=True, validators=[sane_date])
    # For PeriodType.EXPLICIT: the end date of each period; the first starts on start_on.
    explicit_dates = ArrayField(models.DateField(validators=[sane_date]), default=list, blank=True, verbose_name=_("period end dates"))
    open_offset_days = models.SmallIntegerField(_("opens N days after the period starts"), default=0)
    due_offset_days = models.SmallIntegerField(_("due N days after the period ends"), default=3)
    timely_within_days = models.PositiveSmallIntegerField(_("on time if submitted within N days after the period ends"), default=3)
    lock_after_days = models.PositiveSmallIntegerField(_("locked N days after the period ends"), default=14)
    remind_days_before = models.PositiveSmallIntegerField(_("remind N days before the due date"), default=2)
    schools = models.ManyToManyField(School, related_name="report_types", blank=True, verbose_name=_("assigned schools"))
    is_active = models.BooleanField(_("active"), default=True)
    route = models.CharField(_("approval route"), max_length=16, choices=ApprovalRoute.choices,
                             default=ApprovalRoute.DIRECT, db_default=ApprovalRoute.DIRECT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report type")
        verbose_name_plural = _("report types")
        ordering = ["district_id", "start_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="reporttype_code_unique_in_district"),
            models.CheckConstraint(condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                                   name="reporttype_end_after_start"),
            # The lock can never come before the on-time window closes.
            models.CheckConstraint(condition=Q(lock_after_days__gte=F("timely_within_days")),
                                   name="reporttype_lock_after_timely"),
            models.CheckConstraint(condition=Q(lock_after_days__gte=F("due_offset_days")),
                                   name="reporttype_lock_after_due"),
        ]

    def __str__(self):
        return self.name


class Period(DistrictOwnedChild):
    """One reporting period of a report type, generated deterministically from it."""

    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="periods")
    seq = models.PositiveIntegerField(_("number"))
    start_on = models.DateField(_("starts on"))
    end_on = models.DateField(_("ends on"))
    open_on = models.DateField(_("opens on"))
    due_on = models.DateField(_("due on"))
    lock_on = models.DateField(_("locked from"))
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)

    district_parent = "report_type"
    objects = ScopedManager(district="report_type__district")

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["report_type_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["report_type", "seq"], name="period_seq_unique"),
            models.UniqueConstraint(fields=["report_type", "start_on"], name="period_start_unique"),
            models.CheckConstraint(condition=Q(end_on__gte=F("start_on")), name="period_end_after_start"),
            models.CheckConstraint(condition=Q(lock_on__gt=F("end_on")), name="period_lock_after_end"),
        ]
        indexes = [models.Index(fields=["open_on"], name="period_open_on")]

    def __str__(self):
        return f"{self.start_on:%Y-%m-%d}–{self.end_on:%m-%d}"


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    COMPILED = "compiled", _("Compiled")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    # VIA_CENTRE village schools only: the centre school approved; waiting for the bureau and
    # locked for the school.
    APPROVED = "approved", _("Approved by the centre school")
    ACCEPTED = "accepted", _("Accepted")


class Timeliness(models.TextChoices):
    NONE = "", _("Not submitted")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


SENT_STATUSES = (Status.SUBMITTED, Status.RETURNED, Status.RESUBMITTED, Status.APPROVED, Status.ACCEPTED)


class Submission(SchoolOwnedModel):
    """What one school sends for one period of one report type. Exactly one per triple."""

    report_type = models.ForeignKey(ReportType, on_delete=models.PROTECT, related_name="submissions")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    # Decided once, at the first submission (DHIS2: timeliness of the first completion).
    timeliness = models.CharField(_("timeliness"), max_length=8, choices=Timeliness.choices, default="", blank=True)
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("last submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    review_comment = models.TextField(_("review comment"), blank=True)
    # The centre school's approval (VIA_CENTRE route); cleared when it is withdrawn or returned.
    approved_at = models.DateTimeField(_("approved by the centre at"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Who returned it last (Level.CENTRE or Level.BUREAU); blank if never returned.
    returned_level = models.CharField(_("returned by"), max_length=8, choices=Level.choices, blank=True,
                                      default="", db_default="")
    # The bureau lifted the lock until this date (inclusive).
    unlocked_until = models.DateField(_("unlocked until"), null=True, blank=True, validators=[sane_date])
    # The content fingerprint (submissions.services.lifecycle.content_fingerprint) of what the bureau
    # returned: sending exactly that again needs the school's note on why nothing changed.
    returned_fingerprint = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["period__start_on", "school_id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "report_type", "period"], name="submission_one_per_school_period"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="submission_status_valid"),
            # Timeliness exists exactly when the submission has been sent once.
            models.CheckConstraint(
                condition=(Q(first_submitted_at__isnull=True, timeliness="")
                           | Q(first_submitted_at__isnull=False, timeliness__in=["on_time", "late"])),
                name="submission_timeliness_iff_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"], name="submission_school_status"),
            models.Index(fields=["report_type", "period"], name="submission_type_period"),
        ]

    def __str__(self):
        return f"{self.report_type} · {self.period} · {self.school_id}"

    @property
    def is_sent(self) -> bool:
        return self.status in SENT_STATUSES


class SubmissionEvent(SchoolOwnedModel):
    """The audit trail of a submission: every transition, with who, when, from, to and comment."""

    class Action(models.TextChoices):
        OPEN = "open", _("opened")
        COMPILE = "compile", _("compiled")
        SUBMIT = "submit", _("submitted")
        RESUBMIT = "resubmit", _("resubmitted")
        ACCEPT = "accept", _("accepted")
        RETURN = "return", _("returned")
        UNLOCK = "unlock", _("unlocked")
        NARRATIVE = "narrative", _("narrative edited")
        UNLOCK_REQUEST = "unlock_request", _("unlock requested")
        UNLOCK_REFUSE = "unlock_refuse", _("unlock refused")
        REMIND = "remind", _("reminded")
        APPROVE = "approve", _("approved by the centre school")
        WITHDRAW = "withdraw", _("centre approval withdrawn")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()
    comment = models.TextField(blank=True)
    # The level that acted: the school itself, its centre school or the bureau.
    level = models.CharField(max_length=8, choices=Level.choices, blank=True, default="", db_default="")

    class Meta:
        # Write order: `at` is the business time and may be backdated (demo, imports).
        ordering = ["id"]
        indexes = [models.Index(fields=["school", "submission"], name="subevent_school_submission")]

    # The history shows states as people name them (已汇总), not as stored (compiled).
    @property
    def from_status_label(self) -> str:
        return str(Status(self.from_status).label) if self.from_status in Status.values else self.from_status

    @property
    def to_status_label(self) -> str:
        return str(Status(self.to_status).label) if self.to_status in Status.values else self.to_status


class ApprovalBatch(SchoolOwnedModel):
    """One call in which a centre school decided many village submissions of one period (each
    decision still has its own SubmissionEvent). Owned by the centre school."""

    class Action(models.TextChoices):
        APPROVE = "approve", _("approve")
        RETURN = "return", _("return")

    report_type = models.ForeignKey(ReportType, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    comment = models.TextField(blank=True)
    submission_ids = ArrayField(models.BigIntegerField(), default=list)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "period"], name="approvalbatch_school_period")]


class PackageVersion(Job, SchoolOwnedModel):
    """One compile of a submission's package (XLSX + DOCX). Written by the compile job.

    Idempotency hooks for that job: the version number is unique per submission, the storage key
    is derived from (school, submission, version) only, and at most one version is current
    (partial unique constraint), so a redelivered job completes the same row and files.
    """

    status = status_field(running=_("Compiling"))
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=False)
    storage_key = models.CharField(max_length=200, unique=True)
    # The narrative this version was compiled from; submit refuses a stale package.
    narrative_digest = models.CharField(max_length=64, blank=True)
    files = models.JSONField(default=dict, blank=True)  # {"xlsx": "<key>/package.xlsx", ...}
    # The key figures compiled into the package (children, coverage, activities, ...), so the
    # district export and the review screen read them without reopening the files.
    figures = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    job_name = "submissions.compile"
    time_limit_setting = "SUBMISSIONS_COMPILE_TIME_LIMIT"
    default_time_limit = 20 * 60
    stale_scope_reason = "the stale-job sweeper fails stuck compiles of every school"
    stale_running_error = _("The compile stopped without finishing (its worker was lost or ran out of time). "
                            "Compile again.")
    stale_queued_error = _("The compile never started (the task queue was unavailable for too long). Compile again.")

    class Meta:
        ordering = ["submission_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "version"], name="packageversion_unique_version"),
            models.UniqueConstraint(fields=["submission"], condition=Q(is_current=True),
                                    name="packageversion_one_current"),
            models.CheckConstraint(condition=Q(is_current=False) | Q(status="done"), name="packageversion_current_is_done"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="packageversion_progress_pct"),
        ]
        indexes = [models.Index(fields=["school", "submission"], name="packageversion_school_sub")]


def package_storage_key(school_id: int, submission_id: int, version: int) -> str:
    """Deterministic: a rerun of the same compile writes the same files, never new ones."""
    return f"submissions/{school_id}/{submission_id}/v{version}"


class Narrative(SchoolOwnedModel):
    """The school's own narrative paragraphs, by section; editable until submitted."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="narrative")
    sections = models.JSONField(default=dict, blank=True)  # {section key: text}, see narrative.SECTIONS
    digest = models.CharField(max_length=64, blank=True)  # sha256 of the joined text
    # MinHash signature of the text it was computed for (fingerprint_digest), set at submit time.
    signature = ArrayField(models.BigIntegerField(), default=list, blank=True)
    fingerprint_digest = models.CharField(max_length=64, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped on every save; an edit based on an older version is refused (no silent overwrite).
    version = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        indexes = [models.Index(fields=["school", "submission"], name="narrative_school_sub")]

    @property
    def text(self) -> str:
        from .narrative import join_sections

        return join_sections(self.sections)


class NarrativeBand(SchoolOwnedModel):
    """One LSH bucket of a narrative's MinHash signature: new texts meet only their bucket-mates."""

    narrative = models.ForeignKey(Narrative, on_delete=models.CASCADE, related_name="bands")
    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="+")
    band = models.PositiveSmallIntegerField()
    bucket = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["narrative", "band"], name="narrativeband_unique")]
        indexes = [models.Index(fields=["report_type", "bucket"], name="narrativeband_lookup")]


class SimilarityFlag(SchoolOwnedModel):
    """Two schools' narratives (same report type) that are near-duplicates.

    The pair is stored once, ordered by submission id; the row belongs to submission_a's school
    (RLS), and the bureau, whose scope covers the district, sees both sides.
    """

    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="similarity_flags")
    submission_a = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    submission_b = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    school_b = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()  # exact Jaccard of the character shingles
    passages = models.JSONField(default=list)  # [{"a": [start, end], "b": [start, end], "length", "text"}]
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["submission_a", "submission_b"], name="similarityflag_pair_unique"),
            models.CheckConstraint(condition=Q(submission_a__lt=F("submission_b")), name="similarityflag_pair_ordered"),
        ]
        indexes = [models.Index(fields=["school", "report_type"], name="simflag_school_type")]


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    MANUAL = "manual", _("Reminder from the bureau")


class SubmissionReminder(SchoolOwnedModel):
    """A reminder sent for a submission. The beat's kinds are unique (each is sent once); the
    bureau's manual 催报 may repeat, at most once a day (unique on the local date it was sent)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    sent_at = models.DateTimeField()
    sent_on = models.DateField(null=True, blank=True, validators=[sane_date])
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "kind"], condition=~Q(kind="manual"),
                                    name="reminder_once_per_kind"),
            models.UniqueConstraint(fields=["submission", "sent_on"], condition=Q(kind="manual"),
                                    name="reminder_manual_once_a_day"),
        ]


class UnlockRequest(SchoolOwnedModel):
    """A school asks the bureau to unlock a locked submission (申请解锁), with its reason."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="unlock_requests")
    reason = models.TextField(_("reason"), max_length=1000)
    status = models.CharField(_("status"), max_length=8, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("unlock request")
        verbose_name_plural = _("unlock requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One open request per submission: asking twice does not queue twice.
            models.UniqueConstraint(fields=["submission"], condition=Q(status="pending"),
                                    name="unlockrequest_one_pending"),
            models.CheckConstraint(condition=Q(status__in=["pending", "granted", "refused"]),
                                   name="unlockrequest_status_valid"),
            models.CheckConstraint(condition=Q(status="pending") | Q(decided_at__isnull=False),
                                   name="unlockrequest_decided_at"),
        ]
        indexes = [models.Index(fields=["school", "status"], name="unlockrequest_school_status")]


class DistrictExport(Job, DistrictOwnedModel):
    """A consolidated export of one period across all the district's schools (one XLSX).

    District-owned (the bureau's), kept with history: every run is a new row. A scheduled run is
    unique per period (partial constraint), so the beat job can run any number of times.
    """

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("On demand")
        SCHEDULED = "scheduled", _("Scheduled")

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="submission_exports")
    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="exports")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="exports")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    file = models.CharField(max_length=255, blank=True)  # storage name, deterministic per row
    rows = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")

    job_name = "submissions.district_export"
    stale_scope_reason = "the stale-job sweeper fails stuck exports of every district"

    class Meta:
        verbose_name = _("district export")
        verbose_name_plural = _("district exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period"], condition=Q(trigger="scheduled"),
                                    name="districtexport_one_scheduled_per_period"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="districtexport_progress_pct"),
        ]
        indexes = [models.Index(fields=["district", "-created_at"], name="districtexport_district_at")]


def district_export_folder(district_id: int) -> str:
    """Where a district's exports live (a download refuses a stored name outside it)."""
    return f"submission-exports/{district_id}"


def district_export_storage_key(export_id: int, district_id: int) -> str:
    """Deterministic per row: a redelivered export job overwrites its own file, never adds one."""
    return f"{district_export_folder(district_id)}/export-{export_id}.xlsx"


# The township roll-up package lives in its own module (a job of the centre school).
from .models_township import TownshipPackage, township_storage_key  # noqa: E402, F401
