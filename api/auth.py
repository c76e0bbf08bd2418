"""API tokens: obtain one with a username and password (django-axes counts the failures), plus a
TOTP code for accounts with two-factor authentication; revoke the one in use; list and revoke your
own (/tokens/). The tokens themselves, their lifetime and their revocation: tenancy/tokens.py."""
from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from tenancy import tokens
from tenancy.models import ApiToken
from tenancy.tokens import TokenAuthentication

from .base import VISIBLE, ScopedViewSet, TenantFilter


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's `tokenAuth`: `Authorization: Token <token>`."""

    target_class = "tenancy.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, write_only=True)
    # Needed when the account uses two-factor authentication (required for admins in production).
    otp_token = serializers.RegexField(r"^\d{6}$", required=False, write_only=True,
                                       help_text="The six-digit code from the authenticator app, for accounts "
                                                 "with two-factor authentication.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="", write_only=True,
                                 help_text="A label to tell your tokens apart, e.g. the device or script.")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text="Shown this once: only a digest of it is kept.")
    id = serializers.IntegerField(read_only=True, help_text="The token's id under /api/v1/tokens/.")
    expiry = serializers.DateTimeField(read_only=True, help_text="After this the token no longer works.")


def _lockout_message(request) -> str:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if cool_off:
        minutes = max(1, round(cool_off.total_seconds() / 60))
        return _("Too many failed login attempts: this account is locked. Try again in %(minutes)d minutes.") % {
            "minutes": minutes
        }
    return _("Too many failed login attempts: this account is locked. Ask an administrator to unlock it.")


def _two_factor_refusal(user, otp_token: str):
    """None when the account may have a token; else the answer. Same rule as the web login: an
    enrolled user always gives a code; an admin under TWO_FACTOR_REQUIRED must enrol first (on the
    web, where the QR code is shown)."""
    from tenancy import services
    from tenancy.two_factor import ENROL, pending_step

    step = pending_step(user)
    if step is None:
        return None
    if step == ENROL:
        return Response({"detail": _("Two-factor authentication is required for this account: set it up "
                                     "on the web (Security page) first."), "code": "two_factor_setup_required"},
                        status=status.HTTP_403_FORBIDDEN)
    if not otp_token:
        return Response({"otp_token": [_("This account uses two-factor authentication: give the six-digit code.")]},
                        status=status.HTTP_400_BAD_REQUEST)
    if services.otp_verify(user=user, token=otp_token) is None:
        return Response({"otp_token": [_("This code is wrong or expired.")]}, status=status.HTTP_400_BAD_REQUEST)
    return None


class TokenView(APIView):
    """POST: exchange a username and password for a token. DELETE: revoke the token in use."""

    # Only DELETE uses the token; POST carries its credentials in the body (and needs no CSRF).
    authentication_classes = [TokenAuthentication]
    serializer_class = TokenRequestSerializer

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            403: OpenApiResponse(description="Two-factor authentication is required but not set up yet."),
            429: OpenApiResponse(description="Locked out after repeated failures (django-axes), or throttled."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The DRF request is what axes annotates (axes_locked_out); handing it over keeps the lockout
        # an API answer here instead of AxesMiddleware's HTML page.
        credentials = dict(serializer.validated_data)
        otp_token = credentials.pop("otp_token", "")
        name = credentials.pop("name", "")
        user = authenticate(request=request, **credentials)
        if user is None:
            # Answer with a Response, not an exception: DRF rolls the request's transaction back
            # on exceptions (ATOMIC_REQUESTS), which would also erase axes' record of this failure
            # and so disable the lockout.
            if getattr(request, "axes_locked_out", False):
                from tenancy.throttling import retry_after_seconds

                seconds = retry_after_seconds(request)
                return Response({"detail": _lockout_message(request), "code": "locked_out"},
                                status=status.HTTP_429_TOO_MANY_REQUESTS,
                                headers={"Retry-After": str(seconds)} if seconds else None)
            return Response(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Unable to log in with the username and password given.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        refusal = _two_factor_refusal(user, otp_token)
        if refusal is not None:
            return refusal
        token, key = tokens.api_token_issue(user=user, name=name, request=request)
        return Response({"token": key, "id": token.pk, "expiry": serializers.DateTimeField().to_representation(
            token.expiry)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if isinstance(request.auth, ApiToken):
            tokens.api_token_revoke(actor=request.user, token=request.auth, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenSerializer(serializers.ModelSerializer):
    key_prefix = serializers.CharField(read_only=True, help_text="The token's first characters.")
    current = serializers.SerializerMethodField(help_text="The token this request was made with.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_prefix", "created", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, token) -> bool:
        return getattr(self.context["request"].auth, "pk", None) == token.pk


class ApiTokenViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """Your own API tokens that still work (never the token itself: only its first characters).
    Anyone else's token is 404. DELETE revokes one (the one in use too)."""

    model = ApiToken
    serializer_class = ApiTokenSerializer
    action_permissions = {"list": VISIBLE, "retrieve": VISIBLE, "destroy": VISIBLE}
    tenant_filter = TenantFilter("a token belongs to a person, not to a school or a district",
                                 lambda user: Q(user_id=user.pk))

    def scoped_queryset(self, queryset):
        return queryset & tokens.tokens_of(self.request.user)

    def permission_target(self, obj):
        # Every action is VISIBLE: being one of the user's own tokens is the whole check, and a
        # token belongs to a person, not to a school or a district.
        return None

    def destroy_via_service(self, instance):
        tokens.api_token_revoke(actor=self.request.user, token=instance, request=self.request)

