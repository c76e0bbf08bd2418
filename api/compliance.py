"""API for compliance (issue #4): checklists (YAML in and out), assessments, live scores, snapshots,
manual item scores with their audit trail, and exports.

Every endpoint is a ScopedViewSet with the standard actions only, so the generic isolation test
runs all of them; state changes are modelled as writes on the resource:
- publish a draft: PATCH /compliance/checklists/{id}/ {"status": "published"};
- a new draft version: POST /compliance/checklists/ {"based_on": id} (or {"district", "yaml"} to import);
- lock an assessment: PATCH /compliance/assessments/{id}/ {"status": "locked"};
- take a snapshot now: POST /compliance/snapshots/ {"assessment": id};
- run an export now: POST /compliance/exports/ {"assessment": id}.
Two GET-only paths sit outside the router: a checklist's YAML file and an export's workbook.

Reads come from compliance.selectors / tenancy.selectors, writes from compliance.services.
"""
from __future__ import annotations

import django_filters
from django.db.models import F
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.response import Response

from compliance import downloads, services
from compliance import selectors as compliance_selectors
from compliance.models import (
    Assessment, ChecklistItem, ChecklistVersion, ComplianceExport, ManualScore, ManualScoreChange, Snapshot,
    SnapshotSchool,
)
from compliance.scoring import assessment_scores
from schools.models import Semester
from tenancy import selectors
from tenancy.dates import sane_date
from tenancy.downloads import NotReady, download_response
from tenancy.models import School

from .base import (VISIBLE, ScopedViewSet, VisibleDistrictField, VisibleSchoolField, id_filter, narrow,
                   scoped_filterset)
from .schema import XLSX_MEDIA_TYPE, ApiErrorSerializer


# ---------------------------------------------------------------- related fields
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


# ---------------------------------------------------------------- checklists
class ChecklistItemSerializer(serializers.ModelSerializer):
    section = serializers.CharField(source="section.code", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "code", "section", "title_zh", "title_en", "requirement_zh", "requirement_en", "points",
                  "check_method", "scoring", "metric", "rule", "threshold", "target", "bands", "position"]
        read_only_fields = fields


class ChecklistVersionSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="draft or published")
    district = serializers.IntegerField(source="checklist.district_id", read_only=True)
    code = serializers.CharField(source="checklist.code", read_only=True)

    class Meta:
        model = ChecklistVersion
        fields = ["id", "district", "code", "number", "status", "title_zh", "title_en", "declared_total", "based_on",
                  "digest", "created_at", "published_at"]
        read_only_fields = fields


class ChecklistVersionDetailSerializer(ChecklistVersionSerializer):
    items = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField(help_text="Validation errors; a draft with errors cannot be published.")

    class Meta(ChecklistVersionSerializer.Meta):
        fields = ChecklistVersionSerializer.Meta.fields + ["items", "errors"]
        read_only_fields = fields

    def get_items(self, version) -> list[dict]:
        items = version.items.select_related("section").order_by("section__position", "position", "id")
        return ChecklistItemSerializer(items, many=True).data

    def get_errors(self, version) -> list[dict]:
        if version.is_published:
            return []
        return [_error_row(e) for e in services.checklist_version_errors(version)]


def _error_row(error) -> dict:
    return {"where": str(error.where), "item": error.item, "field": error.field, "message": str(error.message)}


class ChecklistCreateSerializer(serializers.Serializer):
    """Either a YAML document to import as the district's draft, or `based_on`: a new draft version
    copied from a published one."""

    district = VisibleDistrictField(required=False, allow_null=True)
    yaml = serializers.CharField(required=False, allow_blank=False, trim_whitespace=False)
    based_on = VisibleChecklistVersionField(required=False, allow_null=True)

    def validate(self, attrs):
        if bool(attrs.get("yaml")) == bool(attrs.get("based_on")):
            raise serializers.ValidationError(_("Send either `yaml` (with `district`) or `based_on`."))
        if attrs.get("yaml") and not attrs.get("district"):
            raise serializers.ValidationError({"district": [_("Name the district the checklist belongs to.")]})
        if attrs.get("based_on"):
            attrs["district"] = attrs["based_on"].checklist.district
        return attrs

    def to_representation(self, instance):
        return ChecklistVersionDetailSerializer(instance, context=self.context).data


def _only(value: str, allowed: str) -> str:
    if value != allowed:
        raise serializers.ValidationError(_("The only change allowed here is to “%(s)s”.") % {"s": allowed})
    return value


class ChecklistStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="\"published\": publish the draft (refused if it has errors).")

    def validate_status(self, value):
        return _only(value, ChecklistVersion.Status.PUBLISHED)

    def to_representation(self, instance):
        return ChecklistVersionDetailSerializer(instance, context=self.context).data


class ChecklistViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin):
    model = ChecklistVersion
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE, "yaml_export": VISIBLE,
        "create": "manage_checklists", "update": "manage_checklists", "partial_update": "manage_checklists",
    }
    filterset_class = scoped_filterset(ChecklistVersion,
                                       status=django_filters.ChoiceFilter(choices=ChecklistVersion.Status.choices),
                                       number=django_filters.NumberFilter())

    def scoped_queryset(self, queryset):
        # Every user of a district reads its checklists: exactly the base's tenant filter.
        return queryset.select_related("checklist__district").order_by("checklist__district_id", "checklist__code",
                                                                       "number")

    def get_serializer_class(self):
        if self.action == "create":
            return ChecklistCreateSerializer
        if self.action in ("update", "partial_update"):
            return ChecklistStatusSerializer
        if self.action == "retrieve":
            return ChecklistVersionDetailSerializer
        return ChecklistVersionSerializer

    def create_via_service(self, data):
        user = self.request.user
        if data.get("based_on"):
            return services.checklist_version_new_draft(version=data["based_on"], actor=user)
        try:
            return services.checklist_import_yaml(district=data["district"], text=data["yaml"], actor=user)
        except services.ChecklistInvalid as exc:
            raise exceptions.ValidationError({"errors": [_error_row(e) for e in exc.errors_list]}) from None

    def update_via_service(self, instance, data):
        try:
            return services.checklist_version_publish(version=instance, actor=self.request.user)
        except services.ChecklistInvalid as exc:
            raise exceptions.ValidationError({"errors": [_error_row(e) for e in exc.errors_list]}) from None

    # The file is one YAML mapping (the checklist); clients that parse YAML get an object.
    @extend_schema(responses={(200, "application/yaml"): OpenApiResponse(
        OpenApiTypes.OBJECT, description="The checklist version as a YAML document (a mapping).")})
    def yaml_export(self, request, pk=None):
        """GET /compliance/checklists/{id}/yaml/: the version as a YAML file."""
        version = self.get_object()
        return download_response(downloads.checklist_yaml(user=request.user, version=version, request=request))


# ---------------------------------------------------------------- assessments
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


class AssessmentStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="\"locked\": lock the assessment (a final snapshot; then nothing changes).")

    def validate_status(self, value):
        return _only(value, Assessment.Status.LOCKED)

    def to_representation(self, instance):
        return AssessmentSerializer(instance, context=self.context).data


class AssessmentViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin):
    model = Assessment
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_checklists", "update": "manage_checklists", "partial_update": "manage_checklists",
    }
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


# ---------------------------------------------------------------- live scores
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


class ScoreViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """GET /compliance/scores/?assessment=<id>: the live scores of the schools the user sees (a
    school its own row, a township its subtree, the bureau its district); /{school id}/ adds the
    items. Computed for the whole assessment once (cached briefly), then filtered."""

    model = School
    serializer_class = ScoreSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}

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


# ---------------------------------------------------------------- snapshots
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


# ---------------------------------------------------------------- manual item scores
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


class ManualScoreChangeViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The audit trail of manual scores (append-only)."""

    model = ManualScoreChange
    serializer_class = ManualScoreChangeSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}
    filterset_class = ManualScoreChangeFilter

    def scoped_queryset(self, queryset):
        return queryset.filter(
            assessment__in=compliance_selectors.assessments_visible_to(self.request.user),
        ).select_related("item", "changed_by").order_by("changed_at", "id")


# ---------------------------------------------------------------- exports
class ExportSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="queued, running, done or failed")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplianceExport
        fields = ["id", "assessment", "status", "progress", "scheduled", "error", "created_at", "started_at",
                  "finished_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        if job.status != ComplianceExport.Status.DONE:
            return None
        from django.urls import reverse

        return reverse("api:v1:compliance-exports-download", args=[job.pk])


class ExportCreateSerializer(serializers.Serializer):
    assessment = VisibleAssessmentField()

    def to_representation(self, instance):
        return ExportSerializer(instance, context=self.context).data


class ExportViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Export history (bureau users with aggregate access), run one now (a Celery job; poll the
    detail for status and progress), and download the workbook when done."""

    model = ComplianceExport
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "download": VISIBLE, "create": "manage_checklists"}
    filterset_class = scoped_filterset(ComplianceExport, assessment=id_filter("assessment"),
                                       status=django_filters.ChoiceFilter(choices=ComplianceExport.Status.choices))

    def scoped_queryset(self, queryset):
        user = self.request.user
        districts = [d.id for d in selectors.districts_visible_to(user)
                     if selectors.has_district_perm(user, "view_aggregates", d)]
        return queryset.filter(assessment__district_id__in=districts).select_related(
            "assessment__district").order_by("-created_at", "-id")

    def create_target(self, data):
        return data["assessment"].district

    def get_serializer_class(self):
        return ExportCreateSerializer if self.action == "create" else ExportSerializer

    def create_via_service(self, data):
        return services.export_request(assessment=data["assessment"], actor=self.request.user)

    @extend_schema(responses={
        (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        409: OpenApiResponse(ApiErrorSerializer, description="The export is not ready yet."),
    })
    def download(self, request, pk=None):
        """GET /compliance/exports/{id}/download/: the workbook (children masked inside); the same
        read action as the web page (compliance.downloads.export_file)."""
        job = self.get_object()
        try:
            download = downloads.export_file(user=request.user, job=job, request=request)
        except NotReady as exc:
            return Response({"detail": str(exc)}, status=409)
        return download_response(download)


def register(router) -> None:
    router.register("compliance/checklists", ChecklistViewSet, basename="compliance-checklists")
    router.register("compliance/assessments", AssessmentViewSet, basename="compliance-assessments")
    router.register("compliance/scores", ScoreViewSet, basename="compliance-scores")
    router.register("compliance/snapshots", SnapshotViewSet, basename="compliance-snapshots")
    router.register("compliance/manual-scores", ManualScoreViewSet, basename="compliance-manual-scores")
    router.register("compliance/manual-score-changes", ManualScoreChangeViewSet,
                    basename="compliance-manual-score-changes")
    router.register("compliance/exports", ExportViewSet, basename="compliance-exports")


# GET-only file downloads: each is an ExtraRoute of its isolation case (tests/api/cases_compliance.py).
extra_patterns = [
    path("compliance/checklists/<int:pk>/yaml/", ChecklistViewSet.as_view({"get": "yaml_export"}),
         name="compliance-checklists-yaml"),
    path("compliance/exports/<int:pk>/download/", ExportViewSet.as_view({"get": "download"}),
         name="compliance-exports-download"),
]
