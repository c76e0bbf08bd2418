"""The minors'-data paperwork under /api/v1/: the consent register, guardians' requests and the
school's data officer. School admins only (manage_children); everyone else sees no rows (404 on
a detail). Every detail read of a consent record or a request is access-logged (SensitiveRecord)."""
from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from privacy import selectors, services
from privacy.models import ConsentRecord, DataOfficer, GuardianRequest
from tenancy.dates import past_date, sane_date

from .base import ScopedViewSet, VisibleSchoolField, scoped_filterset
from .schools.common import IdentityChildField

PERM = services.PERMISSION


class AdminOnlyViewSet(ScopedViewSet):
    """Rows of the schools where the user keeps the children's archive."""

    abstract = True

    def scoped_queryset(self, queryset):
        return queryset.filter(school_id__in=selectors.manageable_school_ids(self.request.user))


# ---------------------------------------------------------------- consent records
class ConsentRecordSerializer(serializers.ModelSerializer):
    child = IdentityChildField()
    decided_on = serializers.DateField(validators=[past_date])

    class Meta:
        model = ConsentRecord
        fields = ["id", "school", "child", "decision", "guardian_name", "guardian_relation", "method", "decided_on",
                  "limits", "recorded_by", "created_at"]
        read_only_fields = ["id", "school", "recorded_by", "created_at"]


@extend_schema_view(create=extend_schema(
    description="Record a guardian's decision (school admin). The child's consent follows it; a refusal or "
                "withdrawal clears the child's optional sensitive fields at once."))
class ConsentRecordViewSet(AdminOnlyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin):
    model = ConsentRecord
    serializer_class = ConsentRecordSerializer
    filterset_class = scoped_filterset(ConsentRecord, child=django_filters.NumberFilter(field_name="child_id"),
                                       decision=django_filters.ChoiceFilter(choices=ConsentRecord.Decision.choices))
    action_permissions = {"list": PERM, "retrieve": PERM, "create": PERM}

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).select_related("child").order_by("child", "-decided_on", "-id")

    def create_target(self, data):
        return data["child"].school

    def create_via_service(self, data):
        return services.consent_record(actor=self.request.user, request=self.request, **data)


# ---------------------------------------------------------------- guardian requests
class GuardianRequestSerializer(serializers.ModelSerializer):
    child = IdentityChildField()
    received_on = serializers.DateField(validators=[past_date])
    due_on = serializers.DateField(required=False, allow_null=True, validators=[sane_date],
                                   help_text="Default: received_on + PRIVACY_GUARDIAN_REQUEST_DAYS.")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = GuardianRequest
        fields = ["id", "school", "child", "child_label", "kind", "requester_name", "requester_relation",
                  "received_on", "due_on", "status", "outcome", "closed_on", "handled_by", "overdue"]
        read_only_fields = ["id", "school", "child_label", "status", "outcome", "closed_on", "handled_by"]

    def get_overdue(self, obj) -> bool:
        return selectors.is_overdue(obj)


class GuardianRequestCloseSerializer(GuardianRequestSerializer):
    """Closing a request: done or refused, with the outcome. Closing a deletion request as done
    deletes the child's personal data (the retention purge's rule) in the same transaction."""

    child = serializers.PrimaryKeyRelatedField(read_only=True)
    received_on = serializers.DateField(read_only=True)
    due_on = serializers.DateField(read_only=True)
    status = serializers.ChoiceField(choices=[GuardianRequest.Status.DONE, GuardianRequest.Status.REFUSED])
    outcome = serializers.CharField(max_length=2000)
    closed_on = serializers.DateField(required=False, allow_null=True, validators=[past_date])

    class Meta(GuardianRequestSerializer.Meta):
        read_only_fields = ["id", "school", "child", "child_label", "kind", "requester_name", "requester_relation",
                            "received_on", "due_on", "handled_by"]


@extend_schema_view(
    create=extend_schema(description="Record a guardian's request to see, correct or delete a child's data."),
    update=extend_schema(request=GuardianRequestCloseSerializer, description="Close a request with its outcome. "
                         "A deletion request closed as done deletes the child's personal data."),
    partial_update=extend_schema(request=GuardianRequestCloseSerializer, description="Close a request."),
)
class GuardianRequestViewSet(AdminOnlyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = GuardianRequest
    serializer_class = GuardianRequestSerializer
    filterset_class = scoped_filterset(
        GuardianRequest, status=django_filters.ChoiceFilter(choices=GuardianRequest.Status.choices),
        kind=django_filters.ChoiceFilter(choices=GuardianRequest.Kind.choices),
        child=django_filters.NumberFilter(field_name="child_id"))
    action_permissions = {"list": PERM, "retrieve": PERM, "create": PERM, "update": PERM, "partial_update": PERM}

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return GuardianRequestCloseSerializer
        return GuardianRequestSerializer

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).select_related("child").order_by("status", "due_on", "id")

    def create_target(self, data):
        return data["child"].school

    def create_via_service(self, data):
        child = data.pop("child")
        return services.guardian_request_create(actor=self.request.user, school=child.school, child=child,
                                                request=self.request, **data)

    def update_via_service(self, instance, data):
        if "status" not in data or "outcome" not in data:
            raise serializers.ValidationError({"status": [_("Choose the result and write the outcome.")]})
        return services.guardian_request_close(actor=self.request.user, req=instance, status=data["status"],
                                               outcome=data["outcome"], closed_on=data.get("closed_on"),
                                               request=self.request)


# ---------------------------------------------------------------- the data officer
class DataOfficerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    school = VisibleSchoolField(required=False, help_text="On create; a change keeps the school.")
    user = serializers.IntegerField(source="user_id", required=False, allow_null=True,
                                    help_text="A staff member of the school (or give a name).")
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    appointed_on = serializers.DateField(validators=[past_date])
    appointed_by = serializers.IntegerField(source="appointed_by_id", read_only=True, allow_null=True)


@extend_schema_view(create=extend_schema(
    description="Name the school's person responsible for children's data (school admin); one per school: "
                "to name another, change the existing record."))
class DataOfficerViewSet(AdminOnlyViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = DataOfficer
    serializer_class = DataOfficerSerializer
    action_permissions = {"list": PERM, "retrieve": PERM, "create": PERM, "update": PERM, "partial_update": PERM}

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).select_related("user").order_by("school", "id")

    def _set(self, school, data, current=None):
        user_id = data.get("user_id", current.user_id if current else None)
        user = selectors.staff_of_school(school).filter(pk=user_id).first() if user_id else None
        if user_id and user is None:
            raise serializers.ValidationError({"user": [_("Choose a staff member of this school.")]})
        return services.data_officer_set(
            actor=self.request.user, school=school, user=user, request=self.request,
            name=data.get("name", current.name if current else ""),
            phone=data.get("phone", current.phone if current else ""),
            appointed_on=data.get("appointed_on", current.appointed_on if current else None))

    def create_via_service(self, data):
        # One per school: naming another is a change of the existing row (PUT/PATCH).
        if selectors.data_officer(data["school"]) is not None:
            raise serializers.ValidationError({"school": [_("This school has named its person already; change "
                                                            "that record instead.")]})
        return self._set(data["school"], data)

    def update_via_service(self, instance, data):
        return self._set(instance.school, data, current=instance)


VIEWSETS = [
    ("consent-records", ConsentRecordViewSet),
    ("guardian-requests", GuardianRequestViewSet),
    ("data-officers", DataOfficerViewSet),
]


def register(router) -> None:
    for prefix, viewset in VIEWSETS:
        router.register(prefix, viewset, basename=prefix)


extra_patterns: list = []
