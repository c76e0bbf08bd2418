"""API tokens (django-rest-knox): authenticating a request by one, the reads and the writes.

Knox keeps only a SHA-512 digest of each token, with an expiry (settings.API_TOKEN_TTL_HOURS); the
token is shown once, when issued. A user may hold several and revoke any. Every token of a user is
revoked when their password changes (by any path), when the account is deactivated or enrols
two-factor authentication, and when their last role is revoked. Issuing and revoking are
access-logged on every school where the user holds a role (else the `tenancy.security` logger).
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

from . import selectors
from .client_ip import client_ip
from .models import AccessLog, ApiToken, User

security_log = logging.getLogger("tenancy.security")

# Why a user's tokens were all revoked (the access log's detail).
PASSWORD_CHANGED = "password_changed"
DEACTIVATED = "deactivated"
NO_ROLE_LEFT = "no_role_left"
TWO_FACTOR_ENROLLED = "two_factor_enrolled"


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's check (the digest, the expiry, an active user) under DRF's header form
    `Authorization: Token <token>`. Used by the API and by TenantScopeMiddleware alike."""

    def authenticate(self, request):
        # The middleware resolved this very header moments ago in the same request: hand back that
        # user object, so DRF's request.user and the scope's user share their per-object caches
        # (memberships, school ids, permissions) instead of querying them all again.
        django_request = getattr(request, "_request", request)
        header = django_request.META.get("HTTP_AUTHORIZATION")
        resolved = getattr(django_request, "_token_auth", None)
        if resolved is not None and header is not None and resolved[0] == header:
            return resolved[1]
        return super().authenticate(request)

    def authenticate_credentials(self, token: bytes):
        try:
            return super().authenticate_credentials(token)
        except UnicodeDecodeError:  # a header that is not UTF-8 is no token either (not a 500)
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None

    def _cleanup_token(self, auth_token) -> bool:
        """Delete the presented token once it has expired. Knox would also sweep the user's other
        expired tokens on every request (a query each time); api_token_issue does that instead."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


def user_for_request(request) -> User | None:
    """The user a request's `Authorization: Token …` header names, or None (no header, an unknown,
    expired or revoked token, an inactive user)."""
    try:
        found = TokenAuthentication().authenticate(request)
    except exceptions.AuthenticationFailed:
        return None
    if found:
        request._token_auth = (request.META.get("HTTP_AUTHORIZATION"), found)
    return found[0] if found else None


# ---------------------------------------------------------------- reads
def tokens_of(user) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created", "-id")


# ---------------------------------------------------------------- writes
def _log(*, user, action: str, token_id, request=None, detail: dict | None = None) -> None:
    """One access-log row per school where the user holds a role; the security logger otherwise."""
    from .services import access_log_record  # services imports this module

    school_ids = sorted({m.school_id for m in selectors.memberships_of(user) if m.school_id})
    for school_id in school_ids:
        access_log_record(user=user, school_id=school_id, action=action, object_type="tenancy.apitoken",
                          object_id=token_id or "", request=request, detail=detail)
    if not school_ids:
        security_log.info("api token %s user=%s token=%s detail=%s ip=%s", action, user.pk, token_id, detail,
                          client_ip(request))


@transaction.atomic
def api_token_issue(*, user: User, name: str = "", request=None) -> tuple[ApiToken, str]:
    """A new token for the user, valid for API_TOKEN_TTL_HOURS. Returns the row and the token itself,
    which is shown this once (only its digest is stored). The user's expired tokens go."""
    ApiToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    name = name.strip()[: ApiToken._meta.get_field("name").max_length]
    token, key = ApiToken.objects.create(user=user, name=name)
    _log(user=user, action=AccessLog.Action.CREATE, token_id=token.pk, request=request,
         detail={"event": "api_token_issued", "expiry": token.expiry.isoformat()})
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken, request=None) -> None:
    """Revoke one of the actor's own tokens. Someone else's token does not exist for them."""
    if token.user_id != actor.pk:
        raise ApiToken.DoesNotExist
    token_id = token.pk
    token.delete()
    _log(user=actor, action=AccessLog.Action.DELETE, token_id=token_id, request=request,
         detail={"event": "api_token_revoked"})


@transaction.atomic
def api_tokens_revoke_all(*, user: User, reason: str, request=None) -> int:
    """Revoke every token of the user; returns how many worked until now (expired ones go silently)."""
    live = tokens_of(user).count()
    ApiToken.objects.filter(user=user).delete()
    if live:
        _log(user=user, action=AccessLog.Action.DELETE, token_id="", request=request,
             detail={"event": "api_tokens_revoked", "reason": reason, "count": live})
    return live


@receiver(post_save, sender=User, dispatch_uid="tenancy.tokens.revoke_on_credentials_change")
def _revoke_on_credentials_change(sender, instance: User, created: bool, update_fields=None, **kwargs):
    """A new password or a deactivated account ends every API token, whatever path saved it.

    A model signal, not a service call, because the paths are Django's own (PasswordChangeView,
    `changepassword`, SetPasswordForm): set_password() marks the change in `_password` until the save
    has run (AbstractBaseUser.save), while a hash upgrade at login leaves it unset, so a login never
    revokes anything."""
    if created or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    if getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance, reason=PASSWORD_CHANGED)
    elif not instance.is_active:
        api_tokens_revoke_all(user=instance, reason=DEACTIVATED)
