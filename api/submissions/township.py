"""Township packages: a centre school's roll-up of its village schools' approved reports.
POST {school, period} asks for a compile (validated first: every village school approved); poll
the package's progress; `GET township-packages/<id>/download/<xlsx|docx>/` downloads a file."""
from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from submissions import services
from submissions.models import TownshipPackage
from submissions.township import downloads as township_downloads
from submissions.township import selectors as township
from tenancy.downloads import download_response

from ..base import VISIBLE, ScopedViewSet, VisibleSchoolField, id_filter, narrow, scoped_filterset
from ..schema import DOCX_MEDIA_TYPE, XLSX_MEDIA_TYPE
from .bureau import VisiblePeriodField


class TownshipPackageSerializer(serializers.ModelSerializer):
    school = VisibleSchoolField(help_text="The centre school whose village schools' reports are rolled up.")
    period = VisiblePeriodField()
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = TownshipPackage
        fields = ["id", "school", "report_type", "period", "version", "status", "is_current", "progress", "note",
                  "error", "schools", "downloads", "created_at", "started_at", "finished_at"]
        read_only_fields = [f for f in fields if f not in ("school", "period")]

    def get_downloads(self, obj) -> dict:
        from django.urls import reverse

        if obj.status != TownshipPackage.Status.DONE:
            return {}
        return {kind: reverse("api:v1:township-packages-download", args=[obj.pk, kind])
                for kind in (obj.files or {}) if kind in township_downloads.KINDS}


class TownshipPackageViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin):
    """Township packages of the centre schools in whose reporting the user takes part (the centre's
    staff, its township admin, the bureau). Compiling one is the township admin's (approve_reports);
    asking again with nothing changed returns the same package."""

    model = TownshipPackage
    serializer_class = TownshipPackageSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": township.COMPILE_PERM,
                          "download": VISIBLE}
    filterset_class = scoped_filterset(TownshipPackage, school=id_filter("school"), period=id_filter("period"),
                                       report_type=id_filter("report_type"),
                                       is_current=django_filters.BooleanFilter())

    def scoped_queryset(self, queryset):
        return narrow(queryset, township.township_packages_visible_to(self.request.user)).order_by(
            "school_id", "-period_id", "-version")

    def create_target(self, data):
        return data["school"]

    def create_via_service(self, data):
        return services.township_package_request(actor=self.request.user, centre=data["school"],
                                                 period=data["period"])

    @extend_schema(responses={(200, XLSX_MEDIA_TYPE): bytes, (200, DOCX_MEDIA_TYPE): bytes})
    def download(self, request, pk=None, kind=None):
        """The same read action as the web page (submissions.township.downloads.township_file)."""
        package = self.get_object()
        return download_response(township_downloads.township_file(user=request.user, package=package, kind=kind,
                                                                  request=request))
