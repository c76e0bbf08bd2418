"""Checklists: import, publish, new drafts, item edits and the default checklist."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import District
from tenancy.scoping import in_district_scope

from .. import audit, checklist_yaml
from ..models import Checklist, ChecklistItem, ChecklistSection, ChecklistVersion, ImmutableError
from ._common import _require_district_perm

DEFAULT_CHECKLIST_PATH = Path(__file__).resolve().parent.parent / "default_checklist.yaml"


class ChecklistInvalid(ValidationError):
    """A checklist document with errors; `.errors_list` holds ChecklistError objects."""

    def __init__(self, errors):
        self.errors_list = list(errors)
        super().__init__([str(e) for e in self.errors_list])


def _validated_num(value) -> Decimal:
    """A number of a document that passed checklist_yaml.validate (or was exported from a stored version)."""
    number = checklist_yaml._num(value)
    if number is None:
        raise ValueError(f"not a number: {value!r}")
    return number


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
                requirement_en=it.get("requirement_en") or "", points=_validated_num(it["points"]),
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
    version.declared_total = _validated_num(data["total"])
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
