"""Two-factor authentication (TOTP): enrolment with a QR code, codes computed from the device's
key, wrong codes refused, required for admins under TWO_FACTOR_REQUIRED, optional otherwise."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope

PASSWORD = "Demo2026!"
required = override_settings(TWO_FACTOR_REQUIRED=True)


def code(device, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now (or `offset_steps` steps later), from the device key."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong(device) -> str:
    good = {code(device, k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def opens_home(client) -> bool:
    """The home page answers (a school user is redirected to their school): not a two-factor step."""
    response = client.get(reverse("home"))
    if response.status_code == 200:
        return True
    return response.status_code == 302 and not urlsplit(response["Location"]).path.startswith("/account/two-factor/")


def later(device):
    """After a wrong code django-otp refuses every code for a while (1 s, doubling per failure):
    move the last failure back in time instead of sleeping."""
    import datetime as dt

    from django.utils import timezone

    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(hours=1))


def login(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


def enrol(client, user):
    """Open the setup page, read the key it shows, confirm it with a real code."""
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    from base64 import b32encode
    assert b32encode(device.bin_key).decode() == secret
    assert page.context["qr_data_uri"].startswith("data:image/svg+xml")
    response = client.post(reverse("two_factor_setup"), {"token": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


@required
@pytest.mark.parametrize("username", ["bureau_admin", "gupei_township", "gupei_admin"])
def test_admins_must_enrol_before_any_page(client, tree, username):
    login(client, username)
    for url in (reverse("home"), reverse("account_security"), reverse("school_detail", args=[tree.gupei.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("two_factor_setup")
    # The API with the session is refused too.
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    enrol(client, getattr(tree, username))
    assert opens_home(client)


@required
def test_enrolled_admin_must_give_a_code_after_password(client, tree):
    login(client, "gupei_admin")
    device = enrol(client, tree.gupei_admin)
    client.post(reverse("logout"))

    login(client, "gupei_admin")
    response = client.get(reverse("home"))
    assert urlsplit(response["Location"]).path == reverse("two_factor_verify")
    refused = client.post(reverse("two_factor_verify"), {"token": wrong(device)})
    assert refused.status_code == 200 and "token" in refused.context["form"].errors
    assert not opens_home(client)
    # Right after a wrong code even the right one is refused (django-otp's throttle)...
    throttled = client.post(reverse("two_factor_verify"), {"token": code(device, 1)})
    assert throttled.status_code == 200
    later(device)
    # ...and the code just used at enrolment cannot be replayed: take the next one.
    ok = client.post(reverse("two_factor_verify") + "?next=/", {"token": code(device, 1)})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert opens_home(client)


@required
def test_teachers_are_not_forced(client, tree):
    login(client, "gupei_teacher")
    assert opens_home(client)


def test_optional_in_the_demo_settings_but_asked_once_enrolled(client, tree):
    login(client, "gupei_admin")
    assert opens_home(client)  # not required here
    page = client.get(reverse("account_security"))
    assert 'data-two-factor="off"' in page.content.decode()
    device = enrol(client, tree.gupei_admin)
    client.post(reverse("logout"))
    login(client, "gupei_admin")
    assert urlsplit(client.get(reverse("home"))["Location"]).path == reverse("two_factor_verify")
    client.post(reverse("two_factor_verify"), {"token": code(device, 1)})
    assert opens_home(client)
    # Optional: the user may turn it off again, with a current code.
    off = client.post(reverse("account_security"), {"token": code(device, 2)})
    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=tree.gupei_admin).exists()


@required
def test_required_users_cannot_turn_it_off(client, tree):
    login(client, "gupei_admin")
    device = enrol(client, tree.gupei_admin)
    response = client.post(reverse("account_security"), {"token": code(device, 1)})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=tree.gupei_admin, confirmed=True).exists()


def test_wrong_code_at_enrolment_is_refused(client, tree):
    login(client, "gupei_teacher")
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=tree.gupei_teacher)
    response = client.post(reverse("two_factor_setup"), {"token": wrong(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    for bad in ("12345", "abcdef"):
        response = client.post(reverse("two_factor_setup"), {"token": bad})
        assert "token" in response.context["form"].errors


def test_enrolment_and_checks_are_access_logged(client, tree):
    login(client, "gupei_admin")
    device = enrol(client, tree.gupei_admin)
    client.post(reverse("logout"))
    login(client, "gupei_admin")
    client.post(reverse("two_factor_verify"), {"token": wrong(device)})
    later(device)
    client.post(reverse("two_factor_verify"), {"token": code(device, 1)})
    with tenant_scope([tree.gupei.id]):
        rows = list(AccessLog.objects.filter(object_type="otp_totp.totpdevice").order_by("id")
                    .values_list("action", "detail", "user_id"))
    assert rows == [
        ("create", {"event": "enrol", "ok": True}, tree.gupei_admin.id),
        ("verify", {"event": "verify", "ok": False}, tree.gupei_admin.id),
        ("verify", {"event": "verify", "ok": True}, tree.gupei_admin.id),
    ]


def test_next_cannot_send_the_user_off_site(client, tree):
    login(client, "gupei_teacher")
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=tree.gupei_teacher)
    response = client.post(reverse("two_factor_setup"), {"token": code(device), "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


# ---------------------------------------------------------------- API tokens
def _token(**data):
    return APIClient().post(reverse("api:v1:auth-token"), data)


@required
def test_api_token_needs_enrolment_then_a_code_for_admins(client, tree):
    refused = _token(username="gupei_admin", password=PASSWORD)
    assert refused.status_code == 403 and refused.json()["code"] == "two_factor_setup_required"
    login(client, "gupei_admin")
    device = enrol(client, tree.gupei_admin)
    missing = _token(username="gupei_admin", password=PASSWORD)
    assert missing.status_code == 400 and "otp_token" in missing.json()
    bad = _token(username="gupei_admin", password=PASSWORD, otp_token=wrong(device))
    assert bad.status_code == 400 and "otp_token" in bad.json()
    later(device)
    ok = _token(username="gupei_admin", password=PASSWORD, otp_token=code(device, 1))
    assert ok.status_code == 200 and re.fullmatch(r"[0-9a-f]{64}", ok.json()["token"])
    # Teachers get theirs with a password only.
    assert _token(username="gupei_teacher", password=PASSWORD).status_code == 200


def test_api_token_without_the_requirement(client, tree):
    old = _token(username="gupei_admin", password=PASSWORD)
    assert old.status_code == 200
    login(client, "gupei_admin")
    device = enrol(client, tree.gupei_admin)
    # The token obtained with the password alone no longer works.
    api = APIClient(HTTP_AUTHORIZATION=f"Token {old.json()['token']}")
    assert api.get("/api/v1/me/").status_code == 401
    # Enrolled (voluntarily): the code is needed from now on.
    assert _token(username="gupei_admin", password=PASSWORD).status_code == 400
    assert _token(username="gupei_admin", password=PASSWORD, otp_token=code(device, 1)).status_code == 200
