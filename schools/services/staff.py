"""Staff profiles, proxy parents and their assignments, training meetings and the work record."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, Membership, School
from tenancy.roles import Role
from tenancy.selectors import has_school_perm

from .. import selectors
from ..models import (
    Child,
    ChildUserObjectPermission,
    ProxyAssignment,
    StaffProfile,
    TrainingAttendance,
    TrainingMeeting,
    WorkRecordEntry,
)
from ._common import _is_staff_of, _log, _not_in_future, _require, _same_school, _save, _set_fields, _today


# ---------------------------------------------------------------- staff and proxy parents
@transaction.atomic
def staff_profile_set(*, actor, school: School, user, is_proxy_parent: bool | None = None,
                      title: str | None = None) -> StaffProfile:
    """Create or change a staff profile. `is_proxy_parent=None` keeps the current value (False for a
    new profile), so an API call that leaves it out does not end anyone's assignments."""
    _require(actor, "manage_staff", school)
    if not _is_staff_of(user, school):
        raise ValidationError({"user": _("This user is not on the school's staff.")})
    profile, created = StaffProfile.objects.get_or_create(school=school, user=user)
    if is_proxy_parent is not None:
        profile.is_proxy_parent = is_proxy_parent
    if title is not None:
        profile.title = title
    profile.save()
    _log(actor, profile, AccessLog.Action.CREATE if created else AccessLog.Action.UPDATE)
    if not profile.is_proxy_parent:
        # No longer a proxy parent: end their open assignments today.
        for assignment in ProxyAssignment.objects.filter(school=school, proxy_parent=user, ends_on__isnull=True):
            proxy_assignment_end(actor=actor, assignment=assignment, ends_on=_today())
    return profile


def _care_permission() -> Permission:
    ct = ContentType.objects.get_for_model(Child)
    return Permission.objects.get(content_type=ct, codename="care_for_child")


def _sync_child_permissions(child_ids, today: dt.date | None = None) -> None:
    """Mirror the active assignments of these children into guardian's direct-FK table."""
    today = today or _today()
    child_ids = list(child_ids)
    wanted = set(
        ProxyAssignment.objects.filter(ProxyAssignment.active_q(today), child_id__in=child_ids,
                                       child__status=Child.Status.ACTIVE)
        .values_list("proxy_parent_id", "child_id")
    )
    perm = _care_permission()
    existing = set(
        ChildUserObjectPermission.objects.filter(permission=perm, content_object_id__in=child_ids)
        .values_list("user_id", "content_object_id")
    )
    for user_id, child_id in existing - wanted:
        ChildUserObjectPermission.objects.filter(permission=perm, user_id=user_id, content_object_id=child_id).delete()
    ChildUserObjectPermission.objects.bulk_create(
        [ChildUserObjectPermission(user_id=u, content_object_id=c, permission=perm) for u, c in wanted - existing],
        ignore_conflicts=True,
    )


@transaction.atomic
def proxy_assignments_sync(*, school: School, today: dt.date | None = None) -> None:
    """Daily: assignments that start or end by date take effect in guardian."""
    ids = list(Child.objects.filter(school=school).values_list("id", flat=True))
    _sync_child_permissions(ids, today)


@transaction.atomic
def proxy_assignment_create(*, actor, child: Child, proxy_parent, starts_on: dt.date | None = None,
                            request=None) -> ProxyAssignment:
    """Assign a child to a proxy parent from a date; the previous open assignment ends the day before."""
    school = child.school
    _require(actor, "manage_children", school)
    starts_on = starts_on or _today()
    if child.status != Child.Status.ACTIVE:
        raise ValidationError(_("Only children in the archive's active list can be assigned."))
    if not Membership.objects.filter(user=proxy_parent, school=school,
                                     role__in=[Role.TEACHER, Role.SCHOOL_ADMIN]).exists():
        raise ValidationError({"proxy_parent": _("A proxy parent must be a teacher of this school.")})
    current = ProxyAssignment.objects.select_for_update().filter(child=child, ends_on__isnull=True).first()
    if current is not None:
        if current.proxy_parent_id == proxy_parent.id:
            return current
        if starts_on <= current.starts_on:
            raise ValidationError({"starts_on": _("The new assignment must start after the current one started.")})
        current.ends_on = starts_on - dt.timedelta(days=1)
        current.save(update_fields=["ends_on"])
        _log(actor, current, AccessLog.Action.UPDATE, request=request, detail={"fields": ["ends_on"]})
    profile, _created = StaffProfile.objects.get_or_create(school=school, user=proxy_parent)
    if not profile.is_proxy_parent:
        profile.is_proxy_parent = True
        profile.save(update_fields=["is_proxy_parent"])
    assignment = ProxyAssignment(school=school, child=child, proxy_parent=proxy_parent, starts_on=starts_on)
    _save(assignment, actor=actor, action=AccessLog.Action.CREATE, request=request)
    _sync_child_permissions([child.id])
    return assignment


