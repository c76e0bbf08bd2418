"""The account's security page and the two-factor steps: enrol (QR code + a first code), verify."""
from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services, tokens
from .two_factor import SESSION_KEY, confirmed_device, requires_two_factor


class CodeForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Six-digit code"), regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": gettext_lazy("Enter the six digits shown in your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].strip()


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@login_required
def security(request):
    device = confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            removed = services.totp_device_remove(user=request.user, token=form.cleaned_data["token"], request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if removed:
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("account_security")
            form.add_error("token", _("This code is wrong or expired."))
    return render(request, "tenancy/security.html", {
        "device": device, "required": requires_two_factor(request.user), "form": form,
        "verified": request.user.is_verified(), "api_tokens": list(tokens.tokens_of(request.user)),
    })


@login_required
def api_token_revoke(request, pk: int):
    """Revoke one of the user's own API tokens, after a confirmation page (GET). Anyone else's
    token, or one that no longer works, is 404."""
    token = get_object_or_404(tokens.tokens_of(request.user), pk=pk)
    if request.method == "POST":
        tokens.api_token_revoke(actor=request.user, token=token, request=request)
        messages.success(request, _("The API token was revoked: it no longer works."))
        return redirect(reverse("account_security") + "#api-tokens")
    return render(request, "tenancy/api_token_revoke.html", {"token": token})


@login_required
def two_factor_setup(request):
    if confirmed_device(request.user) is not None:
        return redirect("two_factor_verify" if not request.user.is_verified() else "account_security")
    device = services.totp_device_start(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(user=request.user, device=device, token=form.cleaned_data["token"],
                                        request=request):
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Two-factor authentication is on. You will be asked for a code at each login."))
            return redirect(_next_url(request))
        form.add_error("token", _("This code is wrong or expired."))
    qr = segno.make(device.config_url, error="m")
    return render(request, "tenancy/two_factor_setup.html", {
        "form": form, "qr_data_uri": qr.svg_data_uri(scale=5, border=2),
        "secret": _grouped_secret(device), "required": requires_two_factor(request.user),
        "next": _next_url(request),
    })


def _grouped_secret(device) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@login_required
def two_factor_verify(request):
    if confirmed_device(request.user) is None:
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = confirmed_device(request.user).verify_is_allowed()
        if services.otp_verify(user=request.user, token=form.cleaned_data["token"], request=request):
            request.session.pop(SESSION_KEY, None)
            return redirect(_next_url(request))
        # django-otp refuses every code for a while after a wrong one (doubling each time).
        form.add_error("token", _("This code is wrong or expired.") if allowed else
                       _("Too many wrong codes: wait a few seconds, then enter the current code."))
    return render(request, "tenancy/two_factor_verify.html", {"form": form, "next": _next_url(request)})
