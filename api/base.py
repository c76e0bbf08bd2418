"""The one base class every API viewset derives from (after PostHog's TeamAndOrgViewSetMixin and
NetBox's BaseViewSet).

It enforces, in one place:
- authentication (token or session; anonymous requests get 401);
- the tenant scope: the request must run inside the scope TenantScopeMiddleware computed for the
  very user DRF authenticated, or it is refused (fail closed);
- the tenant filter (after PostHog's `safely_get_queryset`): the base builds the queryset of what
  the user's tenants hold (a school-owned model: the user's visible schools; a district-owned
  one, or a row below one: the user's visible districts; the School and District tables
  themselves: those ids; any other model: a `tenant_filter` declared with its reason) and hands
  it to the subclass's `scoped_queryset(queryset)`, which may only narrow it (who may see what
  within the tenant, from tenancy.selectors); the filter is applied again to what the hook
  returns, so a subclass cannot widen it. Subclasses may not override `get_queryset`/`get_object`,
  so another school's or district's object is always 404;
- object permissions: every action declares the permission codename it needs (or VISIBLE), checked
  on the object's school or district with django-guardian; a missing declaration is an error at
  import time;
- the access log: a successful detail read of a model marked sensitive
  (tenancy.models.SensitiveRecord) writes a VIEW row;
- writes go through tenancy-style services (`create_via_service`, ...); Django's ValidationError and
  PermissionDenied raised there become 400 and 403 with the service's message;
- pagination is always on and filters use django-filter.

Subclasses list the base first, then the DRF mixins they need, so the base's perform_* win:

    class SchoolViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin): ...
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.authentication import SessionAuthentication

# DRF's version also turns a malformed id ("abc" for an integer key) into a 404, not a 500.
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet

from tenancy import idempotency, selectors
from tenancy.models import (
    District,
    DistrictOwnedChild,
    DistrictOwnedModel,
    School,
    SchoolOwnedModel,
    district_path,
    is_sensitive,
    owning_district,
)
from tenancy.roles import PERMISSIONS
from tenancy.scoping import current_school_ids
from tenancy.services import access_log_sensitive_read
from tenancy.tokens import TokenAuthentication

from .pagination import Pagination
from .schema import StandardErrorsAutoSchema

# An action that needs nothing beyond the object being in the user's scoped queryset.
VISIBLE = None

_STANDARD_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")
_PERMISSION_LABELS = dict(PERMISSIONS)


@dataclass(frozen=True)
class TenantFilter:
    """The tenant filter of a model that is neither school- nor district-owned (a user's own
    account, memberships): `q(user)` selects what the user's tenants hold, `reason` says why that
    is the right boundary. The base applies it like the structural filters."""

    reason: str
    q: Callable[[Any], models.Q]


def tenant_kind(model) -> str | None:
    """How the base filters `model` by tenant: "school", "district", "district_child", "school_table",
    "district_table", or None (the viewset must declare a TenantFilter)."""
    if model is School:
        return "school_table"
    if model is District:
        return "district_table"
    if issubclass(model, SchoolOwnedModel):
        return "school"
    if issubclass(model, DistrictOwnedModel):
        return "district"
    if issubclass(model, DistrictOwnedChild):
        return "district_child"
    return None


class KeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    """A create whose Idempotency-Key already has its result: answered with that result."""

    def __init__(self, obj):
        super().__init__()
        self.obj = obj


class ScopeMismatch(exceptions.AuthenticationFailed):
    default_detail = gettext_lazy("The request's credentials do not match the user it was scoped for.")


class ScopedViewSet(GenericViewSet):
    # Token first: DRF answers 401 (not 403) to anonymous requests only when the first
    # authentication class can name a WWW-Authenticate challenge.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    # Documents the 400/401/403/404 answers next to each operation's success response.
    schema = StandardErrorsAutoSchema()

    #: The model the scoped queryset returns (also used for the schema).
    model: ClassVar[type[models.Model]]
    #: action name -> permission codename required on the object's school/district, or VISIBLE.
    action_permissions: ClassVar[dict[str, str | None]] = {}
    #: Set on intermediate base classes that are never routed.
    abstract: ClassVar[bool] = True
    #: Only for a model that is neither school- nor district-owned (see TenantFilter).
    tenant_filter: ClassVar[TenantFilter | None] = None

    # What a subclass may not replace: these are the isolation guarantees.
    _SEALED = (
        "get_queryset", "get_object", "initial", "check_permissions", "check_object_permissions",
        "get_authenticators", "get_permissions", "perform_create", "perform_update", "perform_destroy",
        "handle_exception", "paginate_queryset", "filter_queryset", "finalize_response",
    )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls._SEALED:
            if getattr(cls, name) is not getattr(ScopedViewSet, name):
                raise TypeError(
                    f"{cls.__name__} may not override {name}(): provide scoped_queryset() and "
                    f"action_permissions instead (and list ScopedViewSet before DRF's mixins)."
                )
        for name in ("authentication_classes", "permission_classes", "filter_backends"):
            if getattr(cls, name) != getattr(ScopedViewSet, name):
                raise TypeError(f"{cls.__name__} may not change {name}: the base enforces them.")
        if cls.pagination_class is None:
            raise TypeError(f"{cls.__name__}: pagination is always on.")
        if "queryset" not in inspect.signature(cls.scoped_queryset).parameters:
            raise TypeError(f"{cls.__name__}.scoped_queryset(self, queryset) narrows the tenant-filtered queryset "
                            "the base hands it; it does not build its own.")
        if cls.__dict__.get("abstract", False):
            return
        cls.abstract = False
        if not isinstance(getattr(cls, "model", None), type):
            raise TypeError(f"{cls.__name__} must declare `model`.")
        kind = tenant_kind(cls.model)
        if kind is None and not isinstance(cls.tenant_filter, TenantFilter):
            raise TypeError(f"{cls.__name__}: {cls.model.__name__} is neither school- nor district-owned; declare "
                            "its tenant_filter = TenantFilter(reason, q).")
        if kind is not None and cls.tenant_filter is not None:
            raise TypeError(f"{cls.__name__}: {cls.model.__name__} is filtered by its owner ({kind}); a "
                            "tenant_filter may not replace that.")
        if isinstance(cls.tenant_filter, TenantFilter) and not cls.tenant_filter.reason.strip():
            raise TypeError(f"{cls.__name__}: a tenant_filter needs its reason.")
        actions = {a for a in _STANDARD_ACTIONS if hasattr(cls, a)}
        actions |= {a.__name__ for a in cls.get_extra_actions()}
        missing = actions - set(cls.action_permissions)
        if missing:
            raise TypeError(f"{cls.__name__} must declare action_permissions for: {', '.join(sorted(missing))}.")
        for codename in cls.action_permissions.values():
            if codename is not VISIBLE and codename not in _PERMISSION_LABELS:
                raise TypeError(f"{cls.__name__}: unknown permission codename {codename!r}.")

    # ------------------------------------------------------------------ hooks for subclasses
    def scoped_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        """Narrow `queryset` (what the user's tenants hold) to what this user may see here, from
        tenancy.selectors; add select_related, annotations and the order. Never widen it: the
        tenant filter is applied again to what this returns."""
        return queryset

    def permission_target(self, obj) -> School | District:
        """The school or district an object's permissions are checked on."""
        if isinstance(obj, (School, District)):
            return obj
        if isinstance(obj, DistrictOwnedChild):
            return owning_district(obj)
        for attr in ("school", "district"):
            target = getattr(obj, attr, None)
            if target is not None:
                return target
        raise TypeError(f"{type(self).__name__}: cannot tell which school owns {type(obj).__name__}.")

    def create_target(self, data: dict[str, Any]) -> School | District:
        """The school or district a new object will belong to (from validated input)."""
        for key in ("school", "district"):
            if data.get(key) is not None:
                return data[key]
        raise exceptions.ValidationError({"school": [_("Name the school (or district) this belongs to.")]})

    def create_via_service(self, data: dict[str, Any]):
        raise self._method_not_allowed()

    def update_via_service(self, instance, data: dict[str, Any]):
        raise self._method_not_allowed()

    def destroy_via_service(self, instance) -> None:
        raise self._method_not_allowed()

    def _method_not_allowed(self) -> exceptions.MethodNotAllowed:
        method = self.request.method
        assert method is not None  # a request being dispatched always has its method
        return exceptions.MethodNotAllowed(method)

    # ------------------------------------------------------------------ enforcement (sealed)
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication + IsAuthenticated (401)
        self._assert_scoped()
        self._idempotency_start()

    def _idempotency_start(self) -> None:
        """Every create may name itself with an Idempotency-Key header: sent again (after the first
        one committed) it answers with the first result before anything is validated or written."""
        self._idempotency_key: str | None = None
        self._idempotency_digest = ""
        if self.action != "create":
            return
        self._idempotency_key = idempotency.normalise_key(self.request.headers.get("Idempotency-Key"))
        if self._idempotency_key is None:
            return
        request = self.request
        self._idempotency_digest = idempotency.fingerprint(request.method or "", request.path, request.data)
        row = idempotency.lookup(request.user, self._idempotency_key)
        if row is not None:
            idempotency.check_same(row, self._idempotency_digest)
            raise _Replay(idempotency.load(row, self.model, self.get_queryset()))

    def _assert_scoped(self) -> None:
        """Fail closed unless the active tenant scope was computed for this very user."""
        request = self.request
        scope_user = getattr(request._request, "scope_user", None)
        if scope_user is None or not request.user.is_authenticated or scope_user.pk != request.user.pk:
            raise ScopeMismatch(_("The request's credentials do not match the user it was scoped for; "
                                  "send either a session or a token, not both."))
        if current_school_ids() is None:
            raise exceptions.PermissionDenied(_("No tenant scope is active for this request."))

    def _tenant_q(self) -> models.Q:
        """What the user's tenants hold, for this viewset's model (see the module docstring)."""
        user = self.request.user
        kind = tenant_kind(self.model)
        if kind is None:
            # __init_subclass__ requires a TenantFilter of every model without a tenant kind.
            assert self.tenant_filter is not None
            return self.tenant_filter.q(user)
        if kind in ("school", "school_table"):
            ids = selectors.school_ids_for_user(user)
            return models.Q(**{"school_id__in" if kind == "school" else "id__in": ids})
        ids = selectors.district_ids_for_user(user)
        if kind == "district_table":
            return models.Q(id__in=ids)
        return models.Q(**{f"{district_path(self.model)}__in": ids})

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation only: no data
            return self.model._default_manager.none()
        self._assert_scoped()
        tenant_q = self._tenant_q()
        queryset = self.scoped_queryset(self.model._default_manager.filter(tenant_q))
        if not isinstance(queryset, models.QuerySet) or queryset.model is not self.model:
            raise TypeError(f"{type(self).__name__}.scoped_queryset() must return {self.model.__name__} rows.")
        # Again on what the hook returned: a subclass can narrow the tenant filter, never widen it.
        return queryset.filter(tenant_q)

    def get_object(self):
        """404 for anything outside the scoped queryset; 403 for a visible object the action
        needs more permission on."""
        queryset = self.filter_queryset(self.get_queryset())
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        self.check_object_permissions(self.request, obj)
        if self.action == "retrieve" and is_sensitive(type(obj)):
            self._sensitive_read = obj  # logged once the read succeeded (finalize_response)
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        """Every successful detail read of a record marked sensitive (tenancy.models.SensitiveRecord)
        is access-logged, unless the view logged it itself."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "_replayed", False):
            response["Idempotent-Replayed"] = "true"
        obj = getattr(self, "_sensitive_read", None)
        if obj is not None and 200 <= response.status_code < 300:
            self._sensitive_read = None
            access_log_sensitive_read(user=request.user, obj=obj, request=request)
        return response

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        self._require(self._action_codename(), self.permission_target(obj))

    def _action_codename(self) -> str | None:
        try:
            return self.action_permissions[self.action]
        except KeyError:  # fail closed: an undeclared action is refused
            raise exceptions.PermissionDenied(_("This action is not allowed.")) from None

    def _require(self, codename: str | None, target) -> None:
        if codename is VISIBLE:
            return
        user = self.request.user
        if isinstance(target, School):
            allowed = selectors.has_school_perm(user, codename, target)
        elif isinstance(target, District):
            allowed = selectors.has_district_perm(user, codename, target)
        else:
            raise TypeError(f"Permissions are checked on a School or a District, not {type(target).__name__}.")
        if not allowed:
            raise exceptions.PermissionDenied(
                _("You need the permission “%(perm)s” on %(target)s.")
                % {"perm": _PERMISSION_LABELS[codename], "target": target}
            )

    def perform_create(self, serializer):
        target = self.create_target(serializer.validated_data)
        self._require(self._action_codename(), target)
        data = dict(serializer.validated_data)
        outcome = idempotency.create_once(
            user=self.request.user, key=getattr(self, "_idempotency_key", None),
            digest=getattr(self, "_idempotency_digest", ""), target=target,
            create=lambda: self.create_via_service(data), model=self.model, queryset=self.get_queryset())
        if outcome.replayed:
            if outcome.obj is None:
                raise _Replay(None)
            self._replayed = True
        serializer.instance = outcome.obj

    def perform_update(self, serializer):
        # get_object() already checked the action's permission on the existing object.
        serializer.instance = self.update_via_service(serializer.instance, dict(serializer.validated_data))

    def perform_destroy(self, instance):
        self.destroy_via_service(instance)

    def handle_exception(self, exc):
        """Services speak Django's exceptions; the API answers with DRF's, keeping the message."""
        if isinstance(exc, _Replay):
            return self._replay_response(exc.obj)
        if isinstance(exc, idempotency.KeyReused):
            exc = KeyReused(" ".join(exc.messages))
        elif isinstance(exc, DjangoValidationError):
            detail = serializers.as_serializer_error(exc)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            exc = exceptions.ValidationError(detail)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def _replay_response(self, obj) -> Response:
        if obj is None:
            return super().handle_exception(
                exceptions.NotFound(_("The record this Idempotency-Key created no longer exists.")))
        self._replayed = True
        return Response(self.get_serializer(obj).data, status=201)


def scoped_filterset(model_cls, **filters):
    """A FilterSet of declared filters only. django-filter builds Meta.fields filters with
    `model._default_manager.all()`, which django-scopes refuses outside a tenant scope (schema
    generation, system checks) for every school- and district-owned model; declared filters need
    no query."""
    meta = type("Meta", (), {"model": model_cls, "fields": []})
    return type(f"{model_cls.__name__}Filter", (django_filters.FilterSet,), {**filters, "Meta": meta})


def id_filter(field: str) -> django_filters.NumberFilter:
    """?<field>=<id> on a foreign key, as a plain number: an unknown id matches nothing."""
    return django_filters.NumberFilter(field_name=f"{field}_id")


def narrow(queryset: models.QuerySet, visible: models.QuerySet) -> models.QuerySet:
    """The rows of `queryset` (what the base handed a hook) that a selector's `visible` queryset
    also holds. `visible` goes first so its select_related, prefetches and order are kept
    (QuerySet `&` keeps the left side's)."""
    return visible & queryset


@extend_schema_field(OpenApiTypes.INT)
class VisibleSchoolField(serializers.PrimaryKeyRelatedField):
    """A school id in input: only schools the user can see are accepted. Any other id gets the
    same "does not exist" error as an id that truly does not exist."""

    def get_queryset(self):
        return selectors.schools_visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleDistrictField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.districts_visible_to(self.context["request"].user)


class ReadOnlyScopedViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """List and retrieve, for whoever sees the rows in their scope; nothing is written here."""

    abstract = True
    action_permissions: ClassVar[dict[str, str | None]] = {"list": VISIBLE, "retrieve": VISIBLE}
