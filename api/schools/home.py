"""The home's records: the district's semesters, the site, equipment, leadership group, weekly
themes and training meetings. Writes need `manage_materials` (school admin, materials clerk); the
calendar is the bureau's.
"""
from __future__ import annotations

import django_filters
from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from schools import services
from schools.models import ActivitySite, Equipment, LeadershipMember, Semester, ThemeSchedule, TrainingMeeting
from tenancy.dates import sane_date

from ..base import ScopedViewSet, VisibleDistrictField
from .common import (
    EDITS,
    MaterialsViewSet,
    SchoolFilter,
    SchoolOwnedSerializer,
    ServiceActions,
    StaffUserField,
    VisibleSemesterField,
    date_range,
    visible_and,
)


# ---------------------------------------------------------------- calendar
class SemesterSerializer(serializers.ModelSerializer):
    district = VisibleDistrictField()

    class Meta:
        model = Semester
        fields = ["id", "district", "name", "start", "end"]
        read_only_fields = ["id"]
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # a semester never moves to another district
            fields["district"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class SemesterFilter(django_filters.FilterSet):
    district = django_filters.NumberFilter(field_name="district_id")
    contains = django_filters.DateFilter(method="filter_contains", label="Semester containing this date",
                                         validators=[sane_date])

    class Meta:
        model = Semester
        fields = ["district", "contains"]

    def filter_contains(self, queryset, name, value):
        return queryset.filter(start__lte=value, end__gte=value)


@extend_schema_view(
    create=extend_schema(description="Bureau admins only; semesters of a district may not overlap."),
    update=extend_schema(description="Bureau admins only. Records follow their dates; an edit that would leave "
                                     "a record outside every semester is refused."),
    partial_update=extend_schema(description="As update."),
    destroy=extend_schema(description="Bureau admins only; refused while any record points at the semester."),
)
class SemesterViewSet(ServiceActions, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    model = Semester
    serializer_class = SemesterSerializer
    filterset_class = SemesterFilter
    action_permissions = visible_and("manage_schools", (*EDITS, "destroy"))

    def scoped_queryset(self, queryset):
        # Every user of a district reads its calendar: exactly the base's tenant filter.
        return queryset.order_by("district", "-start")

    create_service = staticmethod(services.semester_create)
    update_service = staticmethod(services.semester_update)
    destroy_service = staticmethod(services.semester_delete)
    instance_kwarg = "semester"
    with_request = False


class ActivitySiteSerializer(SchoolOwnedSerializer):
    class Meta:
        model = ActivitySite
        fields = ["id", "school", "room", "opened_on", "area_m2", "opening_hours", "notes"]
        read_only_fields = ["id"]


class ActivitySiteFilter(SchoolFilter):
    class Meta:
        model = ActivitySite
        fields = ["school"]


class ActivitySiteViewSet(MaterialsViewSet):
    model = ActivitySite
    serializer_class = ActivitySiteSerializer
    filterset_class = ActivitySiteFilter
    create_service = staticmethod(services.activity_site_create)
    update_service = staticmethod(services.activity_site_update)
    instance_kwarg = "site"
    ordering = ("opened_on", "id")


class EquipmentSerializer(SchoolOwnedSerializer):
    class Meta:
        model = Equipment
        fields = ["id", "school", "kind", "description", "quantity", "acquired_on"]
        read_only_fields = ["id"]


class EquipmentFilter(SchoolFilter):
    kind = django_filters.ChoiceFilter(choices=Equipment.Kind.choices)
    locals().update(date_range("acquired_on", "acquired"))

    class Meta:
        model = Equipment
        fields = ["school", "kind"]


class EquipmentViewSet(MaterialsViewSet):
    model = Equipment
    serializer_class = EquipmentSerializer
    filterset_class = EquipmentFilter
    create_service = staticmethod(services.equipment_create)
    update_service = staticmethod(services.equipment_update)
    instance_kwarg = "item"
    ordering = ("kind", "acquired_on", "id")


class LeadershipMemberSerializer(SchoolOwnedSerializer):
    user = StaffUserField(required=False, allow_null=True)

    class Meta:
        model = LeadershipMember
        fields = ["id", "school", "person_name", "user", "title", "is_leader", "order"]
        read_only_fields = ["id"]
        validators: list = []

    def validate(self, attrs):
        person = attrs.get("person_name", getattr(self.instance, "person_name", ""))
        user = attrs.get("user", getattr(self.instance, "user", None))
        if not person and user is None:
            raise serializers.ValidationError(_("Name the member or choose a staff user."))
        return attrs


class LeadershipMemberFilter(SchoolFilter):
    is_leader = django_filters.BooleanFilter()

    class Meta:
        model = LeadershipMember
        fields = ["school", "is_leader"]


class LeadershipMemberViewSet(MaterialsViewSet):
    model = LeadershipMember
    serializer_class = LeadershipMemberSerializer
    filterset_class = LeadershipMemberFilter
    create_service = staticmethod(services.leadership_member_create)
    update_service = staticmethod(services.leadership_member_update)
    instance_kwarg = "member"
    ordering = ("-is_leader", "order", "id")


# ---------------------------------------------------------------- theme schedule
class ThemeScheduleSerializer(SchoolOwnedSerializer):
    semester = VisibleSemesterField()
    weekday = serializers.IntegerField(min_value=1, max_value=5, help_text="1 = Monday … 5 = Friday")

    class Meta:
        model = ThemeSchedule
        fields = ["id", "school", "semester", "weekday", "theme"]
        read_only_fields = ["id"]
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # only the theme of a weekday changes
            fields["semester"] = serializers.PrimaryKeyRelatedField(read_only=True)
            fields["weekday"] = serializers.IntegerField(read_only=True)
        return fields


class ThemeScheduleFilter(SchoolFilter):
    semester = django_filters.NumberFilter(field_name="semester_id")
    weekday = django_filters.NumberFilter()

    class Meta:
        model = ThemeSchedule
        fields = ["school", "semester", "weekday"]


@extend_schema_view(create=extend_schema(description="Set the theme of a weekday (replaces an existing one)."))
class ThemeScheduleViewSet(MaterialsViewSet):
    model = ThemeSchedule
    serializer_class = ThemeScheduleSerializer
    filterset_class = ThemeScheduleFilter
    ordering = ("semester", "weekday", "id")

    def create_via_service(self, data):
        return services.theme_schedule_set(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.theme_schedule_set(actor=self.request.user, school=instance.school, semester=instance.semester,
                                           weekday=instance.weekday, theme=data.get("theme", instance.theme))


# ---------------------------------------------------------------- training meetings
class TrainingMeetingSerializer(SchoolOwnedSerializer):
    attendees = StaffUserField(many=True, required=False)
    attendee_count = serializers.IntegerField(read_only=True, default=0)
    evidence_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = TrainingMeeting
        fields = ["id", "school", "date", "semester", "topic", "minutes", "attendees", "attendee_count",
                  "evidence_count"]
        read_only_fields = ["id", "semester"]


class TrainingMeetingFilter(SchoolFilter):
    semester = django_filters.NumberFilter(field_name="semester_id")
    attendee = django_filters.NumberFilter(field_name="attendees", label="Attended by (user id)")
    locals().update(date_range("date", "date"))

    class Meta:
        model = TrainingMeeting
        fields = ["school", "semester", "attendee"]


class TrainingMeetingViewSet(MaterialsViewSet):
    model = TrainingMeeting
    serializer_class = TrainingMeetingSerializer
    filterset_class = TrainingMeetingFilter

    def scoped_queryset(self, queryset):
        return (super().scoped_queryset(queryset).prefetch_related("attendees")
                .annotate(attendee_count=Count("trainingattendance", distinct=True),
                          evidence_count=Count("evidence", distinct=True))
                .order_by("-date", "-id"))

    create_service = staticmethod(services.training_meeting_create)
    update_service = staticmethod(services.training_meeting_update)
    destroy_service = staticmethod(services.training_meeting_delete)
    instance_kwarg = "meeting"
