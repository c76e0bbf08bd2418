"""API for submissions (issue #5): the reporting calendar, submissions and their lifecycle,
package versions (compile, download), narratives, the bureau's matrix and similarity flags,
notifications and the consolidated district exports.

Lifecycle actions are resources, so every one runs through the generic isolation test:
- compile = POST /package-versions/ {submission};
- submit / accept / return / unlock = POST /submission-events/ {submission, action, comment};
- a narrative is PUT /narratives/<id>/ (or POSTed the first time);
- a district export is POST /district-exports/ {period}.
Downloads and the matrix are extra GET routes on the same viewsets (same queryset, same checks).
"""
from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.response import Response

from submissions import downloads, selectors, services
from submissions.models import (
    DistrictExport, Narrative, Notification, PackageVersion, Period, ReportKind, ReportType, SimilarityFlag, Submission,
    SubmissionEvent,
)
from submissions.narrative import SECTION_KEYS
from tenancy.dates import sane_date
from tenancy.downloads import download_response

from .base import VISIBLE, ScopedViewSet, VisibleDistrictField, VisibleSchoolField, id_filter, narrow, scoped_filterset
from .schema import DOCX_MEDIA_TYPE, XLSX_MEDIA_TYPE


# ---------------------------------------------------------------- report types and periods
class ReportTypeSerializer(serializers.ModelSerializer):
    district = VisibleDistrictField()
    schools = VisibleSchoolField(many=True, required=False)

    class Meta:
        model = ReportType
        fields = ["id", "district", "name", "code", "kind", "period_type", "start_on", "end_on", "explicit_dates",
                  "open_offset_days", "due_offset_days", "timely_within_days", "lock_after_days",
                  "remind_days_before", "schools", "is_active", "created_at"]
        read_only_fields = ["id", "is_active", "created_at"]
        validators: list = []


class ReportTypeUpdateSerializer(ReportTypeSerializer):
    """Once periods exist only these may change (the rules decided timeliness already)."""

    district = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(ReportTypeSerializer.Meta):
        read_only_fields = [f for f in ReportTypeSerializer.Meta.fields
                            if f not in ("name", "is_active", "remind_days_before", "schools")]


class ReportTypeViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """The reporting calendar (bureau). `GET report-types/<id>/matrix/` is the completeness matrix."""

    model = ReportType
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "matrix": VISIBLE,
                          "create": "review_submissions", "update": "review_submissions",
                          "partial_update": "review_submissions", "destroy": "review_submissions"}
    filterset_class = scoped_filterset(ReportType, district=id_filter("district"),
                                       kind=django_filters.ChoiceFilter(choices=ReportKind.choices),
                                       is_active=django_filters.BooleanFilter())

    def get_serializer_class(self):
        return ReportTypeUpdateSerializer if self.action in ("update", "partial_update") else ReportTypeSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.report_types_visible_to(self.request.user)).prefetch_related("schools")

    def create_via_service(self, data):
        return services.report_type_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.report_type_update(actor=self.request.user, report_type=instance, **data)

    def destroy_via_service(self, instance):
        services.report_type_delete(actor=self.request.user, report_type=instance)

    @extend_schema(responses={200: dict}, summary="Completeness and timeliness matrix, with rates")
    def matrix(self, request, pk=None):
        report_type = self.get_object()
        m = selectors.completeness_matrix(user=request.user, report_type=report_type)

        def rates(r):
            return {"expected": r.expected, "submitted": r.submitted, "on_time": r.on_time,
                    "reporting_rate": r.reporting_rate, "on_time_rate": r.on_time_rate}

        return Response({
            "report_type": report_type.id, "today": m.today,
            "periods": [{"id": p.id, "seq": p.seq, "start_on": p.start_on, "end_on": p.end_on, "due_on": p.due_on}
                        for p in m.periods],
            "rows": [{"school": {"id": row.school.id, "name": row.school.name},
                      "cells": [{"status": c.status, "submission": c.submission_id,
                                 "submission_status": c.submission_status} for c in row.cells],
                      "rates": rates(row.rates)} for row in m.rows],
            "period_rates": [rates(r) for r in m.period_rates],
            "rates": rates(m.rates),
        })


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["id", "report_type", "seq", "start_on", "end_on", "open_on", "due_on", "lock_on", "opened_at"]
        read_only_fields = fields


class PeriodViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Period
    serializer_class = PeriodSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}
    filterset_class = scoped_filterset(Period, report_type=id_filter("report_type"))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.periods_visible_to(self.request.user)).order_by("report_type_id", "seq")


# ---------------------------------------------------------------- submissions
_id = id_filter


class VersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PackageVersion
        fields = ["id", "version", "status", "progress", "finished_at"]
        read_only_fields = fields


class SubmissionSerializer(serializers.ModelSerializer):
    school = serializers.SerializerMethodField()
    report_type = serializers.SerializerMethodField()
    period = PeriodSerializer(read_only=True)
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = ["id", "school", "report_type", "period", "status", "timeliness", "first_submitted_at",
                  "submitted_at", "reviewed_at", "review_comment", "unlocked_until", "current_version", "updated_at"]
        read_only_fields = fields

    def get_school(self, obj) -> dict:
        return {"id": obj.school_id, "name": obj.school.name}

    def get_report_type(self, obj) -> dict:
        return {"id": obj.report_type_id, "name": obj.report_type.name, "kind": obj.report_type.kind}

    def get_current_version(self, obj) -> dict | None:
        version = getattr(obj, "current_versions", None)
        version = version[0] if version else None
        return VersionRefSerializer(version).data if version else None


class SubmissionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """A school's submissions (the bureau sees the district's). Actions: see submission-events,
    package-versions and narratives."""

    model = Submission
    serializer_class = SubmissionSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}
    filterset_class = scoped_filterset(Submission, school=_id("school"), report_type=_id("report_type"),
                                       period=_id("period"), status=django_filters.CharFilter(),
                                       timeliness=django_filters.CharFilter())

    def scoped_queryset(self, queryset):
        from django.db.models import Prefetch

        return narrow(queryset, selectors.submissions_visible_to(self.request.user)).prefetch_related(
            Prefetch("versions", queryset=PackageVersion.objects.filter(is_current=True), to_attr="current_versions")
        ).order_by("period__due_on", "report_type_id", "school_id")


ACTIONS = ("submit", "accept", "return", "unlock")


@extend_schema_field(OpenApiTypes.INT)
class VisibleSubmissionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.submissions_visible_to(self.context["request"].user)


class SubmissionEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = SubmissionEvent
        fields = ["id", "submission", "action", "from_status", "to_status", "actor", "at", "comment"]
        read_only_fields = fields


class SubmissionActionSerializer(serializers.Serializer):
    submission = VisibleSubmissionField()
    action = serializers.ChoiceField(choices=ACTIONS)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    until = serializers.DateField(required=False, allow_null=True, default=None, help_text="unlock only",
                                  validators=[sane_date])

    def to_representation(self, instance):
        return SubmissionEventSerializer(instance, context=self.context).data


class SubmissionEventViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin):
    """The audit trail of submissions. POST performs a transition (submit, accept, return with a
    comment, unlock) and answers with the event it wrote; the service checks who may do what."""

    model = SubmissionEvent
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": VISIBLE}
    filterset_class = scoped_filterset(SubmissionEvent, submission=_id("submission"),
                                       action=django_filters.CharFilter())

    def get_serializer_class(self):
        return SubmissionActionSerializer if self.action == "create" else SubmissionEventSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.submission_events_visible_to(self.request.user))

    def create_target(self, data):
        return data["submission"].school

    def create_via_service(self, data):
        user, submission, action = self.request.user, data["submission"], data["action"]
        if action == "submit":
            services.submission_submit(actor=user, submission=submission)
        elif action == "accept":
            services.submission_accept(actor=user, submission=submission, comment=data["comment"])
        elif action == "return":
            services.submission_return(actor=user, submission=submission, comment=data["comment"])
        else:
            services.submission_unlock(actor=user, submission=submission, until=data["until"], comment=data["comment"])
        return SubmissionEvent.objects.filter(submission=submission).order_by("-id").first()


