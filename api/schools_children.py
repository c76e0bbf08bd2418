"""API for the children's archive and everything about one child (issue #3, "Who sees what").

- A child's fields are exactly `schools.selectors.child_fields` for the reader's level: the
  serializers build their output from it and never from the model, so no role gets a field it
  may not see. Lists always mask the ID number; each detail read goes through
  `services.child_read`, which writes the access log.
- Records about a child (status history, refusals, assignments, contacts) follow the child's
  personal record: school admin, explicit identity grant, or the child's current proxy parent.
  The materials clerk and the bureau without an identity grant get 404.
"""
from __future__ import annotations

import django_filters
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from schools import selectors as ss
from schools import services
from schools.models import (
    CareContact, Child, ChildStatusChange, ProxyAssignment, StaffProfile, StudyPair, TutoringSession,
    WorkRecordEntry,
)
from tenancy.dates import past_date, sane_date
from tenancy.models import AccessLog
from tenancy.selectors import permissions_by_school
from tenancy.services import access_log_record

from .base import VISIBLE, ScopedViewSet, VisibleSchoolField, narrow
from .schema import ApiErrorSerializer
from .schools_common import (
    IdentityChildField, SchoolOwnedSerializer, SchoolOwnedViewSet, StaffUserField, UserRefSerializer,
    VisibleChildField, child_q, service_errors,
)


# ---------------------------------------------------------------- children
class ChildSerializer(serializers.Serializer):
    """A child as the reader may see it. Every field but id/name/grade/class/status depends on the
    reader's level and is absent when not allowed."""

    id = serializers.IntegerField(read_only=True)
    school = serializers.IntegerField(read_only=True)
    level = serializers.ChoiceField(choices=[ss.ADMIN, ss.IDENTITY, ss.PROXY, ss.BASIC], read_only=True,
                                    help_text="What the reader may see: admin, identity, proxy or basic.")
    name = serializers.CharField(read_only=True)
    grade = serializers.IntegerField(read_only=True)
    class_name = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Child.Status.choices, read_only=True)
    gender = serializers.ChoiceField(choices=Child.Gender.choices, read_only=True, required=False)
    birth_date = serializers.DateField(read_only=True, required=False, allow_null=True)
    id_number = serializers.CharField(read_only=True, required=False,
                                      help_text="Full for the school admin (detail only); masked otherwise.")
    left_behind_kind = serializers.ChoiceField(choices=Child.LeftBehindKind.choices, read_only=True, required=False)
    parents_work_place = serializers.CharField(read_only=True, required=False)
    guardian_name = serializers.CharField(read_only=True, required=False)
    guardian_relation = serializers.CharField(read_only=True, required=False)
    guardian_phone = serializers.CharField(read_only=True, required=False)
    second_contact_name = serializers.CharField(read_only=True, required=False)
    second_contact_phone = serializers.CharField(read_only=True, required=False)
    home_village = serializers.CharField(read_only=True, required=False)
    health_notes = serializers.CharField(read_only=True, required=False)
    wellbeing_notes = serializers.CharField(read_only=True, required=False,
                                            help_text="Only for the school admin and the child's proxy parent.")
    consent = serializers.ChoiceField(choices=Child.Consent.choices, read_only=True, required=False)
    consent_date = serializers.DateField(read_only=True, required=False, allow_null=True)
    consent_method = serializers.CharField(read_only=True, required=False)
    status_since = serializers.DateField(read_only=True, required=False)
    purged_at = serializers.DateTimeField(read_only=True, required=False, allow_null=True)

    def to_representation(self, child):
        levels, assigned = self.context["child_levels"]
        level = ss.child_level_in(levels, assigned, child)
        data = ss.child_fields(child, level)
        if "id_number" in data:
            # Lists never show a full ID number, whoever reads them (no bulk copy of identities).
            data["id_number"] = child.id_number_masked
        return {"school": child.school_id, "level": level, **data}


class StatusHistorySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Child.Status.choices)
    since = serializers.DateField(validators=[sane_date])
    note = serializers.CharField()


class ChildDetailSerializer(ChildSerializer):
    proxy_parent = UserRefSerializer(read_only=True, allow_null=True)
    can_edit = serializers.BooleanField(read_only=True)
    can_record_contacts = serializers.BooleanField(read_only=True)
    status_history = StatusHistorySerializer(many=True, read_only=True)

    def to_representation(self, view: ss.ChildView):
        child = view.child
        return {
            "school": child.school_id, "level": view.level, **view.data,
            "proxy_parent": UserRefSerializer(view.proxy_parent).data if view.proxy_parent else None,
            "can_edit": view.can_edit, "can_record_contacts": view.can_record_contacts,
            "status_history": [{"status": h.status, "since": h.since, "note": h.note} for h in view.status_history],
        }


