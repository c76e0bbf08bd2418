"""Proxy assignments, staff profiles and the proxy parents' work record book."""
from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from schools import services
from schools.models import ProxyAssignment, StaffProfile, WorkRecordEntry
from tenancy.dates import sane_date
from tenancy.selectors import permissions_by_school

from ..base import VISIBLE
from ..tenancy import UserRefSerializer
from .children import ChildRecordViewSet
from .common import (
    UPDATES,
    EndableRecordActions,
    IdentityChildField,
    SchoolOwnedSerializer,
    SchoolOwnedViewSet,
    StaffUserField,
    VisibleChildField,
    child_q,
    date_range,
    endable_schema,
    service_errors,
    visible_and,
)


# ---------------------------------------------------------------- proxy assignments and staff profiles
class ProxyAssignmentSerializer(serializers.ModelSerializer):
    child = VisibleChildField()
    proxy_parent = StaffUserField()
    starts_on = serializers.DateField(required=False, help_text="Default: today.", validators=[sane_date])

    class Meta:
        model = ProxyAssignment
        fields = ["id", "school", "child", "proxy_parent", "starts_on", "ends_on", "created_at"]
        read_only_fields = ["id", "school", "ends_on", "created_at"]
        validators: list = []


class ProxyAssignmentEndSerializer(serializers.ModelSerializer):
    """End an assignment or correct its dates (null `ends_on` reopens it). The child and the proxy
    parent do not change: a new assignment keeps the history."""

    starts_on = serializers.DateField(required=False, validators=[sane_date])
    ends_on = serializers.DateField(required=False, allow_null=True, validators=[sane_date])

    class Meta:
        model = ProxyAssignment
        fields = ["id", "school", "child", "proxy_parent", "starts_on", "ends_on", "created_at"]
        read_only_fields = ["id", "school", "child", "proxy_parent", "created_at"]


class ProxyAssignmentFilter(django_filters.FilterSet):
    child = django_filters.NumberFilter(field_name="child_id")
    proxy_parent = django_filters.NumberFilter(field_name="proxy_parent_id")
    current = django_filters.BooleanFilter(method="filter_current", label="Only assignments in force today")

    class Meta:
        model = ProxyAssignment
        fields = ["child", "proxy_parent", "current"]

    def filter_current(self, queryset, name, value):
        q = ProxyAssignment.active_q(timezone.localdate())
        return queryset.filter(q) if value else queryset.exclude(q)


@endable_schema(ProxyAssignmentEndSerializer,
                update="End the assignment or correct its dates (no overlap with the child's other "
                       "assignments; null ends_on reopens it).",
                partial_update="End the assignment or correct its dates.",
                create=extend_schema(description="Assign a child to a proxy parent; the previous assignment ends "
                                                 "the day before."))
class ProxyAssignmentViewSet(EndableRecordActions, ChildRecordViewSet, mixins.ListModelMixin,
                             mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = ProxyAssignment
    filterset_class = ProxyAssignmentFilter
    serializer_class = ProxyAssignmentSerializer
    end_serializer = ProxyAssignmentEndSerializer

    def scoped_queryset(self, queryset):
        return queryset.filter(child_q(self.request.user)).order_by("child", "-starts_on", "id")

    def create_via_service(self, data):
        return services.proxy_assignment_create(actor=self.request.user, request=self.request, **data)

    def update_via_service(self, instance, data):
        return services.proxy_assignment_update(actor=self.request.user, assignment=instance,
                                                request=self.request, **data)


class StaffProfileSerializer(SchoolOwnedSerializer):
    user = StaffUserField()

    class Meta:
        model = StaffProfile
        fields = ["id", "school", "user", "is_proxy_parent", "title"]
        read_only_fields = ["id"]
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["user"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class StaffProfileFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")
    user = django_filters.NumberFilter(field_name="user_id")
    is_proxy_parent = django_filters.BooleanFilter()

    class Meta:
        model = StaffProfile
        fields = ["school", "user", "is_proxy_parent"]


@extend_schema_view(create=extend_schema(description="Flag a staff member (e.g. as a proxy parent); "
                                                     "an existing profile is updated."))
class StaffProfileViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = StaffProfile
    serializer_class = StaffProfileSerializer
    filterset_class = StaffProfileFilter
    action_permissions = visible_and("manage_staff")

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("id")

    def create_via_service(self, data):
        return services.staff_profile_set(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.staff_profile_set(
            actor=self.request.user, school=instance.school, user=instance.user,
            is_proxy_parent=data.get("is_proxy_parent", instance.is_proxy_parent), title=data.get("title"))


# ---------------------------------------------------------------- work record book
class WorkRecordEntrySerializer(SchoolOwnedSerializer):
    child = IdentityChildField(required=False, allow_null=True)
    proxy_parent = UserRefSerializer(read_only=True)

    class Meta:
        model = WorkRecordEntry
        fields = ["id", "school", "proxy_parent", "date", "semester", "text", "child", "created_at"]
        read_only_fields = ["id", "proxy_parent", "semester", "created_at"]


class WorkRecordEntryFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")
    proxy_parent = django_filters.NumberFilter(field_name="proxy_parent_id")
    child = django_filters.NumberFilter(field_name="child_id")
    semester = django_filters.NumberFilter(field_name="semester_id")
    locals().update(date_range("date", "date"))

    class Meta:
        model = WorkRecordEntry
        fields = ["school", "proxy_parent", "child", "semester", "date_after", "date_before"]


@extend_schema_view(
    create=extend_schema(description="Write in your own work record book (proxy parents), "
                                     "optionally about one of your children."),
    update=extend_schema(description="Correct an entry (its author or the school admin)."),
    partial_update=extend_schema(description="Correct an entry (its author or the school admin)."),
    destroy=extend_schema(description="Delete an entry (its author or the school admin)."),
)
class WorkRecordEntryViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """A proxy parent reads and corrects their own book; the school admin reads and corrects every
    book of the school."""

    model = WorkRecordEntry
    serializer_class = WorkRecordEntrySerializer
    filterset_class = WorkRecordEntryFilter
    # Writes on an entry: the service decides (author or manage_children); anyone else sees no entry (404).
    action_permissions = visible_and(VISIBLE, (*UPDATES, "destroy"), create="record_contacts")

    def scoped_queryset(self, queryset):
        user = self.request.user
        perms = permissions_by_school(user)
        every = [sid for sid, p in perms.items() if "manage_children" in p]
        own = [sid for sid, p in perms.items() if "record_contacts" in p]
        return (queryset.filter(Q(school_id__in=every) | Q(school_id__in=own, proxy_parent=user))
                .select_related("proxy_parent").order_by("-date", "-id"))

    def create_via_service(self, data):
        with service_errors():
            return services.work_record_add(actor=self.request.user, request=self.request, **data)

    def update_via_service(self, instance, data):
        with service_errors():
            return services.work_record_update(actor=self.request.user, entry=instance, request=self.request, **data)

    def destroy_via_service(self, instance):
        services.work_record_delete(actor=self.request.user, entry=instance, request=self.request)
