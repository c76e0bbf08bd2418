"""Study support: teacher-child pairs and their tutoring sessions."""
from __future__ import annotations

import django_filters
from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from schools import selectors as ss
from schools import services
from schools.models import StudyPair, TutoringSession
from tenancy.dates import sane_date
from tenancy.selectors import school_ids_for_user

from ..base import narrow
from .common import (
    EndableRecordActions,
    SchoolOwnedSerializer,
    SchoolOwnedViewSet,
    ServiceActions,
    ServiceCheckedViewSet,
    StaffUserField,
    VisibleChildField,
    date_range,
    endable_schema,
)


# ---------------------------------------------------------------- study support
class StudyPairSerializer(SchoolOwnedSerializer):
    teacher = StaffUserField()
    child = VisibleChildField()
    starts_on = serializers.DateField(required=False, help_text="Default: today.", validators=[sane_date])
    session_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = StudyPair
        fields = ["id", "school", "teacher", "child", "starts_on", "ends_on", "subject", "session_count"]
        read_only_fields = ["id", "ends_on", "session_count"]
        validators: list = []


class StudyPairEndSerializer(serializers.ModelSerializer):
    """End a pair or correct its dates or subject (null `ends_on` reopens it); the teacher and the
    child do not change."""

    starts_on = serializers.DateField(required=False, validators=[sane_date])
    ends_on = serializers.DateField(required=False, allow_null=True, validators=[sane_date])
    subject = serializers.CharField(required=False, allow_blank=True, max_length=32)

    class Meta:
        model = StudyPair
        fields = ["id", "school", "teacher", "child", "starts_on", "ends_on", "subject"]
        read_only_fields = ["id", "school", "teacher", "child"]


class StudyPairFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")
    teacher = django_filters.NumberFilter(field_name="teacher_id")
    child = django_filters.NumberFilter(field_name="child_id")
    current = django_filters.BooleanFilter(field_name="ends_on", lookup_expr="isnull", label="Still running")

    class Meta:
        model = StudyPair
        fields = ["school", "teacher", "child", "current"]


def study_pairs_for(user):
    """Pairs of children whose personal record the user may read, plus the user's own pairs as the
    teacher (the rule and its reasons: schools.selectors.study_pairs_visible_to). A materials clerk
    sees no pair and no tutoring notes."""
    visible = ss.children_with_identity_visible_to(user).values("id")
    return StudyPair.objects.filter(school_id__in=school_ids_for_user(user)).filter(
        Q(child_id__in=visible) | Q(teacher=user))


@endable_schema(StudyPairEndSerializer,
                update="End the pair or correct its dates or subject; its tutoring sessions must stay inside "
                       "the dates.",
                partial_update="End the pair or correct its dates or subject.")
class StudyPairViewSet(EndableRecordActions, SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = StudyPair
    filterset_class = StudyPairFilter
    serializer_class = StudyPairSerializer
    end_serializer = StudyPairEndSerializer

    def scoped_queryset(self, queryset):
        return (narrow(queryset, study_pairs_for(self.request.user)).annotate(session_count=Count("sessions"))
                .order_by("-starts_on", "id"))

    def create_via_service(self, data):
        return services.study_pair_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.study_pair_update(actor=self.request.user, pair=instance, request=self.request, **data)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePairField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return study_pairs_for(self.context["request"].user)


class TutoringSessionSerializer(serializers.ModelSerializer):
    pair = VisiblePairField()

    class Meta:
        model = TutoringSession
        fields = ["id", "school", "pair", "date", "semester", "minutes", "notes"]
        read_only_fields = ["id", "school", "semester"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["pair"] = serializers.PrimaryKeyRelatedField(read_only=True)  # a session stays in its pair
        return fields


class TutoringSessionFilter(django_filters.FilterSet):
    pair = django_filters.NumberFilter(field_name="pair_id")
    semester = django_filters.NumberFilter(field_name="semester_id")
    locals().update(date_range("date", "date"))

    class Meta:
        model = TutoringSession
        fields = ["pair", "semester", "date_after", "date_before"]


@extend_schema_view(
    create=extend_schema(description="The paired teacher or the school admin records a session."),
    update=extend_schema(description="Correct a session (the paired teacher or the school admin); "
                                     "the date stays inside the pair's dates."),
    partial_update=extend_schema(description="Correct a session (the paired teacher or the school admin)."),
    destroy=extend_schema(description="Delete a session (the paired teacher or the school admin)."),
)
class TutoringSessionViewSet(ServiceActions, ServiceCheckedViewSet):
    # The service decides who edits: the pair's teacher, or whoever manages the archive.
    model = TutoringSession
    serializer_class = TutoringSessionSerializer
    filterset_class = TutoringSessionFilter

    def scoped_queryset(self, queryset):
        return (queryset.filter(pair_id__in=study_pairs_for(self.request.user).values("id"))
                .order_by("-date", "-id"))

    def create_target(self, data):
        return data["pair"].school

    create_service = staticmethod(services.tutoring_session_record)
    update_service = staticmethod(services.tutoring_session_update)
    destroy_service = staticmethod(services.tutoring_session_delete)
    instance_kwarg = "session"
