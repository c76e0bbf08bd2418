"""The children's archive, status changes and consent refusals.

A child's fields are exactly `schools.selectors.child_fields` for the reader's level: the
serializers build their output from it and never from the model, so no role gets a field it may
not see. Lists always mask the ID number; each detail read goes through `services.child_read`,
which writes the access log.
"""
from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.response import Response

from schools import selectors as ss
from schools import services
from schools.models import Child, ChildStatusChange, ProxyAssignment
from tenancy.dates import past_date, sane_date

from ..base import ScopedViewSet, VisibleSchoolField, narrow
from ..tenancy import UserRefSerializer
from .common import (
    EDITS,
    UPDATES,
    ActionSerializers,
    ServiceActions,
    VisibleChildField,
    child_q,
    date_range,
    service_errors,
    visible_and,
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
    custody_type = serializers.ChoiceField(choices=Child.CustodyType.choices, read_only=True, required=False,
                                            allow_blank=True)
    guardianship_assessment = serializers.ChoiceField(choices=Child.Assessment.choices, read_only=True,
                                                      required=False, allow_blank=True)
    guardian_since = serializers.DateField(read_only=True, required=False, allow_null=True)
    parents_last_contact_on = serializers.DateField(read_only=True, required=False, allow_null=True)
    income_source = serializers.ChoiceField(choices=Child.IncomeSource.choices, read_only=True, required=False,
                                             allow_blank=True)
    assistance = serializers.ListField(child=serializers.ChoiceField(choices=Child.Assistance.choices),
                                       read_only=True, required=False)
    health_status = serializers.ChoiceField(choices=Child.Health.choices, read_only=True, required=False,
                                             allow_blank=True)
    disability = serializers.CharField(read_only=True, required=False)
    illness = serializers.CharField(read_only=True, required=False)
    household_registration = serializers.CharField(read_only=True, required=False)
    register_warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True, required=False,
        help_text="The civil-affairs register's warnings on the stored record (accepted, worth a second look).")

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
    # The civil-affairs register's fields; their cross-field rules are schools.register's (400 with
    # the field's message), its warnings come back in register_warnings.
    custody_type = serializers.ChoiceField(choices=Child.CustodyType.choices, required=False, allow_blank=True)
    guardianship_assessment = serializers.ChoiceField(choices=Child.Assessment.choices, required=False,
                                                      allow_blank=True)
    guardian_since = serializers.DateField(required=False, allow_null=True, validators=[past_date],
                                           help_text="Set to today by the server when the guardian changes "
                                                     "and no date is given.")
    parents_last_contact_on = serializers.DateField(required=False, allow_null=True, validators=[past_date])
    income_source = serializers.ChoiceField(choices=Child.IncomeSource.choices, required=False, allow_blank=True)
    assistance = serializers.ListField(child=serializers.ChoiceField(choices=Child.Assistance.choices),
                                       required=False, allow_empty=True)
    health_status = serializers.ChoiceField(choices=Child.Health.choices, required=False, allow_blank=True)
    disability = serializers.CharField(required=False, allow_blank=True, max_length=100)
    illness = serializers.CharField(required=False, allow_blank=True, max_length=100)
    household_registration = serializers.CharField(required=False, allow_blank=True, max_length=100)
    confirm_duplicate = serializers.BooleanField(
        required=False, write_only=True,
        help_text="On create: add the child although one with the same name and birth date is in the archive "
                  "(the answer without it is a 409 with code possible_duplicate).")

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields.pop("school")  # a child stays in its school
            fields.pop("confirm_duplicate")
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


class PossibleDuplicateConflict(exceptions.APIException):
    status_code = 409
    default_code = "possible_duplicate"


class PossibleDuplicateSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    confirm_with = serializers.CharField()


@extend_schema_view(
    list=extend_schema(description="Children you may see, each masked for your level; ID numbers always masked."),
    retrieve=extend_schema(responses=ChildDetailSerializer,
                           description="One child, masked for your level. Every read is written to the access log."),
    create=extend_schema(request=ChildWriteSerializer, responses={
        201: ChildSerializer, 409: OpenApiResponse(PossibleDuplicateSerializer, description=(
            "A child with the same name and birth date is in the archive: send confirm_duplicate to add it."))}),
    update=extend_schema(request=ChildWriteSerializer, responses=ChildSerializer),
    partial_update=extend_schema(request=ChildWriteSerializer, responses=ChildSerializer),
)
class ChildViewSet(ServiceActions, ChildLevelsMixin, ActionSerializers, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                   mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = Child
    filterset_class = ChildFilter
    action_permissions = visible_and("manage_children")
    serializer_class = ChildSerializer
    action_serializers = dict.fromkeys(EDITS, ChildWriteSerializer)

    def scoped_queryset(self, queryset):
        return narrow(queryset, ss.children_visible_to(self.request.user)).order_by("grade", "class_name", "name", "id")

    def retrieve(self, request, *args, **kwargs):
        child = self.get_object()
        with service_errors():
            view = services.child_read(user=request.user, pk=child.pk, request=request)
        return Response(ChildDetailSerializer(view, context=self.get_serializer_context()).data)

    create_service = staticmethod(services.child_create)
    update_service = staticmethod(services.child_update)
    instance_kwarg = "child"

    def create_via_service(self, data):
        try:
            return super().create_via_service(data)
        except services.PossibleDuplicate as exc:
            raise PossibleDuplicateConflict({"detail": " ".join(exc.messages), "code": services.PossibleDuplicate.code,
                                             "confirm_with": "confirm_duplicate"}) from None


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
    locals().update(date_range("since", "since"))

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
    action_permissions = visible_and("manage_children", ("create",))

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
    action_permissions = visible_and("manage_children", UPDATES)

    def scoped_queryset(self, queryset):
        return narrow(queryset, ss.children_with_identity_visible_to(self.request.user)).order_by(
            "grade", "class_name", "name", "id")

    def retrieve(self, request, *args, **kwargs):
        # The same Child rows as /children/<id>/: every detail read of a child is in the access log.
        child = self.get_object()
        services.child_read_log(user=request.user, child=child, request=request, via="consent")
        return Response(self.get_serializer(child).data)

    def update_via_service(self, instance, data):
        if "on" not in data:
            raise serializers.ValidationError({"on": [_("Give the date of the refusal.")]})
        return services.child_consent_refuse(actor=self.request.user, child=instance, on=data["on"],
                                             method=data.get("method", ""), request=self.request)
