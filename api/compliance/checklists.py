"""Checklist versions: list, read, import or new draft, publish, the YAML file."""
from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers

from compliance import downloads, services
from compliance.models import (
    ChecklistItem,
    ChecklistVersion,
)
from tenancy.downloads import download_response

from ..base import VISIBLE, ScopedViewSet, VisibleDistrictField, scoped_filterset
from ._common import CHECKLIST_PERMISSIONS, StatusChangeSerializer, VisibleChecklistVersionField


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


class ChecklistStatusSerializer(StatusChangeSerializer):
    status = serializers.CharField(help_text="\"published\": publish the draft (refused if it has errors).")
    allowed = ChecklistVersion.Status.PUBLISHED
    detail_serializer = ChecklistVersionDetailSerializer


class ChecklistViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin):
    model = ChecklistVersion
    action_permissions = {**CHECKLIST_PERMISSIONS, "yaml_export": VISIBLE}
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
