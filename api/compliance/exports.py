"""Compliance exports: run one, follow it, download the workbook."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from compliance import downloads, services
from compliance.models import (
    ComplianceExport,
)
from tenancy import selectors
from tenancy.downloads import NotReady, download_response

from ..base import VISIBLE, ScopedViewSet, id_filter, scoped_filterset
from ..schema import XLSX_MEDIA_TYPE, ApiErrorSerializer
from ._common import VisibleAssessmentField


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
