"""Every write of the school's home: keyword-only arguments, one transaction each, access log here.

`actor=None` means a system job or the demo seed: permission checks are skipped, the access log
still records the write (with no user). Callers run inside a tenant scope (the request middleware
or an explicit `tenant_scope` in tasks); without one the scoped managers refuse to query.

Errors: django ValidationError (bad input, nothing written), PermissionDenied (may see but not
act), Model.DoesNotExist (not visible to this user: the view answers 404),
schools.evidence.EvidenceError (an upload that does not decode or is too big).
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, Membership, School
from tenancy.roles import Role
from tenancy.scoping import district_scope, in_district_scope, system_scope, tenant_scope
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record, access_log_record_many

from . import crypto, selectors
from .models import (
    Activity, ActivityParticipant, ActivitySite, CareContact, Child, ChildStatusChange,
    ChildUserObjectPermission, Equipment, Evidence, LeadershipMember, ProxyAssignment,
    ReusedEvidenceFlag, RuleDocument, RuleDocumentVersion, RuleKind, Semester, StaffProfile, StudyPair,
    ThemeSchedule, TrainingAttendance, TrainingMeeting, TutoringSession, WorkRecordEntry, evidence_folder,
)

logger = logging.getLogger(__name__)

PHASH_REUSE_DISTANCE = 6
MAX_REUSE_FLAGS_PER_UPLOAD = 5


# ---------------------------------------------------------------- helpers
def _today() -> dt.date:
    return timezone.localdate()


def _require(actor, codename: str, school: School) -> None:
    if actor is None:
        return
    if not has_school_perm(actor, codename, school):
        raise PermissionDenied(_("You do not have permission to do this in this school."))


def _log(actor, obj, action: str, *, request=None, detail: dict | None = None) -> None:
    access_log_record(user=actor, school_id=obj.school_id, action=action, obj=obj, request=request, detail=detail)


def _save(obj, *, actor, action: str, request=None, detail=None, exclude=None):
    obj.full_clean(exclude=exclude)
    obj.save()
    _log(actor, obj, action, request=request, detail=detail)
    return obj


def _set_fields(obj, fields: dict, allowed: tuple[str, ...]) -> list[str]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    changed = []
    for key, value in fields.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def _semester_required(school: School, day: dt.date, field: str = "date") -> Semester:
    semester = selectors.semester_for_date(school.district_id, day)
    if semester is None:
        known = "; ".join(
            f"{s.name} ({s.start:%Y-%m-%d} – {s.end:%Y-%m-%d})"
            for s in Semester.objects.filter(district_id=school.district_id).order_by("start")
        ) or _("none defined yet")
        raise ValidationError({field: _(
            "%(day)s is not inside any semester of the district. Semesters: %(known)s"
        ) % {"day": day.isoformat(), "known": known}})
    return semester


def _not_in_future(day: dt.date, field: str, today: dt.date | None = None) -> None:
    if day > (today or _today()):
        raise ValidationError({field: _("The date cannot be in the future.")})


def _same_school(obj, school: School, field: str) -> None:
    if obj is not None and obj.school_id != school.id:
        raise ValidationError({field: _("This record belongs to another school.")})


def _is_staff_of(user, school: School) -> bool:
    return Membership.objects.filter(
        user=user, school=school, role__in=[Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK]
    ).exists()


# ---------------------------------------------------------------- academic calendar
# Records whose semester FK follows their date (CareContact requires one; the others may be null).
SEMESTER_DATED = (
    (CareContact, "happened_on"), (Activity, "date"), (TrainingMeeting, "date"), (WorkRecordEntry, "date"),
    (TutoringSession, "date"),
)
SEMESTER_FIELDS = ("name", "start", "end")


def _require_bureau_admin(actor, district) -> None:
    if actor is not None and not selectors.may_set_calendar(actor, district):
        raise PermissionDenied(_("Only the bureau sets the district's calendar."))


def _lock_calendar(district) -> None:
    # Serialise calendar edits per district so two concurrent writes cannot both pass the checks.
    type(district).objects.select_for_update().filter(pk=district.pk).first()


def _refuse_overlap(district, start: dt.date, end: dt.date, exclude_pk=None) -> None:
    if end <= start:
        raise ValidationError({"end": _("The last day must come after the first day.")})
    clash = Semester.objects.filter(district=district, start__lte=end, end__gte=start).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise ValidationError(_("This semester overlaps %(name)s (%(start)s – %(end)s).") % {
            "name": clash.name, "start": clash.start.isoformat(), "end": clash.end.isoformat()})


def _district_school_ids(district_id: int) -> list[int]:
    return list(School.objects.filter(district_id=district_id).values_list("id", flat=True))


def _log_calendar(actor, semester: Semester, action: str, detail: dict | None = None) -> None:
    """One access-log row per school of the district: the calendar is every school's."""
    ids = _district_school_ids(semester.district_id)
    access_log_record_many(user=actor, school_ids=ids, action=action, object_type="schools.semester",
                           object_id=semester.pk, detail=detail)


@in_district_scope("district")
@transaction.atomic
def semester_create(*, actor, district, name: str, start: dt.date, end: dt.date) -> Semester:
    """A district's semester; refused if it overlaps another of the same district."""
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    _refuse_overlap(district, start, end)
    semester = Semester(district=district, name=name, start=start, end=end)
    semester.full_clean()
    semester.save()
    _semester_backfill(semester)
    _log_calendar(actor, semester, AccessLog.Action.CREATE, {"name": name})
    return semester


