"""The reporting calendar: report types (with the bureau's matrix) and their periods."""
from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from submissions import selectors, services
from submissions.models import (
    Period,
    ReportKind,
    ReportType,
)

from ..base import (
    VISIBLE,
    ReadOnlyScopedViewSet,
    ScopedViewSet,
    VisibleDistrictField,
    VisibleSchoolField,
    id_filter,
    narrow,
    scoped_filterset,
)


class ReportTypeSerializer(serializers.ModelSerializer):
    district = VisibleDistrictField()
    schools = VisibleSchoolField(many=True, required=False)

    class Meta:
        model = ReportType
        fields = ["id", "district", "name", "code", "kind", "period_type", "start_on", "end_on", "explicit_dates",
                  "open_offset_days", "due_offset_days", "timely_within_days", "lock_after_days",
                  "remind_days_before", "schools", "is_active", "route", "created_at"]
        read_only_fields = ["id", "is_active", "created_at"]
        validators: list = []


class ReportTypeUpdateSerializer(ReportTypeSerializer):
    """Once periods exist only these may change (the rules decided timeliness already)."""

    district = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(ReportTypeSerializer.Meta):
        read_only_fields = [f for f in ReportTypeSerializer.Meta.fields
                            if f not in ("name", "is_active", "remind_days_before", "schools", "route")]


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
            # `approved`: of those submitted, approved by the centre school and waiting for the bureau.
            return {"expected": r.expected, "submitted": r.submitted, "on_time": r.on_time,
                    "reporting_rate": r.reporting_rate, "on_time_rate": r.on_time_rate,
                    "approved": r.approved, "approved_rate": r.approved_rate}

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


class PeriodViewSet(ReadOnlyScopedViewSet):
    model = Period
    serializer_class = PeriodSerializer
    filterset_class = scoped_filterset(Period, report_type=id_filter("report_type"))

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.periods_visible_to(self.request.user)).order_by("report_type_id", "seq")
