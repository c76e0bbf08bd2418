"""Read-only pages of one school: its dashboard, contact tracker and rule-document status."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from schools import selectors as ss
from schools.models import Semester
from tenancy.models import School

from ..base import ReadOnlyScopedViewSet
from ..tenancy import UserRefSerializer


# ---------------------------------------------------------------- per-school read-only views
class SchoolRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "name", "code"]
        read_only_fields = fields


class SchoolPageViewSet(ReadOnlyScopedViewSet):
    """A read-only page per school: the list names the schools you can open, the detail (by school
    id) computes the page."""

    abstract = True
    model = School
    serializer_class = SchoolRefSerializer

    def scoped_queryset(self, queryset):
        # The schools the user sees: exactly the base's tenant filter.
        return queryset.order_by("path", "id")

    def semester_for(self, school):
        raw = self.request.query_params.get("semester")
        if raw:
            try:
                return Semester.objects.get(pk=int(raw), district_id=school.district_id)
            except (ValueError, Semester.DoesNotExist):
                raise exceptions.ValidationError({"semester": [_("No such semester in the school's district.")]}) from None
        semester = ss.semester_current(school.district_id)
        if semester is None:
            raise exceptions.ValidationError({"semester": [_("The district has no semester yet.")]})
        return semester


SEMESTER_PARAM = OpenApiParameter("semester", OpenApiTypes.INT, description="Semester id (default: the current one)")


class SemesterRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Semester
        fields = ["id", "name", "start", "end"]
        read_only_fields = fields


class KindCoverageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField(required=False)
    percent = serializers.IntegerField()


class ClassCoverageSerializer(serializers.Serializer):
    class_name = serializers.CharField()
    total = serializers.IntegerField()
    kinds = KindCoverageSerializer(many=True)


class OverdueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    class_name = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())


class WeekActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField(read_only=True)
    kind = serializers.CharField()
    title = serializers.CharField()
    photo_count = serializers.IntegerField()
    evidenced = serializers.BooleanField()


class WeekSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    activities = WeekActivitySerializer(many=True)
    themes = serializers.DictField(child=serializers.CharField(), help_text="weekday (1–5) → theme")


class EvidenceTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    evidenced = serializers.IntegerField()
    percent = serializers.IntegerField()


class KindLabelSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()


class DashboardSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The school's id.")
    school = SchoolRefSerializer()
    semester = SemesterRefSerializer()
    today = serializers.DateField(read_only=True)
    children = serializers.IntegerField()
    coverage = KindCoverageSerializer(many=True)
    classes = ClassCoverageSerializer(many=True)
    overdue = OverdueSerializer(many=True, help_text="Only children you may see.")
    week = WeekSerializer()
    evidence = EvidenceTotalsSerializer()
    training_meetings = serializers.IntegerField()
    missing_rules = KindLabelSerializer(many=True)


@extend_schema_view(retrieve=extend_schema(responses=DashboardSerializer, parameters=[SEMESTER_PARAM],
                                           description="The school dashboard for a semester (by school id)."))
class SchoolDashboardViewSet(SchoolPageViewSet):
    def retrieve(self, request, *args, **kwargs):
        school = self.get_object()
        data = ss.school_dashboard(school, self.semester_for(school), user=request.user)
        data["id"] = school.id
        data["missing_rules"] = [{"kind": k, "label": label} for k, label in data["missing_rules"]]
        data["week"]["themes"] = {str(k): v for k, v in data["week"]["themes"].items()}
        return Response(DashboardSerializer(data).data)


class TrackerCellSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    last = serializers.DateField(read_only=True, allow_null=True)


class TrackerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    class_name = serializers.CharField()
    cells = serializers.DictField(child=TrackerCellSerializer(), help_text="kind → count and last date")
    complete = serializers.BooleanField()
    can_record = serializers.BooleanField()


class TrackerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The school's id.")
    semester = SemesterRefSerializer()
    kinds = KindLabelSerializer(many=True)
    classes = serializers.ListField(child=serializers.CharField())
    proxy_parents = UserRefSerializer(many=True)
    rows = TrackerRowSerializer(many=True)


@extend_schema_view(retrieve=extend_schema(
    responses=TrackerSerializer,
    parameters=[SEMESTER_PARAM, OpenApiParameter("class_name", OpenApiTypes.STR),
                OpenApiParameter("proxy_parent", OpenApiTypes.INT, description="Proxy parent's user id")],
    description="Children you may see × the four contact kinds for a semester (by school id)."))
class ContactTrackerViewSet(SchoolPageViewSet):
    def retrieve(self, request, *args, **kwargs):
        school = self.get_object()
        proxy_parent = None
        raw = request.query_params.get("proxy_parent")
        if raw:
            try:
                proxy_parent = int(raw)
            except ValueError:
                raise exceptions.ValidationError({"proxy_parent": [_("A user id is a number.")]}) from None
        grid = ss.contact_tracker_grid(request.user, school, self.semester_for(school),
                                       class_name=request.query_params.get("class_name") or None,
                                       proxy_parent=proxy_parent)
        return Response(TrackerSerializer({
            "id": school.id, "semester": grid.semester,
            "kinds": [{"kind": k, "label": label} for k, label in grid.kinds],
            "classes": grid.classes, "proxy_parents": grid.proxy_parents, "rows": grid.rows,
        }).data)


class RuleStatusRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    present = serializers.BooleanField()
    document = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    adopted_on = serializers.DateField(read_only=True, allow_null=True)
    evidence = serializers.IntegerField(allow_null=True)


class RuleStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The school's id.")
    present = serializers.IntegerField()
    missing = serializers.IntegerField()
    documents = RuleStatusRowSerializer(many=True)


@extend_schema_view(retrieve=extend_schema(responses=RuleStatusSerializer,
                                           description="The nine rule documents: present or missing (by school id)."))
class RuleStatusViewSet(SchoolPageViewSet):
    def retrieve(self, request, *args, **kwargs):
        school = self.get_object()
        rows = [{
            "kind": r["kind"], "label": r["label"], "present": r["present"],
            "document": r["document"].id if r["document"] else None, "version": r["version"],
            "adopted_on": r["adopted_on"], "evidence": r["evidence_id"],
        } for r in ss.rule_documents_status(school)]
        present = sum(r["present"] for r in rows)
        return Response(RuleStatusSerializer({"id": school.id, "present": present, "missing": len(rows) - present,
                                              "documents": rows}).data)