def semester_references(semester: Semester) -> dict[str, int]:
    """verbose_name_plural -> how many rows of each model point at the semester (every FK to it,
    school-owned or not), counted across the district's schools."""
    out: dict[str, int] = {}
    with district_scope(semester), tenant_scope(_district_school_ids(semester.district_id)):
        # include_hidden: most FKs to Semester have related_name="+".
        for rel in Semester._meta.get_fields(include_hidden=True):
            if not (rel.auto_created and not rel.concrete and rel.one_to_many):
                continue
            n = rel.related_model._default_manager.filter(**{rel.field.name: semester}).count()
            if n:
                label = str(rel.related_model._meta.verbose_name_plural)
                out[label] = out.get(label, 0) + n
    return out


@in_district_scope("semester")
@transaction.atomic
def semester_update(*, actor, semester: Semester, **fields) -> Semester:
    """Rename or re-date a semester. Records follow their dates: those now inside it join it, and an
    edit that would leave a record outside every semester is refused (nothing is written)."""
    district = semester.district
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    semester = Semester.objects.select_for_update().get(pk=semester.pk)
    old = (semester.start, semester.end)
    changed = _set_fields(semester, fields, SEMESTER_FIELDS)
    if not changed:
        return semester
    start, end = semester.start, semester.end
    _refuse_overlap(district, start, end, exclude_pk=semester.pk)
    semester.full_clean()
    redated = (start, end) != old
    others = Semester.objects.filter(district=district).exclude(pk=semester.pk)
    if redated:
        bound = semester.assessments.count()
        if bound:
            raise ValidationError(_(
                "%(n)d compliance assessment(s) are bound to this semester's dates; its dates cannot change.")
                % {"n": bound})
        ids = _district_school_ids(district.id)
        outside: dict[str, int] = {}
        with tenant_scope(ids):
            for model, field in SEMESTER_DATED:
                orphans = (model.objects.filter(semester=semester).exclude(**{f"{field}__range": (start, end)})
                           .exclude(Exists(others.filter(start__lte=OuterRef(field), end__gte=OuterRef(field)))))
                n = orphans.count()
                if n:
                    outside[str(model._meta.verbose_name_plural)] = n
        if outside:
            raise ValidationError(_(
                "%(n)d record(s) would fall outside every semester (%(detail)s). Keep the dates, or first "
                "define a semester for those dates or correct the records.") % {
                "n": sum(outside.values()), "detail": ", ".join(f"{n} {k}" for k, n in sorted(outside.items()))})
        semester.save()
        with tenant_scope(ids):
            # Records that left this semester fall inside another one (checked above).
            for model, field in SEMESTER_DATED:
                for other in others:
                    model.objects.filter(semester=semester, **{f"{field}__range": (other.start, other.end)}).update(
                        semester=other)
        _semester_backfill(semester)
    else:
        semester.save()
    _log_calendar(actor, semester, AccessLog.Action.UPDATE, {"fields": changed})
    return semester


@in_district_scope("semester")
@transaction.atomic
def semester_delete(*, actor, semester: Semester) -> None:
    """Delete a semester no record points at; otherwise say which records do."""
    district = semester.district
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    refs = semester_references(semester)
    if refs:
        raise ValidationError(_("This semester cannot be deleted: %(refs)s point at it.") % {
            "refs": ", ".join(f"{n} {label}" for label, n in sorted(refs.items()))})
    _log_calendar(actor, semester, AccessLog.Action.DELETE, {"name": semester.name})
    semester.delete()


def _semester_backfill(semester: Semester) -> None:
    """Records dated inside a semester (entered while no semester covered their date) now
    belong to it. The calendar is the district's, so this runs in an explicit scope over the
    district's schools; it only sets the semester FK."""
    ids = _district_school_ids(semester.district_id)
    with tenant_scope(ids):
        for model in (Activity, TrainingMeeting, WorkRecordEntry, TutoringSession):
            model.objects.filter(semester__isnull=True, date__range=(semester.start, semester.end)).update(
                semester=semester)


# ---------------------------------------------------------------- the home: site, equipment, leadership
SITE_FIELDS = ("room", "opened_on", "area_m2", "opening_hours", "notes")
EQUIPMENT_FIELDS = ("kind", "description", "quantity", "acquired_on")
LEADERSHIP_FIELDS = ("person_name", "user", "title", "is_leader", "order")


@transaction.atomic
def activity_site_create(*, actor, school: School, **fields) -> ActivitySite:
    _require(actor, "manage_materials", school)
    site = ActivitySite(school=school)
    _set_fields(site, fields, SITE_FIELDS)
    return _save(site, actor=actor, action=AccessLog.Action.CREATE)


@transaction.atomic
def activity_site_update(*, actor, site: ActivitySite, **fields) -> ActivitySite:
    _require(actor, "manage_materials", site.school)
    changed = _set_fields(site, fields, SITE_FIELDS)
    return _save(site, actor=actor, action=AccessLog.Action.UPDATE, detail={"fields": changed})


@transaction.atomic
def equipment_create(*, actor, school: School, **fields) -> Equipment:
    _require(actor, "manage_materials", school)
    item = Equipment(school=school)
    _set_fields(item, fields, EQUIPMENT_FIELDS)
    return _save(item, actor=actor, action=AccessLog.Action.CREATE)


@transaction.atomic
def equipment_update(*, actor, item: Equipment, **fields) -> Equipment:
    _require(actor, "manage_materials", item.school)
    changed = _set_fields(item, fields, EQUIPMENT_FIELDS)
    return _save(item, actor=actor, action=AccessLog.Action.UPDATE, detail={"fields": changed})


