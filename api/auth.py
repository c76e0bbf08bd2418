"""API tokens: obtain one with a username and password (django-axes counts the failures), or
revoke the one in use."""
from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, write_only=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


def _lockout_message(request) -> str:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if cool_off:
        minutes = max(1, round(cool_off.total_seconds() / 60))
        return _("Too many failed login attempts: this account is locked. Try again in %(minutes)d minutes.") % {
            "minutes": minutes
        }
    return _("Too many failed login attempts: this account is locked. Ask an administrator to unlock it.")


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
            429: OpenApiResponse(description="Locked out after repeated failures (django-axes)."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The DRF request is what axes annotates (axes_locked_out); handing it over keeps the lockout
        # an API answer here instead of AxesMiddleware's HTML page.
        user = authenticate(request=request, **serializer.validated_data)
        if user is None:
            # Answer with a Response, not an exception: DRF rolls the request's transaction back
            # on exceptions (ATOMIC_REQUESTS), which would also erase axes' record of this failure
            # and so disable the lockout.
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": _lockout_message(request), "code": "locked_out"},
                                status=status.HTTP_429_TOO_MANY_REQUESTS)
            return Response(
                {api_settings.NON_FIELD_ERRORS_KEY: [_("Unable to log in with the username and password given.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user, key=getattr(request.auth, "key", None)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

