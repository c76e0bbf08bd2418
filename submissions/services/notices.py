"""What submissions tell people, through notices.notify: the texts (schools and reports, never a
child) and who hears of what."""
from __future__ import annotations

from django.utils.translation import gettext as _

from notices.models import Kind
from notices.selectors import district_staff, school_staff
from notices.services import notify
from tenancy.roles import Role

from ..models import DistrictExport, PackageVersion, Submission, SubmissionEvent

SCHOOL_ROLES = (Role.SCHOOL_ADMIN, Role.CLERK)  # who prepare and send the school's reports


def _report(submission: Submission) -> dict:
    return {"school": submission.school.name, "report": submission.report_type.name,
            "start": submission.period.start_on.isoformat(), "end": submission.period.end_on.isoformat()}


def _school_notice(submission: Submission, *, kind: str, event_key: str, text: str, extra_users=()) -> None:
    users = school_staff(submission.school_id, SCHOOL_ROLES) + [u for u in extra_users if u is not None]
    notify(event_key=event_key, kind=kind, district_id=submission.report_type.district_id,
           school_id=submission.school_id, users=users, text=text, link=f"/submissions/{submission.pk}/")


def review_notify(submission: Submission) -> None:
    """After accept, return or unlock: tell the school, with the bureau's reason or date."""
    event = SubmissionEvent.objects.filter(submission=submission).order_by("-id").first()
    assert event is not None  # _transition has just written it
    params = _report(submission) | {"reason": event.comment,
                                    "until": submission.unlocked_until.isoformat() if submission.unlocked_until else ""}
    if event.action == SubmissionEvent.Action.RETURN:
        kind = Kind.SUBMISSION_RETURNED
        text = _("%(school)s: %(report)s (%(start)s – %(end)s) was returned by the bureau. Reason: %(reason)s") % params
    elif event.action == SubmissionEvent.Action.ACCEPT:
        kind = Kind.SUBMISSION_ACCEPTED
        text = _("%(school)s: %(report)s (%(start)s – %(end)s) was accepted by the bureau.") % params
    else:
        kind = Kind.SUBMISSION_UNLOCKED
        text = _("%(school)s: %(report)s (%(start)s – %(end)s) was unlocked until %(until)s.") % params
    _school_notice(submission, kind=kind, event_key=f"submission-event:{event.pk}", text=text)


def compile_notify(version: PackageVersion, *, failed: bool) -> None:
    """A compile finished: the clerk who asked hears it is ready; a failure also reaches the admins."""
    submission = Submission.objects.select_related("school", "report_type", "period").get(pk=version.submission_id)
    params = _report(submission) | {"version": version.version}
    if failed:
        text = _("%(school)s: compiling %(report)s (%(start)s – %(end)s) v%(version)s failed. Open it and try again.") % params
        _school_notice(submission, kind=Kind.COMPILE_FAILED, event_key=f"package:{version.pk}:failed", text=text,
                       extra_users=[version.created_by])
        return
    if version.created_by is None:
        return
    text = _("%(school)s: %(report)s (%(start)s – %(end)s) v%(version)s is compiled.") % params
    notify(event_key=f"package:{version.pk}:done", kind=Kind.COMPILE_DONE,
           district_id=submission.report_type.district_id, school_id=submission.school_id,
           users=[version.created_by], text=text, link=f"/submissions/{submission.pk}/")


def export_ready_notify(export: DistrictExport) -> None:
    users = [export.requested_by] if export.requested_by else district_staff(export.district_id, [Role.BUREAU_ADMIN])
    params = {"report": export.report_type.name, "start": export.period.start_on.isoformat(),
              "end": export.period.end_on.isoformat()}
    notify(event_key=f"district-export:{export.pk}:done", kind=Kind.EXPORT_READY, district_id=export.district_id,
           users=users, text=_("The district export of %(report)s (%(start)s – %(end)s) is ready.") % params,
           link="/reporting/exports/")


def flag_notify(flag) -> None:
    """A copied-narrative flag concerns both schools: each one's admins hear of their own side, without
    the other school's name (the pairing is the bureau's to see)."""
    for submission in (flag.submission_a, flag.submission_b):
        submission = Submission.objects.select_related("school", "report_type", "period").get(pk=submission.pk)
        text = _("%(school)s: the narrative of %(report)s (%(start)s – %(end)s) closely matches another "
                 "school's. The bureau may ask about it.") % _report(submission)
        notify(event_key=f"similarity-flag:{flag.pk}:{submission.school_id}", kind=Kind.FLAG_RAISED,
               district_id=submission.report_type.district_id, school_id=submission.school_id,
               users=school_staff(submission.school_id, [Role.SCHOOL_ADMIN]), text=text,
               link=f"/submissions/{submission.pk}/")