class ChildWriteSerializer(serializers.Serializer):
    """Create or edit a child (school admin). Optional sensitive fields are refused after a consent refusal."""

    school = VisibleSchoolField()
    name = serializers.CharField(max_length=64)
    gender = serializers.ChoiceField(choices=Child.Gender.choices)
    birth_date = serializers.DateField(required=False, allow_null=True, validators=[past_date])
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=32, write_only=True)
    grade = serializers.IntegerField(min_value=1, max_value=9)
    class_name = serializers.CharField(max_length=32)
    left_behind_kind = serializers.ChoiceField(choices=Child.LeftBehindKind.choices)
    parents_work_place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    guardian_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    guardian_relation = serializers.CharField(required=False, allow_blank=True, max_length=32)
    guardian_phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    second_contact_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    second_contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    home_village = serializers.CharField(required=False, allow_blank=True, max_length=100)
    health_notes = serializers.CharField(required=False, allow_blank=True)
    wellbeing_notes = serializers.CharField(required=False, allow_blank=True)
    consent_date = serializers.DateField(required=False, allow_null=True, validators=[past_date])
    consent_method = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields.pop("school")  # a child stays in its school
        return fields

    def to_representation(self, child):
        return ChildSerializer(child, context=self.context).data


class ChildFilter(django_filters.FilterSet):
    class_name = django_filters.CharFilter()
    grade = django_filters.NumberFilter()
    status = django_filters.ChoiceFilter(choices=Child.Status.choices)
    consent = django_filters.ChoiceFilter(choices=Child.Consent.choices)
    left_behind_kind = django_filters.ChoiceFilter(choices=Child.LeftBehindKind.choices)
    school = django_filters.NumberFilter(field_name="school_id")
    proxy_parent = django_filters.NumberFilter(method="filter_proxy_parent", label="Current proxy parent (user id)")

    class Meta:
        model = Child
        fields = ["class_name", "grade", "status", "consent", "left_behind_kind", "school", "proxy_parent"]

    def filter_proxy_parent(self, queryset, name, value):
        current = ProxyAssignment.objects.filter(ProxyAssignment.active_q(timezone.localdate()), proxy_parent_id=value)
        return queryset.filter(id__in=current.values("child_id"))


class ChildLevelsMixin:
    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False) or not self.request.user.is_authenticated:
            context["child_levels"] = ({}, set())
        else:
            context["child_levels"] = ss.child_levels(self.request.user)
        return context


@extend_schema_view(
    list=extend_schema(description="Children you may see, each masked for your level; ID numbers always masked."),
    retrieve=extend_schema(responses=ChildDetailSerializer,
                           description="One child, masked for your level. Every read is written to the access log."),
    create=extend_schema(request=ChildWriteSerializer, responses={201: ChildSerializer}),
    update=extend_schema(request=ChildWriteSerializer, responses=ChildSerializer),
    partial_update=extend_schema(request=ChildWriteSerializer, responses=ChildSerializer),
)
class ChildViewSet(ChildLevelsMixin, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = Child
    filterset_class = ChildFilter
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_children", "update": "manage_children", "partial_update": "manage_children",
    }

    def get_serializer_class(self):
        return ChildWriteSerializer if self.action in ("create", "update", "partial_update") else ChildSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, ss.children_visible_to(self.request.user)).order_by("grade", "class_name", "name", "id")

    def retrieve(self, request, *args, **kwargs):
        child = self.get_object()
        with service_errors():
            view = services.child_read(user=request.user, pk=child.pk, request=request)
        return Response(ChildDetailSerializer(view, context=self.get_serializer_context()).data)

    def create_via_service(self, data):
        return services.child_create(actor=self.request.user, request=self.request, **data)

    def update_via_service(self, instance, data):
        return services.child_update(actor=self.request.user, child=instance, request=self.request, **data)


# ---------------------------------------------------------------- status changes and consent refusals
class ChildStatusChangeSerializer(serializers.ModelSerializer):
    child = VisibleChildField()
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChildStatusChange
        fields = ["id", "school", "child", "status", "since", "note", "recorded_by", "created_at"]
        read_only_fields = ["id", "school", "recorded_by", "created_at"]


