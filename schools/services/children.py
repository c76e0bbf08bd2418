"""The children's archive: records, consent, status, purge, re-keying and the import commit."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School
from tenancy.services import access_log_record, access_log_record_many

from .. import crypto, selectors
from ..models import (
    CareContact,
    Child,
    ChildStatusChange,
    ChildUserObjectPermission,
    Evidence,
    ProxyAssignment,
    StudyPair,
    TutoringSession,
    WorkRecordEntry,
)
from ..phones import PHONE_FIELDS, NotAPhone, normalise_phone
from ..register import REGISTER_FIELDS, SENSITIVE_REGISTER_FIELDS, register_check
from ..signals import child_register_changed
from ._common import _log, _not_in_future, _require, _today
from .evidence import evidence_delete
from .staff import _sync_child_permissions

# ---------------------------------------------------------------- children's archive
CHILD_FIELDS = (
    "name", "gender", "birth_date", "grade", "class_name", "left_behind_kind", "parents_work_place",
    "guardian_name", "guardian_relation", "guardian_phone", "second_contact_name", "second_contact_phone",
    "home_village", "health_notes", "wellbeing_notes", "consent_date", "consent_method", "id_number",
    *REGISTER_FIELDS,
)
DATE_FIELDS = ("birth_date", "consent_date", "guardian_since", "parents_last_contact_on")
# The columns of schools.importing.ChildRow (the same names; wellbeing notes are never imported).
IMPORT_FIELDS = tuple(f for f in CHILD_FIELDS if f != "wellbeing_notes")
# Optional sensitive inputs refused once consent is refused (the minimum is kept).
REFUSAL_BLOCKED = (
    "birth_date", "id_number", "parents_work_place", "guardian_phone", "second_contact_name",
    "second_contact_phone", "home_village", "health_notes", "wellbeing_notes", *SENSITIVE_REGISTER_FIELDS,
)


class PossibleDuplicate(ValidationError):
    """A child with the same name and birth date is already in the school's archive: written only
    once the user confirms (confirm_duplicate)."""

    code = "possible_duplicate"


def id_number_check(school: School, digest: str, *, exclude_pk: int | None = None) -> None:
    """Refuse an ID number the school already holds, or another school of the district holds for
    a child still there (selectors.duplicates says why only existence is asked)."""
    if not digest:
        return
    if selectors.id_numbers_in_school(school, [digest], exclude_pk=exclude_pk):
        raise ValidationError({"id_number": _("A child with this ID number is already in the archive.")})
    if selectors.id_numbers_elsewhere_in_district(school, [digest]):
        raise ValidationError({"id_number": str(selectors.ID_NUMBER_ELSEWHERE)})


def duplicate_warning(name: str, birth_date) -> str:
    return _("%(name)s, born on %(date)s, is already in the archive. If this is another child with the same "
             "name and birth date, confirm it and save again.") % {"name": name, "date": birth_date.isoformat()}


def name_birth_check(school: School, name: str, birth_date, *, confirmed: bool, exclude_pk: int | None = None) -> None:
    if confirmed or not birth_date:
        return
    if selectors.same_name_and_birth(school, [(name, birth_date)], exclude_pk=exclude_pk):
        raise PossibleDuplicate(duplicate_warning(name, birth_date), code=PossibleDuplicate.code)


def _apply_child_fields(child: Child, fields: dict, *, check_id_number: bool = True) -> list[str]:
    unknown = set(fields) - set(CHILD_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    if child.consent == Child.Consent.REFUSED:
        blocked = sorted(k for k in REFUSAL_BLOCKED if fields.get(k))
        if blocked:
            raise ValidationError({k: _("The guardian refused consent: this field cannot be stored.") for k in blocked})
    for name in PHONE_FIELDS:
        if fields.get(name):
            try:
                fields[name] = normalise_phone(fields[name])
            except NotAPhone as exc:
                label = getattr(Child._meta.get_field(name), "verbose_name", name)
                raise ValidationError({name: _("%(field)s: %(reason)s") % {"field": label, "reason": exc}}) from None
    if fields.get("assistance"):
        # Stored once each, in the register's order (an unknown value is left for full_clean to refuse).
        given = list(fields["assistance"])
        fields["assistance"] = [v for v in Child.Assistance.values if v in given] + [
            v for v in dict.fromkeys(given) if v not in Child.Assistance.values]
    old_guardian, old_since = child.guardian_name, child.guardian_since
    changed = []
    if "id_number" in fields:
        number = crypto.normalise_id_number(fields.pop("id_number"))
        if number and not crypto.id_number_checksum_ok(number):
            raise ValidationError({"id_number": _("This is not a valid 18-character ID number.")})
        new_hash = crypto.identity_hash(number)
        if new_hash != child.id_number_hash:
            if check_id_number:
                id_number_check(child.school, new_hash, exclude_pk=child.pk)
            child.id_number_ciphertext = crypto.encrypt(number)
            child.id_number_hash = new_hash
            child.id_number_masked = crypto.mask_id_number(number)
            changed.append("id_number")
    for key, value in fields.items():
        if value is None and key not in DATE_FIELDS:
            value = [] if key == "assistance" else ""
        if getattr(child, key) != value:
            setattr(child, key, value)
            changed.append(key)
    # A new entrusted guardian starts today unless the user gave the day it started.
    if child.guardian_name != old_guardian and child.guardian_name and child.guardian_since in (None, old_since):
        child.guardian_since = _today()
        if "guardian_since" not in changed:
            changed.append("guardian_since")
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
    register_check(child)


def _filled(child: Child) -> set[str]:
    """The fields a new record holds a value in: what a create "changed"."""
    names = {name for name in CHILD_FIELDS if name != "id_number" and getattr(child, name, None) not in ("", None, [])}
    if child.id_number_hash:
        names.add("id_number")
    return names


def _announce(child: Child, actor, changed: set[str]) -> None:
    """Tell the layers above after commit (schools.signals.child_register_changed)."""
    child_id, school_id = child.pk, child.school_id
    transaction.on_commit(lambda: child_register_changed.send(
        sender=Child, child_id=child_id, school_id=school_id, actor=actor, changed=set(changed)))


@transaction.atomic
def child_create(*, actor, school: School, status_since: dt.date | None = None, request=None,
                 confirm_duplicate: bool = False, **fields) -> Child:
    """Add a child. The ID number must be new to the district; a child with the same name and birth
    date in the school needs `confirm_duplicate` (else PossibleDuplicate)."""
    _require(actor, "manage_children", school)
    child = Child(school=school, status_since=status_since or _today())
    _apply_child_fields(child, dict(fields))
    _child_validate(child)
    name_birth_check(school, child.name, child.birth_date, confirmed=confirm_duplicate)
    child.save()
    ChildStatusChange.objects.create(school=school, child=child, status=child.status, since=child.status_since,
                                     recorded_by=actor)
    _log(actor, child, AccessLog.Action.CREATE, request=request)
    _announce(child, actor, _filled(child))
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
    if changed:
        _announce(child, actor, set(changed))
    return child


@transaction.atomic
def child_consent_refuse(*, actor, child: Child, on: dt.date, method: str = "", request=None) -> Child:
    """Record a refusal: clear every optional sensitive field and refuse to store them from now on."""
    _require(actor, "manage_children", child.school)
    _not_in_future(on, "on")
    for name, empty in Child.sensitive_cleared().items():
        setattr(child, name, empty)
    child.consent, child.consent_date, child.consent_method = Child.Consent.REFUSED, on, method
    child.save()
    _log(actor, child, AccessLog.Action.UPDATE, request=request, detail={"consent": "refused"})
    return child


@transaction.atomic
def child_consent_give(*, actor, child: Child, on: dt.date, method: str = "", request=None) -> Child:
    """Record the guardian's consent, also after an earlier refusal (the guardian changed their
    mind): from now on the optional sensitive fields may be stored again."""
    _require(actor, "manage_children", child.school)
    _not_in_future(on, "on")
    if child.is_purged:
        raise ValidationError(_("This record was purged and can no longer be edited."))
    child.consent, child.consent_date, child.consent_method = Child.Consent.GIVEN, on, method
    child.save(update_fields=["consent", "consent_date", "consent_method", "updated_at"])
    _log(actor, child, AccessLog.Action.UPDATE, request=request, detail={"consent": "given"})
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
    _purge(school, ids, actor=None, detail={"retention_days": days})
    return len(ids)


@transaction.atomic
def child_purge(*, actor, child: Child, reason: str, request=None) -> Child:
    """Purge one child's sensitive fields now, by the same rule as the retention purge (a
    guardian's request to delete the child's data). Idempotent: a purged record stays as it is."""
    _require(actor, "manage_children", child.school)
    if not child.is_purged:
        _purge(child.school, [child.pk], actor=actor, detail={"reason": reason}, request=request)
        child.refresh_from_db()
    return child


def _purge(school: School, ids: list[int], *, actor, detail: dict, request=None) -> None:
    """Clear the name and SENSITIVE_FIELDS of these children and the free text about them
    elsewhere; mark them purged_at; one "purge" row per child."""
    cleared = Child.sensitive_cleared()
    Child.objects.filter(id__in=ids).update(name="", purged_at=timezone.now(), **cleared)
    # Free text about the child elsewhere goes too, and so do the photos of the child's contacts
    # (rows and stored files, through the one evidence delete path).
    CareContact.objects.filter(child_id__in=ids).update(notes="", concern=False, concern_reason="")
    for item in Evidence.objects.filter(care_contact__child_id__in=ids).select_related("care_contact", "school"):
        evidence_delete(actor=None, evidence=item)
    WorkRecordEntry.objects.filter(child_id__in=ids).update(text="")
    TutoringSession.objects.filter(pair__child_id__in=ids).update(notes="")
    ChildStatusChange.objects.filter(child_id__in=ids).update(note="")
    ChildUserObjectPermission.objects.filter(content_object_id__in=ids).delete()
    fields = ["name", *Child.SENSITIVE_FIELDS]
    for child_id in ids:
        access_log_record(user=actor, school_id=school.id, action=AccessLog.Action.PURGE,
                          object_type="schools.child", object_id=child_id, request=request,
                          detail={"fields": fields, **detail})


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


class ImportNeedsConfirmation(PossibleDuplicate):
    """Rows look like children already in the archive; `row_warnings` lists them. The import goes
    ahead once the user confirms (confirm_duplicates)."""

    def __init__(self, row_warnings: list[dict]):
        self.row_warnings = row_warnings
        super().__init__([
            _("Row %(row)s, %(column)s: %(reason)s") % {"row": w["row_number"], "column": w["column"],
                                                      "reason": w["reason"]}
            for w in row_warnings
        ], code=PossibleDuplicate.code)


@transaction.atomic
def children_import_commit(*, actor, school: School, preview, request=None,
                           confirm_duplicates: bool = False) -> list[Child]:
    """Write every row of an import preview (schools.importing.ImportPreview), all or nothing. An ID
    number the district already holds is refused; a name and birth date the school already has
    needs `confirm_duplicates` (else ImportNeedsConfirmation)."""
    _require(actor, "manage_children", school)
    if preview.errors:
        raise ImportRejected([
            {"row_number": e.row_number, "column": e.column, "reason": e.reason} for e in preview.errors
        ])
    if not preview.rows:
        raise ValidationError(_("The file holds no rows to import."))
    today = _today()
    duplicates, warnings = selectors.import_duplicates(school, preview.rows)
    errors = [{"row_number": e.row_number, "column": e.column, "reason": e.reason} for e in duplicates]
    refused = {e.row_number for e in duplicates}
    children = []
    for row in preview.rows:
        if row.row_number in refused:
            continue
        child = Child(school=school, status_since=today)
        fields = {name: getattr(row, name) for name in IMPORT_FIELDS if hasattr(row, name)}
        try:
            _apply_child_fields(child, fields, check_id_number=False)  # checked in one batch above
            _child_validate(child)
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                errors.append({"row_number": row.row_number, "column": column, "reason": "; ".join(messages)})
            continue
        children.append(child)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e["row_number"]))
    if warnings and not confirm_duplicates:
        raise ImportNeedsConfirmation([
            {"row_number": w.row_number, "column": w.column, "reason": w.reason} for w in warnings])
    created = Child.objects.bulk_create(children)
    ChildStatusChange.objects.bulk_create([
        ChildStatusChange(school=school, child=c, status=c.status, since=c.status_since, recorded_by=actor,
                          note=_("imported"))
        for c in created
    ])
    access_log_record_many(user=actor, school_id=school.id, object_ids=[c.pk for c in created],
                           action=AccessLog.Action.CREATE, object_type="schools.child", request=request,
                           detail={"via": "import", "encoding": getattr(preview, "encoding", None) or ""})
    for child in created:
        _announce(child, actor, _filled(child))
    return created


# ---------------------------------------------------------------- reading one child (the access log of a read)
def child_read_log(*, user, child: Child, request=None, **detail) -> None:
    """Log that a child's record was shown to the user: at which level, or through which record
    (`detail`, e.g. level="proxy" or via="consent")."""
    access_log_record(user=user, school_id=child.school_id, action=AccessLog.Action.VIEW, obj=child,
                      request=request, detail=detail)


def child_read(*, user, pk, request=None) -> selectors.ChildView:
    """One child's record masked for the user (selectors.child_get_for_view), logged as a view.
    Child.DoesNotExist if the user may not see it (the caller answers 404, never 403)."""
    view = selectors.child_get_for_view(user, pk)
    child_read_log(user=user, child=view.child, request=request, level=view.level)
    return view
