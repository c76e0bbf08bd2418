"""Activities and their participants (only the children the reader may see)."""
from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from schools import selectors as ss
from schools import services
from schools.models import Activity, ActivityParticipant

from .common import MaterialsViewSet, SchoolFilter, SchoolOwnedSerializer, VisibleChildField, date_range


# ---------------------------------------------------------------- activities
class ParticipantSerializer(serializers.Serializer):
    child = VisibleChildField()
    placing = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    placing_label = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")


class ParticipantOutSerializer(serializers.Serializer):
    child = serializers.IntegerField(source="child_id")
    name = serializers.CharField(source="child.name")
    placing = serializers.IntegerField(allow_null=True)
    placing_label = serializers.CharField()


class ActivitySerializer(SchoolOwnedSerializer):
    participants = ParticipantSerializer(many=True, required=False, write_only=True,
                                         help_text="Children, with placings for competitions.")
    participant_list = serializers.SerializerMethodField(
        help_text="Participants you may see (others are only counted).")
    participant_count = serializers.SerializerMethodField()
    photo_count = serializers.IntegerField(read_only=True, default=0)
    evidenced = serializers.BooleanField(read_only=True, default=False,
                                         help_text="At least one photo and a text record.")

    class Meta:
        model = Activity
        fields = ["id", "school", "date", "semester", "kind", "title", "description", "text_record",
                  "participants", "participant_list", "participant_count", "photo_count", "evidenced", "created_at"]
        read_only_fields = ["id", "semester", "created_at"]

    def _rows(self, activity) -> list:
        rows = getattr(activity, "participant_rows", None)
        if rows is None:
            rows = list(ActivityParticipant.objects.filter(activity=activity).select_related("child"))
        return rows

    @extend_schema_field(ParticipantOutSerializer(many=True))
    def get_participant_list(self, activity) -> list:
        visible = self.context["visible_child_ids"]()
        return ParticipantOutSerializer([p for p in self._rows(activity) if p.child_id in visible], many=True).data

    def get_participant_count(self, activity) -> int:
        return len(self._rows(activity))


class ActivityFilter(SchoolFilter):
    semester = django_filters.NumberFilter(field_name="semester_id")
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices)
    participant = django_filters.NumberFilter(field_name="participants", label="With this child (id)")
    locals().update(date_range("date", "date"))

    class Meta:
        model = Activity
        fields = ["school", "semester", "kind", "participant"]


def _participants(data):
    rows = data.pop("participants", None)
    if rows is None:
        return None
    return [(r["child"], r.get("placing"), r.get("placing_label", "")) for r in rows]


class ActivityViewSet(MaterialsViewSet):
    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter

    def get_serializer_context(self):
        context = super().get_serializer_context()
        cache = {}

        def visible_child_ids():
            if "ids" not in cache:
                user = self.request.user
                cache["ids"] = (set(ss.children_visible_to(user).values_list("id", flat=True))
                                if user.is_authenticated else set())
            return cache["ids"]

        context["visible_child_ids"] = visible_child_ids
        return context

    def scoped_queryset(self, queryset):
        rows = ActivityParticipant.objects.select_related("child").order_by("placing", "id")
        return (super().scoped_queryset(queryset).with_evidence()
                .prefetch_related(Prefetch("activityparticipant_set", queryset=rows, to_attr="participant_rows"))
                .order_by("-date", "-id"))

    def create_via_service(self, data):
        participants = _participants(data) or ()
        return services.activity_create(actor=self.request.user, participants=participants, request=self.request,
                                        **data)

    def update_via_service(self, instance, data):
        data.pop("school", None)
        return services.activity_update(actor=self.request.user, activity=instance, participants=_participants(data),
                                        request=self.request, **data)

    def destroy_via_service(self, instance):
        services.activity_delete(actor=self.request.user, activity=instance, request=self.request)
