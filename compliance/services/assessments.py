"""Assessments: binding a checklist to a semester, snapshots, the lock and manual scores."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors
from tenancy import services as tenancy_services
from tenancy.models import District, School
from tenancy.scoping import in_district_scope, tenant_scope

from .. import audit, checklist_yaml
from ..models import (
    Assessment,
    ChecklistItem,
    ChecklistVersion,
    ManualScore,
    ManualScoreChange,
    Snapshot,
    SnapshotItemScore,
    SnapshotSchool,
)
from ..scoring import assessment_schools, compute_scores, q2
from ._common import _bump_revision, _locked_assessment, _require_district_perm, _require_open


def _check_binding(district_id: int, version: ChecklistVersion) -> None:
    if not version.is_published:
        raise ValidationError({"checklist_version": _("Only a published checklist version can be assessed.")})
    if version.checklist.district_id != district_id:
        raise ValidationError({"checklist_version": _("The checklist belongs to another district.")})


def _resolve_semester(district: District, semester, semester_label, semester_start, semester_end):
    """(semester row or None, label, start, end), kept consistent: a named semester supplies the
    window (explicit dates must then agree with it); bare dates are bound to the district's
    semester with exactly those dates when there is one."""
    from schools.models import Semester

    if semester is not None:
        if semester.district_id != district.id:
            raise ValidationError({"semester": _("The semester belongs to another district.")})
        if (semester_start and semester_start != semester.start) or (semester_end and semester_end != semester.end):
            raise ValidationError({"semester": _("The dates differ from the semester “%(name)s” (%(s)s–%(e)s).")
                                   % {"name": semester.name, "s": semester.start, "e": semester.end}})
        return semester, semester_label or semester.name, semester.start, semester.end
    if not (semester_label and semester_start and semester_end):
        raise ValidationError({"semester": _("Name a semester, or give a label with start and end dates.")})
    match = Semester.objects.filter(district=district, start=semester_start, end=semester_end).first()
    return match, semester_label, semester_start, semester_end


@in_district_scope("district")
@transaction.atomic
def assessment_create(*, district: District, checklist_version: ChecklistVersion, title: str,
                      semester=None, semester_label: str = "", semester_start=None, semester_end=None,
                      root_school: School | None = None, actor=None) -> Assessment:
    """`semester` (schools.Semester) or a window (label, start, end); see _resolve_semester."""
    _require_district_perm(actor, "manage_checklists", district.id, _("You cannot create assessments here."))
    _check_binding(district.id, checklist_version)
    if root_school is not None and root_school.district_id != district.id:
        raise ValidationError({"root_school": _("The school belongs to another district.")})
    semester, semester_label, semester_start, semester_end = _resolve_semester(
        district, semester, semester_label, semester_start, semester_end)
    assessment = Assessment(district=district, checklist_version=checklist_version, title=title,
                            school_semester=semester, semester_label=semester_label, semester_start=semester_start,
                            semester_end=semester_end, root_school=root_school, created_by=actor)
    assessment.full_clean()
    assessment.save()
    audit.log_assessed(actor, assessment, "create")
    return assessment


@in_district_scope("assessment")
@transaction.atomic
def assessment_rebind(*, assessment: Assessment, checklist_version: ChecklistVersion, actor=None) -> Assessment:
    """Point an open assessment at another published version (e.g. a corrected one)."""
    assessment = _locked_assessment(assessment)
    _require_district_perm(actor, "manage_checklists", assessment.district_id, _("You cannot edit this assessment."))
    _require_open(assessment)
    _check_binding(assessment.district_id, checklist_version)
    with tenant_scope(assessment_schools(assessment).values_list("id", flat=True)):
        if ManualScore.objects.filter(assessment=assessment).exclude(item__version=checklist_version).exists():
            raise ValidationError(_("Manual scores were recorded against the current version; "
                                    "create a new assessment instead of rebinding this one."))
    assessment.checklist_version = checklist_version
    assessment.revision = F("revision") + 1
    assessment.save(update_fields=["checklist_version", "revision"])
    assessment.refresh_from_db()
    audit.log_assessed(actor, assessment, "update", detail={"checklist_version": checklist_version.pk})
    return assessment


def _write_snapshot(assessment: Assessment, *, kind: str, actor=None, as_of=None, taken_at=None) -> Snapshot:
    scores = compute_scores(assessment, as_of=as_of)
    ids = list(scores["schools"])
    snapshot = Snapshot.objects.create(assessment=assessment, kind=kind, taken_by=actor, school_count=len(ids))
    if taken_at is not None:  # a rebuilt history (demo): the moment the snapshot stands for
        Snapshot.objects.filter(pk=snapshot.pk).update(taken_at=taken_at)
        snapshot.taken_at = taken_at
    item_ids = {it["code"]: it["id"] for it in scores["items"]}
    heads, rows = [], []
    for sid, row in scores["schools"].items():
        heads.append(SnapshotSchool(snapshot=snapshot, school_id=sid, score=row["score"], earned=row["earned"],
                                    applicable_points=row["applicable_points"], rank=row["rank"]))
        for code, r in row["items"].items():
            rows.append(SnapshotItemScore(snapshot=snapshot, school_id=sid, item_id=item_ids[code], status=r["status"],
                                          score=r["score"], value=r["value"]))
    with tenant_scope(ids):
        SnapshotSchool.objects.bulk_create(heads, batch_size=2000)
        SnapshotItemScore.objects.bulk_create(rows, batch_size=5000)
    return snapshot


@in_district_scope("assessment")
@transaction.atomic
def snapshot_take(*, assessment: Assessment, kind: str = Snapshot.Kind.MANUAL, actor=None) -> Snapshot:
    """Freeze every school's item scores now (nightly job, or on request)."""
    assessment = _locked_assessment(assessment)
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("You cannot take snapshots of this assessment."))
    if kind == Snapshot.Kind.LOCK:
        raise ValidationError(_("The lock snapshot is taken by locking the assessment."))
    _require_open(assessment)
    snapshot = _write_snapshot(assessment, kind=kind, actor=actor)
    audit.log_assessed(actor, assessment, "create", snapshot, detail={"kind": kind})
    return snapshot