@transaction.atomic
def leadership_member_create(*, actor, school: School, **fields) -> LeadershipMember:
    _require(actor, "manage_materials", school)
    member = LeadershipMember(school=school)
    _set_fields(member, fields, LEADERSHIP_FIELDS)
    if member.user_id and not _is_staff_of(member.user, school):
        raise ValidationError({"user": _("This user is not on the school's staff.")})
    if member.is_leader:
        # The new leader replaces the old one (one leader per school, also a DB constraint).
        LeadershipMember.objects.filter(school=school, is_leader=True).update(is_leader=False)
    return _save(member, actor=actor, action=AccessLog.Action.CREATE)


@transaction.atomic
def leadership_member_update(*, actor, member: LeadershipMember, **fields) -> LeadershipMember:
    _require(actor, "manage_materials", member.school)
    changed = _set_fields(member, fields, LEADERSHIP_FIELDS)
    if member.is_leader:
        LeadershipMember.objects.filter(school_id=member.school_id, is_leader=True).exclude(pk=member.pk).update(
            is_leader=False)
    return _save(member, actor=actor, action=AccessLog.Action.UPDATE, detail={"fields": changed})


@transaction.atomic
def home_record_delete(*, actor, obj) -> None:
    """Delete a site, equipment item, leadership member or weekday theme (materials of the home).
    Records with rules of their own have their own delete services (work_record_delete, ...)."""
    allowed = (ActivitySite, Equipment, LeadershipMember, ThemeSchedule)
    if not isinstance(obj, allowed):
        raise ValidationError(_("This record cannot be deleted here."))
    _require(actor, "manage_materials", obj.school)
    _log(actor, obj, AccessLog.Action.DELETE)
    obj.delete()


# ---------------------------------------------------------------- evidence
def _rewind(fileobj) -> None:
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)


def _store(name: str, data: bytes, written: list[str]) -> str:
    """Deterministic storage names: the same bytes in the same school are stored once.

    A name this call creates is appended to `written` (so a failure can remove it again). Any
    storage failure becomes EvidenceStorageError: a clear message for the user, the traceback in
    the log for the administrator.
    """
    from .evidence import EvidenceStorageError

    try:
        if default_storage.exists(name):
            return name
        saved = default_storage.save(name, ContentFile(data))
    except Exception:
        logger.exception("evidence storage failed for %s", name)
        raise EvidenceStorageError() from None
    written.append(saved)
    return saved


