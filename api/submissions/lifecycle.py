"""Submissions and their lifecycle events (submit, accept, return, unlock)."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from submissions import selectors, services
from submissions.models import (
    PackageVersion,
    Submission,
    SubmissionEvent,
)
from tenancy.dates import sane_date

from ..base import VISIBLE, ReadOnlyScopedViewSet, ScopedViewSet, id_filter, narrow, scoped_filterset
from .calendar import PeriodSerializer

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


class SubmissionViewSet(ReadOnlyScopedViewSet):
    """A school's submissions (the bureau sees the district's). Actions: see submission-events,
    package-versions and narratives."""

    model = Submission
    serializer_class = SubmissionSerializer
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
