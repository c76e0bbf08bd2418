"""Follow-up of children at risk under /api/v1/: cases and their actions, referrals, each school's
risk list, and the overseers' figures. The same selectors and services as the pages (care app):
the school admin sees the whole school, a proxy parent their own children, the materials clerk
nothing; the bureau and the township only the figures (`care-figures`)."""
from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.response import Response

from care import risk, services
from care import selectors as cs
from care.access_log_text import RISK_LIST
from care.models import Case, CaseAction, Referral
from schools.models import Child
from tenancy.models import School
from tenancy.selectors import permissions_by_school
from tenancy.services import access_log_record

from .base import VISIBLE, ReadOnlyScopedViewSet, ScopedViewSet, narrow
from .schools.pages import SchoolRefSerializer
from .tenancy import UserRefSerializer


def _user(context):
    return context["request"].user


@extend_schema_field(OpenApiTypes.INT)
class CareChildField(serializers.PrimaryKeyRelatedField):
    """A child you may open a case or a referral for; any other id is "does not exist"."""

    def get_queryset(self):
        return cs.children_for_care_anywhere(_user(self.context))


@extend_schema_field(OpenApiTypes.INT)
class CareCaseField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return cs.cases_visible_to(_user(self.context)).filter(status=Case.Status.OPEN)


class ChildRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Child
        fields = ["id", "name", "class_name"]
        read_only_fields = fields


# ---------------------------------------------------------------- cases
class CaseSerializer(serializers.ModelSerializer):
    child = CareChildField(write_only=True)
    child_ref = ChildRefSerializer(source="child", read_only=True)
    owner = UserRefSerializer(read_only=True)
    urgency = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "school", "child", "child_ref", "opened_reason", "opened_note", "owner", "due_on", "status",
                  "close_reason", "urgency", "created_at", "closed_at"]
        read_only_fields = ["id", "school", "opened_reason", "owner", "status", "close_reason", "urgency",
                            "created_at", "closed_at"]
        extra_kwargs = {"due_on": {"required": False}}

    def get_urgency(self, obj) -> str:
        return cs.urgency(obj, timezone.localdate())


class CaseCloseSerializer(CaseSerializer):
    """The only change a case takes: closing it, with the reason and `confirm` (irreversible)."""

    child = ChildRefSerializer(read_only=True)
    close_reason = serializers.CharField(max_length=300)
    confirm = serializers.BooleanField(write_only=True, help_text="Must be true: a closed case cannot be reopened.")

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "confirm"]
        read_only_fields = [f for f in CaseSerializer.Meta.fields if f not in ("close_reason",)]
        extra_kwargs: dict = {}

    def validate_confirm(self, value):
        if not value:
            raise serializers.ValidationError(_("Tick the confirmation to close the case."))
        return value


@extend_schema_view(
    create=extend_schema(description="Open a follow-up case by hand (the school admin for any child, a proxy "
                                     "parent for their own). A child has at most one open case."),
    update=extend_schema(request=CaseCloseSerializer, responses=CaseSerializer,
                         description="Close the case with `close_reason` and `confirm: true` (irreversible)."),
    partial_update=extend_schema(request=CaseCloseSerializer, responses=CaseSerializer,
                                 description="Close the case with `close_reason` and `confirm: true`."),
)
class CaseViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin):
    model = Case
    serializer_class = CaseSerializer
    # Closing: the services decide (the school admin, or the child's proxy parent / the owner).
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "record_contacts",
                          "update": "record_contacts", "partial_update": "record_contacts"}

    def get_serializer_class(self):
        return CaseCloseSerializer if self.action in ("update", "partial_update") else CaseSerializer

    def scoped_queryset(self, queryset):
        visible = cs.cases_visible_to(self.request.user).select_related("child", "owner").order_by("due_on", "id")
        return narrow(queryset, visible)

    def create_target(self, data):
        return data["child"].school

    def create_via_service(self, data):
        return services.case_open(actor=self.request.user, child=data["child"], note=data.get("opened_note", ""),
                                  due_on=data.get("due_on"), request=self.request)

    def update_via_service(self, instance, data):
        if not data.get("confirm"):
            raise exceptions.ValidationError({"confirm": [_("Tick the confirmation to close the case.")]})
        return services.case_close(actor=self.request.user, case=instance, reason=data.get("close_reason", ""),
                                   request=self.request)


class CaseActionSerializer(serializers.ModelSerializer):
    case = CareCaseField()
    done_by = UserRefSerializer(read_only=True)

    class Meta:
        model = CaseAction
        fields = ["id", "school", "case", "done_on", "text", "done_by", "created_at"]
        read_only_fields = ["id", "school", "done_by", "created_at"]
        extra_kwargs = {"done_on": {"required": False}}


class CaseActionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    model = CaseAction
    serializer_class = CaseActionSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "record_contacts"}

    def scoped_queryset(self, queryset):
        return narrow(queryset, cs.case_actions_visible_to(self.request.user).select_related("done_by")
                      .order_by("-done_on", "-id"))

    def create_target(self, data):
        return data["case"].school

    def create_via_service(self, data):
        return services.case_action_add(actor=self.request.user, case=data["case"], text=data["text"],
                                        done_on=data.get("done_on"), request=self.request)


