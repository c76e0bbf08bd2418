"""The centre school's review on the VIA_CENTRE route, in bulk: one POST approves or returns many
village submissions of one period (single decisions are submission-events: approve,
centre_return, withdraw)."""
from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, mixins, serializers

from submissions import services
from submissions.approval import approval_batches_visible_to
from submissions.models import ApprovalBatch

from ..base import VISIBLE, ScopedViewSet, id_filter, narrow, scoped_filterset
from .lifecycle import VisibleSubmissionField


class ApprovalBatchSerializer(serializers.ModelSerializer):
    submissions = VisibleSubmissionField(many=True, write_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    class Meta:
        model = ApprovalBatch
        fields = ["id", "school", "report_type", "period", "action", "comment", "submissions", "submission_ids",
                  "actor", "at"]
        read_only_fields = ["id", "school", "report_type", "period", "submission_ids", "actor", "at"]


class ApprovalBatchViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin):
    """POST {action: approve | return, submissions: [ids of one period], comment} decides every
    listed village submission at once, all or nothing (a return needs the comment); each decision
    writes its own submission event. Only the township admin of their centre school."""

    model = ApprovalBatch
    serializer_class = ApprovalBatchSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "approve_reports"}
    filterset_class = scoped_filterset(ApprovalBatch, period=id_filter("period"))

    def scoped_queryset(self, queryset):
        return narrow(queryset, approval_batches_visible_to(self.request.user)).order_by("-at", "-id")

    def create_target(self, data):
        # The centre school decides; a submission without one has no centre review at all.
        subs = data["submissions"]
        parent = subs[0].school.parent if subs else None
        if parent is None:
            raise exceptions.ValidationError({"submissions": [_("Choose village schools' submissions.")]})
        return parent

    def create_via_service(self, data):
        return services.approval_batch_create(actor=self.request.user, action=data["action"],
                                              submissions=data["submissions"], comment=data["comment"])
