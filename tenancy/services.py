"""Every write in tenancy goes through here: keyword-only arguments, one transaction each."""
from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import selectors
from .client_ip import client_ip
from .models import (
    AccessLog,
    District,
    DistrictUserObjectPermission,
    Membership,
    School,
    SchoolUserObjectPermission,
    User,
    is_sensitive,
)
from .roles import DISTRICT_ROLES, GRANTABLE, ROLE_PERMISSIONS, Role
from .scoping import system_scope
from .signals import role_changed
from .tokens import NO_ROLE_LEFT, TWO_FACTOR_ENROLLED, api_tokens_revoke_all
from .two_factor import confirmed_device, requires_two_factor


# ---------------------------------------------------------------- access log
def access_log_record(*, user, school_id: int, action: str, obj=None, object_type: str = "",
                      object_id: str | int = "", request=None, detail: dict | None = None) -> AccessLog:
    """The one way to write the access log. Call it for every sensitive read and every write.

    The log is a write-only sink: the row is inserted under a scope of exactly the school the
    action touched, so a bureau action on a new school or a system job still leaves its trace,
    while reading the log stays scoped like everything else.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    ip = _ip(request)
    _remember(request, [(action, object_type, str(object_id or ""))])
    with system_scope("the access log is written to the school the action touched", school_ids=[school_id]):
        return AccessLog.objects.create(
            school_id=school_id,
            user=user if getattr(user, "is_authenticated", False) else None,
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            ip_address=ip,
            detail=detail or {},
        )


def _remember(request, keys) -> None:
    """Remember what this request logged, so a generic hook does not log the same read twice."""
    if request is None:
        return
    http_request = getattr(request, "_request", request)
    if not hasattr(http_request, "_access_logged"):
        http_request._access_logged = set()
    http_request._access_logged.update(keys)


def _ip(request) -> str | None:
    # The trusted-proxy rule of the login lockouts and throttles: behind nginx, REMOTE_ADDR is the
    # proxy's address, not the client's.
    return client_ip(request)


def access_log_sensitive_read(*, user, obj, request=None) -> AccessLog | None:
    """Log a read of one record if its model is marked sensitive (tenancy.models.SensitiveRecord),
    once per request: a view that already logged the read itself (with more detail) is not doubled."""
    if not is_sensitive(type(obj)):
        return None
    key = (AccessLog.Action.VIEW.value, obj._meta.label_lower, str(obj.pk))
    if key in getattr(getattr(request, "_request", request), "_access_logged", ()):
        return None
    return access_log_record(user=user, school_id=obj.school_id, action=AccessLog.Action.VIEW, obj=obj,
                             request=request)


# ---------------------------------------------------------------- districts and schools
@transaction.atomic
def district_create(*, name: str, code: str, actor: User | None = None, request=None) -> District:
    """A new district (system setup: no role can create one).

    The access log is school-owned and a new district has no school yet, so its creation is logged
    to the `tenancy.security` logger, like other events without a school (see _log_two_factor).
    """
    import logging

    district = District(name=name, code=code)
    district.full_clean()
    district.save()
    logging.getLogger("tenancy.security").info(
        "district created district=%s code=%s user=%s ip=%s", district.pk, district.code,
        getattr(actor, "pk", None), _ip(request),
    )
    return district


def _path_for(school: School) -> str:
    parent = school.parent if school.parent_id else None
    return (parent.path if parent is not None else "/") + f"{school.id}/"


@transaction.atomic
def school_create(*, district: District, name: str, code: str, parent: School | None = None,
                  actor: User | None = None, **fields) -> School:
    if actor is not None and not _can_manage_schools(actor, district):
        raise PermissionDenied(_("You cannot create schools in this district."))
    if parent is not None and parent.district_id != district.id:
        raise ValidationError({"parent": _("The overseeing school must be in the same district.")})
    school = School(district=district, name=name, code=code, parent=parent, **fields)
    school.full_clean(exclude=["path"])
    school.save()
    school.path = _path_for(school)
    school.save(update_fields=["path"])
    access_log_record(user=actor, school_id=school.id, action=AccessLog.Action.CREATE, obj=school)
    return school


@transaction.atomic
def school_update(*, school: School, actor: User | None = None, **fields) -> School:
    if actor is not None and not _can_manage_schools(actor, school.district):
        raise PermissionDenied(_("You cannot edit schools in this district."))
    new_parent = fields.pop("parent", school.parent)
    for key, value in fields.items():
        setattr(school, key, value)
    if new_parent is not None:
        if new_parent.district_id != school.district_id:
            raise ValidationError({"parent": _("The overseeing school must be in the same district.")})
        if new_parent.path.startswith(school.path):
            raise ValidationError({"parent": _("A school cannot be overseen by itself or its own subtree.")})
    old_path = school.path
    school.parent = new_parent
    school.full_clean(exclude=["path"])
    school.path = _path_for(school)
    school.save()
    if old_path != school.path:
        # Move the whole subtree with it.
        for child in School.objects.filter(path__startswith=old_path).exclude(pk=school.pk).order_by("path"):
            child.path = school.path + child.path[len(old_path):]
            child.save(update_fields=["path"])
    access_log_record(user=actor, school_id=school.id, action=AccessLog.Action.UPDATE, obj=school,
                      detail={"fields": sorted(fields) + (["parent"] if old_path != school.path else [])})
    return school


def _can_manage_schools(user, district: District) -> bool:
    return any(m.role == Role.BUREAU_ADMIN and m.district_id == district.id for m in selectors.memberships_of(user))


# ---------------------------------------------------------------- users and memberships
def _refuse_taken_username(username: str) -> None:
    """Usernames are unique regardless of case (also a database constraint on Lower(username)):
    "Gupei_Admin" beside "gupei_admin" would read as the same person."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})


