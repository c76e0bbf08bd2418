"""Every write about submissions: keyword-only arguments, one transaction each, audited.

Transitions are compare-and-set on the status column (UPDATE … WHERE status = <the status the
caller saw>), so two concurrent clicks cannot both succeed. Each transition writes a
SubmissionEvent and an access-log entry (tenancy.services.access_log_record).

`now` parameters exist for the beat jobs, the demo and tests; views never pass them.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jobs.models import UNFINISHED
from jobs.outbox import job_enqueue
from tenancy.models import District, Membership, School, TaskOutbox
from tenancy.roles import Role
from tenancy.scoping import district_scope, in_district_scope, system_scope, tenant_scope
from tenancy.selectors import has_school_perm, permissions_on_district
from tenancy.services import access_log_record

from . import narrative as narrative_mod
from . import similarity
from .calendar import is_on_time, school_open_during, specs_for
from .models import (
    Narrative, NarrativeBand, Notification, PackageVersion, Period, PeriodType, ReminderKind, ReportType,
    SimilarityFlag, Status, Submission, SubmissionEvent, SubmissionReminder, Timeliness, package_storage_key,
)

log = logging.getLogger(__name__)

COMPILE_TASK = "submissions.compile_package"


class TransitionConflict(ValidationError):
    """Someone else changed the submission between reading and writing it."""


class SubmissionLocked(ValidationError):
    """The period's lock date has passed; the bureau must unlock the submission first."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def _localdate(now: datetime | None = None) -> date:
    return timezone.localdate(now) if now is not None else timezone.localdate()


# ---------------------------------------------------------------- calendar
def _require_calendar_manager(actor, district: District) -> None:
    # Setting the reporting calendar is the bureau admin's job: the same grant that reviews.
    if actor is not None and "review_submissions" not in permissions_on_district(actor, district):
        raise PermissionDenied(_("Only the bureau can manage the reporting calendar."))


@in_district_scope("district")
@transaction.atomic
def report_type_create(*, actor, district: District, name: str, code: str, period_type: str, start_on: date,
                       kind: str = "progress", end_on: date | None = None, explicit_dates=(),
                       open_offset_days: int = 0, due_offset_days: int = 3, timely_within_days: int = 3,
                       lock_after_days: int = 14, remind_days_before: int = 2, schools=()) -> ReportType:
    """Create a report type, assign schools and generate its periods. `actor=None`: system/seed."""
    _require_calendar_manager(actor, district)
    schools = list(schools)
    if any(s.district_id != district.id for s in schools):
        raise ValidationError({"schools": _("Every assigned school must belong to the district.")})
    explicit_dates = sorted(set(explicit_dates or ()))
    if period_type == PeriodType.EXPLICIT:
        if not explicit_dates:
            raise ValidationError({"explicit_dates": _("List at least one period end date.")})
        if explicit_dates[0] < start_on:
            raise ValidationError({"explicit_dates": _("Period end dates cannot be before the first start date.")})
    elif explicit_dates:
        raise ValidationError({"explicit_dates": _("Dates are only used with the explicit period type.")})
    report_type = ReportType(
        district=district, name=name, code=code, kind=kind, period_type=period_type, start_on=start_on,
        end_on=end_on, explicit_dates=explicit_dates, open_offset_days=open_offset_days,
        due_offset_days=due_offset_days, timely_within_days=timely_within_days, lock_after_days=lock_after_days,
        remind_days_before=remind_days_before, created_by=actor,
    )
    report_type.full_clean()
    report_type.save()
    report_type.schools.set(schools)
    periods_generate(report_type=report_type)
    _log_district(actor, district.id, "create", report_type)
    return report_type


@in_district_scope("report_type")
@transaction.atomic
def report_type_assign(*, actor, report_type: ReportType, schools) -> ReportType:
    """Replace the set of schools a report type is assigned to."""
    _require_calendar_manager(actor, report_type.district)
    schools = list(schools)
    if any(s.district_id != report_type.district_id for s in schools):
        raise ValidationError({"schools": _("Every assigned school must belong to the district.")})
    report_type.schools.set(schools)
    return report_type


