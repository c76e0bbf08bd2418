"""Import of the children's archive from XLSX or CSV.

Stateless two steps, so nothing is kept about a file nobody commits:
1. POST the file to /children/import/preview/ → rows, row-level errors (row, column, reason), the
   detected encoding and a token (the file's SHA-256). Nothing is written.
2. POST the same file with the token to /children/import/commit/ → the file is parsed again and
   every row is written, or none (a bad row, or a file that differs from the previewed one).
GET /children/import/template/ returns the XLSX template.
"""
from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from schools import downloads, importing, services
from schools import selectors as ss
from schools.models import Child
from tenancy.downloads import download_response

from ..base import VISIBLE, ScopedViewSet, VisibleSchoolField

TEMPLATE_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadSerializer(serializers.Serializer):
    school = VisibleSchoolField()
    file = serializers.FileField(help_text="XLSX or CSV (UTF-8 with or without BOM, or GB18030/GBK).")


class ImportCommitSerializer(ImportUploadSerializer):
    token = serializers.CharField(max_length=64, help_text="The token the preview returned for this file.")
    confirm_duplicates = serializers.BooleanField(
        required=False, default=False,
        help_text="Import the rows the preview warned about (same name and birth date as a child in the archive).")


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as in Excel; 0 = the whole file.")
    column = serializers.CharField()
    reason = serializers.CharField()


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="row_number")
    name = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField(read_only=True, allow_null=True)  # the preview (output only)
    id_number = serializers.CharField()
    grade = serializers.IntegerField()
    class_name = serializers.CharField()
    left_behind_kind = serializers.CharField()
    parents_work_place = serializers.CharField()
    guardian_name = serializers.CharField()
    guardian_relation = serializers.CharField()
    guardian_phone = serializers.CharField()
    second_contact_name = serializers.CharField()
    second_contact_phone = serializers.CharField()
    home_village = serializers.CharField()
    health_notes = serializers.CharField()
    consent_date = serializers.DateField(read_only=True, allow_null=True)
    consent_method = serializers.CharField()
    # the civil-affairs register's columns (codes as in the children's API)
    custody_type = serializers.CharField()
    guardianship_assessment = serializers.CharField()
    guardian_since = serializers.DateField(read_only=True, allow_null=True)
    parents_last_contact_on = serializers.DateField(read_only=True, allow_null=True)
    income_source = serializers.CharField()
    assistance = serializers.ListField(child=serializers.CharField())
    health_status = serializers.CharField()
    disability = serializers.CharField()
    illness = serializers.CharField()
    household_registration = serializers.CharField()


class ImportPreviewSerializer(serializers.Serializer):
    token = serializers.CharField()
    encoding = serializers.CharField(allow_null=True, help_text="CSV only: the detected encoding.")
    ok = serializers.BooleanField(help_text="True when the file can be committed as it is.")
    rows = ImportRowSerializer(many=True)
    errors = ImportRowErrorSerializer(many=True)
    warnings = ImportRowErrorSerializer(
        many=True, help_text="Rows that look like children already in the archive: committed only with "
                             "confirm_duplicates.")


class ImportNeedsConfirmationSerializer(serializers.Serializer):
    """A 409 from commit: rows look like children already in the archive; send confirm_duplicates."""

    detail = serializers.CharField()
    code = serializers.CharField()
    warnings = ImportRowErrorSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class ImportRejectedSerializer(serializers.Serializer):
    """A 400 from commit: either rows that stop the import (`detail` and `errors`), or, like any
    other 400, field names mapped to messages (no file, an unknown school, another file's token)."""

    detail = serializers.CharField(required=False)
    errors = ImportRowErrorSerializer(many=True, required=False)


def _errors(items) -> list[dict]:
    return [{"row": e["row_number"], "column": e["column"], "reason": e["reason"]} for e in items]


class ChildImportViewSet(ScopedViewSet):
    model = Child
    serializer_class = ImportUploadSerializer
    action_permissions = {"template": VISIBLE, "preview": "manage_children", "commit": "manage_children"}

    def scoped_queryset(self, queryset):  # nothing is listed here; the school comes from the input
        return queryset.none()

    def _read(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        school = serializer.validated_data["school"]
        self._require(self._action_codename(), school)
        upload = serializer.validated_data["file"]
        data = upload.read()
        upload.seek(0)
        preview = importing.read_children_file(upload, upload.name or "")
        return serializer.validated_data, school, preview, hashlib.sha256(data).hexdigest()

    @extend_schema(responses={(200, TEMPLATE_CONTENT_TYPE): OpenApiTypes.BINARY},
                   description="The XLSX template for the children import.")
    def template(self, request, *args, **kwargs):
        """The same read action as the web page (schools.downloads.children_import_template)."""
        return download_response(downloads.children_import_template(user=request.user))

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses=ImportPreviewSerializer,
                   description="Read the file and show every row and every problem; nothing is written.")
    def preview(self, request, *args, **kwargs):
        _data, school, preview, token = self._read(ImportUploadSerializer)
        # The archive's duplicate rules, as the commit will apply them (schools.selectors.duplicates).
        duplicates, warnings = ss.import_duplicates(school, preview.rows) if preview.ok else ([], [])
        return Response(ImportPreviewSerializer({
            "token": token, "encoding": preview.encoding, "ok": preview.ok and not duplicates, "rows": preview.rows,
            "errors": [{"row": e.row_number, "column": e.column, "reason": e.reason} for e in preview.errors]
            + [{"row": e.row_number, "column": e.column_title(), "reason": e.reason} for e in duplicates],
            "warnings": [{"row": w.row_number, "column": w.column_title(), "reason": w.reason} for w in warnings],
        }).data)

    @extend_schema(request={"multipart/form-data": ImportCommitSerializer},
                   responses={201: ImportResultSerializer, 400: OpenApiResponse(ImportRejectedSerializer),
                              409: OpenApiResponse(ImportNeedsConfirmationSerializer)},
                   description="Write every row of the previewed file, or nothing.")
    def commit(self, request, *args, **kwargs):
        data, school, preview, token = self._read(ImportCommitSerializer)
        if data["token"] != token:
            raise exceptions.ValidationError({"token": [_(
                "This is not the file that was previewed. Preview it again before importing.")]})
        try:
            created = services.children_import_commit(actor=request.user, school=school, preview=preview,
                                                      request=request, confirm_duplicates=data["confirm_duplicates"])
        except services.ImportNeedsConfirmation as exc:
            return Response({"detail": _("Some rows look like children already in the archive. Send "
                                         "confirm_duplicates to import them anyway."),
                             "code": services.PossibleDuplicate.code, "warnings": _errors(exc.row_warnings)},
                            status=status.HTTP_409_CONFLICT)
        except services.ImportRejected as exc:
            return Response({"detail": _("Nothing was imported: fix these rows and try again."),
                             "errors": _errors(exc.row_errors)}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": len(created), "ids": [c.id for c in created]}, status=status.HTTP_201_CREATED)