def unlock_request_notify(submission: Submission, *, requested_by, reason: str = "", event_key: str) -> None:
    """A school asks the bureau to unlock a report: the district's bureau admins hear of it."""
    district_id = submission.report_type.district_id
    text = _("%(school)s asks to unlock %(report)s (%(start)s – %(end)s). Reason: %(reason)s") % (
        _report(submission) | {"reason": reason or "–"})
    notify(event_key=event_key, kind=Kind.UNLOCK_REQUESTED, district_id=district_id, school_id=submission.school_id,
           users=district_staff(district_id, [Role.BUREAU_ADMIN]), text=text,
           link=f"/submissions/{submission.pk}/review/")


def unlock_refused_notify(request) -> None:
    """The bureau refused a school's unlock request: the admin who asked hears it."""
    submission = Submission.objects.select_related("school", "report_type", "period").get(pk=request.submission_id)
    text = _("%(school)s: the bureau refused to unlock %(report)s (%(start)s – %(end)s).") % _report(submission)
    _school_notice(submission, kind=Kind.UNLOCK_REFUSED, event_key=f"unlock-request:{request.pk}:refused",
                   text=text, extra_users=[request.requested_by])


# ---------------------------------------------------------------- the approval route through the centre school
def _centre_admins(submission: Submission) -> list:
    return school_staff(submission.school.parent_id, [Role.TOWNSHIP_ADMIN]) if submission.school.parent_id else []


def _last_event(submission: Submission) -> SubmissionEvent:
    event = SubmissionEvent.objects.filter(submission=submission).order_by("-id").first()
    assert event is not None  # the transition has just written it
    return event


def submitted_to_centre_notify(submission: Submission) -> None:
    """A village school sent (or sent again) a report its centre school reviews first."""
    event = _last_event(submission)
    text = _("%(school)s sent %(report)s (%(start)s – %(end)s). It waits for your review.") % _report(submission)
    notify(event_key=f"submission-event:{event.pk}", kind=Kind.TO_APPROVE,
           district_id=submission.report_type.district_id, school_id=submission.school.parent_id,
           users=_centre_admins(submission), text=text, link=f"/submissions/{submission.pk}/centre/")


def centre_approved_notify(submission: Submission) -> None:
    """The centre school approved: the bureau's admins may now decide."""
    event = _last_event(submission)
    district_id = submission.report_type.district_id
    text = _("The centre school approved %(report)s (%(start)s – %(end)s) of %(school)s. "
             "It waits for the bureau's review.") % _report(submission)
    notify(event_key=f"submission-event:{event.pk}", kind=Kind.CENTRE_APPROVED, district_id=district_id,
           school_id=submission.school_id, users=district_staff(district_id, [Role.BUREAU_ADMIN]), text=text,
           link=f"/submissions/{submission.pk}/review/")


def centre_returned_notify(submission: Submission, *, bureau_reason: str = "") -> None:
    """The centre school returned a report to the village school, with its reason (and the bureau's,
    when the bureau had returned it to the centre)."""
    event = _last_event(submission)
    params = _report(submission) | {"reason": event.comment, "bureau": bureau_reason}
    if bureau_reason:
        text = _("%(school)s: %(report)s (%(start)s – %(end)s) was returned by the centre school. Reason: "
                 "%(reason)s (the bureau: %(bureau)s)") % params
    else:
        text = _("%(school)s: %(report)s (%(start)s – %(end)s) was returned by the centre school. Reason: "
                 "%(reason)s") % params
    _school_notice(submission, kind=Kind.SUBMISSION_RETURNED, event_key=f"submission-event:{event.pk}", text=text)


def returned_to_centre_notify(submission: Submission) -> None:
    """The bureau returned a village school's report: its centre school hears the reason and decides."""
    event = _last_event(submission)
    text = _("The bureau returned %(report)s (%(start)s – %(end)s) of %(school)s to the centre school. "
             "Reason: %(reason)s") % (_report(submission) | {"reason": event.comment})
    notify(event_key=f"submission-event:{event.pk}", kind=Kind.SUBMISSION_RETURNED,
           district_id=submission.report_type.district_id, school_id=submission.school.parent_id,
           users=_centre_admins(submission), text=text, link=f"/submissions/{submission.pk}/centre/")


def approval_withdrawn_notify(submission: Submission) -> None:
    """The centre school took its approval back before the bureau decided."""
    event = _last_event(submission)
    district_id = submission.report_type.district_id
    text = _("The centre school withdrew its approval of %(report)s (%(start)s – %(end)s) of %(school)s.") % (
        _report(submission))
    notify(event_key=f"submission-event:{event.pk}", kind=Kind.APPROVAL_WITHDRAWN, district_id=district_id,
           school_id=submission.school_id, users=district_staff(district_id, [Role.BUREAU_ADMIN]), text=text,
           link=f"/submissions/{submission.pk}/review/")