@in_district_scope("report_type")
def periods_generate(*, report_type: ReportType, until: date | None = None) -> int:
    """Create the report type's missing periods up to `until` (default: today + horizon). Idempotent."""
    horizon = _setting("SUBMISSIONS_PERIOD_HORIZON_DAYS", 62)
    until = until or (_localdate() + timedelta(days=horizon))
    semesters = ()
    if report_type.period_type == PeriodType.SEMESTER:
        from schools.models import Semester

        semesters = list(Semester.objects.filter(district_id=report_type.district_id).values_list("start", "end"))
    specs = specs_for(report_type, until=until, semesters=semesters)
    if report_type.period_type == PeriodType.SEMESTER:
        # The calendar can change after periods were stored: only semesters after the last stored
        # period are added, numbered on from it (a deleted or inserted semester never shifts them).
        last = Period.objects.filter(report_type=report_type).order_by("-seq").first()
        if last is not None:
            later = [s for s in specs if s.start_on > last.end_on]
            specs = [replace(s, seq=last.seq + i) for i, s in enumerate(later, start=1)]
    before = Period.objects.filter(report_type=report_type).count()
    Period.objects.bulk_create(
        [Period(report_type=report_type, seq=s.seq, start_on=s.start_on, end_on=s.end_on, open_on=s.open_on,
                due_on=s.due_on, lock_on=s.lock_on) for s in specs],
        ignore_conflicts=True,
    )
    return Period.objects.filter(report_type=report_type).count() - before


_INSERT_SUBMISSIONS = """
INSERT INTO submissions_submission
    (school_id, report_type_id, period_id, status, timeliness, review_comment, created_at, updated_at)
SELECT t.school_id, %s, t.period_id, 'open', '', '', %s, %s
FROM unnest(%s::bigint[], %s::bigint[]) AS t(school_id, period_id)
ON CONFLICT ON CONSTRAINT submission_one_per_school_period DO NOTHING
RETURNING id, school_id
"""


def periods_open(*, today: date | None = None, report_type_ids=None) -> int:
    """The beat job: every period whose open date has come gets one submission per assigned school
    that was open during it. Returns how many submissions this run created.

    Idempotent and safe to run concurrently: INSERT … ON CONFLICT DO NOTHING on the unique
    (school, report type, period) constraint; events are written only for rows this run inserted.
    Each district runs in an explicit tenant scope of its own schools.
    """
    today = today or _localdate()
    now = timezone.now()
    horizon = _setting("SUBMISSIONS_PERIOD_HORIZON_DAYS", 62)
    with system_scope("the beat job opens the periods of every district's report types"):
        types = ReportType.objects.filter(is_active=True, start_on__lte=today).select_related("district")
        if report_type_ids is not None:
            types = types.filter(id__in=report_type_ids)
        by_district: dict[int, list[ReportType]] = {}
        for rt in types.order_by("district_id", "id"):
            by_district.setdefault(rt.district_id, []).append(rt)
    created = 0
    for district_id, rts in by_district.items():
        school_ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
        with system_scope("a district's periods open for every school of it", school_ids=school_ids,
                          district_ids=[district_id]):
            for rt in rts:
                periods_generate(report_type=rt, until=today + timedelta(days=horizon))
                created += _open_report_type(rt, today, now)
    return created


def _open_report_type(rt: ReportType, today: date, now: datetime) -> int:
    periods = list(Period.objects.filter(report_type=rt, open_on__lte=today).order_by("seq"))
    schools = list(rt.schools.values_list("id", "opened_on", "closed_on"))
    pairs = [(sid, p.id) for p in periods for sid, opened, closed in schools
             if school_open_during(opened, closed, p.start_on, p.end_on)]
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SUBMISSIONS, [rt.id, now, now, [s for s, _p in pairs], [p for _s, p in pairs]])
        rows = cursor.fetchall()
    SubmissionEvent.objects.bulk_create([
        SubmissionEvent(school_id=school_id, submission_id=sub_id, action=SubmissionEvent.Action.OPEN,
                        from_status="", to_status=Status.OPEN, at=now)
        for sub_id, school_id in rows
    ])
    Period.objects.filter(id__in=[p.id for p in periods], opened_at__isnull=True).update(opened_at=now)
    return len(rows)


# ---------------------------------------------------------------- transitions
def _transition(submission: Submission, *, to: str, action: str, actor, now: datetime, comment: str = "",
                **fields) -> Submission:
    """Compare-and-set the status from what the caller saw to `to`, then audit it."""
    from_status = submission.status
    n = Submission.objects.filter(pk=submission.pk, status=from_status).update(status=to, updated_at=now, **fields)
    if n != 1:
        raise TransitionConflict(_("This submission was changed by someone else meanwhile. Reload it and try again."))
    SubmissionEvent.objects.create(
        school_id=submission.school_id, submission=submission, action=action, from_status=from_status,
        to_status=to, actor=actor if getattr(actor, "is_authenticated", False) else None, at=now, comment=comment,
    )
    access_log_record(user=actor, school_id=submission.school_id, action="update", obj=submission,
                      detail={"transition": action, "from": from_status, "to": to})
    submission.refresh_from_db()
    return submission


