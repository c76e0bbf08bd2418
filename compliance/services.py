"""Every write of the compliance app: keyword-only arguments, one transaction each.

`actor=None` is reserved for system jobs (seeding, Celery beat); every user-facing call passes the
user, whose permission is checked here (the views and the API hold no logic).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.outbox import job_enqueue
from tenancy import selectors as tenancy_selectors
from tenancy import services as tenancy_services
from tenancy.models import District, School
from tenancy.scoping import in_district_scope, system_scope, tenant_scope

from . import audit, checklist_yaml
from .models import (
    Assessment, Checklist, ChecklistItem, ChecklistSection, ChecklistVersion, ComplianceExport, ImmutableError,
    ManualScore, ManualScoreChange, Snapshot, SnapshotItemScore, SnapshotSchool,
)
from .scoring import assessment_schools, compute_scores, q2

DEFAULT_CHECKLIST_PATH = Path(__file__).resolve().parent / "default_checklist.yaml"


class ChecklistInvalid(ValidationError):
    """A checklist document with errors; `.errors_list` holds ChecklistError objects."""

    def __init__(self, errors):
        self.errors_list = list(errors)
        super().__init__([str(e) for e in self.errors_list])


# --------------------------------------------------------------------------- permissions
def _require_district_perm(actor, codename: str, district_id: int, message: str) -> None:
    if actor is not None and not tenancy_selectors.has_district_perm(actor, codename, district_id):
        raise PermissionDenied(message)


def _require_open(assessment: Assessment) -> None:
    if assessment.is_locked:
        raise ImmutableError(_("The assessment “%(title)s” is locked: nothing in it can change any more.")
                             % {"title": assessment.title})


def _locked_assessment(assessment: Assessment) -> Assessment:
    """Re-read the assessment under a row lock, so a concurrent lock cannot interleave."""
    return Assessment.objects.select_for_update().select_related("checklist_version").get(pk=assessment.pk)


def _bump_revision(assessment: Assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(revision=F("revision") + 1)
    assessment.refresh_from_db(fields=["revision"])


# --------------------------------------------------------------------------- checklists
def _write_content(version: ChecklistVersion, data: dict) -> None:
    """Create the sections and items of a (draft) version from a validated document."""
    items: list[ChecklistItem] = []
    counter = {"section": 0, "item": 0}

    def add_section(sec: dict, parent: ChecklistSection | None):
        counter["section"] += 1
        section = ChecklistSection(version=version, parent=parent, code=str(sec["code"]).strip(),
                                   title_zh=sec["title_zh"], title_en=sec.get("title_en") or "",
                                   position=counter["section"])
        section.save()
        for child in sec.get("sections") or []:
            add_section(child, section)
        for it in sec.get("items") or []:
            counter["item"] += 1
            automatic = it["scoring"] == "automatic"
            rule = it.get("rule") if automatic else ""
            items.append(ChecklistItem(
                version=version, section=section, code=str(it["code"]).strip(), title_zh=it["title_zh"],
                title_en=it["title_en"], requirement_zh=it.get("requirement_zh") or "",
                requirement_en=it.get("requirement_en") or "", points=checklist_yaml._num(it["points"]),
                check_method=it["check"], scoring=it["scoring"], metric=(it.get("metric") or "") if automatic else "",
                rule=rule or "",
                threshold=checklist_yaml._num(it.get("threshold")) if rule == "threshold" else None,
                target=checklist_yaml._num(it.get("target")) if rule == "proportional" else None,
                bands=[[float(lo), float(p)] for lo, p in it.get("bands")] if rule == "bands" else [],
                position=counter["item"],
            ))

    for sec in data["sections"]:
        add_section(sec, None)
    ChecklistItem.objects.bulk_create(items)


def _digest(version: ChecklistVersion) -> str:
    doc = checklist_yaml.version_to_dict(version)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@in_district_scope("district")
@transaction.atomic
def checklist_import_yaml(*, district: District, text: str, actor=None) -> ChecklistVersion:
    """Import a YAML document as the checklist's draft (replacing an existing draft's content, or
    starting a new version). All or nothing: any validation error writes nothing."""
    _require_district_perm(actor, "manage_checklists", district.id, _("You cannot manage checklists here."))
    try:
        data = checklist_yaml.parse_yaml(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    errors = checklist_yaml.validate(data)
    if errors:
        raise ChecklistInvalid(errors)
    code = str(data["checklist"]).strip()
    checklist, _created = Checklist.objects.get_or_create(district=district, code=code)
    # Serialise imports of one checklist (two drafts at once would break "one draft" anyway).
    Checklist.objects.select_for_update().get(pk=checklist.pk)
    version = checklist.versions.filter(status=ChecklistVersion.Status.DRAFT).first()
    is_new = version is None
    if version is None:
        latest = checklist.versions.order_by("-number").first()
        version = ChecklistVersion(checklist=checklist, number=(latest.number + 1) if latest else 1,
                                   based_on=latest, created_by=actor)
    else:
        version.sections.all().delete()
    version.title_zh = data["title_zh"]
    version.title_en = data.get("title_en") or ""
    version.declared_total = checklist_yaml._num(data["total"])
    version.save()
    _write_content(version, data)
    version.digest = _digest(version)
    version.save(update_fields=["digest"])
    audit.log_district(actor, district.id, "create" if is_new else "update", version)
    return version


@in_district_scope("version")
def checklist_export_yaml(*, version: ChecklistVersion) -> str:
    return checklist_yaml.dump_yaml(checklist_yaml.version_to_dict(version))


def checklist_version_errors(version: ChecklistVersion) -> list:
    """Validation of a stored version (edits after import, metrics removed from code since)."""
    return checklist_yaml.validate(checklist_yaml.version_to_dict(version))


@in_district_scope("version")
@transaction.atomic
def checklist_version_publish(*, version: ChecklistVersion, actor=None) -> ChecklistVersion:
    version = ChecklistVersion.objects.select_for_update().select_related("checklist").get(pk=version.pk)
    _require_district_perm(actor, "manage_checklists", version.checklist.district_id,
                           _("You cannot manage checklists here."))
    if version.is_published:
        raise ImmutableError(_("Checklist version %(n)s is already published.") % {"n": version.number})
    errors = checklist_version_errors(version)
    if errors:
        raise ChecklistInvalid(errors)
    version.digest = _digest(version)
    version.status = ChecklistVersion.Status.PUBLISHED
    version.published_by = actor
    version.published_at = timezone.now()
    version.save()
    audit.log_district(actor, version.checklist.district_id, "update", version, detail={"status": version.status})
    return version


@in_district_scope("version")
@transaction.atomic
def checklist_version_new_draft(*, version: ChecklistVersion, actor=None) -> ChecklistVersion:
    """Editing a published checklist: copy it into a new draft version."""
    checklist = Checklist.objects.select_for_update().get(pk=version.checklist_id)
    _require_district_perm(actor, "manage_checklists", checklist.district_id, _("You cannot manage checklists here."))
    draft = checklist.versions.filter(status=ChecklistVersion.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(_("Version %(n)s is already a draft of this checklist: edit that one.")
                              % {"n": draft.number})
    number = (checklist.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    new = ChecklistVersion.objects.create(
        checklist=checklist, number=number, title_zh=version.title_zh, title_en=version.title_en,
        declared_total=version.declared_total, based_on=version, created_by=actor)
    _write_content(new, checklist_yaml.version_to_dict(version))
    new.digest = _digest(new)
    new.save(update_fields=["digest"])
    audit.log_district(actor, checklist.district_id, "create", new, detail={"based_on": version.pk})
    return new


EDITABLE_ITEM_FIELDS = {"title_zh", "title_en", "requirement_zh", "requirement_en", "points", "check_method",
                        "scoring", "metric", "rule", "threshold", "target", "bands"}


@in_district_scope("item")
@transaction.atomic
def checklist_item_update(*, item: ChecklistItem, actor=None, **fields) -> ChecklistItem:
    """Edit one item of a draft. The whole version is validated again when it is published."""
    version = ChecklistVersion.objects.select_for_update().select_related("checklist").get(pk=item.version_id)
    _require_district_perm(actor, "manage_checklists", version.checklist.district_id,
                           _("You cannot manage checklists here."))
    if version.is_published:
        raise ImmutableError(_("Item %(code)s belongs to published version %(n)s: make a new draft to edit it.")
                             % {"code": item.code, "n": version.number})
    unknown = set(fields) - EDITABLE_ITEM_FIELDS
    if unknown:
        raise ValidationError(_("These item fields cannot be edited: %(f)s") % {"f": ", ".join(sorted(unknown))})
    for key, value in fields.items():
        setattr(item, key, value)
    item.full_clean(exclude=["version", "section"])
    item.save()
    audit.log_district(actor, version.checklist.district_id, "update", item, detail={"fields": sorted(fields)})
    return item


@in_district_scope("district")
@transaction.atomic
def checklist_load_default(*, district: District, actor=None, path: Path | None = None) -> ChecklistVersion:
    """Load (and publish) the default checklist for a district. Idempotent: when the latest published
    version already has this content, nothing is written and that version is returned."""
    text = Path(path or DEFAULT_CHECKLIST_PATH).read_text(encoding="utf-8")
    code = str(checklist_yaml.parse_yaml(text).get("checklist") or "")
    existing = Checklist.objects.filter(district=district, code=code).first()
    if existing and existing.versions.filter(status=ChecklistVersion.Status.DRAFT).exists():
        # Someone is editing it: leave their draft alone and keep the published one.
        published = existing.versions.filter(status=ChecklistVersion.Status.PUBLISHED).order_by("-number").first()
        if published:
            return published
    try:
        with transaction.atomic():  # undone, access-log rows included, when the content is unchanged
            draft = checklist_import_yaml(district=district, text=text, actor=actor)
            published = (draft.checklist.versions.filter(status=ChecklistVersion.Status.PUBLISHED)
                         .order_by("-number").first())
            if published is not None and published.digest == draft.digest:
                raise _Unchanged(published)
    except _Unchanged as unchanged:
        return unchanged.version
    return checklist_version_publish(version=draft, actor=actor)


class _Unchanged(Exception):
    def __init__(self, version: ChecklistVersion):
        super().__init__(version.pk)
        self.version = version


# --------------------------------------------------------------------------- assessments
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
        current = ManualScore.objects.filter(assessment=assessment, school=school, item=item).first()
        old_score, old_comment = (current.score, current.comment) if current else (None, "")
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


# --------------------------------------------------------------------------- exports
def _export_task_name(assessment_id: int) -> str:
    return f"compliance-export-assessment-{assessment_id}"


@in_district_scope("assessment")
@transaction.atomic
def export_request(*, assessment: Assessment, actor=None, scheduled: bool = False) -> ComplianceExport:
    """Queue one export now; the worker picks it up after the transaction commits."""
    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can export compliance scores."))
    job = ComplianceExport.objects.create(assessment=assessment, requested_by=actor, scheduled=scheduled)
    audit.log_assessed(actor, assessment, "create", job, object_type=audit.EXPORT_TYPE, detail={"scheduled": scheduled})
    # Through the outbox (jobs/outbox.py): with the broker down the job stays "queued" and is
    # published by the beat job once the broker is back; the request never fails for it.
    job_enqueue("compliance.run_export", job.id)
    return job


@transaction.atomic
def export_schedule_set(*, assessment: Assessment, actor, minute: str = "0", hour: str = "7",
                        day_of_week: str = "1", day_of_month: str = "*", month_of_year: str = "*",
                        enabled: bool = True):
    """Create or update the beat schedule of an assessment's export (default: Mondays 07:00)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can schedule compliance exports."))
    from django.conf import settings

    try:
        crontab, _c = CrontabSchedule.objects.get_or_create(
            minute=str(minute), hour=str(hour), day_of_week=str(day_of_week), day_of_month=str(day_of_month),
            month_of_year=str(month_of_year), timezone=settings.TIME_ZONE)
        crontab.full_clean()
    except ValidationError as exc:
        raise ValidationError(_("The schedule is not a valid crontab: %(e)s") % {"e": "; ".join(exc.messages)}) from exc
    task, _c = PeriodicTask.objects.update_or_create(
        name=_export_task_name(assessment.id),
        defaults={"task": "compliance.scheduled_export", "crontab": crontab, "interval": None,
                  "kwargs": json.dumps({"assessment_id": assessment.id,
                                        "requested_by_id": getattr(actor, "pk", None)}),
                  "enabled": enabled, "description": f"Compliance export of {assessment}"},
    )
    return task


@transaction.atomic
def export_schedule_remove(*, assessment: Assessment, actor) -> None:
    from django_celery_beat.models import PeriodicTask

    _require_district_perm(actor, "manage_checklists", assessment.district_id,
                           _("Only bureau admins can schedule compliance exports."))
    PeriodicTask.objects.filter(name=_export_task_name(assessment.id)).delete()
