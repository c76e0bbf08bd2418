"""Evidence uploads: stored files, reuse flags against earlier photos, deletion and orphan sweeps."""
from __future__ import annotations

import datetime as dt
import re
from typing import cast

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School
from tenancy.scoping import system_scope

from .. import evidence as ev
from .. import selectors
from ..evidence import EvidenceStorageError
from ..models import Activity, CareContact, Evidence, ReusedEvidenceFlag, TrainingMeeting, evidence_folder
from ._common import _contact_write_check, _log, _require, _same_school, logger

PHASH_REUSE_DISTANCE = 6
MAX_REUSE_FLAGS_PER_UPLOAD = 5


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


# A CharField, so it has a max_length (the stubs allow None, which Django permits on PostgreSQL).
CAPTION_MAX = cast(int, Evidence._meta.get_field("caption").max_length)
ORPHAN_MIN_AGE = dt.timedelta(hours=6)


@transaction.atomic
def evidence_upload(*, actor, school: School, uploaded_file, attach_to=None, caption: str = "",
                    photo_only: bool = False, request=None) -> Evidence:
    """Validate and normalise an upload (schools.evidence), store it, and flag reuse.

    Validate first, then write: the file is decoded/re-encoded (no EXIF/GPS) before anything is
    stored; files are written before the row, so no row ever points at a missing file. A storage
    failure raises EvidenceStorageError (nothing recorded); when the row write fails, the files this
    call created are deleted again. (Should an enclosing transaction roll back later, its files
    are left for evidence_orphans_sweep.) `photo_only`: the user chose a photo, so anything that is
    not one is refused as "not a photo" (not judged as a document).
    """

    field = _target_perm_check(actor, school, attach_to)
    _rewind(uploaded_file)
    image = ev.is_image(uploaded_file)
    _rewind(uploaded_file)
    if photo_only and not image:
        raise ev.EvidenceError(ev.not_a_photo_message(uploaded_file))
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
    contact = evidence.care_contact if evidence.care_contact_id else None
    if contact is not None:
        _contact_write_check(actor, contact)
    else:
        _require(actor, "manage_materials", evidence.school)
    if evidence.rule_versions.exists():
        raise ValidationError(_("This document is a rule document version and cannot be deleted."))
    _log(actor, evidence, AccessLog.Action.DELETE, request=request)
    names = [evidence.file.name, evidence.thumbnail.name]
    sha, school_id = evidence.sha256, evidence.school_id
    evidence.delete()
    if not Evidence.objects.filter(school_id=school_id, sha256=sha).exists():
        def delete_files() -> None:
            for name in names:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(delete_files)


def evidence_orphans_sweep(*, school: School, min_age: dt.timedelta = ORPHAN_MIN_AGE) -> int:
    """Delete files under evidence/<school>/ that no Evidence row names (left behind when a
    transaction around an upload rolled back, or a delete failed). Only files older than min_age:
    a younger one may belong to an upload whose transaction has not committed yet. Idempotent."""
    folder = evidence_folder(school.id)
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return 0
    known: set[str] = set()
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
