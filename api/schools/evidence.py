"""Evidence files (upload, list, delete) and the reused-evidence flags."""
from __future__ import annotations

import django_filters
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from schools import selectors as ss
from schools import services
from schools.models import Activity, CareContact, Evidence, ReusedEvidenceFlag, TrainingMeeting
from tenancy import selectors

from ..base import VISIBLE, ReadOnlyScopedViewSet, VisibleSchoolField, narrow
from ..tenancy import UserRefSerializer
from .common import (
    ActionSerializers,
    SchoolFilter,
    SchoolOwnedViewSet,
    child_q,
    date_range,
    service_errors,
    visible_and,
)


# ---------------------------------------------------------------- evidence
def _url(item, view_name: str, field: str) -> str:
    """The scoped view that streams the file (never a public storage URL: photos show children)."""
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
    school = VisibleSchoolField()
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
    locals().update(date_range("created_at__date", "created"))

    class Meta:
        model = Evidence
        fields = ["school", "kind", "activity", "training_meeting", "care_contact", "reused"]


@extend_schema_view(
    create=extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer},
                         description="Upload a photo or document (multipart). Photos are re-encoded without "
                                     "EXIF/GPS; a file that does not decode is refused with 400."),
)
class EvidenceViewSet(ActionSerializers, SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, mixins.DestroyModelMixin):
    model = Evidence
    filterset_class = EvidenceFilter
    # Upload: the service decides (materials for activities/meetings, the child's carer for contacts).
    action_permissions = visible_and(VISIBLE, ("create",), destroy="manage_materials")
    serializer_class = EvidenceSerializer
    action_serializers = {"create": EvidenceUploadSerializer}

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
    locals().update(date_range("created_at__date", "created"))

    class Meta:
        model = ReusedEvidenceFlag
        fields = ["school", "reason", "cross_school"]

    def filter_cross(self, queryset, name, value):
        q = ~Q(matched_school_id=F("school_id"))
        return queryset.filter(q) if value else queryset.exclude(q)


class ReusedEvidenceFlagViewSet(ReadOnlyScopedViewSet):
    """Reused evidence, for the bureau (whole district), township admins (their subtree) and the school's
    materials managers (their school). A flag is listed only when both uses lie inside the same one
    of those reaches: a school never learns that another school holds the same photo."""

    model = ReusedEvidenceFlag
    serializer_class = ReusedEvidenceFlagSerializer
    filterset_class = ReusedEvidenceFlagFilter

    def scoped_queryset(self, queryset):
        return (narrow(queryset, ss.reuse_flags_visible_to(self.request.user)).select_related("evidence__uploaded_by")
                .order_by("-created_at", "-id"))