# ---------------------------------------------------------------- referrals
class ReferralSerializer(serializers.ModelSerializer):
    child = CareChildField(write_only=True)
    child_ref = ChildRefSerializer(source="child", read_only=True)
    made_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Referral
        fields = ["id", "school", "child", "child_ref", "to", "made_on", "made_by", "reason", "is_mandatory_report",
                  "shares_data", "consent_recorded_on", "consent_given_by", "legal_ground", "answer", "answered_on",
                  "created_at"]
        read_only_fields = ["id", "school", "made_by", "created_at"]
        extra_kwargs = {"made_on": {"required": False}}


@extend_schema_view(
    create=extend_schema(description="Record a referral or a mandatory report. Sharing the child's data "
                                     "(`shares_data`) needs `consent_recorded_on` and `consent_given_by`, or a "
                                     "`legal_ground`; otherwise 400."),
)
class ReferralViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    model = Referral
    serializer_class = ReferralSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "record_contacts"}

    def scoped_queryset(self, queryset):
        return narrow(queryset, cs.referrals_visible_to(self.request.user).select_related("child", "made_by")
                      .order_by("-made_on", "-id"))

    def create_target(self, data):
        return data["child"].school

    def create_via_service(self, data):
        child = data.pop("child")
        return services.referral_create(actor=self.request.user, child=child, request=self.request, **data)


# ---------------------------------------------------------------- risk list and figures (by school id)
class RiskRowSerializer(serializers.Serializer):
    child = ChildRefSerializer()
    score = serializers.IntegerField()
    level = serializers.CharField(help_text="high, medium or low (高 / 中 / 低), by the district's thresholds.")
    signals = serializers.ListField(child=serializers.CharField(), help_text="The signals that fired.")
    why = serializers.ListField(child=serializers.CharField(), help_text="Each fired signal with its weight.")


class RiskListSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The school's id.")
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    rows = RiskRowSerializer(many=True)


@extend_schema_view(retrieve=extend_schema(responses=RiskListSerializer,
                                           description="The school's children by risk level with the fired "
                                                       "signals: the school admin all, a proxy parent their own; "
                                                       "403 for anyone else. Access-logged."))
class RiskListViewSet(ReadOnlyScopedViewSet):
    model = School
    serializer_class = SchoolRefSerializer

    def scoped_queryset(self, queryset):
        # The schools whose children the user cares for (cs.care_level): others' risk lists do not exist here.
        ids = [sid for sid, perms in permissions_by_school(self.request.user).items()
               if perms & {"manage_children", "record_contacts"}]
        return queryset.filter(pk__in=ids).order_by("path", "id")

    def retrieve(self, request, *args, **kwargs):
        school = self.get_object()
        rows, children, rules = cs.risk_list(request.user, school)
        access_log_record(user=request.user, school_id=school.pk, action="view", object_type=RISK_LIST,
                          object_id=school.pk, request=request, detail={"children": len(rows)})
        return Response(RiskListSerializer({
            "id": school.pk, "high": sum(r.level == risk.HIGH for r in rows),
            "medium": sum(r.level == risk.MEDIUM for r in rows),
            "rows": [{"child": children[r.child_id], "score": r.score, "level": r.level, "signals": r.fired,
                      "why": r.explanation(rules)} for r in rows],
        }).data)


def _count(model, **filters):
    return Coalesce(Subquery(model.objects.filter(school_id=OuterRef("pk"), **filters).order_by()
                             .values("school_id").annotate(n=Count("id")).values("n"),
                             output_field=IntegerField()), 0)


class CareFiguresSerializer(serializers.ModelSerializer):
    open_cases = serializers.IntegerField(read_only=True)
    overdue_cases = serializers.IntegerField(read_only=True)
    referrals = serializers.IntegerField(read_only=True)
    mandatory_reports = serializers.IntegerField(read_only=True)

    class Meta:
        model = School
        fields = ["id", "name", "open_cases", "overdue_cases", "referrals", "mandatory_reports"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(description="Per school you oversee (bureau, township): open and "
                                                   "overdue follow-up cases, referrals and mandatory reports "
                                                   "this year. Figures only, never a child."))
class CareFiguresViewSet(ReadOnlyScopedViewSet):
    model = School
    serializer_class = CareFiguresSerializer
    action_permissions = {"list": VISIBLE, "retrieve": "view_aggregates"}

    def scoped_queryset(self, queryset):
        ids = [sid for sid, perms in permissions_by_school(self.request.user).items() if "view_aggregates" in perms]
        today = timezone.localdate()
        year_start = today.replace(month=1, day=1)
        return queryset.filter(pk__in=ids).annotate(
            open_cases=_count(Case, status=Case.Status.OPEN),
            overdue_cases=_count(Case, status=Case.Status.OPEN, due_on__lt=today),
            referrals=_count(Referral, made_on__gte=year_start),
            mandatory_reports=_count(Referral, made_on__gte=year_start, is_mandatory_report=True),
        ).order_by("path", "id")


VIEWSETS = [
    ("care-cases", CaseViewSet),
    ("care-case-actions", CaseActionViewSet),
    ("care-referrals", ReferralViewSet),
    ("care-risk-lists", RiskListViewSet),
    ("care-figures", CareFiguresViewSet),
]
extra_patterns: list = []


def register(router) -> None:
    for prefix, viewset in VIEWSETS:
        router.register(prefix, viewset, basename=prefix)
