"""Due-soon and overdue reminders (the beat job), told through notices (in-app, e-mail, robots)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notices.models import Kind
from notices.selectors import staff_by_school
from notices.services import notify
from tenancy.models import School
from tenancy.roles import Role
from tenancy.scoping import system_scope

from ..models import ReminderKind, ReportType, Status, Submission, SubmissionReminder
from ._common import _localdate

REMINDER_ROLES = (Role.SCHOOL_ADMIN, Role.CLERK)
NOTICE_KINDS = {ReminderKind.DUE_SOON: Kind.DUE_SOON, ReminderKind.OVERDUE: Kind.OVERDUE}


def reminders_send(*, today: date | None = None, now: datetime | None = None) -> int:
    """The beat job: remind schools N days before the due date and once overdue.

    Notices for the school's admins and clerks (and the robots that carry reminders).
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
    recipients = reminder_recipients({s.school_id for s, _k in todo})
    count = 0
    for submission, kind in todo:
        users = recipients.get(submission.school_id, [])
        try:
            with transaction.atomic():
                SubmissionReminder.objects.create(school_id=submission.school_id, submission=submission, kind=kind,
                                                  sent_at=now, recipients=len(users))
        except IntegrityError:
            continue  # a concurrent run claimed it
        notify(event_key=f"submission:{submission.pk}:{kind}", kind=NOTICE_KINDS[kind], district_id=district_id,
               school_id=submission.school_id, users=users, text=_reminder_text(submission, kind),
               link=f"/submissions/{submission.pk}/")
        count += 1
    return count


def reminder_recipients(school_ids) -> dict[int, list]:
    """The active admins and clerks of each school, who receive its reminders."""
    return staff_by_school(school_ids, REMINDER_ROLES)


def _reminder_text(submission: Submission, kind: str) -> str:
    params = {"school": submission.school.name, "report": submission.report_type.name,
              "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat(),
              "due": submission.period.due_on.isoformat()}
    if kind == ReminderKind.MANUAL:
        return _("%(school)s: the bureau asks you to submit %(report)s (%(start)s – %(end)s), due on %(due)s.") % params
    if kind == ReminderKind.OVERDUE:
        return _("%(school)s: %(report)s (%(start)s – %(end)s) was due on %(due)s and has not been submitted.") % params
    return _("%(school)s: %(report)s (%(start)s – %(end)s) is due on %(due)s.") % params