@in_district_scope("assessment")
@transaction.atomic
def snapshot_history_rebuild(*, assessment: Assessment, days, actor=None) -> list[Snapshot]:
    """System job (demo, a late-onboarded district): nightly snapshots as the records stood on each
    of `days`, dated that night. Only for an open assessment without snapshots."""
    assessment = _locked_assessment(assessment)
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("You cannot take snapshots of this assessment."))
    _require_open(assessment)
    if Snapshot.objects.filter(assessment=assessment).exists():
        raise ValidationError(_("The assessment already has snapshots."))
    out = []
    for day in sorted(days):
        taken_at = timezone.make_aware(dt.datetime.combine(day, dt.time(2, 30)))
        out.append(_write_snapshot(assessment, kind=Snapshot.Kind.NIGHTLY, actor=actor, as_of=day, taken_at=taken_at))
    return out


@in_district_scope("assessment")
@transaction.atomic
def assessment_lock(*, assessment: Assessment, actor=None) -> Assessment:
    """The bureau closes the assessment: a final snapshot, then nothing in it changes."""
    assessment = _locked_assessment(assessment)
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only the bureau can lock an assessment."))
    _require_open(assessment)
    snapshot = _write_snapshot(assessment, kind=Snapshot.Kind.LOCK, actor=actor)
    assessment.status = Assessment.Status.LOCKED
    assessment.locked_by = actor
    assessment.locked_at = snapshot.taken_at
    assessment.revision = F("revision") + 1
    assessment.save(update_fields=["status", "locked_by", "locked_at", "revision"])
    assessment.refresh_from_db()
    audit.log_assessed(actor, assessment, "update", detail={"status": assessment.status})
    return assessment


@in_district_scope("assessment")
@transaction.atomic
def manual_score_set(*, assessment: Assessment, school: School, item_code: str, score, comment: str = "",
                     evidence_ids=None, actor) -> ManualScore:
    """An inspector scores a manual item for one school; every change is kept in the audit trail.
    `score=None` withdraws the score (the item is pending again), also audited."""
    assessment = _locked_assessment(assessment)
    if not tenancy_selectors.has_school_perm(actor, "score_manual_items", school):
        raise PermissionDenied(_("You cannot score checklist items for this school."))
    _require_open(assessment)
    if not assessment_schools(assessment).filter(pk=school.pk).exists():
        raise ValidationError({"school": _("%(school)s is not part of this assessment.") % {"school": school}})
    item = ChecklistItem.objects.filter(version_id=assessment.checklist_version_id, code=item_code).first()
    if item is None:
        raise ValidationError({"item": _("There is no item %(code)s in this checklist.") % {"code": item_code}})
    if item.scoring != ChecklistItem.Scoring.MANUAL:
        raise ValidationError({"item": _("Item %(code)s is scored automatically from the records.") % {"code": item.code}})
    if score is not None:
        score = checklist_yaml._num(score)
        if score is None or score < 0 or score > item.points:
            raise ValidationError({"score": _("Item %(code)s takes a score from 0 to %(p)s.")
                                   % {"code": item.code, "p": checklist_yaml.number_out(item.points)}})
        score = q2(score)
    evidence_ids = [int(e) for e in (evidence_ids or [])]
    with tenant_scope([school.id]):
        # One writer per (assessment, school, item) at a time: a second submission waits for the
        # first to commit and then finds its score (no second history entry, no duplicate insert).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           [f"compliance.manualscore:{assessment.pk}:{school.pk}:{item.pk}"])
        current = ManualScore.objects.filter(assessment=assessment, school=school, item=item).first()
        old_score, old_comment = (current.score, current.comment) if current else (None, "")
        if current is not None and score is not None and (score, comment, evidence_ids) == (
                current.score, current.comment, list(current.evidence_ids or [])):
            # The same score sent again (a double click, a retry): one history entry, not two.
            return current
        if score is None:
            if current is None:
                raise ValidationError({"score": _("Item %(code)s has no score to withdraw.") % {"code": item.code}})
            current.delete()
            result, action = current, "delete"
        elif current is None:
            result = ManualScore.objects.create(assessment=assessment, school=school, item=item, score=score,
                                                comment=comment, evidence_ids=evidence_ids, scored_by=actor)
            action = "create"
        else:
            current.score, current.comment, current.evidence_ids, current.scored_by = score, comment, evidence_ids, actor
            current.save()
            result, action = current, "update"
        ManualScoreChange.objects.create(
            school=school, assessment=assessment, item=item, changed_by=actor, old_score=old_score,
            new_score=score, old_comment=old_comment, comment=comment, evidence_ids=evidence_ids)
        tenancy_services.access_log_record(
            user=actor, school_id=school.id, action=action, object_type="compliance.manualscore",
            object_id=f"{assessment.id}:{item.code}",
            detail={"old": None if old_score is None else str(old_score), "new": None if score is None else str(score)})
    _bump_revision(assessment)
    return result
