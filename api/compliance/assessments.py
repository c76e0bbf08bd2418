"""Assessments: create, read, lock."""
from __future__ import annotations

import django_filters
from rest_framework import mixins, serializers

from compliance import selectors as compliance_selectors
from compliance import services
from compliance.models import (
    Assessment,
)
from tenancy.dates import sane_date

from ..base import ScopedViewSet, VisibleDistrictField, VisibleSchoolField, id_filter, narrow, scoped_filterset
from ._common import CHECKLIST_PERMISSIONS, StatusChangeSerializer, VisibleChecklistVersionField, VisibleSemesterField


class AssessmentSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="open or locked")

    class Meta:
        model = Assessment
        fields = ["id", "district", "root_school", "checklist_version", "title", "school_semester", "semester_label",
                  "semester_start", "semester_end", "status", "revision", "created_at", "locked_at"]
        read_only_fields = fields


class AssessmentCreateSerializer(serializers.Serializer):
    district = VisibleDistrictField()
    checklist_version = VisibleChecklistVersionField()
    title = serializers.CharField(max_length=200)
    semester = VisibleSemesterField(required=False, allow_null=True)
    semester_label = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    semester_start = serializers.DateField(required=False, allow_null=True, validators=[sane_date])
    semester_end = serializers.DateField(required=False, allow_null=True, validators=[sane_date])
    root_school = VisibleSchoolField(required=False, allow_null=True)

    def to_representation(self, instance):
        return AssessmentSerializer(instance, context=self.context).data


class AssessmentStatusSerializer(StatusChangeSerializer):
    status = serializers.CharField(help_text="\"locked\": lock the assessment (a final snapshot; then nothing changes).")
    allowed = Assessment.Status.LOCKED
    detail_serializer = AssessmentSerializer


class AssessmentViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin):
    model = Assessment
    action_permissions = CHECKLIST_PERMISSIONS
    filterset_class = scoped_filterset(Assessment, district=id_filter("district"),
                                       status=django_filters.ChoiceFilter(choices=Assessment.Status.choices))

    def scoped_queryset(self, queryset):
        return narrow(queryset, compliance_selectors.assessments_visible_to(self.request.user)).order_by(
            "-semester_start", "id")

    def get_serializer_class(self):
        if self.action == "create":
            return AssessmentCreateSerializer
        if self.action in ("update", "partial_update"):
            return AssessmentStatusSerializer
        return AssessmentSerializer

    def create_via_service(self, data):
        return services.assessment_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.assessment_lock(assessment=instance, actor=self.request.user)