def _delete_files(names) -> None:
    """Best effort: a file that cannot be deleted now is left to evidence_orphans_sweep."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.warning("could not delete evidence file %s", name, exc_info=True)


def _target_perm_check(actor, school: School, attach_to) -> str | None:
    """Check the actor may attach evidence to the target; returns the Evidence FK field name."""
    if attach_to is None:
        _require(actor, "manage_materials", school)
        return None
    field = {Activity: "activity", TrainingMeeting: "training_meeting", CareContact: "care_contact"}.get(
        type(attach_to))
    if field is None:
        raise ValidationError(_("Evidence cannot be attached to this kind of record."))
    _same_school(attach_to, school, "attach_to")
    if field == "care_contact":
        if actor is not None:
            # Only someone who may record contacts for this child may add to its contacts.
            selectors.child_for_contact(actor, attach_to.child_id)
        if attach_to.child.is_purged:  # the purge deleted these photos: none may come back
            raise ValidationError(_("The child's record was purged: nothing can be added to its contacts."))
    else:
        _require(actor, "manage_materials", school)
    return field


CAPTION_MAX = Evidence._meta.get_field("caption").max_length
ORPHAN_MIN_AGE = dt.timedelta(hours=6)


@transaction.atomic
def evidence_upload(*, actor, school: School, uploaded_file, attach_to=None, caption: str = "",
                    request=None) -> Evidence:
    """Validate and normalise an upload (schools.evidence), store it, and flag reuse.

    Validate first, then write: the file is decoded/re-encoded (no EXIF/GPS) before anything is
    stored; files are written before the row, so no row ever points at a missing file. A storage
    failure raises EvidenceStorageError (nothing recorded); when the row write fails, the files this
    call created are deleted again. (Should an enclosing transaction roll back later, its files
    are left for evidence_orphans_sweep.)
    """
    from . import evidence as ev  # the pure processing functions (another module, no DB)

    field = _target_perm_check(actor, school, attach_to)
    _rewind(uploaded_file)
    image = ev.is_image(uploaded_file)
    _rewind(uploaded_file)
    if image:
        processed = ev.process_image(uploaded_file)
        kind, data, sha, phash = Evidence.Kind.PHOTO, processed.data, processed.sha256, processed.phash.lower()
        content_type, width, height, ext = processed.content_type, processed.width, processed.height, "jpg"
    else:
        checked = ev.check_document(uploaded_file)
        kind, data, sha, phash = Evidence.Kind.DOCUMENT, checked.data, checked.sha256, ""
        content_type, width, height, ext = checked.content_type, None, None, checked.extension.lstrip(".")
    caption = caption.strip()
    if len(caption) > CAPTION_MAX:
        # Refused, not cut: the clerk would otherwise lose the end of the caption without knowing.
        raise ValidationError({"caption": _("The caption is too long: at most %(max)d characters "
                                            "(it has %(len)d).") % {"max": CAPTION_MAX, "len": len(caption)}})
    base = f"{evidence_folder(school.id)}/{sha}"
    written: list[str] = []
    try:
        file_name = _store(f"{base}.{ext}", data, written)
        thumb_name = _store(f"{base}.thumb.jpg", processed.thumbnail, written) if image else ""
        item = Evidence(
            school=school, kind=kind, file=file_name, thumbnail=thumb_name, sha256=sha, phash=phash,
            width=width, height=height, content_type=content_type, size=len(data), caption=caption,
            uploaded_by=actor,
        )
        if field:
            setattr(item, field, attach_to)
        with transaction.atomic():  # a savepoint: the row, its log entry and its flags, or none
            item.save()
            _log(actor, item, AccessLog.Action.CREATE, request=request,
                 detail={"attached_to": f"{field}#{attach_to.pk}" if field else ""})
            _flag_reuse(item, school)
    except BaseException:
        _delete_files(written)  # only what this call created; an existing file may be another row's
        raise
    return item


def _flag_reuse(item: Evidence, school: School) -> list[ReusedEvidenceFlag]:
    """Flag the same file (sha256) or a near photo (pHash Hamming distance ≤ 6) already used by
    another record of this school or by any other school of the district.

    The lookup deliberately enters an explicit scope over the district's school ids (RLS would
    otherwise hide the other schools' rows). It reads only ids and hashes, and what it finds goes
    into a flag owned by the uploading school. Nothing of another school is returned to the
    uploader: a flag is shown only to viewers whose reach holds both schools (the bureau; a
    township admin for its subtree; see schools.selectors.reuse_match_q). A photo without a
    perceptual hash (too little detail, schools.evidence.matchable_phash) is matched by SHA-256 only.
    """
    district_school_ids = list(School.objects.filter(district_id=school.district_id).values_list("id", flat=True))
    match = Q(sha256=item.sha256)
    params = []
    if item.kind == Evidence.Kind.PHOTO and re.fullmatch(r"[0-9a-f]{4,64}", item.phash or ""):
        n = len(item.phash)
        distance_sql = (
            "CASE WHEN length(phash) = %s AND phash ~ '^[0-9a-f]+$' THEN "
            "length(replace((('x' || phash)::varbit # %s::varbit)::text, '0', '')) ELSE 999 END"
        )
        params = [n, "x" + item.phash]
    else:
        distance_sql = "CASE WHEN sha256 = %s THEN 0 ELSE 999 END"
        params = [item.sha256]
    with system_scope("evidence reuse is looked for across the uploading school's district",
                      school_ids=district_school_ids):
        rows = list(
            Evidence.objects.exclude(pk=item.pk)
            .annotate(distance=RawSQL(distance_sql, params))
            .filter(match | Q(distance__lte=PHASH_REUSE_DISTANCE, kind=Evidence.Kind.PHOTO))
            .order_by("distance", "id")
            .values("id", "school_id", "sha256", "distance", *[f"{f}_id" for f in Evidence.ATTACHMENTS])[:50]
        )
    mine = next(((f, getattr(item, f"{f}_id")) for f in Evidence.ATTACHMENTS if getattr(item, f"{f}_id")),
                (None, None))
    flags = []
    for row in rows:
        theirs = next(((f, row[f"{f}_id"]) for f in Evidence.ATTACHMENTS if row[f"{f}_id"]), (None, None))
        if row["school_id"] == school.id:
            # Within one school, re-using a photo for the same record is fine; for another record it is not.
            if theirs[0] is None or theirs == mine:
                continue
        flags.append(ReusedEvidenceFlag(
            school=school, evidence=item,
            reason=ReusedEvidenceFlag.Reason.SAME_FILE if row["sha256"] == item.sha256
            else ReusedEvidenceFlag.Reason.SIMILAR_PHOTO,
            distance=0 if row["sha256"] == item.sha256 else row["distance"],
            matched_school_id=row["school_id"], matched_evidence_id=row["id"],
            matched_object_type=theirs[0] or "", matched_object_id=theirs[1],
        ))
        if len(flags) >= MAX_REUSE_FLAGS_PER_UPLOAD:
            break
    return ReusedEvidenceFlag.objects.bulk_create(flags, ignore_conflicts=True)


@transaction.atomic
def evidence_delete(*, actor, evidence: Evidence, request=None) -> None:
    """Delete the row; the file stays if another row of the school stores the same bytes.

    A contact's photos are the contact's: whoever may edit the contact removes them (its author
    or the school admin), not the materials clerk, who never sees them."""
    if evidence.care_contact_id:
        _contact_write_check(actor, evidence.care_contact)
    else:
        _require(actor, "manage_materials", evidence.school)
    if evidence.rule_versions.exists():
        raise ValidationError(_("This document is a rule document version and cannot be deleted."))
    _log(actor, evidence, AccessLog.Action.DELETE, request=request)
    names = [evidence.file.name, evidence.thumbnail.name]
    sha, school_id = evidence.sha256, evidence.school_id
    evidence.delete()
    if not Evidence.objects.filter(school_id=school_id, sha256=sha).exists():
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])


def evidence_orphans_sweep(*, school: School, min_age: dt.timedelta = ORPHAN_MIN_AGE) -> int:
    """Delete files under evidence/<school>/ that no Evidence row names (left behind when a
    transaction around an upload rolled back, or a delete failed). Only files older than min_age:
    a younger one may belong to an upload whose transaction has not committed yet. Idempotent."""
    folder = evidence_folder(school.id)
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return 0
    known = set()
    for file_name, thumb_name in Evidence.objects.filter(school=school).values_list("file", "thumbnail"):
        known.update((file_name, thumb_name))
    now = timezone.now()
    orphans = []
    for name in files:
        path = f"{folder}/{name}"
        if path in known:
            continue
        try:
            if now - default_storage.get_modified_time(path) < min_age:
                continue
        except (FileNotFoundError, NotImplementedError):
            continue
        orphans.append(path)
    _delete_files(orphans)
    return len(orphans)


# ---------------------------------------------------------------- rules
@transaction.atomic
def rule_document_version_add(*, actor, school: School, kind: str, uploaded_file, adopted_on: dt.date,
                              title: str = "", request=None) -> RuleDocumentVersion:
    _require(actor, "manage_materials", school)
    if kind not in RuleKind.values:
        raise ValidationError({"kind": _("Unknown rule document kind.")})
    _not_in_future(adopted_on, "adopted_on")
    document, _created = RuleDocument.objects.get_or_create(school=school, kind=kind, defaults={"title": title})
    if title and document.title != title:
        document.title = title
        document.save(update_fields=["title"])
    from . import evidence as ev

    _rewind(uploaded_file)
    is_photo = ev.is_image(uploaded_file)
    _rewind(uploaded_file)
    if is_photo:  # checked before anything is stored: a refused photo must leave no file behind
        raise ValidationError({"uploaded_file": _("A rule document must be a PDF, Word or Excel file.")})
    evidence = evidence_upload(actor=actor, school=school, uploaded_file=uploaded_file, request=request)
    last = document.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = RuleDocumentVersion(school=school, document=document, number=last + 1, adopted_on=adopted_on,
                                  evidence=evidence, uploaded_by=actor)
    return _save(version, actor=actor, action=AccessLog.Action.CREATE, request=request)


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


# ---------------------------------------------------------------- children's archive
CHILD_FIELDS = (
    "name", "gender", "birth_date", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "home_village", "health_notes", "wellbeing_notes", "consent_date", "consent_method", "id_number",
)
# The columns of schools.importing.ChildRow (the same names; wellbeing notes are never imported).
IMPORT_FIELDS = tuple(f for f in CHILD_FIELDS if f != "wellbeing_notes")
# Optional sensitive inputs refused once consent is refused (the minimum is kept).
REFUSAL_BLOCKED = (
    "birth_date", "id_number", "parents_work_place", "guardian_phone", "second_contact_name",
    "second_contact_phone", "home_village", "health_notes", "wellbeing_notes",
)


def _apply_child_fields(child: Child, fields: dict) -> list[str]:
    unknown = set(fields) - set(CHILD_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    if child.consent == Child.Consent.REFUSED:
        blocked = sorted(k for k in REFUSAL_BLOCKED if fields.get(k))
        if blocked:
            raise ValidationError({k: _("The guardian refused consent: this field cannot be stored.") for k in blocked})
    changed = []
    if "id_number" in fields:
        number = crypto.normalise_id_number(fields.pop("id_number"))
        if number and not crypto.id_number_checksum_ok(number):
            raise ValidationError({"id_number": _("This is not a valid 18-character ID number.")})
        new_hash = crypto.identity_hash(number)
        if new_hash != child.id_number_hash:
            if new_hash and Child.objects.filter(school_id=child.school_id, id_number_hash=new_hash).exclude(
                    pk=child.pk).exists():
                raise ValidationError({"id_number": _("A child with this ID number is already in the archive.")})
            child.id_number_ciphertext = crypto.encrypt(number)
            child.id_number_hash = new_hash
            child.id_number_masked = crypto.mask_id_number(number)
            changed.append("id_number")
    for key, value in fields.items():
        if value is None and key not in ("birth_date", "consent_date"):
            value = ""
        if getattr(child, key) != value:
            setattr(child, key, value)
            changed.append(key)
    if child.consent != Child.Consent.REFUSED:
        child.consent = Child.Consent.GIVEN if child.consent_date else Child.Consent.PENDING
    return changed


# Free-text notes on a child: the same limit as the import (schools.importing.MAX_NOTES). Without
# one, a pasted document of 100,000 characters would be stored whole (TextField has no length).
CHILD_NOTES_MAX = 2000


def _child_validate(child: Child) -> None:
    too_long = {
        name: _("Too long: at most %(max)d characters (this text has %(len)d).")
        % {"max": CHILD_NOTES_MAX, "len": len(getattr(child, name) or "")}
        for name in ("health_notes", "wellbeing_notes") if len(getattr(child, name) or "") > CHILD_NOTES_MAX
    }
    if too_long:
        raise ValidationError(too_long)
    child.full_clean(exclude=["school"], validate_constraints=False, validate_unique=False)
    if child.birth_date and child.birth_date > _today():
        raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
    if not 1 <= child.grade <= 9:
        raise ValidationError({"grade": _("The grade must be between 1 and 9.")})


@transaction.atomic
def child_create(*, actor, school: School, status_since: dt.date | None = None, request=None, **fields) -> Child:
    _require(actor, "manage_children", school)
    child = Child(school=school, status_since=status_since or _today())
    _apply_child_fields(child, dict(fields))
    _child_validate(child)
    child.save()
    ChildStatusChange.objects.create(school=school, child=child, status=child.status, since=child.status_since,
                                     recorded_by=actor)
    _log(actor, child, AccessLog.Action.CREATE, request=request)
    return child


@transaction.atomic
def child_update(*, actor, child: Child, request=None, **fields) -> Child:
    _require(actor, "manage_children", child.school)
    if child.is_purged:
        raise ValidationError(_("This record was purged and can no longer be edited."))
    changed = _apply_child_fields(child, dict(fields))
    _child_validate(child)
    child.save()
    # Field names only: the log must not copy personal data.
    _log(actor, child, AccessLog.Action.UPDATE, request=request, detail={"fields": changed})
    return child


@transaction.atomic
def child_consent_refuse(*, actor, child: Child, on: dt.date, method: str = "", request=None) -> Child:
    """Record a refusal: clear every optional sensitive field and refuse to store them from now on."""
    _require(actor, "manage_children", child.school)
    _not_in_future(on, "on")
    for name in Child.SENSITIVE_FIELDS:
        setattr(child, name, None if name == "birth_date" else "")
    child.consent, child.consent_date, child.consent_method = Child.Consent.REFUSED, on, method
    child.save()
    _log(actor, child, AccessLog.Action.UPDATE, request=request, detail={"consent": "refused"})
    return child


@transaction.atomic
def child_status_set(*, actor, child: Child, status: str, since: dt.date, note: str = "", request=None) -> Child:
    """Change a child's status with its date; leaving ends proxy assignments and study pairs."""
    _require(actor, "manage_children", child.school)
    if status not in Child.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    _not_in_future(since, "since")
    if since < child.status_since:
        raise ValidationError({"since": _("The new status cannot start before the current one.")})
    child.status, child.status_since = status, since
    child.save(update_fields=["status", "status_since", "updated_at"])
    ChildStatusChange.objects.create(school_id=child.school_id, child=child, status=status, since=since,
                                     note=note, recorded_by=actor)
    if status != Child.Status.ACTIVE:
        # The proxy parent's access ends with the child's time in the home.
        for model in (ProxyAssignment, StudyPair):
            for row in model.objects.filter(child=child, ends_on__isnull=True):
                row.ends_on = max(row.starts_on, since - dt.timedelta(days=1))
                row.save(update_fields=["ends_on"])
        _sync_child_permissions([child.id])
    _log(actor, child, AccessLog.Action.UPDATE, request=request, detail={"status": status})
    return child


