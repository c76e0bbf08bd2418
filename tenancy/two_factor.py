"""Two-factor authentication (TOTP, django-otp): who needs it, and the middleware that enforces it.

Under TWO_FACTOR_REQUIRED (production's default) every holder of a role that grants roles (bureau,
township and school admins) must use a TOTP code: these accounts hand out access to children's
records, so a phished password must not be enough. Others may enrol. Whatever the setting, a user
with a confirmed device is always asked for a code. The state is computed once at login and kept in
the session ("enrol" / "verify"), so ordinary requests cost no query.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .roles import ROLE_PERMISSIONS
from .selectors import roles_of

SESSION_KEY = "two_factor_pending"
ENROL, VERIFY = "enrol", "verify"
# The roles that can grant roles (see the module docstring).
TWO_FACTOR_ROLES = frozenset(role for role, perms in ROLE_PERMISSIONS.items() if "manage_staff" in perms)


def requires_two_factor(user) -> bool:
    return bool(settings.TWO_FACTOR_REQUIRED and roles_of(user) & TWO_FACTOR_ROLES)


def confirmed_device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def pending_step(user) -> str | None:
    """What an authenticated, not yet verified user must do first: "verify", "enrol" or nothing."""
    if confirmed_device(user) is not None:
        return VERIFY
    if requires_two_factor(user):
        return ENROL
    return None


@receiver(user_logged_in)
def _remember_pending_step(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        step = pending_step(user)
        if step:
            request.session[SESSION_KEY] = step
        else:
            request.session.pop(SESSION_KEY, None)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("two_factor_verify"), reverse("two_factor_setup"), reverse("logout"),
        reverse("set_language"), settings.STATIC_URL, "/healthz",
    )


class TwoFactorMiddleware:
    """A logged-in user with a pending step reaches no page but the step (and log out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if step and request.user.is_authenticated:
            if request.user.is_verified():
                request.session.pop(SESSION_KEY, None)
            elif not request.path.startswith(_exempt_paths()):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": _("Two-factor authentication is needed: enter your code "
                                                     "in the web page first."), "code": "two_factor_required"},
                                        status=403)
                target = reverse("two_factor_verify" if step == VERIFY else "two_factor_setup")
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