class ChildStatusChangeFilter(django_filters.FilterSet):
    child = django_filters.NumberFilter(field_name="child_id")
    status = django_filters.ChoiceFilter(choices=Child.Status.choices)
    since_after = django_filters.DateFilter(field_name="since", lookup_expr="gte", validators=[sane_date])
    since_before = django_filters.DateFilter(field_name="since", lookup_expr="lte", validators=[sane_date])

    class Meta:
        model = ChildStatusChange
        fields = ["child", "status", "since_after", "since_before"]


class ChildRecordViewSet(ScopedViewSet):
    """Records about one child: created against a child the user can see."""

    abstract = True

    def create_target(self, data):
        return data["child"].school


@extend_schema_view(create=extend_schema(description="Change a child's status (school admin); leaving ends "
                                                     "the proxy assignment and study pairs."))
class ChildStatusChangeViewSet(ChildRecordViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                               mixins.CreateModelMixin):
    model = ChildStatusChange
    serializer_class = ChildStatusChangeSerializer
    filterset_class = ChildStatusChangeFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "manage_children"}

    def scoped_queryset(self, queryset):
        return (queryset.filter(child_q(self.request.user)).select_related("recorded_by")
                .order_by("child", "since", "id"))

    def create_via_service(self, data):
        child = data.pop("child")
        services.child_status_set(actor=self.request.user, child=child, request=self.request, **data)
        return child.status_history.order_by("-id").first()


class ConsentSerializer(serializers.Serializer):
    """A child's consent state (ids are the children's ids). Writing records a refusal."""

    id = serializers.IntegerField(read_only=True, help_text="The child's id.")
    school = serializers.IntegerField(read_only=True, source="school_id")
    consent = serializers.ChoiceField(choices=Child.Consent.choices, read_only=True)
    consent_date = serializers.DateField(read_only=True, allow_null=True)
    consent_method = serializers.CharField(read_only=True)
    on = serializers.DateField(write_only=True, help_text="When the guardian refused.", validators=[past_date])
    method = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=100, default="")


class ConsentFilter(django_filters.FilterSet):
    consent = django_filters.ChoiceFilter(choices=Child.Consent.choices)
    school = django_filters.NumberFilter(field_name="school_id")
    class_name = django_filters.CharFilter()

    class Meta:
        model = Child
        fields = ["consent", "school", "class_name"]


@extend_schema_view(
    update=extend_schema(description="Record the guardian's refusal (school admin): the child's optional "
                                     "sensitive fields are cleared and can no longer be stored."),
    partial_update=extend_schema(description="Record the guardian's refusal (school admin)."),
)
class ConsentViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    model = Child
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "update": "manage_children",
                          "partial_update": "manage_children"}

    def scoped_queryset(self, queryset):
        return narrow(queryset, ss.children_with_identity_visible_to(self.request.user)).order_by(
            "grade", "class_name", "name", "id")

    def retrieve(self, request, *args, **kwargs):
        # The same Child rows as /children/<id>/: every detail read of a child is in the access log.
        child = self.get_object()
        access_log_record(user=request.user, school_id=child.school_id, action=AccessLog.Action.VIEW, obj=child,
                          request=request, detail={"via": "consent"})
        return Response(self.get_serializer(child).data)

    def update_via_service(self, instance, data):
        if "on" not in data:
            raise serializers.ValidationError({"on": [_("Give the date of the refusal.")]})
        return services.child_consent_refuse(actor=self.request.user, child=instance, on=data["on"],
                                             method=data.get("method", ""), request=self.request)


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


