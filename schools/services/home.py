"""The home's fixed records: activity sites, equipment, leadership and rule documents."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School

from .. import evidence as ev
from ..models import (
    ActivitySite,
    Equipment,
    LeadershipMember,
    RuleDocument,
    RuleDocumentVersion,
    RuleKind,
    ThemeSchedule,
)
from ._common import _is_staff_of, _log, _not_in_future, _require, _save, _set_fields
from .evidence import _rewind, evidence_upload

# ---------------------------------------------------------------- the home: site, equipment, leadership
SITE_FIELDS = ("room", "opened_on", "area_m2", "opening_hours", "notes")
EQUIPMENT_FIELDS = ("kind", "description", "quantity", "acquired_on")
LEADERSHIP_FIELDS = ("person_name", "user", "title", "is_leader", "order")


def _materials_create(actor, obj, fields: dict, allowed: tuple[str, ...]):
    """Create one of the home's simple records (site, equipment): manage_materials, logged."""
    _require(actor, "manage_materials", obj.school)
    _set_fields(obj, fields, allowed)
    return _save(obj, actor=actor, action=AccessLog.Action.CREATE)


def _materials_update(actor, obj, fields: dict, allowed: tuple[str, ...]):
    _require(actor, "manage_materials", obj.school)
    changed = _set_fields(obj, fields, allowed)
    return _save(obj, actor=actor, action=AccessLog.Action.UPDATE, detail={"fields": changed})


@transaction.atomic
def activity_site_create(*, actor, school: School, **fields) -> ActivitySite:
    return _materials_create(actor, ActivitySite(school=school), fields, SITE_FIELDS)


@transaction.atomic
def activity_site_update(*, actor, site: ActivitySite, **fields) -> ActivitySite:
    return _materials_update(actor, site, fields, SITE_FIELDS)


@transaction.atomic
def equipment_create(*, actor, school: School, **fields) -> Equipment:
    return _materials_create(actor, Equipment(school=school), fields, EQUIPMENT_FIELDS)


@transaction.atomic
def equipment_update(*, actor, item: Equipment, **fields) -> Equipment:
    return _materials_update(actor, item, fields, EQUIPMENT_FIELDS)


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
