"""OpenAPI generation: every operation documents the error answers it can give.

drf-spectacular documents only the success response of an operation. A client (and the schema fuzz
test, tests/api/test_schemathesis.py) must also be told which errors to expect, with their bodies:

- 400 when the operation takes a body or query parameters (validation, filters, a bad page size);
- 401 and 403 when it needs credentials (no or bad token; a role without the permission);
- 404 when it names an object in its path (missing, or another school's), and on lists, whose
  `page` past the end is a 404 (DRF's page-number pagination);
- on every create: the optional Idempotency-Key header (api.base), 422 for a key already used
  with another body, 404 for a key whose first record is gone.

Codes an operation already documents (with @extend_schema) are kept as they are.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# Media types of the files the API serves, named explicitly: guessing them from the file name
# depends on the machine's /etc/mime.types.
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ApiErrorSerializer(serializers.Serializer):
    """The body of 401, 403, 404 (and 429) answers."""

    detail = serializers.CharField(help_text=_("What went wrong, in the user's language."))
    code = serializers.CharField(required=False, help_text=_("A machine-readable reason, when there is one."))


class ApiValidationErrorSerializer(serializers.Serializer):
    """The body of a 400 answer: each rejected field's name maps to its list of messages.

    Errors about the whole input are under `non_field_errors`; a body that cannot be parsed at all
    gets `detail`. Other keys are the names of the request's fields or query parameters."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


_BAD_REQUEST = OpenApiResponse(ApiValidationErrorSerializer, description="The input was rejected; nothing was written.")
_UNAUTHORIZED = OpenApiResponse(ApiErrorSerializer, description="No credentials, or credentials that are not valid.")
_FORBIDDEN = OpenApiResponse(ApiErrorSerializer, description="The user's role lacks the permission this action needs.")
_THROTTLED = OpenApiResponse(
    ApiErrorSerializer,
    description="Too many requests from this user (or address): wait the seconds in the Retry-After header.",
)
_NOT_FOUND = OpenApiResponse(
    ApiErrorSerializer,
    description="No such object here: it does not exist or belongs to a school the user cannot see "
    "(or the page is past the end of the list).",
)


_KEY_REUSED = OpenApiResponse(
    ApiErrorSerializer,
    description="This Idempotency-Key was already used for a different request; nothing was written.",
)
IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,64}$"},
    "description": "A client-generated id of this create (a UUID). Sent again, the answer is the first "
                   "request's result (header Idempotent-Replayed: true) and nothing is written.",
}


class StandardErrorsMixin:
    """Adds the error responses above to each operation that can give them."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:  # excluded from the schema
            return None
        responses = operation.setdefault("responses", {})
        parameters = operation.get("parameters", [])
        wanted = {}
        # A viewset's DELETE goes through a service that may refuse it (e.g. evidence that is a rule
        # document's version) with a 400.
        deleting = self.method == "DELETE" and hasattr(self.view, "destroy_via_service")
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters) or deleting:
            wanted["400"] = _BAD_REQUEST
        security = operation.get("security")
        if security and {} not in security:  # credentials required (no anonymous entry)
            wanted["401"] = _UNAUTHORIZED
            wanted["403"] = _FORBIDDEN
        if any(p["in"] == "path" for p in parameters) or self._is_list_view():
            wanted["404"] = _NOT_FOUND
        if self.method == "POST" and getattr(self.view, "action", None) == "create":
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
            wanted["404"] = _NOT_FOUND
            wanted["422"] = _KEY_REUSED
        if getattr(self.view, "throttle_classes", None):  # DRF throttles (settings): 429 + Retry-After
            wanted["429"] = _THROTTLED
        for code, response in wanted.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return operation

    def _map_basic_serializer(self, serializer, direction):
        """drf-spectacular lists every read-only field as required in responses; a read-only field
        declared `required=False` (present only for some readers, e.g. a child's masked fields) may
        be absent, so it is left out of `required`."""
        schema = super()._map_basic_serializer(serializer, direction)
        optional = {
            field.field_name for field in serializer.fields.values()
            if field.read_only and getattr(field, "_kwargs", {}).get("required") is False
        }
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema


class StandardErrorsAutoSchema(StandardErrorsMixin, AutoSchema):
    """The schema class of the API's viewsets (api.base.ScopedViewSet)."""


class TokenViewErrors(OpenApiViewExtension):
    """The token endpoint is a plain APIView outside ScopedViewSet: give it the same error answers
    (DELETE without a token is a 401) without changing its code or its own annotations. This is
    only the schema's copy of the view; requests still go to the original."""

    target_class = "api.auth.TokenView"

    def view_replacement(self):
        view = self.target
        attrs = {"schema": with_standard_errors(type(view.schema))()}
        # drf-spectacular builds a method's @extend_schema class on the default schema class, not
        # on the view's, so give each annotated handler a schema class with the errors mixed in.
        for name in view.http_method_names:
            handler = getattr(view, name, None)
            schema_class = getattr(handler, "kwargs", {}).get("schema")
            if schema_class is None:
                continue

            def documented(self, request, *args, _handler=handler, **kwargs):
                return _handler(self, request, *args, **kwargs)

            documented.kwargs = {**handler.kwargs, "schema": with_standard_errors(schema_class)}
            attrs[name] = documented
        return type(view.__name__, (view,), attrs)


def with_standard_errors(schema_class: type) -> type:
    if issubclass(schema_class, StandardErrorsMixin):
        return schema_class
    return type(f"StandardErrors{schema_class.__name__}", (StandardErrorsMixin, schema_class), {})