@extend_schema_view(
    create=extend_schema(description="Assign a child to a proxy parent; the previous assignment ends the day before."),
    update=extend_schema(request=ProxyAssignmentEndSerializer,
                         description="End the assignment or correct its dates (no overlap with the child's "
                                     "other assignments; null ends_on reopens it)."),
    partial_update=extend_schema(request=ProxyAssignmentEndSerializer,
                                 description="End the assignment or correct its dates."),
)
class ProxyAssignmentViewSet(ChildRecordViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = ProxyAssignment
    filterset_class = ProxyAssignmentFilter
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_children", "update": "manage_children", "partial_update": "manage_children",
    }

    def get_serializer_class(self):
        return ProxyAssignmentEndSerializer if self.action in ("update", "partial_update") else ProxyAssignmentSerializer

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
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_staff", "update": "manage_staff", "partial_update": "manage_staff",
    }

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("id")

    def create_via_service(self, data):
        return services.staff_profile_set(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.staff_profile_set(
            actor=self.request.user, school=instance.school, user=instance.user,
            is_proxy_parent=data.get("is_proxy_parent", instance.is_proxy_parent), title=data.get("title"))


# ---------------------------------------------------------------- the four contacts
class CareContactSerializer(serializers.ModelSerializer):
    child = serializers.IntegerField(source="child_id",
                                     help_text="A child you may record contacts for (otherwise 404).")
    made_by = UserRefSerializer(read_only=True)
    evidence_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = CareContact
        fields = ["id", "school", "child", "kind", "happened_on", "semester", "made_by", "notes", "evidence_count",
                  "created_at"]
        read_only_fields = ["id", "school", "semester", "made_by", "evidence_count", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # A contact stays about its child: one recorded for the wrong child is deleted instead.
            fields["child"] = serializers.IntegerField(source="child_id", read_only=True)
        return fields


class CareContactFilter(django_filters.FilterSet):
    child = django_filters.NumberFilter(field_name="child_id")
    kind = django_filters.ChoiceFilter(choices=CareContact.Kind.choices)
    semester = django_filters.NumberFilter(field_name="semester_id")
    made_by = django_filters.NumberFilter(field_name="made_by_id")
    class_name = django_filters.CharFilter(field_name="child__class_name")
    happened_after = django_filters.DateFilter(field_name="happened_on", lookup_expr="gte", validators=[sane_date])
    happened_before = django_filters.DateFilter(field_name="happened_on", lookup_expr="lte", validators=[sane_date])

    class Meta:
        model = CareContact
        fields = ["child", "kind", "semester", "made_by", "class_name", "happened_after", "happened_before"]


@extend_schema_view(
    create=extend_schema(description="Record a contact: the school admin for any child, a teacher only for "
                                     "their assigned children (any other child is 404).",
                         responses={201: CareContactSerializer, 404: OpenApiResponse(
                             ApiErrorSerializer, description="No such child, or not one you may record contacts for.")}),
    update=extend_schema(description="Correct a contact's kind, date or notes (its author or the school admin); "
                                     "the same date rules as recording it. The child cannot be changed."),
    partial_update=extend_schema(description="Correct a contact's kind, date or notes (its author or the school "
                                             "admin)."),
    destroy=extend_schema(description="Undo a contact (its author or the school admin); its photos go with it."),
)
class CareContactViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    model = CareContact
    serializer_class = CareContactSerializer
    filterset_class = CareContactFilter
    # The services decide (child_for_contact): "not yours" is 404, never 403.
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": VISIBLE, "update": VISIBLE,
                          "partial_update": VISIBLE, "destroy": VISIBLE}

    def scoped_queryset(self, queryset):
        return (queryset.filter(child_q(self.request.user)).select_related("made_by")
                .annotate(evidence_count=Count("evidence")).order_by("-happened_on", "-id"))

    def create_target(self, data):
        with service_errors():
            return ss.child_for_contact(self.request.user, data["child_id"]).school

    def create_via_service(self, data):
        with service_errors():
            return services.care_contact_record(
                actor=self.request.user, child_id=data["child_id"], kind=data["kind"],
                happened_on=data["happened_on"], notes=data.get("notes", ""), request=self.request)

    def update_via_service(self, instance, data):
        with service_errors():
            return services.care_contact_update(actor=self.request.user, contact=instance, request=self.request,
                                                **data)

    def destroy_via_service(self, instance):
        with service_errors():
            services.care_contact_delete(actor=self.request.user, contact=instance, request=self.request)


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
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", validators=[sane_date])
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", validators=[sane_date])

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
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "record_contacts",
                          "update": VISIBLE, "partial_update": VISIBLE, "destroy": VISIBLE}

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


# ---------------------------------------------------------------- study support
class StudyPairSerializer(SchoolOwnedSerializer):
    teacher = StaffUserField()
    child = VisibleChildField()
    starts_on = serializers.DateField(required=False, help_text="Default: today.", validators=[sane_date])
    session_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = StudyPair
        fields = ["id", "school", "teacher", "child", "starts_on", "ends_on", "subject", "session_count"]
        read_only_fields = ["id", "ends_on", "session_count"]
        validators: list = []


class StudyPairEndSerializer(serializers.ModelSerializer):
    """End a pair or correct its dates or subject (null `ends_on` reopens it); the teacher and the
    child do not change."""

    starts_on = serializers.DateField(required=False, validators=[sane_date])
    ends_on = serializers.DateField(required=False, allow_null=True, validators=[sane_date])
    subject = serializers.CharField(required=False, allow_blank=True, max_length=32)

    class Meta:
        model = StudyPair
        fields = ["id", "school", "teacher", "child", "starts_on", "ends_on", "subject"]
        read_only_fields = ["id", "school", "teacher", "child"]


class StudyPairFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")
    teacher = django_filters.NumberFilter(field_name="teacher_id")
    child = django_filters.NumberFilter(field_name="child_id")
    current = django_filters.BooleanFilter(field_name="ends_on", lookup_expr="isnull", label="Still running")

    class Meta:
        model = StudyPair
        fields = ["school", "teacher", "child", "current"]


def study_pairs_for(user):
    """Pairs of children whose personal record the user may read, plus the user's own pairs as the
    teacher (the rule and its reasons: schools.selectors.study_pairs_visible_to). A materials clerk
    sees no pair and no tutoring notes."""
    from tenancy.selectors import school_ids_for_user

    visible = ss.children_with_identity_visible_to(user).values("id")
    return StudyPair.objects.filter(school_id__in=school_ids_for_user(user)).filter(
        Q(child_id__in=visible) | Q(teacher=user))


@extend_schema_view(
    update=extend_schema(request=StudyPairEndSerializer,
                         description="End the pair or correct its dates or subject; its tutoring sessions "
                                     "must stay inside the dates."),
    partial_update=extend_schema(request=StudyPairEndSerializer,
                                 description="End the pair or correct its dates or subject."),
)
class StudyPairViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = StudyPair
    filterset_class = StudyPairFilter
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_children", "update": "manage_children", "partial_update": "manage_children",
    }

    def get_serializer_class(self):
        return StudyPairEndSerializer if self.action in ("update", "partial_update") else StudyPairSerializer

    def scoped_queryset(self, queryset):
        return (narrow(queryset, study_pairs_for(self.request.user)).annotate(session_count=Count("sessions"))
                .order_by("-starts_on", "id"))

    def create_via_service(self, data):
        return services.study_pair_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.study_pair_update(actor=self.request.user, pair=instance, request=self.request, **data)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePairField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return study_pairs_for(self.context["request"].user)


class TutoringSessionSerializer(serializers.ModelSerializer):
    pair = VisiblePairField()

    class Meta:
        model = TutoringSession
        fields = ["id", "school", "pair", "date", "semester", "minutes", "notes"]
        read_only_fields = ["id", "school", "semester"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["pair"] = serializers.PrimaryKeyRelatedField(read_only=True)  # a session stays in its pair
        return fields


class TutoringSessionFilter(django_filters.FilterSet):
    pair = django_filters.NumberFilter(field_name="pair_id")
    semester = django_filters.NumberFilter(field_name="semester_id")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", validators=[sane_date])
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", validators=[sane_date])

    class Meta:
        model = TutoringSession
        fields = ["pair", "semester", "date_after", "date_before"]


@extend_schema_view(
    create=extend_schema(description="The paired teacher or the school admin records a session."),
    update=extend_schema(description="Correct a session (the paired teacher or the school admin); "
                                     "the date stays inside the pair's dates."),
    partial_update=extend_schema(description="Correct a session (the paired teacher or the school admin)."),
    destroy=extend_schema(description="Delete a session (the paired teacher or the school admin)."),
)
class TutoringSessionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    model = TutoringSession
    serializer_class = TutoringSessionSerializer
    filterset_class = TutoringSessionFilter
    # The service decides: the pair's teacher, or whoever manages the archive.
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": VISIBLE,
                          "update": VISIBLE, "partial_update": VISIBLE, "destroy": VISIBLE}

    def scoped_queryset(self, queryset):
        return (queryset.filter(pair_id__in=study_pairs_for(self.request.user).values("id"))
                .order_by("-date", "-id"))

    def create_target(self, data):
        return data["pair"].school

    def create_via_service(self, data):
        return services.tutoring_session_record(actor=self.request.user, request=self.request, **data)

    def update_via_service(self, instance, data):
        return services.tutoring_session_update(actor=self.request.user, session=instance, request=self.request,
                                                **data)

    def destroy_via_service(self, instance):
        services.tutoring_session_delete(actor=self.request.user, session=instance, request=self.request)


VIEWSETS = [
    ("children", ChildViewSet),
    ("child-status-changes", ChildStatusChangeViewSet),
    ("child-consents", ConsentViewSet),
    ("proxy-assignments", ProxyAssignmentViewSet),
    ("staff-profiles", StaffProfileViewSet),
    ("care-contacts", CareContactViewSet),
    ("work-record-entries", WorkRecordEntryViewSet),
    ("study-pairs", StudyPairViewSet),
    ("tutoring-sessions", TutoringSessionViewSet),
]