# ---------------------------------------------------------------- package versions
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


# ---------------------------------------------------------------- narratives
class NarrativeSerializer(serializers.ModelSerializer):
    submission = VisibleSubmissionField()
    sections = serializers.DictField(child=serializers.CharField(allow_blank=True))
    section_keys = serializers.SerializerMethodField()

    class Meta:
        model = Narrative
        fields = ["id", "submission", "sections", "section_keys", "digest", "updated_at"]
        read_only_fields = ["id", "digest", "updated_at"]

    def get_section_keys(self, obj) -> list[str]:
        return SECTION_KEYS


class NarrativeUpdateSerializer(NarrativeSerializer):
    submission = serializers.PrimaryKeyRelatedField(read_only=True)


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
        return services.narrative_update(actor=self.request.user, submission=data["submission"],
                                         sections=data["sections"])

    def update_via_service(self, instance, data):
        return services.narrative_update(actor=self.request.user, submission=instance.submission,
                                         sections=data.get("sections", instance.sections))


# ---------------------------------------------------------------- similarity flags
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


class SimilarityFlagViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Near-duplicate narratives, for the bureau: both schools, the score and the shared passages."""

    model = SimilarityFlag
    serializer_class = SimilarityFlagSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}
    filterset_class = scoped_filterset(SimilarityFlag, report_type=_id("report_type"))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.similarity_flags_visible_to(self.request.user)).order_by("-score", "id")


# ---------------------------------------------------------------- notifications
class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "text", "link", "is_read", "created_at", "read_at"]
        read_only_fields = ["id", "text", "link", "created_at", "read_at"]


class NotificationViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.UpdateModelMixin):
    """The user's own inbox. PATCH {"is_read": true} marks one read."""

    model = Notification
    serializer_class = NotificationSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "update": VISIBLE, "partial_update": VISIBLE}
    filterset_class = scoped_filterset(Notification, is_read=django_filters.BooleanFilter())

    def scoped_queryset(self, queryset):
        # Within the user's districts (the base's filter), their own inbox only.
        return narrow(queryset, selectors.notifications_for(user=self.request.user))

    def update_via_service(self, instance, data):
        if data.get("is_read"):
            services.notification_mark_read(user=self.request.user, notification_ids=[instance.pk])
        instance.refresh_from_db()
        return instance


# ---------------------------------------------------------------- district exports
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


def register(router) -> None:
    router.register("report-types", ReportTypeViewSet, basename="report-types")
    router.register("report-periods", PeriodViewSet, basename="report-periods")
    router.register("submissions", SubmissionViewSet, basename="submissions")
    router.register("submission-events", SubmissionEventViewSet, basename="submission-events")
    router.register("package-versions", PackageVersionViewSet, basename="package-versions")
    router.register("narratives", NarrativeViewSet, basename="narratives")
    router.register("similarity-flags", SimilarityFlagViewSet, basename="similarity-flags")
    router.register("notifications", NotificationViewSet, basename="notifications")
    router.register("district-exports", DistrictExportViewSet, basename="district-exports")


# Each is an ExtraRoute of its isolation case (tests/api/cases_submissions.py).
extra_patterns = [
    path("report-types/<int:pk>/matrix/", ReportTypeViewSet.as_view({"get": "matrix"}), name="report-types-matrix"),
    path("package-versions/<int:pk>/download/<str:kind>/", PackageVersionViewSet.as_view({"get": "download"}),
         name="package-versions-download"),
    path("district-exports/<int:pk>/download/", DistrictExportViewSet.as_view({"get": "download"}),
         name="district-exports-download"),
]