@transaction.atomic
def user_create(*, username: str, password: str | None, display_name: str = "", email: str = "") -> User:
    _refuse_taken_username(username)
    user = User(username=username, display_name=display_name, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def _perm_objects(model_cls, codenames):
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(model_cls)
    return list(Permission.objects.filter(content_type=ct, codename__in=codenames))


def _sync_guardian(user: User, *, district: District | None, school: School | None) -> None:
    """Make guardian's object permissions on one target equal the union of the user's roles there."""
    if district is not None:
        roles = Membership.objects.filter(user=user, district=district).values_list("role", flat=True)
        _sync_object_perms(user, roles, DistrictUserObjectPermission, district)
    else:
        # Every membership is on a district or a school (membership_target_matches_role).
        assert school is not None
        roles = Membership.objects.filter(user=user, school=school).values_list("role", flat=True)
        _sync_object_perms(user, roles, SchoolUserObjectPermission, school)
    for attr in ("_memberships_cache", "_school_ids_cache", "_school_perm_cache", "_district_perm_cache"):
        user.__dict__.pop(attr, None)


# Guardian's direct-FK permission models, one per kind of target.
_PermModel = TypeVar("_PermModel", DistrictUserObjectPermission, SchoolUserObjectPermission)


def _sync_object_perms(user: User, roles, perm_model: type[_PermModel], obj: District | School) -> None:
    wanted = set().union(*(ROLE_PERMISSIONS[r] for r in roles)) if roles else set()
    # Insert and delete only the difference: re-granting a held role (the demo seed on every run)
    # must leave the rows, and their ids, untouched.
    existing = dict(perm_model.objects.filter(user=user, content_object_id=obj.pk)
                    .values_list("permission__codename", "id"))
    stale = [pk for codename, pk in existing.items() if codename not in wanted]
    if stale:
        perm_model.objects.filter(id__in=stale).delete()
    missing = wanted - set(existing)
    if missing:
        perm_model.objects.bulk_create([
            perm_model(user=user, content_object_id=obj.pk, permission=p)
            for p in _perm_objects(type(obj), missing)
        ])


def can_grant(actor: User, role: str, *, district: District | None = None, school: School | None = None) -> bool:
    """Nobody grants a role above their own, nor outside their own scope."""
    for m in selectors.memberships_of(actor):
        if role not in GRANTABLE[m.role]:
            continue
        if m.role in DISTRICT_ROLES:
            if district is not None:
                target_district = district.id
            else:
                assert school is not None, "can_grant needs a district or a school"
                target_district = school.district_id
            if m.district_id == target_district:
                return True
        elif school is not None:
            # A township admin's membership is on a school (membership_target_matches_role).
            if m.role == Role.TOWNSHIP_ADMIN and m.school is not None and school.path.startswith(m.school.path):
                return True
            if m.role == Role.SCHOOL_ADMIN and school.id == m.school_id:
                return True
    return False


@transaction.atomic
def membership_grant(*, user: User, role: str, district: District | None = None, school: School | None = None,
                     actor: User | None = None, request=None) -> Membership:
    """Grant a role on a district or a school. `actor=None` only for seeding and system setup."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role in DISTRICT_ROLES and (district is None or school is not None):
        raise ValidationError({"district": _("This role is granted on a district.")})
    if role not in DISTRICT_ROLES and (school is None or district is not None):
        raise ValidationError({"school": _("This role is granted on a school.")})
    if actor is not None and not can_grant(actor, role, district=district, school=school):
        raise PermissionDenied(_("You cannot grant this role here."))
    membership, created = Membership.objects.get_or_create(
        user=user, role=role, district=district, school=school, defaults={"granted_by": actor}
    )
    _sync_guardian(user, district=district, school=school)
    if created:
        _log_membership(membership, actor, AccessLog.Action.CREATE, request=request)
        role_changed.send(sender=Membership, membership=membership, granted=True, actor=actor)
    return membership


def _log_membership(membership: Membership, actor, action: str, *, request=None) -> None:
    """Role changes are writes: log them on the school, or on every school of the district for a
    bureau role (it opens each school's data to the holder, so each school admin's log shows it)."""
    detail = {"user_id": membership.user_id, "role": membership.role}
    if membership.school_id:
        access_log_record(user=actor, school_id=membership.school_id, action=action, obj=membership,
                          request=request, detail=detail)
        return
    # membership_target_matches_role: a membership without a school is on a district.
    assert membership.district_id is not None
    school_ids = list(School.objects.filter(district_id=membership.district_id).values_list("id", flat=True))
    access_log_record_many(user=actor, school_ids=school_ids, action=action, object_type="tenancy.membership",
                           object_id=membership.pk, request=request,
                           detail=detail | {"district_id": membership.district_id})


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: User | None = None, request=None) -> None:
    if actor is not None and not can_grant(actor, membership.role, district=membership.district, school=membership.school):
        raise PermissionDenied(_("You cannot revoke this role."))
    user, district, school = membership.user, membership.district, membership.school
    _log_membership(membership, actor, AccessLog.Action.DELETE, request=request)
    role_changed.send(sender=Membership, membership=membership, granted=False, actor=actor)
    membership.delete()
    _sync_guardian(user, district=district, school=school)
    if not Membership.objects.filter(user=user).exists():
        # Nothing left to use the API for: a token must not outlive the person's last role.
        api_tokens_revoke_all(user=user, reason=NO_ROLE_LEFT, request=request)


@transaction.atomic
def staff_add(*, actor: User, school: School, username: str, display_name: str, role: str,
              password: str | None = None, request=None) -> Membership:
    """A school admin (or above) adds a staff member to a school with one role, all or nothing."""
    if not can_grant(actor, role, school=school):
        raise PermissionDenied(_("You cannot grant this role here."))
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=password, display_name=display_name)
    else:
        # An existing account may only be given a role by someone who can already see all of
        # its memberships; otherwise a school admin could pull in another school's teacher or a
        # bureau account (and learn that the username exists elsewhere).
        visible = set(selectors.school_ids_for_user(actor))
        for m in Membership.objects.filter(user=user).select_related("school"):
            if m.district_id or m.school_id not in visible:
                raise ValidationError({"username": _("This username is already taken.")})
    return membership_grant(user=user, role=role, school=school, actor=actor, request=request)


# ---------------------------------------------------------------- staff management from the web UI
# These wrap the services above with the checks a form needs; the wrapped services write the
# access log.
@transaction.atomic
def staff_member_add(*, actor: User, school: School, username: str, display_name: str, role: str,
                     password: str, request=None) -> Membership:
    """Create a new account for a staff member with one role on the school, all or nothing."""
    from django.contrib.auth.password_validation import validate_password

    if not can_grant(actor, role, school=school):
        raise PermissionDenied(_("You cannot grant this role here."))
    _refuse_taken_username(username)  # a new account only: an existing one is not given a role here
    try:
        validate_password(password, user=User(username=username, display_name=display_name))
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
    return staff_add(actor=actor, school=school, username=username, display_name=display_name,
                     role=role, password=password, request=request)


@transaction.atomic
def staff_role_grant(*, actor: User, school: School, user: User, role: str, request=None) -> Membership:
    """Give an existing staff member of the school another role there."""
    if not Membership.objects.filter(school=school, user=user).exists():
        raise ValidationError({"user": _("This person is not on the school's staff.")})
    if Membership.objects.filter(school=school, user=user, role=role).exists():
        raise ValidationError({"role": _("This person already holds this role here.")})
    return membership_grant(user=user, role=role, school=school, actor=actor, request=request)


@transaction.atomic
def staff_role_revoke(*, actor: User, membership: Membership, request=None) -> None:
    """Revoke one role held on a school. Nobody revokes their own role (no accidental lock-out)."""
    if membership.school_id is None:
        raise ValidationError(_("This role is granted on a district."))
    if membership.user_id == actor.id:
        raise ValidationError(_("You cannot revoke your own role."))
    membership_revoke(membership=membership, actor=actor, request=request)

def access_log_record_many(*, user, action: str, object_type: str, school_ids=None, object_id: str | int = "",
                           school_id: int | None = None, object_ids=None, detail: dict | None = None,
                           request=None) -> int:
    """Many access-log rows in a single INSERT: one per school for an action that touches many
    schools at once (`school_ids` with one `object_id`: a district-wide export or lock), or one per
    object for an action on many records of one school (`school_id` with `object_ids`: an import,
    an export of the archive). Like access_log_record, the rows go in under a scope of exactly
    those schools, whatever the caller's scope."""
    if (school_ids is None) == (object_ids is None):
        raise TypeError("Pass either school_ids (one object) or school_id with object_ids.")
    if object_ids is not None:
        if school_id is None:
            raise TypeError("Pass school_id with object_ids.")
        pairs = [(school_id, oid) for oid in object_ids]
    else:
        pairs = [(sid, object_id) for sid in school_ids]
    ip = _ip(request)
    _remember(request, [(action, object_type, str(oid or "")) for _sid, oid in pairs])
    rows = [
        AccessLog(school_id=sid, user=user if getattr(user, "is_authenticated", False) else None,
                  action=action, object_type=object_type, object_id=str(oid or ""), ip_address=ip,
                  detail=detail or {})
        for sid, oid in pairs
    ]
    touched = sorted({sid for sid, _oid in pairs})
    with system_scope("the access log is written to every school the action touched", school_ids=touched):
        AccessLog.objects.bulk_create(rows)
    return len(rows)


# ---------------------------------------------------------------- two-factor authentication
def _log_two_factor(*, user, action: str, device, request=None, detail: dict | None = None) -> None:
    """Access-log a two-factor event on each school the user holds a role at.

    The access log is school-owned (every row belongs to one school); a district-level account has
    no school, so its events go to the `tenancy.security` logger instead.
    """
    import logging

    school_ids = sorted({m.school_id for m in selectors.memberships_of(user) if m.school_id})
    for school_id in school_ids:
        access_log_record(user=user, school_id=school_id, action=action, object_type="otp_totp.totpdevice",
                          object_id=getattr(device, "pk", "") or "", request=request, detail=detail)
    if not school_ids:
        logging.getLogger("tenancy.security").info(
            "two-factor %s user=%s device=%s detail=%s ip=%s", action, user.pk, getattr(device, "pk", None),
            detail, _ip(request),
        )


@transaction.atomic
def totp_device_start(*, user: User):
    """The user's unconfirmed TOTP device (a fresh secret), to show as a QR code until confirmed.

    A user has at most one confirmed device; starting again replaces an unconfirmed one only.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, device, token: str, request=None) -> bool:
    """Confirm a new device with a code from it; the session counts as verified with it."""
    from django_otp import login as otp_login

    if device.user_id != user.id or device.confirmed:
        raise ValidationError(_("This enrolment is no longer valid; start again."))
    if not device.verify_token(token):
        _log_two_factor(user=user, action=AccessLog.Action.VERIFY, device=device, request=request,
                        detail={"event": "enrol", "ok": False})
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    type(device).objects.filter(user=user, confirmed=False).delete()
    # API tokens issued on the password alone stop working: a new one needs a code.
    api_tokens_revoke_all(user=user, reason=TWO_FACTOR_ENROLLED, request=request)
    if request is not None:
        otp_login(request, device)
    _log_two_factor(user=user, action=AccessLog.Action.CREATE, device=device, request=request,
                    detail={"event": "enrol", "ok": True})
    return True


@transaction.atomic
def otp_verify(*, user: User, token: str, request=None):
    """Check a code against the user's confirmed device. Returns the device, or None for a wrong
    code (django-otp slows repeated failures down). With a request, the session becomes verified."""
    from django_otp import login as otp_login

    device = confirmed_device(user)
    if device is None:
        return None
    ok = device.verify_token(token)
    _log_two_factor(user=user, action=AccessLog.Action.VERIFY, device=device, request=request,
                    detail={"event": "verify", "ok": ok})
    if not ok:
        return None
    if request is not None:
        otp_login(request, device)
    return device


@transaction.atomic
def totp_device_remove(*, user: User, token: str, request=None) -> bool:
    """Remove the user's device (needs a current code). Refused when two-factor is required."""
    if requires_two_factor(user):
        raise ValidationError(_("Two-factor authentication is required for your role; it cannot be turned off."))
    device = otp_verify(user=user, token=token)
    if device is None:
        return False
    _log_two_factor(user=user, action=AccessLog.Action.DELETE, device=device, request=request,
                    detail={"event": "remove"})
    type(device).objects.filter(user=user).delete()
    return True
