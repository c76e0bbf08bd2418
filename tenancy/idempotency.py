"""One tap is one record: a create named by a client-generated id (a form's hidden client_id, the
API's Idempotency-Key header) is written once; sent again, it returns the first result.

`create_once` claims the key with INSERT ... ON CONFLICT DO NOTHING inside a savepoint around the
create. A second request with the same key blocks on the unique index until the first request's
transaction ends: if it committed, the second finds the first result; if it rolled back (or the
create was refused), the key is free again and the second request does the create itself. Like the
access log, this module writes its own rows; callers are services' callers (views, the API base).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from .models import District, IdempotencyKey, School

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
# Form fields that are not part of what was asked.
_IGNORED = {"csrfmiddlewaretoken", "client_id", "next"}


class KeyReused(ValidationError):
    """The key was already used by this user for a different request."""


def normalise_key(raw: str | None) -> str | None:
    """The key as stored, None when none was sent; a malformed one is refused."""
    if raw is None or not str(raw).strip():
        return None
    key = str(raw).strip()
    if not _KEY.match(key):
        raise ValidationError(_("The request id must be 8 to 64 letters, digits or - _ . : (a UUID)."))
    return key.lower()


def fingerprint(method: str, path: str, data: Any) -> str:
    """A digest of what was asked: the method, the path and the body (files by name and size)."""
    return hashlib.sha256(json.dumps([method, path, _canonical(data)], sort_keys=True, default=str,
                                     ensure_ascii=False).encode()).hexdigest()


def _canonical(data: Any) -> Any:
    if hasattr(data, "getlist") and hasattr(data, "keys"):  # QueryDict / MultiValueDict
        return {k: [_canonical(v) for v in data.getlist(k)] for k in sorted(data.keys()) if k not in _IGNORED}
    if isinstance(data, Mapping):
        return {str(k): _canonical(v) for k, v in data.items() if k not in _IGNORED}
    if isinstance(data, (list, tuple)):
        return [_canonical(v) for v in data]
    if hasattr(data, "read") and hasattr(data, "size"):  # an uploaded file
        return ["file", getattr(data, "name", ""), data.size]
    return data


@dataclass(frozen=True)
class Outcome:
    obj: Any  # the created object (None when the first result no longer exists)
    replayed: bool


def lookup(user, key: str) -> IdempotencyKey | None:
    """The finished claim of this user's key in the current scope, if any (a read, no lock)."""
    return IdempotencyKey.objects.filter(user=user, key=key).exclude(object_id=None).first()


def check_same(row: IdempotencyKey, digest: str) -> None:
    if row.fingerprint != digest:
        raise KeyReused(_("This request id was already used for a different request. "
                          "Reload the page (or send a new Idempotency-Key) to create another record."))


def load(row: IdempotencyKey, model: type[models.Model] | None = None, queryset: models.QuerySet | None = None):
    """The first result, read through `queryset` (the caller's scoped one) or the model's manager."""
    if not row.object_type or row.object_id is None:
        return None
    if model is None:
        model = apps.get_model(row.object_type)
    if row.object_type != model._meta.label_lower:
        return None
    rows = queryset if queryset is not None else model._default_manager.all()
    return rows.filter(pk=row.object_id).first()


def _owner(target: School | District) -> tuple[int, int | None]:
    if isinstance(target, School):
        return target.district_id, target.pk
    return target.pk, None


def _claim(user, key: str, digest: str, target: School | District) -> IdempotencyKey | None:
    """Insert the claim; None when this user's key is already taken (after waiting for its owner)."""
    district_id, school_id = _owner(target)
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (district_id, school_id, user_id, key, fingerprint, object_type, created_at) "
            "VALUES (%s, %s, %s, %s, %s, '', now()) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [district_id, school_id, user.pk, key, digest])
        row = cursor.fetchone()
    return None if row is None else IdempotencyKey.objects.get(pk=row[0])


def create_once(*, user, key: str | None, digest: str, target: School | District,
                create: Callable[[], models.Model], model: type[models.Model] | None = None,
                queryset: models.QuerySet | None = None) -> Outcome:
    """Run `create()` once per (user, key). Without a key, just run it. The same key again returns
    the first object (Outcome.replayed); the same key for a different request raises KeyReused."""
    if key is None:
        return Outcome(create(), False)
    with transaction.atomic():
        claimed = _claim(user, key, digest, target)
        if claimed is None:
            row = IdempotencyKey.objects.filter(user=user, key=key).first()
            if row is None:  # taken under a scope this request cannot see
                raise KeyReused(_("This request id was already used for a different request. "
                                  "Reload the page (or send a new Idempotency-Key) to create another record."))
            check_same(row, digest)
            return Outcome(load(row, model, queryset), True)
        obj = create()
        if obj is None:  # nothing was created: nothing to answer a repeat with
            claimed.delete()
            return Outcome(None, False)
        claimed.object_type, claimed.object_id = obj._meta.label_lower, obj.pk
        claimed.save(update_fields=["object_type", "object_id"])
        return Outcome(obj, False)


def form_create_once(request, form, *, target: School | District, create: Callable[[], models.Model],
                     model: type[models.Model] | None = None) -> Outcome:
    """create_once for a page's form with tenancy.forms.ClientIdMixin: the key is its client_id, the
    request is the POST. A reused id gets the form a fresh one before KeyReused goes up."""
    try:
        return create_once(user=request.user, key=getattr(form, "client_key", None),
                           digest=fingerprint(request.method, request.path, request.POST), target=target,
                           create=create, model=model)
    except KeyReused:
        form.renew_client_id()
        raise
