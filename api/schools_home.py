"""API for the home's records (issue #3): calendar, site, equipment, leadership, rule documents,
theme schedule, training meetings, activities, evidence, and the read-only dashboard, contact
tracker and rule-document status of a school.

Everyone with a role on a school sees these (they name no child's personal data, except the
activity participants, which are limited to the children the reader may see). Writes need
`manage_materials` (school admin, materials clerk); the calendar is the bureau's.
"""
from __future__ import annotations

import django_filters
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.response import Response

from schools import selectors as ss
from schools import services
from schools.models import (
    Activity, ActivityParticipant, ActivitySite, CareContact, Equipment, Evidence, LeadershipMember,
    ReusedEvidenceFlag, RuleDocument, RuleDocumentVersion, RuleKind, Semester, ThemeSchedule, TrainingMeeting,
)
from tenancy import selectors
from tenancy.dates import sane_date
from tenancy.models import School

from .base import VISIBLE, ScopedViewSet, VisibleDistrictField, narrow
from .schools_common import (
    SchoolOwnedSerializer, SchoolOwnedViewSet, StaffUserField, UserRefSerializer, VisibleChildField,
    VisibleSemesterField, child_q, service_errors,
)


def _date_range(field: str, name: str):
    return {
        f"{name}_after": django_filters.DateFilter(field_name=field, lookup_expr="gte", validators=[sane_date]),
        f"{name}_before": django_filters.DateFilter(field_name=field, lookup_expr="lte", validators=[sane_date]),
    }


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
class SemesterViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    model = Semester
    serializer_class = SemesterSerializer
    filterset_class = SemesterFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "manage_schools",
                          "update": "manage_schools", "partial_update": "manage_schools", "destroy": "manage_schools"}

    def scoped_queryset(self, queryset):
        # Every user of a district reads its calendar: exactly the base's tenant filter.
        return queryset.order_by("district", "-start")

    def create_via_service(self, data):
        return services.semester_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.semester_update(actor=self.request.user, semester=instance, **data)

    def destroy_via_service(self, instance):
        services.semester_delete(actor=self.request.user, semester=instance)


# ---------------------------------------------------------------- site, equipment, leadership
class MaterialsViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    abstract = True
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE, "create": "manage_materials", "update": "manage_materials",
        "partial_update": "manage_materials", "destroy": "manage_materials",
    }
    create_service = update_service = None
    update_kwarg = ""

    def create_via_service(self, data):
        return type(self).create_service(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return type(self).update_service(actor=self.request.user, **{self.update_kwarg: instance}, **data)

    def destroy_via_service(self, instance):
        services.home_record_delete(actor=self.request.user, obj=instance)


class SchoolFilter(django_filters.FilterSet):
    school = django_filters.NumberFilter(field_name="school_id")


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
    update_kwarg = "site"

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("opened_on", "id")


class EquipmentSerializer(SchoolOwnedSerializer):
    class Meta:
        model = Equipment
        fields = ["id", "school", "kind", "description", "quantity", "acquired_on"]
        read_only_fields = ["id"]


class EquipmentFilter(SchoolFilter):
    kind = django_filters.ChoiceFilter(choices=Equipment.Kind.choices)
    locals().update(_date_range("acquired_on", "acquired"))

    class Meta:
        model = Equipment
        fields = ["school", "kind"]


class EquipmentViewSet(MaterialsViewSet):
    model = Equipment
    serializer_class = EquipmentSerializer
    filterset_class = EquipmentFilter
    create_service = staticmethod(services.equipment_create)
    update_service = staticmethod(services.equipment_update)
    update_kwarg = "item"

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("kind", "acquired_on", "id")


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
    update_kwarg = "member"

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("-is_leader", "order", "id")


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

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).order_by("semester", "weekday", "id")

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
    locals().update(_date_range("date", "date"))

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

    def create_via_service(self, data):
        return services.training_meeting_create(actor=self.request.user, request=self.request, **data)

    def update_via_service(self, instance, data):
        return services.training_meeting_update(actor=self.request.user, meeting=instance, request=self.request,
                                                **data)

    def destroy_via_service(self, instance):
        services.training_meeting_delete(actor=self.request.user, meeting=instance, request=self.request)


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
    locals().update(_date_range("date", "date"))

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
        from django.db.models import Prefetch

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


# ---------------------------------------------------------------- evidence
def _url(item, view_name: str, field: str) -> str:
    """The scoped view that streams the file (never a public storage URL: photos show children)."""
    from django.urls import reverse

    if not getattr(item, field).name:
        return ""
    return reverse(view_name, kwargs={"school_pk": item.school_id, "pk": item.pk})


class EvidenceSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by = UserRefSerializer(read_only=True, allow_null=True)
    reused = serializers.BooleanField(
        read_only=True, default=False,
        help_text="Flagged as reused: the same or a near-identical file was used before by another record "
                  "within your reach (your school; a township's subtree; the bureau's district).")

    class Meta:
        model = Evidence
        fields = ["id", "school", "kind", "file_url", "thumbnail_url", "sha256", "phash", "width", "height",
                  "content_type", "size", "caption", "uploaded_by", "created_at", "activity", "training_meeting",
                  "care_contact", "reused"]
        read_only_fields = fields

    def get_file_url(self, item) -> str:
        return _url(item, "evidence_file", "file")

    def get_thumbnail_url(self, item) -> str:
        return _url(item, "evidence_thumb", "thumbnail")