@transaction.atomic
def children_purge_expired(*, school: School, today: dt.date | None = None, retention_days: int | None = None) -> int:
    """Purge the sensitive fields of children who left more than CHILD_DATA_RETENTION_DAYS ago.

    Idempotent: purged records carry purged_at and are skipped. Each purge is logged ("purge").
    What remains (gender, grade, class, left-behind kind, status history, contact dates) keeps the
    school's historic counts right without identifying the child.
    """
    from django.conf import settings

    today = today or _today()
    days = settings.CHILD_DATA_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = today - dt.timedelta(days=days)
    ids = list(
        Child.objects.select_for_update().filter(
            school=school, purged_at__isnull=True, status_since__lt=cutoff
        ).exclude(status=Child.Status.ACTIVE).values_list("id", flat=True)
    )
    if not ids:
        return 0
    cleared = {name: ("" if name != "birth_date" else None) for name in Child.SENSITIVE_FIELDS}
    Child.objects.filter(id__in=ids).update(name="", purged_at=timezone.now(), **cleared)
    # Free text about the child elsewhere goes too, and so do the photos of the child's contacts
    # (rows and stored files, through the one evidence delete path).
    CareContact.objects.filter(child_id__in=ids).update(notes="")
    for item in Evidence.objects.filter(care_contact__child_id__in=ids).select_related("care_contact", "school"):
        evidence_delete(actor=None, evidence=item)
    WorkRecordEntry.objects.filter(child_id__in=ids).update(text="")
    TutoringSession.objects.filter(pair__child_id__in=ids).update(notes="")
    ChildStatusChange.objects.filter(child_id__in=ids).update(note="")
    ChildUserObjectPermission.objects.filter(content_object_id__in=ids).delete()
    fields = ["name", *Child.SENSITIVE_FIELDS]
    for child_id in ids:
        access_log_record(user=None, school_id=school.id, action=AccessLog.Action.PURGE,
                          object_type="schools.child", object_id=child_id,
                          detail={"fields": fields, "retention_days": days})
    return len(ids)


