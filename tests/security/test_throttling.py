"""Throttling: DRF per user and per anonymous IP, and the login page per username and per IP.
A throttled client gets 429 with Retry-After. Rates are lowered here only (the suite's are huge)."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

PASSWORD = "Demo2026!"


def _rates(**rates):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_api_throttles_each_user_separately_with_retry_after(tree):
    teacher, admin = APIClient(), APIClient()
    teacher.force_login(tree.gupei_teacher)
    admin.force_login(tree.gupei_admin)
    with _rates(user="3/minute", anon="1000/minute"):
        statuses = [teacher.get("/api/v1/me/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = teacher.get("/api/v1/me/")
        assert throttled.status_code == 429
        assert 0 < int(throttled["Retry-After"]) <= 60
        # Another user (same address) still has their own allowance.
        assert admin.get("/api/v1/me/").status_code == 200


def test_api_throttles_anonymous_clients_by_ip(tree):
    client = APIClient()
    url = reverse("api:v1:auth-token")
    with _rates(user="1000/minute", anon="2/minute"):
        for _ in range(2):
            assert client.post(url, {"username": "gupei_teacher", "password": PASSWORD}).status_code == 200
        throttled = client.post(url, {"username": "gupei_teacher", "password": PASSWORD})
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
        other = APIClient(REMOTE_ADDR="10.9.8.7")
        assert other.post(url, {"username": "gupei_teacher", "password": PASSWORD}).status_code == 200


def test_forwarded_for_is_ignored_without_a_trusted_proxy(tree):
    """Else a client would pick a fresh "address" per request and never be throttled."""
    client = APIClient()
    url = reverse("api:v1:auth-token")
    with _rates(user="1000/minute", anon="1/minute"):
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 400
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_api_token_lockout_has_retry_after(tree):
    client = APIClient()
    url = reverse("api:v1:auth-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "gupei_teacher", "password": "wrong"})
    locked = client.post(url, {"username": "gupei_teacher", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)


def _login(client, username, password, ip="127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_lockout_is_429_with_retry_after(client, tree):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "gupei_admin", "wrong")
    locked = _login(client, "gupei_admin", PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)


def test_login_is_throttled_per_username_from_any_address(client, tree):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "gupei_admin", "wrong", ip=f"10.0.0.{i + 1}")
    # A distributed guess at one account: the account is locked wherever the next try comes from.
    assert _login(client, "gupei_admin", PASSWORD, ip="10.0.1.1").status_code == 429


@override_settings(AXES_IP_FAILURE_LIMIT=6)
def test_login_is_throttled_per_address_across_usernames(client, tree):
    names = ["gupei_admin", "gupei_teacher", "gupei_clerk", "menzhuang_admin", "menzhuang_teacher", "nobody"]
    for name in names[:-1]:  # one failure each: no username reaches its own limit
        assert _login(client, name, "wrong", ip="10.1.1.1").status_code == 200
    assert _login(client, names[-1], "wrong", ip="10.1.1.1").status_code == 429  # the address's 6th
    # The address is locked, for every account, even with the right password...
    assert _login(client, "bureau_admin", PASSWORD, ip="10.1.1.1").status_code == 429
    # ...while another address is not.
    assert _login(client, "bureau_admin", PASSWORD, ip="10.1.1.2").status_code == 302


@override_settings(AXES_IP_FAILURE_LIMIT=3)
def test_a_valid_login_does_not_reset_the_address_count(client, tree):
    for name in ("gupei_admin", "gupei_clerk"):
        _login(client, name, "wrong", ip="10.2.2.2")
    assert _login(client, "gupei_teacher", PASSWORD, ip="10.2.2.2").status_code == 302
    client.logout()
    _login(client, "menzhuang_admin", "wrong", ip="10.2.2.2")
    assert _login(client, "menzhuang_teacher", PASSWORD, ip="10.2.2.2").status_code == 429


def test_trusted_proxy_count_picks_the_client_from_forwarded_for(rf, settings):
    from tenancy.client_ip import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="127.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the spoofed 6.6.6.6 is ignored


def test_the_schema_documents_the_429_a_throttled_client_gets(tree):
    schema = APIClient().get(reverse("api:schema"), {"format": "json"}).json()
    documented = schema["paths"]["/api/v1/schools/"]["get"]["responses"]
    assert "429" in documented
    body_schema = documented["429"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    required = set(schema["components"]["schemas"][body_schema].get("required", []))
    client = APIClient()
    client.force_login(tree.gupei_teacher)
    with _rates(user="1/minute", anon="1000/minute"):
        client.get("/api/v1/schools/")
        throttled = client.get("/api/v1/schools/")
    assert throttled.status_code == 429
    assert required <= set(throttled.json())
