"""What the compliance endpoints share: related fields limited to what the user sees, filters."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance import selectors as compliance_selectors
from compliance.models import (
    ManualScore,
    ManualScoreChange,
)
from schools.models import Semester
from tenancy import selectors


@extend_schema_field(OpenApiTypes.INT)
class VisibleChecklistVersionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return compliance_selectors.checklist_versions_visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleAssessmentField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return compliance_selectors.assessments_visible_to(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisibleSemesterField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        districts = selectors.districts_visible_to(self.context["request"].user)
        return Semester.objects.filter(district__in=districts)


class _SchoolRowFilter(django_filters.FilterSet):
    """Declared filters: django-filter's automatic ones would query the school-owned model's
    manager at class creation, outside any scope (django-scopes refuses that)."""

    assessment = django_filters.NumberFilter(field_name="assessment_id")
    school = django_filters.NumberFilter(field_name="school_id")


class ManualScoreFilter(_SchoolRowFilter):
    class Meta:
        model = ManualScore
        fields: list = []


class ManualScoreChangeFilter(_SchoolRowFilter):
    class Meta:
        model = ManualScoreChange
        fields: list = []


def _decimal(value):
    return None if value is None else str(value)