@transaction.atomic
def children_rekey(*, school: School) -> int:
    """After a key rotation: re-encrypt under the newest key and recompute the keyed hashes."""
    n = 0
    for child in Child.objects.filter(school=school).exclude(id_number_ciphertext=""):
        number = crypto.decrypt(child.id_number_ciphertext)
        child.id_number_ciphertext = crypto.rotate(child.id_number_ciphertext)
        child.id_number_hash = crypto.identity_hash(number)
        child.save(update_fields=["id_number_ciphertext", "id_number_hash"])
        n += 1
    return n


class ImportRejected(ValidationError):
    """The import was refused; `row_errors` lists (row_number, column, reason) dicts."""

    def __init__(self, row_errors: list[dict]):
        self.row_errors = row_errors
        super().__init__([
            _("Row %(row)s, %(column)s: %(reason)s") % {"row": e["row_number"], "column": e["column"],
                                                      "reason": e["reason"]}
            for e in row_errors
        ])


@transaction.atomic
def children_import_commit(*, actor, school: School, preview, request=None) -> list[Child]:
    """Write every row of an import preview (schools.importing.ImportPreview), all or nothing."""
    _require(actor, "manage_children", school)
    if preview.errors:
        raise ImportRejected([
            {"row_number": e.row_number, "column": e.column, "reason": e.reason} for e in preview.errors
        ])
    if not preview.rows:
        raise ValidationError(_("The file holds no rows to import."))
    today = _today()
    existing = set(Child.objects.filter(school=school).exclude(id_number_hash="").values_list(
        "id_number_hash", flat=True))
    seen: dict[str, int] = {}
    children, errors = [], []
    for row in preview.rows:
        child = Child(school=school, status_since=today)
        fields = {name: getattr(row, name) for name in IMPORT_FIELDS}
        try:
            number = crypto.normalise_id_number(fields["id_number"] or "")
            digest = crypto.identity_hash(number)
            if digest and digest in existing:
                raise ValidationError({"id_number": _("A child with this ID number is already in the archive.")})
            if digest and digest in seen:
                raise ValidationError({"id_number": _("The same ID number is also on row %(row)s.") % {
                    "row": seen[digest]}})
            _apply_child_fields(child, fields)
            _child_validate(child)
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                errors.append({"row_number": row.row_number, "column": column, "reason": "; ".join(messages)})
            continue
        if digest:
            seen[digest] = row.row_number
        children.append(child)
    if errors:
        raise ImportRejected(errors)
    created = Child.objects.bulk_create(children)
    ChildStatusChange.objects.bulk_create([
        ChildStatusChange(school=school, child=c, status=c.status, since=c.status_since, recorded_by=actor,
                          note=_("imported"))
        for c in created
    ])
    access_log_record_many(user=actor, school_id=school.id, object_ids=[c.pk for c in created],
                           action=AccessLog.Action.CREATE, object_type="schools.child", request=request,
                           detail={"via": "import", "encoding": getattr(preview, "encoding", None) or ""})
    return created


