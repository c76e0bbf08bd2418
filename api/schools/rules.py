"""The nine rule documents and the upload of a new version."""
from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from schools import services
from schools.models import RuleDocument, RuleDocumentVersion, RuleKind
from tenancy.dates import sane_date

from ..base import ReadOnlyScopedViewSet, VisibleSchoolField
from .common import ActionSerializers, SchoolFilter, SchoolOwnedViewSet, date_range, service_errors, visible_and
from .evidence import EvidenceSerializer


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


class RuleDocumentViewSet(SchoolOwnedViewSet, ReadOnlyScopedViewSet):
    """The school's rule documents with their versions (add a version via rule-document-versions)."""

    model = RuleDocument
    serializer_class = RuleDocumentSerializer
    filterset_class = RuleDocumentFilter

    def scoped_queryset(self, queryset):
        versions = RuleDocumentVersion.objects.select_related("evidence__uploaded_by").order_by("-number")
        return super().scoped_queryset(queryset).prefetch_related(Prefetch("versions", queryset=versions)).order_by(
            "school", "kind")


class RuleVersionUploadSerializer(serializers.Serializer):
    school = VisibleSchoolField()
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    adopted_on = serializers.DateField(validators=[sane_date])
    file = serializers.FileField(help_text="The document: PDF, DOCX or XLSX (checked by content).")

    def to_representation(self, instance):
        return RuleVersionSerializer(instance, context=self.context).data


class RuleVersionFilter(SchoolFilter):
    document = django_filters.NumberFilter(field_name="document_id")
    kind = django_filters.ChoiceFilter(field_name="document__kind", choices=RuleKind.choices)
    locals().update(date_range("adopted_on", "adopted"))

    class Meta:
        model = RuleDocumentVersion
        fields = ["school", "document", "kind"]


@extend_schema_view(create=extend_schema(
    request={"multipart/form-data": RuleVersionUploadSerializer}, responses={201: RuleVersionSerializer},
    description="Upload a new version of one of the nine rule documents (multipart)."))
class RuleVersionViewSet(ActionSerializers, SchoolOwnedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin):
    model = RuleDocumentVersion
    filterset_class = RuleVersionFilter
    action_permissions = visible_and("manage_materials", ("create",))
    serializer_class = RuleVersionSerializer
    action_serializers = {"create": RuleVersionUploadSerializer}

    def scoped_queryset(self, queryset):
        return super().scoped_queryset(queryset).select_related("evidence__uploaded_by").order_by("document", "-number")

    def create_via_service(self, data):
        with service_errors("file"):
            return services.rule_document_version_add(
                actor=self.request.user, school=data["school"], kind=data["kind"], uploaded_file=data["file"],
                adopted_on=data["adopted_on"], title=data["title"], request=self.request)
