"""What the compliance endpoints share: related fields limited to what the user sees, filters,
the one-way status change."""
from __future__ import annotations

from typing import ClassVar

import django_filters
from django.utils.translation import gettext as _
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

from ..base import VISIBLE


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


# Who reads and who edits checklists and assessments: the same bureau role does both.
CHECKLIST_PERMISSIONS = {
    "list": VISIBLE, "retrieve": VISIBLE,
    **dict.fromkeys(("create", "update", "partial_update"), "manage_checklists"),
}


class StatusChangeSerializer(serializers.Serializer):
    """A PATCH of `status` to the one state it may move to (publish, lock); the answer is the
    object as `detail_serializer` shows it. Subclasses redeclare `status` with its help text."""

    allowed: ClassVar[str]
    detail_serializer: ClassVar[type[serializers.Serializer]]
    status = serializers.CharField()

    def validate_status(self, value):
        if value != self.allowed:
            raise serializers.ValidationError(_("The only change allowed here is to “%(s)s”.") % {"s": self.allowed})
        return value

    def to_representation(self, instance):
        return self.detail_serializer(instance, context=self.context).data


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
