"""What tenancy costs per scoped API request: the token's user is resolved once and shared with
DRF, so memberships and school ids are read once."""
from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenancy.models import ApiToken


def _tenancy_queries(tree, url):
    _, key = ApiToken.objects.create(user=tree.gupei_admin)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json")
    with CaptureQueriesContext(connection) as q:
        resp = client.get(url)
    assert resp.status_code == 200, resp.content
    return [x["sql"] for x in q.captured_queries]


def test_a_token_request_reads_token_memberships_and_school_ids_once(tree):
    sqls = _tenancy_queries(tree, "/api/v1/care-contacts/")
    assert sum('FROM "tenancy_apitoken"' in s for s in sqls) == 1
    assert sum('FROM "tenancy_membership"' in s for s in sqls) == 1
    assert sum("set_config('app.school_ids'" in s for s in sqls) >= 1  # entering (and the test's reset)


def test_a_revoked_token_is_refused_on_the_next_request(tree):
    token, key = ApiToken.objects.create(user=tree.gupei_admin)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json")
    assert client.get("/api/v1/care-contacts/").status_code == 200
    token.delete()
    assert client.get("/api/v1/care-contacts/").status_code in (401, 403)


def test_a_removed_role_takes_effect_on_the_next_request(tree):
    from tenancy import services
    from tenancy.models import Membership

    _, key = ApiToken.objects.create(user=tree.gupei_admin)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT="application/json")
    assert client.get("/api/v1/care-contacts/").status_code == 200
    for m in Membership.objects.filter(user=tree.gupei_admin):
        services.membership_revoke(actor=None, membership=m)
    resp = client.get(f"/api/v1/care-contacts/?school={tree.gupei.id}")
    assert resp.status_code in (401, 403) or resp.json()["count"] == 0