def _require(actor, codename: str, submission: Submission, message: str) -> None:
    if actor is None or not has_school_perm(actor, codename, submission.school):
        raise PermissionDenied(message)


def submission_is_locked(submission: Submission, today: date) -> bool:
    """Locked for a first submission: past the period's lock date and not unlocked by the bureau."""
    if today < submission.period.lock_on:
        return False
    return not (submission.unlocked_until is not None and today <= submission.unlocked_until)


@transaction.atomic
def submission_submit(*, actor, submission: Submission, now: datetime | None = None,
                      enqueue_similarity: bool = True) -> Submission:
    """Send a compiled submission to the bureau (or send it again after a return).

    The narrative is compared with other schools' in a Celery task after commit; the demo seed
    passes enqueue_similarity=False and calls submission_similarity_compute itself.
    """
    now = now or timezone.now()
    today = _localdate(now)
    _require(actor, "submit_reports", submission, _("You may not submit reports for this school."))
    status = submission.status
    if status == Status.ACCEPTED:
        raise ValidationError(_("This submission has been accepted and is locked."))
    if status in (Status.SUBMITTED, Status.RESUBMITTED):
        raise ValidationError(_("This submission has already been sent and is waiting for the bureau's review."))
    current = PackageVersion.objects.filter(submission=submission, is_current=True).first()
    if status == Status.OPEN or current is None:
        raise ValidationError(_("Compile the package before submitting."))
    narrative = Narrative.objects.filter(submission=submission).first()
    if narrative is not None and narrative.digest != current.narrative_digest:
        raise ValidationError(_("The narrative changed after the last compile. Compile again before submitting."))
    period = submission.period
    if status == Status.COMPILED:
        if submission_is_locked(submission, today):
            raise SubmissionLocked(
                _("This report was due on %(due)s and has been locked since %(lock)s. "
                  "Ask the bureau to unlock it before submitting.")
                % {"due": period.due_on.isoformat(), "lock": period.lock_on.isoformat()}
            )
        on_time = is_on_time(submitted_on=today, period_end_on=period.end_on,
                             timely_within_days=submission.report_type.timely_within_days)
        submission = _transition(
            submission, to=Status.SUBMITTED, action=SubmissionEvent.Action.SUBMIT, actor=actor, now=now,
            timeliness=Timeliness.ON_TIME if on_time else Timeliness.LATE,
            first_submitted_at=now, submitted_at=now, submitted_by=actor,
        )
    else:  # returned: the bureau asked for it again, so its own lock does not apply
        submission = _transition(submission, to=Status.RESUBMITTED, action=SubmissionEvent.Action.RESUBMIT,
                                 actor=actor, now=now, submitted_at=now, submitted_by=actor)
    if enqueue_similarity and narrative is not None and narrative.text.strip():
        _enqueue_similarity(submission)
    return submission


def _enqueue_similarity(submission: Submission) -> None:
    # Through the outbox: with the broker down the submit still succeeds, and the comparison runs
    # once the broker is back (jobs/outbox.py).
    job_enqueue("submissions.compute_similarity", submission.school_id, submission.pk)


@transaction.atomic
def submission_accept(*, actor, submission: Submission, comment: str = "", now: datetime | None = None) -> Submission:
    now = now or timezone.now()
    _require(actor, "review_submissions", submission, _("Only the bureau can accept submissions."))
    if submission.status not in (Status.SUBMITTED, Status.RESUBMITTED):
        raise ValidationError(_("Only a submission waiting for review can be accepted."))
    return _transition(submission, to=Status.ACCEPTED, action=SubmissionEvent.Action.ACCEPT, actor=actor, now=now,
                       comment=comment.strip(), reviewed_at=now, reviewed_by=actor, review_comment=comment.strip())


