"""Audit packs: request one, follow its progress, download the DOCX or XLSX."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from privacyaudit import downloads, selectors, services
from privacyaudit.models import AuditPack
from privacyaudit.selectors.access import BUILD_PERM
from tenancy.downloads import NotReady, download_response

from ..base import VISIBLE, ScopedViewSet, VisibleDistrictField, id_filter, narrow, scoped_filterset
from ..schema import DOCX_MEDIA_TYPE, XLSX_MEDIA_TYPE, ApiErrorSerializer


class AuditPackSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="queued, running, done or failed")
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = AuditPack
        fields = ["id", "district", "year", "version", "trigger", "status", "progress", "note", "error",
                  "created_at", "started_at", "finished_at", "downloads"]
        read_only_fields = fields

    def get_downloads(self, pack) -> dict[str, str]:
        if pack.status != AuditPack.Status.DONE:
            return {}
        from django.urls import reverse

        return {kind: reverse("api:v1:audit-packs-download", args=[pack.pk, kind]) for kind in downloads.KINDS}


class AuditPackCreateSerializer(serializers.Serializer):
    district = VisibleDistrictField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)

    def to_representation(self, instance):
        return AuditPackSerializer(instance, context=self.context).data


class AuditPackViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """A district's audit packs (the bureau admin and inspector). POST {district, year} builds a new
    version (the bureau admin); poll the detail for status and progress; download when done."""

    model = AuditPack
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "download": VISIBLE, "create": BUILD_PERM}
    filterset_class = scoped_filterset(AuditPack, district=id_filter("district"),
                                       year=django_filters.NumberFilter(field_name="year"),
                                       status=django_filters.ChoiceFilter(choices=AuditPack.Status.choices))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.packs_visible_to(self.request.user).order_by("-created_at", "-id"))

    def get_serializer_class(self):
        return AuditPackCreateSerializer if self.action == "create" else AuditPackSerializer

    def create_via_service(self, data):
        return services.audit_pack_request(actor=self.request.user, district=data["district"], year=data["year"],
                                           request=self.request)

    @extend_schema(responses={
        (200, DOCX_MEDIA_TYPE): OpenApiTypes.BINARY,
        (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        409: OpenApiResponse(ApiErrorSerializer, description="The pack is not built yet."),
    })
    def download(self, request, pk=None, kind=""):
        """The same read action as the web page (privacyaudit.downloads.pack_file)."""
        pack = self.get_object()
        try:
            download = downloads.pack_file(user=request.user, pack=pack, kind=kind, request=request)
        except NotReady as exc:
            return Response({"detail": str(exc)}, status=409)
        return download_response(download)
