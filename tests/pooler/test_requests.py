"""The real middleware stack through PgBouncer in transaction mode, one server connection: two
schools' users take turns, each request's tenant scope is its own transaction's, and each user
sees only its own school's rows."""
from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from benchmarks.pooler import admin
from tenancy.scoping import tenant_scope
from tests.support.pooler import default_through, pooler_for_test_db

pytestmark = pytest.mark.django_db(transaction=True)


def _entry(school, user, object_id):
    with tenant_scope([school.id]), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tenancy_accesslog (school_id, user_id, at, action, object_type, object_id, detail)"
            " VALUES (%s, %s, now(), 'view', 'schools.child', %s, '{}')", [school.id, user.id, object_id])


def _page(client, user, school):
    client.force_login(user)
    response = client.get(reverse("school_access_log", kwargs={"pk": school.pk}))
    entries = list(response.context["page"]) if response.status_code == 200 else []
    return response.status_code, {e.school_id for e in entries}, {e.object_id for e in entries
                                                                  if e.object_type == "schools.child"}


def test_two_schools_alternate_through_one_server_connection(client, tree):
    for i in range(3):
        _entry(tree.gupei, tree.gupei_admin, f"g{i}")
        _entry(tree.menzhuang, tree.menzhuang_admin, f"m{i}")
    with pooler_for_test_db(pool_size=1) as pooler, default_through(pooler):
        for _ in range(3):
            assert _page(client, tree.gupei_admin, tree.gupei) == (200, {tree.gupei.id}, {"g0", "g1", "g2"})
            assert _page(client, tree.menzhuang_admin, tree.menzhuang) == (
                200, {tree.menzhuang.id}, {"m0", "m1", "m2"})
            status, schools, _ = _page(client, tree.gupei_admin, tree.menzhuang)
            assert status in (403, 404) and not schools
        database = connection.settings_dict["NAME"]
        servers = admin(pooler.admin_url(), "SHOW SERVERS")
        pools = [p for p in admin(pooler.admin_url(), "SHOW STATS") if p["database"] == database]
    assert len([s for s in servers if s["database"] == database]) == 1
    assert pools and pools[0]["total_xact_count"] >= 9  # every request went through the pooler