@transaction.atomic
def submission_return(*, actor, submission: Submission, comment: str, now: datetime | None = None) -> Submission:
    now = now or timezone.now()
    _require(actor, "review_submissions", submission, _("Only the bureau can return submissions."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the school needs to change.")})
    if submission.status not in (Status.SUBMITTED, Status.RESUBMITTED):
        raise ValidationError(_("Only a submission waiting for review can be returned."))
    return _transition(submission, to=Status.RETURNED, action=SubmissionEvent.Action.RETURN, actor=actor, now=now,
                       comment=comment, reviewed_at=now, reviewed_by=actor, review_comment=comment)


@transaction.atomic
def submission_unlock(*, actor, submission: Submission, until: date | None = None, comment: str = "",
                      now: datetime | None = None) -> Submission:
    """The bureau lifts the lock on a not-yet-sent submission until a date (inclusive)."""
    now = now or timezone.now()
    today = _localdate(now)
    _require(actor, "review_submissions", submission, _("Only the bureau can unlock submissions."))
    if submission.status not in (Status.OPEN, Status.COMPILED):
        raise ValidationError(_("Only a submission that has not been sent can be unlocked."))
    until = until or today + timedelta(days=_setting("SUBMISSIONS_UNLOCK_DAYS", 7))
    if until < today:
        raise ValidationError({"until": _("The unlock must last until today or later.")})
    return _transition(submission, to=submission.status, action=SubmissionEvent.Action.UNLOCK, actor=actor,
                       now=now, comment=comment.strip() or _("Unlocked until %(until)s") % {"until": until.isoformat()},
                       unlocked_until=until)


# ---------------------------------------------------------------- narrative
EDITABLE = (Status.OPEN, Status.COMPILED, Status.RETURNED)


@transaction.atomic
def narrative_update(*, actor, submission: Submission, sections: dict, now: datetime | None = None) -> Narrative:
    """Replace the school's narrative paragraphs. Only before sending (or after a return)."""
    now = now or timezone.now()
    _require(actor, "submit_reports", submission, _("You may not edit this school's reports."))
    if submission.status not in EDITABLE:
        raise ValidationError(_("The narrative can only be edited before the submission is sent, or after it is returned."))
    if not isinstance(sections, dict):
        raise ValidationError({"sections": _("Sections must be a mapping of section to text.")})
    unknown = set(sections) - set(narrative_mod.SECTION_KEYS)
    if unknown:
        raise ValidationError({"sections": _("Unknown sections: %(keys)s") % {"keys": ", ".join(sorted(unknown))}})
    clean = {}
    for key, text in sections.items():
        if not isinstance(text, str):
            raise ValidationError({"sections": _("Section %(key)s must be text.") % {"key": key}})
        if len(text) > narrative_mod.MAX_SECTION_CHARS:
            raise ValidationError({"sections": _("Section %(key)s is longer than %(n)d characters.")
                                   % {"key": key, "n": narrative_mod.MAX_SECTION_CHARS}})
        if text.strip():
            clean[key] = text.strip()
    narrative, created = Narrative.objects.get_or_create(submission=submission, defaults={"school_id": submission.school_id})
    narrative.sections = clean
    narrative.digest = narrative_mod.digest(clean)
    narrative.updated_by = actor
    narrative.save()
    SubmissionEvent.objects.create(school_id=submission.school_id, submission=submission,
                                   action=SubmissionEvent.Action.NARRATIVE, from_status=submission.status,
                                   to_status=submission.status, actor=actor, at=now)
    access_log_record(user=actor, school_id=submission.school_id, action="create" if created else "update",
                      obj=narrative)
    return narrative


# ---------------------------------------------------------------- package versions (the compile job's hooks)
@transaction.atomic
def package_version_start(*, submission: Submission, actor=None, task_id: str = "") -> PackageVersion:
    """Reserve the next version of a submission's package. `actor=None` only for system jobs."""
    if actor is not None:
        _require(actor, "submit_reports", submission, _("You may not compile reports for this school."))
    if submission.status not in EDITABLE:
        raise ValidationError(_("A submission that has been sent cannot be compiled again."))
    # Serialise version numbering per submission (of=self: django-scopes' select_for_update caveat).
    Submission.objects.select_for_update(of=("self",)).filter(pk=submission.pk).first()
    last = PackageVersion.objects.filter(submission=submission).aggregate(m=Max("version"))["m"] or 0
    narrative = Narrative.objects.filter(submission=submission).first()
    version = PackageVersion.objects.create(
        school_id=submission.school_id, submission=submission, version=last + 1,
        storage_key=package_storage_key(submission.school_id, submission.pk, last + 1),
        narrative_digest=narrative.digest if narrative else "", task_id=task_id,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    access_log_record(user=actor, school_id=submission.school_id, action="create", obj=version,
                      detail={"version": version.version})
    return version


def package_version_progress(*, version: PackageVersion, progress: int, note: str = "", started: bool = False) -> bool:
    """Report progress (0–100) for the UI. False when the version already finished or failed.

    `started=True` (each run's first step, also a redelivered or retried run) claims the version,
    which restarts the clock of the stale rule; so does the first progress of a version.
    """
    if started or version.started_at is None:
        return PackageVersion.claim(version.pk, progress=progress, note=note)
    return PackageVersion.report_progress(version.pk, progress, note)


@transaction.atomic
def package_version_complete(*, version: PackageVersion, files: dict | None = None,
                             now: datetime | None = None, figures: dict | None = None) -> PackageVersion:
    """Mark a version done and current; the first compile moves the submission open → compiled.

    Idempotent: completing an already-done version changes nothing. An older version finishing
    after a newer one does not take `current` away from it.
    """
    now = now or timezone.now()
    submission = Submission.objects.select_for_update(of=("self",)).get(pk=version.submission_id)
    finished = PackageVersion.finish(version.pk, now=now, files=files or {}, figures=figures or {})
    version.refresh_from_db()
    if not finished:
        if version.status == PackageVersion.Status.DONE:
            return version
        raise ValidationError(_("This package version failed; start a new compile."))
    newer_done = PackageVersion.objects.filter(submission=submission, status=PackageVersion.Status.DONE,
                                               version__gt=version.version).exists()
    if not newer_done:
        # Unset first: the partial unique constraint allows one current row at any instant.
        PackageVersion.objects.filter(submission=submission, is_current=True).update(is_current=False)
        PackageVersion.objects.filter(pk=version.pk).update(is_current=True)
        version.is_current = True
    actor = version.created_by
    if submission.status == Status.OPEN:
        _transition(submission, to=Status.COMPILED, action=SubmissionEvent.Action.COMPILE, actor=actor, now=now,
                    comment=f"v{version.version}")
    else:
        SubmissionEvent.objects.create(school_id=submission.school_id, submission=submission,
                                       action=SubmissionEvent.Action.COMPILE, from_status=submission.status,
                                       to_status=submission.status, actor=actor, at=now, comment=f"v{version.version}")
        access_log_record(user=actor, school_id=submission.school_id, action="update", obj=version,
                          detail={"version": version.version, "status": "done"})
    return version


def package_version_fail(*, version: PackageVersion, error: str) -> bool:
    return PackageVersion.fail(version.pk, error)


# ---------------------------------------------------------------- similarity
def _district_school_ids(school_id: int) -> list[int]:
    district_id = School.objects.filter(pk=school_id).values_list("district_id", flat=True).first()
    if district_id is None:
        return []
    return list(School.objects.filter(district_id=district_id).values_list("id", flat=True))


def submission_similarity_compute(*, school_id: int, submission_id: int) -> list[SimilarityFlag]:
    """Fingerprint a sent narrative, store its LSH buckets, and flag near-duplicates among the
    other schools' sent narratives of the same report type (every period).

    Runs in an explicit scope of the submission's district (the comparison crosses schools by
    design; the result is shown only to the bureau). Idempotent: re-running gives the same flags.
    """
    with system_scope("copied narratives are looked for across the district's schools",
                      school_ids=_district_school_ids(school_id)):
        return _similarity_compute(submission_id)


def _similarity_compute(submission_id: int) -> list[SimilarityFlag]:
    cfg = _setting("SUBMISSIONS_SIMILARITY", {})
    threshold = cfg.get("THRESHOLD", similarity.THRESHOLD)
    min_len = cfg.get("MIN_PASSAGE", similarity.MIN_PASSAGE)
    submission = Submission.objects.filter(pk=submission_id).select_related("report_type").first()
    if submission is None:
        return []
    narrative = Narrative.objects.filter(submission=submission).first()
    text = narrative.text if narrative else ""
    involving = Q(submission_a=submission) | Q(submission_b=submission)
    if narrative is None or not text.strip() or not submission.is_sent:
        if narrative is not None:
            NarrativeBand.objects.filter(narrative=narrative).delete()
        SimilarityFlag.objects.filter(involving).delete()
        return []
    fp = similarity.Fingerprint.of(text)
    if narrative.signature != fp.signature or narrative.fingerprint_digest != narrative.digest:
        narrative.signature = fp.signature
        narrative.fingerprint_digest = narrative.digest
        narrative.save(update_fields=["signature", "fingerprint_digest"])
    # Rewrite the buckets only when they differ, so a re-run (redelivery, demo re-seed) leaves
    # the rows as they were.
    wanted_bands = list(enumerate(fp.bands))
    stored = NarrativeBand.objects.filter(narrative=narrative)
    if list(stored.order_by("band").values_list("band", "bucket")) != wanted_bands or stored.exclude(
            school_id=submission.school_id, report_type_id=submission.report_type_id).exists():
        stored.delete()
        NarrativeBand.objects.bulk_create([
            NarrativeBand(school_id=submission.school_id, narrative=narrative, report_type_id=submission.report_type_id,
                          band=i, bucket=key)
            for i, key in wanted_bands
        ])
    candidate_ids = set(
        NarrativeBand.objects.filter(report_type_id=submission.report_type_id, bucket__in=fp.bands)
        .exclude(school_id=submission.school_id).values_list("narrative_id", flat=True)
    )
    others = Narrative.objects.filter(id__in=candidate_ids).select_related("submission")
    kept = []
    for other in others:
        if not other.submission.is_sent:
            continue
        # Bucket-mates far below the threshold by their stored signature are not worth the exact
        # comparison (a signature of another text or layout is not trusted: compare exactly).
        if (other.fingerprint_digest == other.digest and len(other.signature) == len(fp.signature)
                and similarity.estimated_jaccard(fp.signature, other.signature) < threshold - similarity.PREFILTER_MARGIN):
            continue
        other_text = other.text
        ofp = similarity.Fingerprint.of(other_text, minhash=False)
        if submission.pk < other.submission_id:
            a, ta, fa, b, tb, fb = submission, text, fp, other.submission, other_text, ofp
        else:
            a, ta, fa, b, tb, fb = other.submission, other_text, ofp, submission, text, fp
        match = similarity.compare_fingerprints(fa, ta, fb, tb, threshold=threshold, min_len=min_len)
        if match is None:
            continue
        kept.append(_flag_upsert(a, b, submission.report_type_id, match))
    SimilarityFlag.objects.filter(involving).exclude(id__in=[f.id for f in kept]).delete()
    return kept


def _flag_upsert(a: Submission, b: Submission, report_type_id: int, match) -> SimilarityFlag:
    defaults = {"school_id": a.school_id, "school_b_id": b.school_id, "report_type_id": report_type_id,
                "score": round(match.score, 4), "passages": match.passages}
    existing = SimilarityFlag.objects.filter(submission_a=a, submission_b=b).first()
    if existing is not None and all(getattr(existing, k) == v for k, v in defaults.items()):
        return existing  # unchanged: no write, so updated_at keeps meaning "the match changed"
    for attempt in range(2):
        try:
            with transaction.atomic():
                flag, _created = SimilarityFlag.objects.update_or_create(submission_a=a, submission_b=b, defaults=defaults)
            return flag
        except IntegrityError:
            # The other school's task inserted the same pair at the same moment; update it instead.
            if attempt:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- reminders
REMINDER_ROLES = (Role.SCHOOL_ADMIN, Role.CLERK)


def reminders_send(*, today: date | None = None, now: datetime | None = None) -> int:
    """The beat job: remind schools N days before the due date and once overdue.

    In-app notifications for the school's admins and clerks, plus email (sent after commit).
    Each (submission, kind) is reminded once: a unique row claims it before anything is sent.
    Returns the number of reminders sent.
    """
    now = now or timezone.now()
    today = today or _localdate(now)
    sent = 0
    with system_scope("the beat job sends the reminders of every district"):
        district_ids = set(ReportType.objects.filter(is_active=True).values_list("district_id", flat=True).distinct())
    for district_id in sorted(district_ids):
        school_ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
        with system_scope("a district's reminders go to every school of it", school_ids=school_ids,
                          district_ids=[district_id]), translation.override(settings.LANGUAGE_CODE):
            sent += _reminders_for_district(district_id, today, now)
    return sent


def _reminders_for_district(district_id: int, today: date, now: datetime) -> int:
    pending = (Submission.objects.filter(report_type__district_id=district_id, report_type__is_active=True,
                                         status__in=[Status.OPEN, Status.COMPILED])
               .select_related("period", "report_type", "school"))

    def not_reminded(kind):
        return ~Exists(SubmissionReminder.objects.filter(submission=OuterRef("pk"), kind=kind))

    overdue = list(pending.filter(not_reminded(ReminderKind.OVERDUE), period__due_on__lt=today))
    horizon = today + timedelta(days=60)
    soon = [s for s in pending.filter(not_reminded(ReminderKind.DUE_SOON), period__due_on__gte=today,
                                      period__due_on__lte=horizon)
            if s.period.due_on - timedelta(days=s.report_type.remind_days_before) <= today]
    todo = [(s, ReminderKind.OVERDUE) for s in overdue] + [(s, ReminderKind.DUE_SOON) for s in soon]
    if not todo:
        return 0
    recipients: dict[int, list] = {}
    for m in (Membership.objects.filter(school_id__in={s.school_id for s, _k in todo}, role__in=REMINDER_ROLES)
              .select_related("user").order_by("user_id")):
        if m.user.is_active and m.user not in recipients.setdefault(m.school_id, []):
            recipients[m.school_id].append(m.user)
    count = 0
    messages = []
    for submission, kind in todo:
        users = recipients.get(submission.school_id, [])
        try:
            with transaction.atomic():
                SubmissionReminder.objects.create(school_id=submission.school_id, submission=submission, kind=kind,
                                                  sent_at=now, recipients=len(users))
        except IntegrityError:
            continue  # a concurrent run claimed it
        text = _reminder_text(submission, kind)
        Notification.objects.bulk_create([
            Notification(district_id=district_id, user=u, text=text, link=f"/submissions/{submission.pk}/")
            for u in users
        ])
        emails = [u.email for u in users if u.email]
        if emails:
            messages.append(EmailMessage(subject=text[:120], body=text, to=emails))
        count += 1
    if messages:
        transaction.on_commit(lambda: _send_emails(messages))
    return count


def _reminder_text(submission: Submission, kind: str) -> str:
    params = {"school": submission.school.name, "report": submission.report_type.name,
              "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat(),
              "due": submission.period.due_on.isoformat()}
    if kind == ReminderKind.OVERDUE:
        return _("%(school)s: %(report)s (%(start)s – %(end)s) was due on %(due)s and has not been submitted.") % params
    return _("%(school)s: %(report)s (%(start)s – %(end)s) is due on %(due)s.") % params


def _send_emails(messages) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:  # the in-app notification is the record; a mail outage must not fail the job
        log.exception("sending submission reminder emails failed")


# ---------------------------------------------------------------- notifications
def notification_mark_read(*, user, notification_ids) -> int:
    return Notification.objects.filter(user=user, id__in=list(notification_ids), is_read=False).update(
        is_read=True, read_at=timezone.now())


# ---------------------------------------------------------------- compile requests (the compile job)
def _compile_stale_after() -> timedelta:
    # A version still "running" after the hard time limit was killed for good (not redelivered).
    return timedelta(seconds=PackageVersion.time_limit() * 2)


@transaction.atomic
def submission_compile_request(*, actor, submission: Submission, enqueue: bool = True,
                               now: datetime | None = None) -> PackageVersion:
    """Ask for a compile: reserve a package version and enqueue the job after commit.

    A second click while a compile of the same narrative is waiting or running returns that
    version instead of starting another (no duplicate work, no duplicate versions).
    """
    now = now or timezone.now()
    _require(actor, "submit_reports", submission, _("You may not compile reports for this school."))
    if submission.status not in EDITABLE:
        raise ValidationError(_("A submission that has been sent cannot be compiled again."))
    Submission.objects.select_for_update(of=("self",)).filter(pk=submission.pk).first()
    narrative = Narrative.objects.filter(submission=submission).first()
    digest = narrative.digest if narrative else ""
    unfinished = list(PackageVersion.objects.filter(submission=submission, status__in=UNFINISHED))
    version = None
    for candidate in unfinished:
        stale = (candidate.started_at or candidate.created_at) < now - _compile_stale_after()
        if stale or candidate.narrative_digest != digest or version is not None:
            package_version_fail(version=candidate, error=_("Superseded by a newer compile."))
        else:
            version = candidate
    if version is not None and version.status == PackageVersion.Status.RUNNING:
        return version  # a worker has it; a second click changes nothing
    if version is None:
        version = package_version_start(submission=submission, actor=actor)
    if enqueue:
        # Through the outbox (jobs/outbox.py): with the broker down the version waits and the
        # beat job publishes it later. A reused queued version is sent again unless its message
        # is still waiting in the outbox (its first one may have been lost with a broker's data);
        # the job is idempotent, so a second delivery is harmless.
        school_id, version_id = submission.school_id, version.pk
        if not TaskOutbox.objects.filter(task=COMPILE_TASK, args=[school_id, version_id], sent_at__isnull=True).exists():
            def noted(task_id: str) -> None:
                with tenant_scope([school_id]):
                    PackageVersion.objects.filter(pk=version_id, task_id="").update(task_id=task_id)

            def waiting() -> None:  # shown on the submission page while the version waits
                with tenant_scope([school_id]), translation.override(settings.LANGUAGE_CODE):
                    PackageVersion.objects.filter(pk=version_id, status=PackageVersion.Status.QUEUED).update(
                        note=_("The task queue is unavailable; the compile starts by itself when it is back."))

            job_enqueue(COMPILE_TASK, school_id, version_id, on_sent=noted, on_refused=waiting)
    return version


# ---------------------------------------------------------------- report types (bureau CRUD)
def _log_district(actor, district_id: int, action: str, obj, detail: dict | None = None) -> None:
    """A district-level action is logged once per school of the district (the log is school-owned)."""
    from tenancy.services import access_log_record_many

    ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
    access_log_record_many(user=actor, school_ids=ids, action=action, object_type=obj._meta.label_lower,
                           object_id=obj.pk, detail=detail)

REPORT_TYPE_EDITABLE = ("name", "is_active", "remind_days_before")


@in_district_scope("report_type")
@transaction.atomic
def report_type_update(*, actor, report_type: ReportType, schools=None, **fields) -> ReportType:
    """Rename, (de)activate, change the reminder or the assigned schools. The period rules are
    fixed once periods exist (they decided timeliness already)."""
    _require_calendar_manager(actor, report_type.district)
    fixed = set(fields) - set(REPORT_TYPE_EDITABLE)
    if fixed:
        raise ValidationError(_("These fields cannot change once periods exist: %(f)s") % {"f": ", ".join(sorted(fixed))})
    for name, value in fields.items():
        setattr(report_type, name, value)
    report_type.full_clean()
    report_type.save()
    if schools is not None:
        report_type_assign(actor=actor, report_type=report_type, schools=schools)
    _log_district(actor, report_type.district_id, "update", report_type, {"fields": sorted(fields)})
    return report_type


@in_district_scope("report_type")
@transaction.atomic
def report_type_delete(*, actor, report_type: ReportType) -> None:
    """Only a report type nobody has reported on yet; otherwise deactivate it."""
    _require_calendar_manager(actor, report_type.district)
    if Submission.objects.filter(report_type=report_type).exists():
        raise ValidationError(_("Schools have submissions for this report type; deactivate it instead."))
    _log_district(actor, report_type.district_id, "delete", report_type)
    report_type.delete()


# ---------------------------------------------------------------- district exports
def _require_export_runner(actor, district: District) -> None:
    # Running an export is the bureau admin's (the grant that reviews and sets the calendar); the
    # inspector (view_aggregates, read-only: issue #2) reads and downloads the exports only.
    if actor is not None and "review_submissions" not in permissions_on_district(actor, district):
        raise PermissionDenied(_("Only the bureau can export the district's submissions."))


@in_district_scope("period")
@transaction.atomic
def district_export_request(*, actor, period: Period, enqueue: bool = True, scheduled: bool = False):
    """A consolidated export of one period across the district's schools, run by a job."""
    from .models import DistrictExport

    district = period.report_type.district
    _require_export_runner(actor, district)
    export = DistrictExport.objects.create(
        district=district, report_type=period.report_type, period=period,
        trigger=DistrictExport.Trigger.SCHEDULED if scheduled else DistrictExport.Trigger.MANUAL,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _log_district(actor, district.id, "create", export, {"period": period.pk, "trigger": export.trigger})
    if enqueue:
        export_id, district_id = export.pk, district.id

        def noted(task_id: str) -> None:  # after commit, outside the request's scope
            with district_scope(district_id):
                DistrictExport.objects.filter(pk=export_id, task_id="").update(task_id=task_id)

        job_enqueue("submissions.run_district_export", export_id, on_sent=noted)
    return export


def district_exports_schedule(*, today: date | None = None, enqueue: bool = True) -> list:
    """The beat job: every period whose due date has passed (within the look-back) gets exactly
    one scheduled export (partial unique constraint; ON CONFLICT → skipped)."""
    from .models import DistrictExport

    today = today or _localdate()
    lookback = _setting("SUBMISSIONS_EXPORT_LOOKBACK_DAYS", 30)
    with system_scope("the beat job schedules the exports of every district's due periods"):
        periods = list(Period.objects.filter(report_type__is_active=True, due_on__lt=today,
                                             due_on__gte=today - timedelta(days=lookback))
                       .exclude(exports__trigger=DistrictExport.Trigger.SCHEDULED)
                       .select_related("report_type__district").order_by("due_on", "id"))
    created = []
    for period in periods:
        try:
            with transaction.atomic():
                created.append(district_export_request(actor=None, period=period, enqueue=enqueue, scheduled=True))
        except IntegrityError:
            continue  # a concurrent run scheduled it
    return created
