"""GET /api/v1/today/: the signed-in user's to-do list, the same one the start page shows
(today.work.todo_for), for clients that cache it (an offline mode)."""
from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response

from today.work import todo_for

from .tenancy import OwnAccountViewSet


class TodayItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="What kind of work (returned, late, due, contact_home_visit, ...).")
    label = serializers.CharField()
    count = serializers.IntegerField()
    scope = serializers.CharField(help_text="What the count covers: my children, this school, the village schools, the district.")
    urgency = serializers.IntegerField(help_text="0 overdue or returned, 1 due soon, 2 to do.")
    url = serializers.CharField(help_text="The page where the work is done.")
    detail = serializers.CharField(allow_blank=True)
    school = serializers.IntegerField(source="school_id", allow_null=True)


class TodaySectionSerializer(serializers.Serializer):
    role = serializers.CharField()
    title = serializers.CharField()
    place = serializers.CharField(help_text="The school or district the role is held at.")
    note = serializers.CharField(allow_blank=True)
    school = serializers.IntegerField(source="school_id", allow_null=True)
    district = serializers.IntegerField(source="district_id", allow_null=True)
    items = TodayItemSerializer(many=True)


class TodaySerializer(serializers.Serializer):
    username = serializers.CharField()
    date = serializers.DateField(source="day", read_only=True)
    schools = serializers.ListField(child=serializers.IntegerField(), source="school_ids",
                                    help_text="The schools this list covers (every school you can see).")
    sections = TodaySectionSerializer(many=True, help_text="One per role you hold, most urgent first.")


class TodayViewSet(OwnAccountViewSet):
    """The user's work for today (computed from their own roles), one section per role, most urgent first."""

    serializer_class = TodaySerializer

    def retrieve(self, request, *args, **kwargs):
        todo = todo_for(request.user)
        todo.username = request.user.username
        return Response(self.get_serializer(todo).data)
