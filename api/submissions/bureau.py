"""The bureau's copied-narrative flags, the user's notifications and the district exports."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers

from notices import selectors as notice_selectors
from notices import services as notice_services
from notices.models import Notification
from submissions import downloads, selectors, services
from submissions.models import (
    DistrictExport,
    SimilarityFlag,
)
from tenancy.downloads import download_response

from ..base import VISIBLE, ReadOnlyScopedViewSet, ScopedViewSet, id_filter, narrow, scoped_filterset
from ..schema import XLSX_MEDIA_TYPE
from .lifecycle import _id


class SimilarityFlagSerializer(serializers.ModelSerializer):
    school_a = serializers.SerializerMethodField()
    school_b = serializers.SerializerMethodField()

    class Meta:
        model = SimilarityFlag
        fields = ["id", "report_type", "submission_a", "submission_b", "school_a", "school_b", "score", "passages",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_school_a(self, obj) -> dict:
        return {"id": obj.school_id, "name": obj.school.name}

    def get_school_b(self, obj) -> dict:
        return {"id": obj.school_b_id, "name": obj.school_b.name}


class SimilarityFlagViewSet(ReadOnlyScopedViewSet):
    """Near-duplicate narratives, for the bureau: both schools, the score and the shared passages."""

    model = SimilarityFlag
    serializer_class = SimilarityFlagSerializer
    filterset_class = scoped_filterset(SimilarityFlag, report_type=_id("report_type"))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.similarity_flags_visible_to(self.request.user)).order_by("-score", "id")



class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "link", "is_read", "created_at", "read_at"]
        read_only_fields = ["id", "kind", "text", "link", "created_at", "read_at"]


class NotificationViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.UpdateModelMixin):
    """The user's own inbox. PATCH {"is_read": true} marks one read."""

    model = Notification
    serializer_class = NotificationSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "update": VISIBLE, "partial_update": VISIBLE}
    filterset_class = scoped_filterset(Notification, is_read=django_filters.BooleanFilter())

    def scoped_queryset(self, queryset):
        # Within the user's districts (the base's filter), their own inbox only.
        return narrow(queryset, notice_selectors.notifications_for(user=self.request.user))

    def update_via_service(self, instance, data):
        if data.get("is_read"):
            notice_services.notification_mark_read(user=self.request.user, notification_ids=[instance.pk])
        instance.refresh_from_db()
        return instance



@extend_schema_field(OpenApiTypes.INT)
class VisiblePeriodField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.periods_visible_to(self.context["request"].user)


class DistrictExportSerializer(serializers.ModelSerializer):
    period = VisiblePeriodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = DistrictExport
        fields = ["id", "district", "report_type", "period", "trigger", "status", "progress", "rows", "error",
                  "download", "created_at", "started_at", "finished_at"]
        read_only_fields = [f for f in fields if f != "period"]

    def get_download(self, obj) -> str | None:
        from django.urls import reverse

        return reverse("api:v1:district-exports-download", args=[obj.pk]) if obj.status == "done" else None


class DistrictExportViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin):
    """Consolidated exports of one period across the district (history kept). POST {period} runs
    one; poll its progress; `GET district-exports/<id>/download/` downloads the XLSX."""

    model = DistrictExport
    serializer_class = DistrictExportSerializer
    # Reading and downloading: the bureau's readers (the inspector too); running one: the bureau admin.
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "review_submissions", "download": VISIBLE}
    filterset_class = scoped_filterset(DistrictExport, report_type=id_filter("report_type"), period=id_filter("period"),
                                       trigger=django_filters.ChoiceFilter(choices=DistrictExport.Trigger.choices),
                                       status=django_filters.ChoiceFilter(choices=DistrictExport.Status.choices))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.district_exports_visible_to(self.request.user))

    def create_target(self, data):
        return data["period"].report_type.district

    def create_via_service(self, data):
        return services.district_export_request(actor=self.request.user, period=data["period"])

    @extend_schema(responses={(200, XLSX_MEDIA_TYPE): bytes})
    def download(self, request, pk=None):
        """The same read action as the web page (submissions.downloads.district_export_file)."""
        export = self.get_object()
        return download_response(downloads.district_export_file(user=request.user, export=export, request=request))