@transaction.atomic
def proxy_assignment_end(*, actor, assignment: ProxyAssignment, ends_on: dt.date | None = None,
                         request=None) -> ProxyAssignment:
    return proxy_assignment_update(actor=actor, assignment=assignment, ends_on=ends_on or _today(), request=request)


ASSIGNMENT_FIELDS = ("starts_on", "ends_on")


def _fmt_range(start: dt.date, end: dt.date | None) -> str:
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}" if end else f"{start:%Y-%m-%d} – " + _("now")


@transaction.atomic
def proxy_assignment_update(*, actor, assignment: ProxyAssignment, request=None, **fields) -> ProxyAssignment:
    """Correct an assignment's dates (ends_on=None reopens it). The child's history stays one
    assignment at a time: no overlap with the child's other assignments, at most one open, and
    guardian's permissions follow the new dates."""
    _require(actor, "manage_children", assignment.school)
    # Lock the child's assignments: two corrections at once must not both pass the overlap check.
    others = list(ProxyAssignment.objects.select_for_update().filter(child_id=assignment.child_id)
                  .exclude(pk=assignment.pk).order_by("starts_on"))
    old_start, old_end = assignment.starts_on, assignment.ends_on or dt.date.max
    changed = _set_fields(assignment, fields, ASSIGNMENT_FIELDS)
    start, end = assignment.starts_on, assignment.ends_on
    if end is not None and end < start:
        raise ValidationError({"ends_on": _("An assignment cannot end before it starts.")})
    # Shrinking (e.g. ending) cannot create an overlap; only check dates that reach further.
    grows = start < old_start or (end or dt.date.max) > old_end
    for other in others if grows else ():
        if other.starts_on <= (end or dt.date.max) and (other.ends_on or dt.date.max) >= start:
            raise ValidationError(_(
                "These dates overlap the child's assignment to %(who)s (%(dates)s): a child has one proxy "
                "parent at a time."
            ) % {"who": other.proxy_parent, "dates": _fmt_range(other.starts_on, other.ends_on)})
    if changed:
        assignment.save(update_fields=changed)
    _log(actor, assignment, AccessLog.Action.UPDATE, request=request, detail={"fields": changed})
    _sync_child_permissions([assignment.child_id])
    return assignment


@transaction.atomic
def training_meeting_create(*, actor, school: School, date: dt.date, topic: str, minutes: str = "",
                            attendees=(), request=None) -> TrainingMeeting:
    _require(actor, "manage_materials", school)
    _not_in_future(date, "date")
    attendees = list(attendees)
    staff_ids = set(Membership.objects.filter(school=school, user__in=attendees).values_list("user_id", flat=True))
    if any(u.id not in staff_ids for u in attendees):
        raise ValidationError({"attendees": _("Attendees must be on the school's staff.")})
    meeting = TrainingMeeting(school=school, date=date, topic=topic, minutes=minutes, created_by=actor,
                              semester=selectors.semester_for_date(school.district_id, date))
    _save(meeting, actor=actor, action=AccessLog.Action.CREATE, request=request)
    TrainingAttendance.objects.bulk_create(
        [TrainingAttendance(school=school, meeting=meeting, user=u) for u in attendees])
    return meeting


