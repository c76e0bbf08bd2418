"""Package versions: compile, follow, download; and the narratives they are compiled from."""
from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers

from submissions import downloads, selectors, services
from submissions.models import (
    Narrative,
    PackageVersion,
)
from submissions.narrative import SECTION_KEYS
from tenancy.downloads import download_response

from ..base import VISIBLE, ScopedViewSet, narrow, scoped_filterset
from ..schema import DOCX_MEDIA_TYPE, XLSX_MEDIA_TYPE
from .lifecycle import VisibleSubmissionField, _id


class PackageVersionSerializer(serializers.ModelSerializer):
    submission = VisibleSubmissionField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = PackageVersion
        fields = ["id", "submission", "version", "status", "is_current", "progress", "note", "error",
                  "figures", "downloads", "created_at", "started_at", "finished_at"]
        read_only_fields = [f for f in fields if f != "submission"]

    def get_downloads(self, obj) -> dict:
        from django.urls import reverse

        if obj.status != PackageVersion.Status.DONE:
            return {}
        return {kind: reverse("api:v1:package-versions-download", args=[obj.pk, kind]) for kind in (obj.files or {})}


class PackageVersionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin):
    """Compiled packages. POST {submission} asks for a compile (the job runs in a worker; poll the
    version's progress). `GET package-versions/<id>/download/<xlsx|docx>/` downloads a file."""

    model = PackageVersion
    serializer_class = PackageVersionSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "submit_reports", "download": VISIBLE}
    filterset_class = scoped_filterset(PackageVersion, submission=_id("submission"), status=django_filters.CharFilter(),
                                       is_current=django_filters.BooleanFilter())

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.package_versions_visible_to(self.request.user)).order_by(
            "submission_id", "-version")

    def create_target(self, data):
        return data["submission"].school

    def create_via_service(self, data):
        return services.submission_compile_request(actor=self.request.user, submission=data["submission"])

    @extend_schema(responses={(200, XLSX_MEDIA_TYPE): bytes, (200, DOCX_MEDIA_TYPE): bytes})
    def download(self, request, pk=None, kind=None):
        """The same read action as the web page (submissions.downloads.package_file)."""
        version = self.get_object()
        return download_response(downloads.package_file(user=request.user, version=version, kind=kind,
                                                        request=request))



class NarrativeSerializer(serializers.ModelSerializer):
    submission = VisibleSubmissionField()
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True))
    section_keys = serializers.SerializerMethodField()

    class Meta:
        model = Narrative
        fields = ["id", "submission", "sections", "section_keys", "digest", "version", "updated_at"]
        read_only_fields = ["id", "digest", "updated_at"]
        extra_kwargs = {"version": {"required": False, "min_value": 0,
                                    "help_text": "The version the edit started from; a stale one is refused with 409."}}

    def get_section_keys(self, obj) -> list[str]:
        return SECTION_KEYS


class NarrativeUpdateSerializer(NarrativeSerializer):
    submission = serializers.PrimaryKeyRelatedField(read_only=True)


class NarrativeConflictError(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


class NarrativeViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin):
    """The school's own narrative paragraphs by section (intro, s1 … s7, closing); editable until sent."""

    model = Narrative
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "submit_reports",
                          "update": "submit_reports", "partial_update": "submit_reports"}
    filterset_class = scoped_filterset(Narrative, submission=_id("submission"))

    def get_serializer_class(self):
        return NarrativeUpdateSerializer if self.action in ("update", "partial_update") else NarrativeSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.narratives_visible_to(self.request.user)).order_by("submission_id")

    def create_target(self, data):
        return data["submission"].school

    def create_via_service(self, data):
        return self._save(data["submission"], data["sections"], data.get("version"))

    def update_via_service(self, instance, data):
        return self._save(instance.submission, data.get("sections", instance.sections), data.get("version"))

    def _save(self, submission, sections, version):
        try:
            return services.narrative_update(actor=self.request.user, submission=submission, sections=sections,
                                             version=version)
        except services.NarrativeConflict as exc:
            raise NarrativeConflictError(" ".join(exc.messages)) from None
