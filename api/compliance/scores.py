"""Live scores and snapshots of an assessment."""
from __future__ import annotations

import django_filters
from django.db.models import F
from django.utils.translation import gettext as _
from rest_framework import exceptions, mixins, serializers

from compliance import selectors as compliance_selectors
from compliance import services
from compliance.models import (
    Assessment,
    Snapshot,
    SnapshotSchool,
)
from compliance.scoring import assessment_scores
from tenancy import selectors
from tenancy.models import School

from ..base import VISIBLE, ReadOnlyScopedViewSet, ScopedViewSet, id_filter, scoped_filterset
from ._common import VisibleAssessmentField, _decimal


def _assessment_param(request) -> Assessment | None:
    """?assessment=<id> among the visible ones (404 otherwise); default: the latest visible."""
    qs = compliance_selectors.assessments_visible_to(request.user)
    raw = request.query_params.get("assessment")
    if raw:
        try:
            return qs.get(pk=int(raw))
        except (ValueError, Assessment.DoesNotExist):
            raise exceptions.NotFound(_("No such assessment.")) from None
    # The latest semester; within it the district-wide assessment before subtree ones.
    return qs.order_by("-semester_start", F("root_school").asc(nulls_first=True), "-id").first()


class ScoreSerializer(serializers.Serializer):
    """One school's live score in an assessment (`id` is the school's id)."""

    id = serializers.IntegerField(source="pk")

    def to_representation(self, school):
        scores = self.context["scores"]
        row = scores["schools"][school.pk]
        data = {
            "id": school.pk, "assessment": scores["assessment_id"], "name": row["name"], "code": row["code"],
            "score": _decimal(row["score"]), "rank": row["rank"], "earned": _decimal(row["earned"]),
            "applicable_points": _decimal(row["applicable_points"]), "lost": _decimal(row["lost"]),
            "pending": row["pending"], "declared_total": _decimal(scores["declared_total"]),
            "computed_at": scores["computed_at"], "source": scores["source"],
        }
        if self.context.get("with_items"):
            data["items"] = [
                {"code": it["code"], "title_zh": it["title_zh"], "title_en": it["title_en"],
                 "points": _decimal(it["points"]), "score": _decimal(row["items"][it["code"]]["score"]),
                 "value": row["items"][it["code"]]["value"], "status": row["items"][it["code"]]["status"],
                 "lost": _decimal(row["items"][it["code"]]["lost"])}
                for it in scores["items"]]
        return data


class ScoreViewSet(ReadOnlyScopedViewSet):
    """GET /compliance/scores/?assessment=<id>: the live scores of the schools the user sees (a
    school its own row, a township its subtree, the bureau its district); /{school id}/ adds the
    items. Computed for the whole assessment once (cached briefly), then filtered."""

    model = School
    serializer_class = ScoreSerializer

    def _scores(self):
        if not hasattr(self, "_scores_cache"):
            assessment = _assessment_param(self.request)
            self._scores_cache = (assessment, assessment_scores(assessment) if assessment else None)
        return self._scores_cache

    def scoped_queryset(self, queryset):
        assessment, scores = self._scores()
        if assessment is None:
            return queryset.none()
        # The schools the user sees (the base's filter) that the assessment scored.
        return queryset.filter(id__in=list(scores["schools"])).order_by("path")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["scores"] = self._scores()[1]
            context["with_items"] = self.action == "retrieve"
        return context



class SnapshotSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="nightly, lock or manual")

    class Meta:
        model = Snapshot
        fields = ["id", "assessment", "kind", "taken_at", "taken_by", "school_count"]
        read_only_fields = fields


class SnapshotDetailSerializer(SnapshotSerializer):
    schools = serializers.SerializerMethodField(help_text="The rows of the schools you can see.")

    class Meta(SnapshotSerializer.Meta):
        fields = SnapshotSerializer.Meta.fields + ["schools"]
        read_only_fields = fields

    def get_schools(self, snapshot) -> list[dict]:
        ids = selectors.school_ids_for_user(self.context["request"].user)
        rows = SnapshotSchool.objects.filter(snapshot=snapshot, school_id__in=ids).order_by("rank", "school_id")
        return [{"school": r.school_id, "score": _decimal(r.score), "earned": _decimal(r.earned),
                 "applicable_points": _decimal(r.applicable_points), "rank": r.rank} for r in rows]


class SnapshotCreateSerializer(serializers.Serializer):
    assessment = VisibleAssessmentField()

    def to_representation(self, instance):
        return SnapshotDetailSerializer(instance, context=self.context).data


class SnapshotViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    model = Snapshot
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "manage_checklists"}
    filterset_class = scoped_filterset(Snapshot, assessment=id_filter("assessment"),
                                       kind=django_filters.ChoiceFilter(choices=Snapshot.Kind.choices))

    def scoped_queryset(self, queryset):
        visible = compliance_selectors.assessments_visible_to(self.request.user)
        return queryset.filter(assessment__in=visible).select_related("assessment__district").order_by(
            "-taken_at", "-id")

    def create_target(self, data):
        return data["assessment"].district

    def get_serializer_class(self):
        if self.action == "create":
            return SnapshotCreateSerializer
        if self.action == "retrieve":
            return SnapshotDetailSerializer
        return SnapshotSerializer

    def create_via_service(self, data):
        return services.snapshot_take(assessment=data["assessment"], actor=self.request.user)
