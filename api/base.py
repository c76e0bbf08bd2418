"""The one base class every API viewset derives from (after PostHog's TeamAndOrgViewSetMixin and
NetBox's BaseViewSet).

It enforces, in one place:
- authentication (token or session; anonymous requests get 401);
- the tenant scope: the request must run inside the scope TenantScopeMiddleware computed for the
  very user DRF authenticated, or it is refused (fail closed);
- the queryset: subclasses provide `scoped_queryset()` built from tenancy.selectors; they may not
  override `get_queryset`/`get_object`, so another school's object is always 404;
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

from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
# DRF's version also turns a malformed id ("abc" for an integer key) into a 404, not a 500.
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet

from tenancy import selectors
from tenancy.models import District, School, is_sensitive
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
        if cls.__dict__.get("abstract", False):
            return
        cls.abstract = False
        if not isinstance(getattr(cls, "model", None), type):
            raise TypeError(f"{cls.__name__} must declare `model`.")
        actions = {a for a in _STANDARD_ACTIONS if hasattr(cls, a)}
        actions |= {a.__name__ for a in cls.get_extra_actions()}
        missing = actions - set(cls.action_permissions)
        if missing:
            raise TypeError(f"{cls.__name__} must declare action_permissions for: {', '.join(sorted(missing))}.")
        for codename in cls.action_permissions.values():
            if codename is not VISIBLE and codename not in _PERMISSION_LABELS:
                raise TypeError(f"{cls.__name__}: unknown permission codename {codename!r}.")

    # ------------------------------------------------------------------ hooks for subclasses
    def scoped_queryset(self) -> models.QuerySet:
        """The objects this user may see, from tenancy.selectors (or a scoped manager)."""
        raise NotImplementedError

    def permission_target(self, obj) -> School | District:
        """The school or district an object's permissions are checked on."""
        if isinstance(obj, (School, District)):
            return obj
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
        raise exceptions.MethodNotAllowed(self.request.method)

    def update_via_service(self, instance, data: dict[str, Any]):
        raise exceptions.MethodNotAllowed(self.request.method)

    def destroy_via_service(self, instance) -> None:
        raise exceptions.MethodNotAllowed(self.request.method)

    # ------------------------------------------------------------------ enforcement (sealed)
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication + IsAuthenticated (401)
        self._assert_scoped()

    def _assert_scoped(self) -> None:
        """Fail closed unless the active tenant scope was computed for this very user."""
        request = self.request
        scope_user = getattr(request._request, "scope_user", None)
        if scope_user is None or not request.user.is_authenticated or scope_user.pk != request.user.pk:
            raise ScopeMismatch(_("The request's credentials do not match the user it was scoped for; "
                                  "send either a session or a token, not both."))
        if current_school_ids() is None:
            raise exceptions.PermissionDenied(_("No tenant scope is active for this request."))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation only: no data
            return self.model._default_manager.none()
        self._assert_scoped()
        queryset = self.scoped_queryset()
        if queryset.model is not self.model:
            raise TypeError(f"{type(self).__name__}.scoped_queryset() must return {self.model.__name__} rows.")
        return queryset

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
        self._require(self._action_codename(), self.create_target(serializer.validated_data))
        serializer.instance = self.create_via_service(dict(serializer.validated_data))

    def perform_update(self, serializer):
        # get_object() already checked the action's permission on the existing object.
        serializer.instance = self.update_via_service(serializer.instance, dict(serializer.validated_data))

    def perform_destroy(self, instance):
        self.destroy_via_service(instance)

    def handle_exception(self, exc):
        """Services speak Django's exceptions; the API answers with DRF's, keeping the message."""
        if isinstance(exc, DjangoValidationError):
            detail = serializers.as_serializer_error(exc)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            exc = exceptions.ValidationError(detail)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)


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
