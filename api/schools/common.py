"""Shared pieces of the school's-home API: error mapping, scoped input fields, base viewsets and filters.

Services raise Model.DoesNotExist for "not yours" (the API answers 404, never 403) and
EvidenceError (a ValueError) for an upload that does not decode; ScopedViewSet maps Django's
ValidationError and PermissionDenied itself.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import ClassVar

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers

from schools import selectors as school_selectors
from schools import services
from schools.evidence import EvidenceError, EvidenceStorageError
from schools.models import Semester
from tenancy import selectors
from tenancy.dates import sane_date
from tenancy.models import User

from ..base import VISIBLE, ScopedViewSet, VisibleSchoolField
from ..tenancy import UserRefSerializer  # noqa: F401 (one component name in the schema)


class StorageUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "storage_unavailable"


@contextmanager
def service_errors(file_field: str = "file"):
    """Run a service call, answering 404 for an object the user may not see and 400 for a bad upload
    (503 when the upload was fine but the file store failed: nothing was recorded, retry later)."""
    try:
        yield
    except ObjectDoesNotExist:
        raise exceptions.NotFound() from None
    except EvidenceStorageError as exc:
        raise StorageUnavailable(str(exc)) from None
    except EvidenceError as exc:
        raise exceptions.ValidationError({file_field: [str(exc)]}) from None


def request_user(context):
    return context["request"].user


@extend_schema_field(OpenApiTypes.INT)
class VisibleSemesterField(serializers.PrimaryKeyRelatedField):
    """A semester of a district the user can see."""

    def get_queryset(self):
        return Semester.objects.filter(district__in=selectors.districts_visible_to(request_user(self.context)))


@extend_schema_field(OpenApiTypes.INT)
class StaffUserField(serializers.PrimaryKeyRelatedField):
    """A staff user of a school the user can see (the services check the exact school)."""

    def get_queryset(self):
        ids = selectors.school_ids_for_user(request_user(self.context))
        return User.objects.filter(memberships__school_id__in=ids).distinct()


@extend_schema_field(OpenApiTypes.INT)
class VisibleChildField(serializers.PrimaryKeyRelatedField):
    """A child the user may see at any level; an unseen id gets the same "does not exist" as a missing one."""

    def get_queryset(self):
        return school_selectors.children_visible_to(request_user(self.context))


@extend_schema_field(OpenApiTypes.INT)
class IdentityChildField(serializers.PrimaryKeyRelatedField):
    """A child whose personal record the user may read (school admin, identity grant, proxy parent)."""

    def get_queryset(self):
        return school_selectors.children_with_identity_visible_to(request_user(self.context))


EDITS = ("create", "update", "partial_update")
UPDATES = ("update", "partial_update")


def visible_and(permission: str | None, actions: tuple[str, ...] = EDITS, **others: str | None) -> dict:
    """action_permissions: list and retrieve for whoever sees the row, each of `actions` needing
    `permission`, and any other action as named."""
    return {"list": VISIBLE, "retrieve": VISIBLE, **dict.fromkeys(actions, permission), **others}


class ActionSerializers:
    """The serializer of an action from `action_serializers` (e.g. a narrower one for updates),
    else `serializer_class`. List it before the viewset base."""

    action_serializers: ClassVar[dict] = {}

    def get_serializer_class(self):
        return self.action_serializers.get(self.action, self.serializer_class)


class EndableRecordActions(ActionSerializers):
    """A dated record about children, kept by whoever manages them: created whole, afterwards only
    ended or corrected through the narrower `end_serializer`. List it before the viewset base."""

    action_permissions: ClassVar[dict] = visible_and("manage_children")
    end_serializer = None

    def get_serializer_class(self):
        return self.end_serializer if self.action in UPDATES else self.serializer_class


def endable_schema(end_serializer, update: str, partial_update: str, **others):
    """The schema of an EndableRecordActions viewset: both updates take the end serializer."""
    return extend_schema_view(
        update=extend_schema(request=end_serializer, description=update),
        partial_update=extend_schema(request=end_serializer, description=partial_update),
        **others)


class SchoolOwnedSerializer(serializers.ModelSerializer):
    """`school` is chosen on create (a school the user can see) and fixed afterwards."""

    school = serializers.PrimaryKeyRelatedField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is None and "school" in fields:
            fields["school"] = VisibleSchoolField()
        return fields


class SchoolOwnedViewSet(ScopedViewSet):
    """Records owned by one school, visible to everyone holding a role on that school."""

    abstract = True

    def school_ids(self) -> list[int]:
        return selectors.school_ids_for_user(self.request.user)

    def scoped_queryset(self, queryset):
        # Everyone holding a role on the school: exactly the base's tenant filter.
        return queryset

    @property
    def actor(self):
        return self.request.user


def child_q(user, prefix: str = "child") -> Q:
    """Rows about a child whose personal record the user may read."""
    return Q(**{f"{prefix}_id__in": school_selectors.children_with_identity_visible_to(user).values("id")})

def date_range(field: str, name: str):
    return {
        f"{name}_after": django_filters.DateFilter(field_name=field, lookup_expr="gte", validators=[sane_date]),
        f"{name}_before": django_filters.DateFilter(field_name=field, lookup_expr="lte", validators=[sane_date]),
    }


# ---------------------------------------------------------------- site, equipment, leadership
class ServiceActions:
    """Create, update and destroy through the services named on the class. Each service gets the
    actor (and the request, for its access-log row, unless `with_request` is off); an update or a
    delete also gets the row as `instance_kwarg`."""

    create_service = update_service = destroy_service = None
    instance_kwarg = ""
    with_request = True

    def _actor(self) -> dict:
        return {"actor": self.request.user, **({"request": self.request} if self.with_request else {})}

    def create_via_service(self, data):
        return type(self).create_service(**self._actor(), **data)

    def update_via_service(self, instance, data):
        return type(self).update_service(**self._actor(), **{self.instance_kwarg: instance}, **data)

    def destroy_via_service(self, instance):
        type(self).destroy_service(**self._actor(), **{self.instance_kwarg: instance})


class MaterialsViewSet(ServiceActions, SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    abstract = True
    action_permissions = visible_and("manage_materials", (*EDITS, "destroy"))
    with_request = False
    #: The list's order.
    ordering: tuple[str, ...] = ("id",)

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by(*self.ordering)

    def destroy_via_service(self, instance):
        if type(self).destroy_service is not None:
            return super().destroy_via_service(instance)
        services.home_record_delete(actor=self.request.user, obj=instance)


class ServiceCheckedViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Records whose author or the school admin edit them: seeing the row is the only gate here,
    the services decide who may change it (and answer 404 for "not yours")."""

    abstract = True
    action_permissions = visible_and(VISIBLE, (*EDITS, "destroy"))


class SchoolFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")
