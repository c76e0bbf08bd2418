"""Due-soon and overdue reminders (the beat job) and the in-app notifications they leave."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tenancy.models import Membership, School
from tenancy.roles import Role
from tenancy.scoping import system_scope

from ..models import Notification, ReminderKind, ReportType, Status, Submission, SubmissionReminder
from ._common import _localdate

log = logging.getLogger(__name__)

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
    recipients = reminder_recipients({s.school_id for s, _k in todo})
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


def reminder_recipients(school_ids) -> dict[int, list]:
    """The active admins and clerks of each school, who receive its reminders."""
    recipients: dict[int, list] = {}
    for m in (Membership.objects.filter(school_id__in=set(school_ids), role__in=REMINDER_ROLES)
              .select_related("user").order_by("user_id")):
        assert m.school_id is not None  # filtered on school_id__in
        if m.user.is_active and m.user not in recipients.setdefault(m.school_id, []):
            recipients[m.school_id].append(m.user)
    return recipients


def reminder_deliver(district_id: int, submission: Submission, text: str, users) -> None:
    """The in-app notification now and the email after commit."""
    Notification.objects.bulk_create([
        Notification(district_id=district_id, user=u, text=text, link=f"/submissions/{submission.pk}/")
        for u in users
    ])
    emails = [u.email for u in users if u.email]
    if emails:
        message = EmailMessage(subject=text[:120], body=text, to=emails)
        transaction.on_commit(lambda: _send_emails([message]))


def _reminder_text(submission: Submission, kind: str) -> str:
    params = {"school": submission.school.name, "report": submission.report_type.name,
              "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat(),
              "due": submission.period.due_on.isoformat()}
    if kind == ReminderKind.MANUAL:
        return _("%(school)s: the bureau asks you to submit %(report)s (%(start)s – %(end)s), due on %(due)s.") % params
    if kind == ReminderKind.OVERDUE:
        return _("%(school)s: %(report)s (%(start)s – %(end)s) was due on %(due)s and has not been submitted.") % params
    return _("%(school)s: %(report)s (%(start)s – %(end)s) is due on %(due)s.") % params


def _send_emails(messages) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:  # the in-app notification is the record; a mail outage must not fail the job
        log.exception("sending submission reminder emails failed")


def notification_mark_read(*, user, notification_ids) -> int:
    return Notification.objects.filter(user=user, id__in=list(notification_ids), is_read=False).update(
        is_read=True, read_at=timezone.now())