@extend_schema_field(OpenApiTypes.INT)
class VisibleActivityField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return Activity.objects.filter(school_id__in=selectors.school_ids_for_user(self.context["request"].user))


@extend_schema_field(OpenApiTypes.INT)
class VisibleMeetingField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return TrainingMeeting.objects.filter(
            school_id__in=selectors.school_ids_for_user(self.context["request"].user))


@extend_schema_field(OpenApiTypes.INT)
class VisibleContactField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return CareContact.objects.filter(child_q(self.context["request"].user))


class EvidenceUploadSerializer(serializers.Serializer):
    from .base import VisibleSchoolField as _School

    school = _School()
    file = serializers.FileField(help_text="A photo (JPEG, PNG, WebP, HEIC; ≤ 10 MB, ≤ 40 MP) or a PDF/DOCX/XLSX.")
    caption = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    activity = VisibleActivityField(required=False, allow_null=True)
    training_meeting = VisibleMeetingField(required=False, allow_null=True)
    care_contact = VisibleContactField(required=False, allow_null=True)

    def validate(self, attrs):
        targets = [k for k in ("activity", "training_meeting", "care_contact") if attrs.get(k)]
        if len(targets) > 1:
            raise serializers.ValidationError(_("Attach the file to one record at most."))
        attrs["attach_to"] = attrs[targets[0]] if targets else None
        for k in ("activity", "training_meeting", "care_contact"):
            attrs.pop(k, None)
        return attrs

    def to_representation(self, instance):
        return EvidenceSerializer(instance, context=self.context).data


class EvidenceFilter(SchoolFilter):
    kind = django_filters.ChoiceFilter(choices=Evidence.Kind.choices)
    activity = django_filters.NumberFilter(field_name="activity_id")
    training_meeting = django_filters.NumberFilter(field_name="training_meeting_id")
    care_contact = django_filters.NumberFilter(field_name="care_contact_id")
    reused = django_filters.BooleanFilter(field_name="reused")
    locals().update(_date_range("created_at__date", "created"))

    class Meta:
        model = Evidence
        fields = ["school", "kind", "activity", "training_meeting", "care_contact", "reused"]


@extend_schema_view(
    create=extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer},
                         description="Upload a photo or document (multipart). Photos are re-encoded without "
                                     "EXIF/GPS; a file that does not decode is refused with 400."),
)
class EvidenceViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, mixins.DestroyModelMixin):
    model = Evidence
    filterset_class = EvidenceFilter
    # Upload: the service decides (materials for activities/meetings, the child's carer for contacts).
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": VISIBLE, "destroy": "manage_materials"}

    def get_serializer_class(self):
        return EvidenceUploadSerializer if self.action == "create" else EvidenceSerializer

    def scoped_queryset(self, queryset):
        user = self.request.user
        # Evidence of a contact follows the contact's child.
        return (super().scoped_queryset(queryset)
                .filter(Q(care_contact__isnull=True) | Q(care_contact__in=CareContact.objects.filter(child_q(user))))
                .select_related("uploaded_by")
                .annotate(reused=ss.reused_annotation(user))
                .order_by("-created_at", "-id"))

    def create_via_service(self, data):
        with service_errors("file"):
            return services.evidence_upload(actor=self.request.user, school=data["school"],
                                            uploaded_file=data["file"], attach_to=data["attach_to"],
                                            caption=data["caption"], request=self.request)

    def destroy_via_service(self, instance):
        services.evidence_delete(actor=self.request.user, evidence=instance)


class ReusedEvidenceFlagSerializer(serializers.ModelSerializer):
    evidence = EvidenceSerializer(read_only=True)
    cross_school = serializers.BooleanField(read_only=True)
    matched_school_name = serializers.CharField(source="matched_school.name", read_only=True)

    class Meta:
        model = ReusedEvidenceFlag
        fields = ["id", "school", "evidence", "reason", "distance", "matched_school", "matched_school_name",
                  "matched_evidence_id", "matched_object_type", "matched_object_id", "cross_school", "created_at"]
        read_only_fields = fields


class ReusedEvidenceFlagFilter(SchoolFilter):
    reason = django_filters.ChoiceFilter(choices=ReusedEvidenceFlag.Reason.choices)
    cross_school = django_filters.BooleanFilter(method="filter_cross")
    locals().update(_date_range("created_at__date", "created"))

    class Meta:
        model = ReusedEvidenceFlag
        fields = ["school", "reason", "cross_school"]

    def filter_cross(self, queryset, name, value):
        from django.db.models import F

        q = ~Q(matched_school_id=F("school_id"))
        return queryset.filter(q) if value else queryset.exclude(q)


class ReusedEvidenceFlagViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Reused evidence, for the bureau (whole district), township admins (their subtree) and the school's
    materials managers (their school). A flag is listed only when both uses lie inside the same one
    of those reaches: a school never learns that another school holds the same photo."""

    model = ReusedEvidenceFlag
    serializer_class = ReusedEvidenceFlagSerializer
    filterset_class = ReusedEvidenceFlagFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}

    def scoped_queryset(self, queryset):
        return (narrow(queryset, ss.reuse_flags_visible_to(self.request.user)).select_related("evidence__uploaded_by")
                .order_by("-created_at", "-id"))


# ---------------------------------------------------------------- rule documents
class RuleVersionSerializer(serializers.ModelSerializer):
    evidence = EvidenceSerializer(read_only=True)

    class Meta:
        model = RuleDocumentVersion
        fields = ["id", "school", "document", "number", "adopted_on", "evidence", "created_at"]
        read_only_fields = fields


class RuleDocumentSerializer(serializers.ModelSerializer):
    versions = RuleVersionSerializer(many=True, read_only=True)

    class Meta:
        model = RuleDocument
        fields = ["id", "school", "kind", "title", "versions"]
        read_only_fields = fields


class RuleDocumentFilter(SchoolFilter):
    kind = django_filters.ChoiceFilter(choices=RuleKind.choices)

    class Meta:
        model = RuleDocument
        fields = ["school", "kind"]


class RuleDocumentViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The school's rule documents with their versions (add a version via rule-document-versions)."""

    model = RuleDocument
    serializer_class = RuleDocumentSerializer
    filterset_class = RuleDocumentFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}

    def scoped_queryset(self, queryset):
        from django.db.models import Prefetch

        versions = RuleDocumentVersion.objects.select_related("evidence__uploaded_by").order_by("-number")
        return super().scoped_queryset(queryset).prefetch_related(Prefetch("versions", queryset=versions)).order_by(
            "school", "kind")


class RuleVersionUploadSerializer(serializers.Serializer):
    from .base import VisibleSchoolField as _School

    school = _School()
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    adopted_on = serializers.DateField(validators=[sane_date])
    file = serializers.FileField(help_text="The document: PDF, DOCX or XLSX (checked by content).")

    def to_representation(self, instance):
        return RuleVersionSerializer(instance, context=self.context).data


class RuleVersionFilter(SchoolFilter):
    document = django_filters.NumberFilter(field_name="document_id")
    kind = django_filters.ChoiceFilter(field_name="document__kind", choices=RuleKind.choices)
    locals().update(_date_range("adopted_on", "adopted"))

    class Meta:
        model = RuleDocumentVersion
        fields = ["school", "document", "kind"]


@extend_schema_view(create=extend_schema(
    request={"multipart/form-data": RuleVersionUploadSerializer}, responses={201: RuleVersionSerializer},
    description="Upload a new version of one of the nine rule documents (multipart)."))
class RuleVersionViewSet(SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin):
    model = RuleDocumentVersion
    filterset_class = RuleVersionFilter
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "create": "manage_materials"}

    def get_serializer_class(self):
        return RuleVersionUploadSerializer if self.action == "create" else RuleVersionSerializer

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).select_related("evidence__uploaded_by").order_by("document", "-number")

    def create_via_service(self, data):
        with service_errors("file"):
            return services.rule_document_version_add(
                actor=self.request.user, school=data["school"], kind=data["kind"], uploaded_file=data["file"],
                adopted_on=data["adopted_on"], title=data["title"], request=self.request)


# ---------------------------------------------------------------- per-school read-only views
class SchoolRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "name", "code"]
        read_only_fields = fields


class SchoolPageViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """A read-only page per school: the list names the schools you can open, the detail (by school
    id) computes the page."""

    abstract = True
    model = School
    serializer_class = SchoolRefSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE}

    def scoped_queryset(self, queryset):
        # The schools the user sees: exactly the base's tenant filter.
        return queryset.order_by("path", "id")

    def semester_for(self, school):
        raw = self.request.query_params.get("semester")
        if raw:
            try:
                return Semester.objects.get(pk=int(raw), district_id=school.district_id)
            except (ValueError, Semester.DoesNotExist):
                raise exceptions.ValidationError({"semester": [_("No such semester in the school's district.")]})
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


VIEWSETS = [
    ("semesters", SemesterViewSet),
    ("activity-sites", ActivitySiteViewSet),
    ("equipment", EquipmentViewSet),
    ("leadership-members", LeadershipMemberViewSet),
    ("theme-schedules", ThemeScheduleViewSet),
    ("training-meetings", TrainingMeetingViewSet),
    ("activities", ActivityViewSet),
    ("evidence", EvidenceViewSet),
    ("evidence-reuse-flags", ReusedEvidenceFlagViewSet),
    ("rule-documents", RuleDocumentViewSet),
    ("rule-document-versions", RuleVersionViewSet),
    ("school-dashboards", SchoolDashboardViewSet),
    ("contact-trackers", ContactTrackerViewSet),
    ("rule-status", RuleStatusViewSet),
]