# ---------------------------------------------------------------- the four contacts
@transaction.atomic
def care_contact_record(*, actor, child_id: int, kind: str, happened_on: dt.date, notes: str = "",
                        evidence_files=(), request=None, today: dt.date | None = None,
                        made_by=None) -> CareContact:
    """Record one of the four contacts. The actor must be allowed to record contacts for this
    child (school admin, or the child's current proxy parent); otherwise Child.DoesNotExist."""
    child = selectors.child_for_contact(actor, child_id) if actor is not None else Child.objects.get(pk=child_id)
    if kind not in CareContact.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of contact.")})
    if child.status != Child.Status.ACTIVE:
        raise ValidationError(_("Contacts are recorded only for children on the active list."))
    _not_in_future(happened_on, "happened_on", today)
    school = child.school
    semester = _semester_required(school, happened_on, "happened_on")
    contact = CareContact(school=school, child=child, kind=kind, happened_on=happened_on, semester=semester,
                          made_by=actor or made_by, notes=notes)
    _save(contact, actor=actor, action=AccessLog.Action.CREATE, request=request)
    for f in evidence_files:
        evidence_upload(actor=actor, school=school, uploaded_file=f, attach_to=contact, request=request)
    return contact


CONTACT_FIELDS = ("kind", "happened_on", "notes")
CONTACT_NOTES_MAX = 2000


def _contact_write_check(actor, contact: CareContact) -> None:
    """Who may change or undo a contact: its author, or whoever manages the archive; either must
    still be allowed to record for the child (Child.DoesNotExist otherwise: the caller answers 404)."""
    if actor is None:
        return
    if contact.made_by_id != actor.id:
        _require(actor, "manage_children", contact.school)
    selectors.child_for_contact(actor, contact.child_id)


@transaction.atomic
def care_contact_update(*, actor, contact: CareContact, request=None, today: dt.date | None = None,
                        **fields) -> CareContact:
    """Correct a contact's kind, date or notes, under the same rules as recording it: the date not
    in the future and inside a semester (the contact moves to that semester)."""
    _contact_write_check(actor, contact)
    if contact.child.is_purged:
        raise ValidationError(_("The child's record was purged: its contacts can no longer be changed."))
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    # Validate the new values before touching the instance: a refused edit leaves it as it was.
    new = {name: fields.get(name, getattr(contact, name)) for name in CONTACT_FIELDS}
    if new["kind"] not in CareContact.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of contact.")})
    if len(new["notes"] or "") > CONTACT_NOTES_MAX:
        raise ValidationError({"notes": _("The notes are too long: at most %(max)d characters.")
                               % {"max": CONTACT_NOTES_MAX}})
    _not_in_future(new["happened_on"], "happened_on", today)
    semester = _semester_required(contact.school, new["happened_on"], "happened_on")
    changed = _set_fields(contact, fields, CONTACT_FIELDS)
    if semester.pk != contact.semester_id:
        contact.semester = semester
        changed.append("semester")
    if not changed:
        return contact
    # Field names only: the notes are about a child and stay out of the log.
    return _save(contact, actor=actor, action=AccessLog.Action.UPDATE, request=request,
                 detail={"fields": sorted(changed)})


@transaction.atomic
def care_contact_delete(*, actor, contact: CareContact, request=None) -> None:
    """Undo a contact: its author, or anyone who manages the archive. Its photos go with it
    (rows and files, through evidence_delete)."""
    _contact_write_check(actor, contact)
    for item in Evidence.objects.filter(care_contact=contact).select_related("care_contact", "school"):
        evidence_delete(actor=actor, evidence=item, request=request)
    _log(actor, contact, AccessLog.Action.DELETE, request=request)
    contact.delete()


# ---------------------------------------------------------------- activities
ACTIVITY_FIELDS = ("date", "kind", "title", "description", "text_record")


@transaction.atomic
def theme_schedule_set(*, actor, school: School, semester: Semester, weekday: int, theme: str) -> ThemeSchedule:
    _require(actor, "manage_materials", school)
    if semester.district_id != school.district_id:
        raise ValidationError({"semester": _("This semester belongs to another district.")})
    if weekday not in range(1, 6):
        raise ValidationError({"weekday": _("Themes are set for Monday to Friday.")})
    row, created = ThemeSchedule.objects.update_or_create(
        school=school, semester=semester, weekday=weekday, defaults={"theme": theme})
    _log(actor, row, AccessLog.Action.CREATE if created else AccessLog.Action.UPDATE)
    return row


def _set_participants(activity: Activity, participants) -> None:
    """participants: iterable of Child, or (Child, placing, placing_label) tuples."""
    rows = []
    for p in participants:
        child, placing, label = (p, None, "") if isinstance(p, Child) else (tuple(p) + (None, ""))[:3]
        _same_school(child, activity.school, "participants")
        rows.append(ActivityParticipant(school_id=activity.school_id, activity=activity, child=child,
                                        placing=placing, placing_label=label or ""))
    if any(r.placing for r in rows) and activity.kind != Activity.Kind.COMPETITION:
        raise ValidationError({"participants": _("Only competitions have placings.")})
    ActivityParticipant.objects.filter(activity=activity).delete()
    ActivityParticipant.objects.bulk_create(rows)


