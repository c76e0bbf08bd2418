"""Submissions and their lifecycle events (submit, accept, return, unlock)."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from submissions import selectors, services
from submissions.approval import ApprovalState, goes_via_centre
from submissions.models import (
    Level,
    PackageVersion,
    Submission,
    SubmissionEvent,
    UnlockRequest,
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
    approval = serializers.SerializerMethodField()
    # Declared so the schema admits the blank value (read-only model fields lose allow_blank).
    returned_level = serializers.ChoiceField(choices=Level.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Submission
        fields = ["id", "school", "report_type", "period", "status", "timeliness", "first_submitted_at",
                  "submitted_at", "reviewed_at", "review_comment", "unlocked_until", "current_version", "updated_at",
                  "approved_at", "returned_level", "approval"]
        read_only_fields = fields

    def get_approval(self, obj) -> dict:
        """The route and the state as each level sees it (submissions.approval, the one rule)."""
        via_centre = goes_via_centre(obj.report_type, obj.school)
        out = {"route": obj.report_type.route, "via_centre": via_centre,
               "bureau": selectors.approval_state(obj, Level.BUREAU)}
        if via_centre:
            out["centre"] = selectors.approval_state(obj, Level.CENTRE)
        return out

    def get_school(self, obj) -> dict:
        return {"id": obj.school_id, "name": obj.school.name}

    def get_report_type(self, obj) -> dict:
        return {"id": obj.report_type_id, "name": obj.report_type.name, "kind": obj.report_type.kind}

    def get_current_version(self, obj) -> dict | None:
        version = getattr(obj, "current_versions", None)
        version = version[0] if version else None
        return VersionRefSerializer(version).data if version else None


class SubmissionFilter(scoped_filterset(Submission, school=_id("school"), report_type=_id("report_type"),
                                        period=_id("period"), status=django_filters.CharFilter(),
                                        timeliness=django_filters.CharFilter())):
    approval_state = django_filters.ChoiceFilter(choices=ApprovalState.choices, method="filter_approval_state",
                                                 label="Approval state, as approval_level sees it")
    approval_level = django_filters.ChoiceFilter(choices=[(Level.CENTRE, "centre"), (Level.BUREAU, "bureau")],
                                                 method="filter_noop", label="centre or bureau (default)")

    def filter_approval_state(self, queryset, name: str, value: str):
        level = self.data.get("approval_level") or Level.BUREAU
        if level not in (Level.CENTRE, Level.BUREAU):
            return queryset.none()
        return queryset.filter(selectors.approval_state_q(value, level))

    def filter_noop(self, queryset, name: str, value: str):
        return queryset


class SubmissionViewSet(ReadOnlyScopedViewSet):
    """A school's submissions (the bureau sees the district's). Actions: see submission-events,
    package-versions and narratives."""

    model = Submission
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilter

    def scoped_queryset(self, queryset):
        from django.db.models import Prefetch

        return narrow(queryset, selectors.submissions_visible_to(self.request.user)).prefetch_related(
            Prefetch("versions", queryset=PackageVersion.objects.filter(is_current=True), to_attr="current_versions")
        ).order_by("period__due_on", "report_type_id", "school_id")


# approve / centre_return / withdraw: the centre school's review on the VIA_CENTRE route.
ACTIONS = ("submit", "accept", "return", "unlock", "remind", "approve", "centre_return", "withdraw")


@extend_schema_field(OpenApiTypes.INT)
class VisibleSubmissionField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.submissions_visible_to(self.context["request"].user)


class SubmissionEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    level = serializers.ChoiceField(choices=Level.choices, allow_blank=True, read_only=True)

    class Meta:
        model = SubmissionEvent
        fields = ["id", "submission", "action", "from_status", "to_status", "actor", "at", "comment", "level"]
        read_only_fields = fields


class SubmissionActionSerializer(serializers.Serializer):
    submission = VisibleSubmissionField()
    action = serializers.ChoiceField(choices=ACTIONS)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    until = serializers.DateField(required=False, allow_null=True, default=None, help_text="unlock only",
                                  validators=[sane_date])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                 help_text="submit only: why a returned submission is sent back unchanged")

    def to_representation(self, instance):
        return SubmissionEventSerializer(instance, context=self.context).data


class SubmissionEventViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin):
    """The audit trail of submissions. POST performs a transition (submit, with a note when a returned
    submission goes back unchanged; accept, return with a comment, unlock) or the bureau's reminder
    (remind, at most once a day) and answers with the event it wrote; the service checks who may do what."""

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
            services.submission_submit(actor=user, submission=submission, note=data["note"])
        elif action == "remind":
            services.submission_remind(actor=user, submission=submission)
        elif action == "accept":
            services.submission_accept(actor=user, submission=submission, comment=data["comment"])
        elif action == "return":
            services.submission_return(actor=user, submission=submission, comment=data["comment"])
        elif action == "approve":
            services.submission_approve(actor=user, submission=submission, comment=data["comment"])
        elif action == "centre_return":
            services.submission_centre_return(actor=user, submission=submission, comment=data["comment"])
        elif action == "withdraw":
            services.submission_approval_withdraw(actor=user, submission=submission, comment=data["comment"])
        else:
            services.submission_unlock(actor=user, submission=submission, until=data["until"], comment=data["comment"])
        return SubmissionEvent.objects.filter(submission=submission).order_by("-id").first()


class UnlockRequestSerializer(serializers.ModelSerializer):
    submission = VisibleSubmissionField()
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = UnlockRequest
        fields = ["id", "submission", "reason", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
        read_only_fields = ["id", "status", "requested_by", "requested_at", "decided_by", "decided_at"]


class UnlockDecisionSerializer(UnlockRequestSerializer):
    submission = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.ChoiceField(choices=[UnlockRequest.State.GRANTED, UnlockRequest.State.REFUSED])
    until = serializers.DateField(required=False, allow_null=True, default=None, write_only=True,
                                  validators=[sane_date], help_text="granted only: unlocked until (default a week)")

    class Meta(UnlockRequestSerializer.Meta):
        fields = [*UnlockRequestSerializer.Meta.fields, "until"]
        read_only_fields = ["id", "reason", "requested_by", "requested_at", "decided_by", "decided_at"]


class UnlockRequestViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, mixins.UpdateModelMixin):
    """申请解锁: POST {submission, reason} (the school's admin, for a locked report); the bureau
    decides with PATCH {"status": "granted" | "refused"} (granting performs the unlock)."""

    model = UnlockRequest
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "submit_reports",
                          "update": "review_submissions", "partial_update": "review_submissions"}
    filterset_class = scoped_filterset(UnlockRequest, submission=_id("submission"),
                                       status=django_filters.ChoiceFilter(choices=UnlockRequest.State.choices))

    def get_serializer_class(self):
        return UnlockDecisionSerializer if self.action in ("update", "partial_update") else UnlockRequestSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.unlock_requests_visible_to(self.request.user)).order_by("-requested_at", "-id")

    def create_target(self, data):
        return data["submission"].school

    def create_via_service(self, data):
        return services.unlock_request_create(actor=self.request.user, submission=data["submission"],
                                              reason=data["reason"])

    def update_via_service(self, instance, data):
        if data.get("status") == UnlockRequest.State.GRANTED:
            return services.unlock_request_grant(actor=self.request.user, request=instance, until=data.get("until"))
        if data.get("status") == UnlockRequest.State.REFUSED:
            return services.unlock_request_refuse(actor=self.request.user, request=instance)
        return instance
