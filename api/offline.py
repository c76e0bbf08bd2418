"""GET /api/v1/offline/: what a phone keeps to work without a signal (the PWA's snapshot).

Only the user's own assigned children (id, name, class, the four contacts' status this semester),
the user's own contacts with them this semester (for note edits with their version), the schools
where the user records from the phone, and today's to-do list. Records made offline go to the
ordinary create endpoints (care-contacts, activities, evidence) with an Idempotency-Key, so a
replayed sync answers with the first result instead of a second record."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from schools import selectors as ss
from today.work import todo_for

from .tenancy import OwnAccountViewSet
from .today import TodaySerializer


class CellSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    last = serializers.DateField(allow_null=True, read_only=True)  # the snapshot is read only


class OfflineChildSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    school = serializers.IntegerField()
    name = serializers.CharField()
    class_name = serializers.CharField()
    semester = serializers.IntegerField(allow_null=True)
    cells = serializers.DictField(child=CellSerializer(), help_text="Per kind of contact: this semester's count "
                                                                    "and last date.")


class OfflineContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    school = serializers.IntegerField(source="school_id")
    child = serializers.IntegerField(source="child_id")
    kind = serializers.CharField()
    happened_on = serializers.DateField(read_only=True)
    notes = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()


class OfflineSchoolSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    activities = serializers.BooleanField(help_text="May add activities (materials) here.")
    contacts = serializers.BooleanField(help_text="May record contacts here.")


class OfflineSnapshotSerializer(serializers.Serializer):
    username = serializers.CharField()
    user = serializers.IntegerField()
    synced_at = serializers.DateTimeField()
    max_age_days = serializers.IntegerField(help_text="The device deletes this after so many days without a sync.")
    children = OfflineChildSerializer(many=True)
    contacts = OfflineContactSerializer(many=True, help_text="Your own contacts this semester.")
    schools = OfflineSchoolSerializer(many=True)
    todo = TodaySerializer()


class OfflineSnapshotViewSet(OwnAccountViewSet):
    """The signed-in user's offline snapshot. It replaces what the device held: a child no longer
    assigned (transferred, another proxy parent) or a revoked role leaves the device with the next sync."""

    serializer_class = OfflineSnapshotSerializer

    def retrieve(self, request, *args, **kwargs):
        user = request.user
        todo = todo_for(user)
        todo.username = user.username
        data = ss.offline_children(user)
        body = {"username": user.username, "user": user.pk, "synced_at": timezone.now(),
                "max_age_days": settings.OFFLINE_MAX_AGE_DAYS, "children": data["children"],
                "contacts": data["contacts"], "schools": ss.offline_schools(user), "todo": todo}
        return Response(self.get_serializer(body).data)
