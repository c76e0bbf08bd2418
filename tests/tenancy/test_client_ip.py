"""One rule for the client's IP address (tenancy.client_ip): the access log, the API throttles and
django-axes all read it, trusting exactly TRUSTED_PROXY_COUNT reverse proxies in X-Forwarded-For.
Behind nginx, REMOTE_ADDR is the proxy: a row recording it says nothing about who it was."""
from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from tenancy.client_ip import client_ip
from tenancy.models import AccessLog
from tenancy.roles import Role
from tenancy.scoping import system_school_ids, tenant_scope

PROXY = "10.0.0.1"  # nginx, as the app sees it
CLIENT = "203.0.113.9"  # what nginx appended: the client
SPOOFED = "6.6.6.6"  # written by the client itself
FORWARDED = f"{SPOOFED}, {CLIENT}"
# The address each row must record, by number of trusted proxies.
EXPECTED = {0: PROXY, 1: CLIENT}


def _ips(**filters) -> set:
    with tenant_scope(system_school_ids()):
        return set(AccessLog.objects.filter(**filters).values_list("ip_address", flat=True))


@pytest.mark.parametrize("proxies", [0, 1])
def test_api_write_rows_record_the_client(tree, settings, proxies):
    settings.TRUSTED_PROXY_COUNT = proxies
    client = APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=FORWARDED)
    client.force_login(tree.gupei_admin)
    response = client.post("/api/v1/memberships/", {"username": "web_ip", "display_name": "新老师", "role": Role.TEACHER,
                                                    "school": tree.gupei.pk}, format="json")
    assert response.status_code == 201, response.content
    assert _ips(object_type="tenancy.membership", object_id=str(response.json()["id"])) == {EXPECTED[proxies]}


@pytest.mark.parametrize("proxies", [0, 1])
def test_web_rows_record_the_client_also_in_bulk(client, tree, settings, proxies):
    """One row (a role grant from the staff page) and many in one INSERT (the archive export: one
    row per child, access_log_record_many)."""
    from tests.support.schools import add_child
    from tests.web.pages import _staff_user

    settings.TRUSTED_PROXY_COUNT = proxies
    for i in range(3):
        add_child(tree.gupei, 700 + i)
    staff = _staff_user(tree, tree.gupei)
    client.force_login(tree.gupei_admin)
    headers = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": FORWARDED}
    granted = client.post(reverse("school_staff_grant", args=[tree.gupei.pk]),
                          {"user": staff.pk, "role": Role.CLERK}, **headers)
    assert granted.status_code == 302
    exported = client.get(reverse("children_export", args=[tree.gupei.pk]), **headers)
    assert exported.status_code == 200
    assert b"".join(exported.streaming_content) if exported.streaming else exported.content
    assert _ips(object_type="tenancy.membership", user=tree.gupei_admin, action="create") == {EXPECTED[proxies]}
    assert _ips(object_type="schools.child", action="export") == {EXPECTED[proxies]}


@pytest.mark.parametrize("proxies", [0, 1])
def test_throttles_and_axes_key_on_the_same_address(settings, proxies):
    """DRF's throttles (api.throttling) and django-axes (AXES_CLIENT_IP_CALLABLE) name the client
    exactly as the access log does: one function, one setting."""
    from axes.helpers import get_client_ip_address

    from api.throttling import AnonRateThrottle, UserRateThrottle

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=FORWARDED)
    assert client_ip(request) == EXPECTED[proxies]
    assert AnonRateThrottle().get_ident(request) == EXPECTED[proxies]
    assert UserRateThrottle().get_ident(request) == EXPECTED[proxies]
    assert get_client_ip_address(request) == EXPECTED[proxies]


def test_api_anonymous_throttle_follows_the_trusted_proxy(tree, settings):
    """Behind one proxy, two clients are two clients (not one proxy address), and the address a
    client writes itself does not make it a new one."""
    from django.core.cache import cache

    settings.TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "1000/minute", "anon": "1/minute"}}
    cache.clear()
    client = APIClient(REMOTE_ADDR=PROXY)
    url = reverse("api:v1:auth-token")
    try:
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {CLIENT}").status_code == 400
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR=f"2.2.2.2, {CLIENT}").status_code == 429
        assert client.post(url, {}, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 400
    finally:
        cache.clear()


def test_a_forged_address_that_is_no_ip_falls_back_to_the_peer(tree, settings):
    """Only a client can have written a non-address: it must not reach the typed columns (the
    access log, axes' attempts) and turn a request into a server error."""
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(request) == PROXY
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None
    assert client_ip(None) is None
    client = APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    client.force_login(tree.gupei_admin)
    response = client.post("/api/v1/memberships/", {"username": "odd_ip", "display_name": "新老师", "role": Role.TEACHER,
                                                    "school": tree.gupei.pk}, format="json")
    assert response.status_code == 201, response.content
    assert _ips(object_type="tenancy.membership", object_id=str(response.json()["id"])) == {PROXY}
