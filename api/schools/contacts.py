"""The four kinds of care contact. Records about a child follow the child's personal record."""
from __future__ import annotations

import django_filters
from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from schools import selectors as ss
from schools import services
from schools.models import CareContact, Child

from ..schema import ApiErrorSerializer
from ..tenancy import UserRefSerializer
from .common import ServiceCheckedViewSet, child_q, date_range, service_errors


# ---------------------------------------------------------------- the four contacts
class CareContactSerializer(serializers.ModelSerializer):
    child = serializers.IntegerField(source="child_id",
                                     help_text="A child you may record contacts for (otherwise 404).")
    made_by = UserRefSerializer(read_only=True)
    evidence_count = serializers.IntegerField(read_only=True, default=0)
    version = serializers.IntegerField(
        required=False, min_value=1,
        help_text="Bumped by every edit. In an update, the version the edit started from: when the contact "
                  "changed meanwhile the edit is refused with 409 and the stored contact, never applied over it.")

    class Meta:
        model = CareContact
        fields = ["id", "school", "child", "kind", "happened_on", "semester", "made_by", "notes", "concern",
                  "concern_reason", "evidence_count", "version", "created_at", "updated_at"]
        extra_kwargs = {"concern_reason": {"help_text": "Required when concern is true (the teacher's 关注 flag)."}}
        read_only_fields = ["id", "school", "semester", "made_by", "evidence_count", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            # A contact stays about its child: one recorded for the wrong child is deleted instead.
            fields["child"] = serializers.IntegerField(source="child_id", read_only=True)
        return fields


class VersionConflict(exceptions.APIException):
    status_code = 409
    default_code = "version_conflict"

    def __init__(self, body: dict):
        super().__init__(body["detail"])
        self.detail = body  # as is: DRF would turn the stored contact's numbers into strings


class VersionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = CareContactSerializer(help_text="The contact as stored now, with its version.")


_CONFLICT = OpenApiResponse(VersionConflictSerializer, description="The contact changed since the version sent.")


class CareContactFilter(django_filters.FilterSet):
    child = django_filters.NumberFilter(field_name="child_id")
    kind = django_filters.ChoiceFilter(choices=CareContact.Kind.choices)
    semester = django_filters.NumberFilter(field_name="semester_id")
    made_by = django_filters.NumberFilter(field_name="made_by_id")
    class_name = django_filters.CharFilter(field_name="child__class_name")
    locals().update(date_range("happened_on", "happened"))

    class Meta:
        model = CareContact
        fields = ["child", "kind", "semester", "made_by", "class_name", "happened_after", "happened_before"]


@extend_schema_view(
    create=extend_schema(description="Record a contact: the school admin for any child, a teacher only for "
                                     "their assigned children (any other child is 404).",
                         responses={201: CareContactSerializer, 404: OpenApiResponse(
                             ApiErrorSerializer, description="No such child, or not one you may record contacts for.")}),
    update=extend_schema(description="Correct a contact's kind, date or notes (its author or the school admin); "
                                     "the same date rules as recording it. The child cannot be changed.",
                         responses={200: CareContactSerializer, 409: _CONFLICT}),
    partial_update=extend_schema(description="Correct a contact's kind, date or notes (its author or the school "
                                             "admin).", responses={200: CareContactSerializer, 409: _CONFLICT}),
    destroy=extend_schema(description="Undo a contact (its author or the school admin); its photos go with it."),
)
class CareContactViewSet(ServiceCheckedViewSet):
    # The services decide (child_for_contact): "not yours" is 404, never 403.
    model = CareContact
    serializer_class = CareContactSerializer
    filterset_class = CareContactFilter

    def scoped_queryset(self, queryset):
        return (queryset.filter(child_q(self.request.user)).select_related("made_by")
                .annotate(evidence_count=Count("evidence")).order_by("-happened_on", "-id"))

    def create_target(self, data):
        try:
            return ss.child_for_contact(self.request.user, data["child_id"]).school
        except Child.DoesNotExist:
            # Said the same way for a child that never existed: "not yours" reveals nothing.
            raise exceptions.NotFound(_("This child is not on your list (no such child, transferred, or now with "
                                        "another proxy parent): the contact was not recorded.")) from None

    def create_via_service(self, data):
        with service_errors():
            return services.care_contact_record(
                actor=self.request.user, child_id=data["child_id"], kind=data["kind"],
                happened_on=data["happened_on"], notes=data.get("notes", ""), concern=data.get("concern", False),
                concern_reason=data.get("concern_reason", ""), request=self.request)

    def update_via_service(self, instance, data):
        expected = data.pop("version", None)
        try:
            with service_errors():
                return services.care_contact_update(actor=self.request.user, contact=instance, request=self.request,
                                                    expected_version=expected, **data)
        except services.ContactVersionConflict as conflict:
            current = CareContactSerializer(conflict.current, context=self.get_serializer_context()).data
            raise VersionConflict({"detail": _("This contact was changed elsewhere since you started editing it."),
                                   "current": current}) from None

    def destroy_via_service(self, instance):
        with service_errors():
            services.care_contact_delete(actor=self.request.user, contact=instance, request=self.request)
