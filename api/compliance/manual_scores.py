"""Manual item scores and their audit trail."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from compliance import selectors as compliance_selectors
from compliance import services
from compliance.models import (
    ManualScore,
    ManualScoreChange,
)
from tenancy import selectors

from ..base import VISIBLE, ReadOnlyScopedViewSet, ScopedViewSet, VisibleSchoolField
from ._common import ManualScoreChangeFilter, ManualScoreFilter, VisibleAssessmentField


class ManualScoreSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True)
    scored_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ManualScore
        fields = ["id", "assessment", "school", "item", "score", "comment", "evidence_ids", "scored_by", "scored_at"]
        read_only_fields = fields


class ManualScoreWriteSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    evidence_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)

    def to_representation(self, instance):
        return ManualScoreSerializer(instance, context=self.context).data


class ManualScoreCreateSerializer(ManualScoreWriteSerializer):
    assessment = VisibleAssessmentField()
    school = VisibleSchoolField()
    item = serializers.CharField(max_length=32, help_text="The manual item's code, e.g. E3.")


class ManualScoreViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin):
    """POST records an inspector's score (with comment) for a manual item at a school; PUT/PATCH
    changes it (score null withdraws it). Every change lands in the audit trail."""

    model = ManualScore
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "score_manual_items", "update": "score_manual_items", "partial_update": "score_manual_items",
    }
    filterset_class = ManualScoreFilter

    def scoped_queryset(self, queryset):
        return queryset.filter(
            assessment__in=compliance_selectors.assessments_visible_to(self.request.user),
        ).select_related("school", "item", "scored_by").order_by("assessment_id", "school_id", "item__position")

    def get_serializer_class(self):
        if self.action == "create":
            return ManualScoreCreateSerializer
        if self.action in ("update", "partial_update"):
            return ManualScoreWriteSerializer
        return ManualScoreSerializer

    @extend_schema(responses={201: ManualScoreCreateSerializer, 200: OpenApiResponse(
        ManualScoreCreateSerializer, description="The school's item was scored already: that score was changed.")})
    def create(self, request, *args, **kwargs):
        # Validate first: the lookup below must only ever see clean values (raw input with a NUL
        # byte in `item` was a database error, a 500).
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existed = ManualScore.objects.filter(
            assessment=data["assessment"], school=data["school"], item__code=data["item"],
            school_id__in=selectors.school_ids_for_user(request.user)).exists()
        self.perform_create(serializer)
        # The same (school, item) scored again is an update of the existing row.
        return Response(serializer.data, status=200 if existed else 201)

    def create_via_service(self, data):
        return services.manual_score_set(
            assessment=data["assessment"], school=data["school"], item_code=data["item"], score=data["score"],
            comment=data.get("comment", ""), evidence_ids=data.get("evidence_ids"), actor=self.request.user)

    def update_via_service(self, instance, data):
        score = data["score"] if "score" in data else instance.score
        return services.manual_score_set(
            assessment=instance.assessment, school=instance.school, item_code=instance.item.code, score=score,
            comment=data.get("comment", instance.comment), evidence_ids=data.get("evidence_ids", instance.evidence_ids),
            actor=self.request.user)


class ManualScoreChangeSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code", read_only=True)
    changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ManualScoreChange
        fields = ["id", "assessment", "school", "item", "changed_by", "changed_at", "old_score", "new_score",
                  "old_comment", "comment", "evidence_ids"]
        read_only_fields = fields


class ManualScoreChangeViewSet(ReadOnlyScopedViewSet):
    """The audit trail of manual scores (append-only)."""

    model = ManualScoreChange
    serializer_class = ManualScoreChangeSerializer
    filterset_class = ManualScoreChangeFilter

    def scoped_queryset(self, queryset):
        return queryset.filter(
            assessment__in=compliance_selectors.assessments_visible_to(self.request.user),
        ).select_related("item", "changed_by").order_by("changed_at", "id")