@transaction.atomic
def activity_create(*, actor, school: School, participants=(), request=None, **fields) -> Activity:
    _require(actor, "manage_materials", school)
    activity = Activity(school=school, created_by=actor)
    _set_fields(activity, fields, ACTIVITY_FIELDS)
    if activity.date:
        _not_in_future(activity.date, "date")
        activity.semester = selectors.semester_for_date(school.district_id, activity.date)
    _save(activity, actor=actor, action=AccessLog.Action.CREATE, request=request)
    _set_participants(activity, participants)
    return activity


@transaction.atomic
def activity_update(*, actor, activity: Activity, participants=None, request=None, **fields) -> Activity:
    _require(actor, "manage_materials", activity.school)
    changed = _set_fields(activity, fields, ACTIVITY_FIELDS)
    if "date" in changed:
        _not_in_future(activity.date, "date")
        activity.semester = selectors.semester_for_date(activity.school.district_id, activity.date)
    _save(activity, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})
    if participants is not None:
        _set_participants(activity, participants)
    return activity


@transaction.atomic
def activity_delete(*, actor, activity: Activity, request=None) -> None:
    _require(actor, "manage_materials", activity.school)
    _log(actor, activity, AccessLog.Action.DELETE, request=request)
    activity.delete()


# ---------------------------------------------------------------- study support
@transaction.atomic
def study_pair_create(*, actor, school: School, teacher, child: Child, starts_on: dt.date | None = None,
                      subject: str = "") -> StudyPair:
    _require(actor, "manage_children", school)
    _same_school(child, school, "child")
    if not _is_staff_of(teacher, school):
        raise ValidationError({"teacher": _("This user is not on the school's staff.")})
    pair = StudyPair(school=school, teacher=teacher, child=child, starts_on=starts_on or _today(), subject=subject)
    if StudyPair.objects.filter(teacher=teacher, child=child, ends_on__isnull=True).exists():
        raise ValidationError(_("This teacher is already paired with this child."))
    return _save(pair, actor=actor, action=AccessLog.Action.CREATE)


@transaction.atomic
def study_pair_end(*, actor, pair: StudyPair, ends_on: dt.date | None = None, request=None) -> StudyPair:
    return study_pair_update(actor=actor, pair=pair, ends_on=ends_on or _today(), request=request)


STUDY_PAIR_FIELDS = ("starts_on", "ends_on", "subject")


@transaction.atomic
def study_pair_update(*, actor, pair: StudyPair, request=None, **fields) -> StudyPair:
    """Correct a pair's dates or subject (ends_on=None reopens it). Its tutoring sessions must stay
    inside the new dates, and a teacher has at most one open pair with a child."""
    _require(actor, "manage_children", pair.school)
    changed = _set_fields(pair, fields, STUDY_PAIR_FIELDS)
    start, end = pair.starts_on, pair.ends_on
    if end is not None and end < start:
        raise ValidationError({"ends_on": _("A pair cannot end before it starts.")})
    outside = pair.sessions.filter(Q(date__lt=start) | Q(date__gt=end or dt.date.max)).order_by("date")
    first = outside.values_list("date", flat=True).first()
    if first is not None:
        raise ValidationError(_(
            "%(count)s tutoring session(s) would fall outside the pair's dates (the first on %(day)s): "
            "correct or delete them first."
        ) % {"count": outside.count(), "day": first.isoformat()})
    if end is None and StudyPair.objects.filter(
            teacher_id=pair.teacher_id, child_id=pair.child_id, ends_on__isnull=True).exclude(pk=pair.pk).exists():
        raise ValidationError(_("This teacher is already paired with this child."))
    return _save(pair, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


def _require_tutor(actor, pair: StudyPair) -> None:
    """The paired teacher, or whoever manages the archive."""
    if actor is not None and actor.id != pair.teacher_id:
        _require(actor, "manage_children", pair.school)


def _tutoring_validate(pair: StudyPair, date: dt.date, minutes) -> None:
    _not_in_future(date, "date")
    if date < pair.starts_on or (pair.ends_on and date > pair.ends_on):
        raise ValidationError({"date": _("The session is outside the pair's dates.")})
    if minutes is None or minutes <= 0:
        raise ValidationError({"minutes": _("A session lasts at least one minute.")})


@transaction.atomic
def tutoring_session_record(*, actor, pair: StudyPair, date: dt.date, minutes: int, notes: str = "",
                            request=None) -> TutoringSession:
    """The paired teacher (or the school admin) records a session inside the pair's dates."""
    _require_tutor(actor, pair)
    _tutoring_validate(pair, date, minutes)
    session = TutoringSession(school_id=pair.school_id, pair=pair, date=date, minutes=minutes, notes=notes,
                              semester=selectors.semester_for_date(pair.school.district_id, date))
    return _save(session, actor=actor, action=AccessLog.Action.CREATE, request=request)


TUTORING_FIELDS = ("date", "minutes", "notes")


@transaction.atomic
def tutoring_session_update(*, actor, session: TutoringSession, request=None, **fields) -> TutoringSession:
    """Correct a session (the paired teacher or the school admin); the checks of recording it."""
    pair = session.pair
    _require_tutor(actor, pair)
    changed = _set_fields(session, fields, TUTORING_FIELDS)
    _tutoring_validate(pair, session.date, session.minutes)
    if "date" in changed:
        session.semester = selectors.semester_for_date(pair.school.district_id, session.date)
    return _save(session, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


@transaction.atomic
def tutoring_session_delete(*, actor, session: TutoringSession, request=None) -> None:
    _require_tutor(actor, session.pair)
    _log(actor, session, AccessLog.Action.DELETE, request=request)
    session.delete()



# ---------------------------------------------------------------- appended for the REST API (api/schools*.py)
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