@transaction.atomic
def work_record_add(*, actor, school: School, date: dt.date, text: str, child: Child | None = None,
                    request=None) -> WorkRecordEntry:
    """A proxy parent writes in their own work record book (optionally about an assigned child)."""
    _require(actor, "record_contacts", school)
    _not_in_future(date, "date")
    if not text.strip():
        raise ValidationError({"text": _("The entry cannot be empty.")})
    if child is not None:
        child = selectors.child_for_contact(actor, child.pk) if actor is not None else child
        _same_school(child, school, "child")
    entry = WorkRecordEntry(school=school, proxy_parent=actor, date=date, text=text, child=child,
                            semester=selectors.semester_for_date(school.district_id, date))
    return _save(entry, actor=actor, action=AccessLog.Action.CREATE, request=request)


WORK_RECORD_FIELDS = ("date", "text", "child")


def _require_work_record_writer(actor, entry: WorkRecordEntry) -> None:
    """The entry's author (still writing in the school's books) or whoever manages the archive."""
    if actor is None:
        return
    if actor.id == entry.proxy_parent_id and has_school_perm(actor, "record_contacts", entry.school):
        return
    _require(actor, "manage_children", entry.school)


@transaction.atomic
def work_record_update(*, actor, entry: WorkRecordEntry, request=None, **fields) -> WorkRecordEntry:
    """Correct an entry of the work record book (its author or the school admin), with the checks
    of work_record_add. A child that did not change is not checked again, so an author can still fix
    an old entry about a child no longer assigned to them."""
    _require_work_record_writer(actor, entry)
    old_child_id = entry.child_id
    changed = _set_fields(entry, fields, WORK_RECORD_FIELDS)
    if "date" in changed:
        _not_in_future(entry.date, "date")
        entry.semester = selectors.semester_for_date(entry.school.district_id, entry.date)
    if not entry.text.strip():
        raise ValidationError({"text": _("The entry cannot be empty.")})
    if "child" in changed and entry.child_id is not None and entry.child_id != old_child_id:
        entry.child = selectors.child_for_contact(actor, entry.child_id) if actor is not None else entry.child
        _same_school(entry.child, entry.school, "child")
    return _save(entry, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


@transaction.atomic
def work_record_delete(*, actor, entry: WorkRecordEntry, request=None) -> None:
    _require_work_record_writer(actor, entry)
    _log(actor, entry, AccessLog.Action.DELETE, request=request)
    entry.delete()


# ---------------------------------------------------------------- training meetings: edit and delete
MEETING_FIELDS = ("date", "topic", "minutes")


def _check_attendees(school: School, attendees) -> list:
    attendees = list(attendees)
    staff_ids = set(Membership.objects.filter(school=school, user__in=attendees).values_list("user_id", flat=True))
    if any(u.id not in staff_ids for u in attendees):
        raise ValidationError({"attendees": _("Attendees must be on the school's staff.")})
    return attendees


@transaction.atomic
def training_meeting_update(*, actor, meeting: TrainingMeeting, attendees=None, request=None,
                            **fields) -> TrainingMeeting:
    """Edit a meeting's date, topic or minutes; `attendees` (if given) replaces the list."""
    _require(actor, "manage_materials", meeting.school)
    changed = _set_fields(meeting, fields, MEETING_FIELDS)
    if "date" in changed:
        _not_in_future(meeting.date, "date")
        meeting.semester = selectors.semester_for_date(meeting.school.district_id, meeting.date)
    if attendees is not None:
        attendees = _check_attendees(meeting.school, attendees)
        TrainingAttendance.objects.filter(meeting=meeting).delete()
        TrainingAttendance.objects.bulk_create(
            [TrainingAttendance(school_id=meeting.school_id, meeting=meeting, user=u) for u in attendees])
        changed.append("attendees")
    return _save(meeting, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


@transaction.atomic
def training_meeting_delete(*, actor, meeting: TrainingMeeting, request=None) -> None:
    _require(actor, "manage_materials", meeting.school)
    _log(actor, meeting, AccessLog.Action.DELETE, request=request)
    meeting.delete()
