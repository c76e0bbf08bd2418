"""Access-log completeness for tenancy's writes: role changes (also bureau roles, on every school of
the district), with the client's IP address, and district creation."""
from __future__ import annotations

import logging

from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from tenancy import access_log_text, services
from tenancy.models import AccessLog, Membership
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

IP = "10.9.8.7"


def _request(ip: str = IP):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def _membership_rows(tree, membership_pk) -> list[tuple]:
    every = [tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id, tree.far_school.id]
    with tenant_scope(every):
        return sorted(AccessLog.objects.filter(object_type="tenancy.membership", object_id=str(membership_pk))
                      .values_list("school_id", "action", "user__username", "ip_address"))


def test_bureau_role_grant_and_revoke_are_logged_on_every_school_of_the_district(tree, client):
    district_schools = sorted([tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id])
    m = services.membership_grant(user=tree.nobody, role=Role.BUREAU_INSPECTOR, district=tree.district,
                                  actor=tree.bureau_admin, request=_request())
    assert _membership_rows(tree, m.pk) == [(sid, "create", "bureau_admin", IP) for sid in district_schools]
    pk = m.pk
    services.membership_revoke(membership=m, actor=tree.bureau_admin, request=_request("10.0.0.1"))
    rows = _membership_rows(tree, pk)
    assert [r for r in rows if r[1] == "delete"] == [(sid, "delete", "bureau_admin", "10.0.0.1")
                                                     for sid in district_schools]
    assert not Membership.objects.filter(pk=pk).exists()

    # The school admin reads it on their school's log page; the bureau reads every school's.
    for user, school in ((tree.gupei_admin, tree.gupei), (tree.bureau_admin, tree.menzhuang)):
        client.force_login(user)
        page = client.get(reverse("school_access_log", args=[school.pk])).content.decode()
        with translation.override("zh-hans"):  # the page speaks the platform's language
            kind = access_log_text.kind_of("tenancy.membership")
        assert f"{kind} · {IP}" in page, user


def test_staff_changes_record_the_clients_ip(tree):
    added = services.staff_member_add(actor=tree.gupei_admin, school=tree.gupei, username="ip_teacher",
                                      display_name="新老师", role=Role.TEACHER, password="Tz!9vq-Lm2#pXr",
                                      request=_request("10.0.0.2"))
    granted = services.staff_role_grant(actor=tree.gupei_admin, school=tree.gupei, user=added.user, role=Role.CLERK,
                                        request=_request("10.0.0.3"))
    granted_pk = granted.pk
    services.staff_role_revoke(actor=tree.gupei_admin, membership=granted, request=_request("10.0.0.4"))
    g = tree.gupei.id
    assert _membership_rows(tree, added.pk) == [(g, "create", "gupei_admin", "10.0.0.2")]
    assert _membership_rows(tree, granted_pk) == [(g, "create", "gupei_admin", "10.0.0.3"),
                                                  (g, "delete", "gupei_admin", "10.0.0.4")]


def test_api_role_changes_record_the_clients_ip(tree):
    from rest_framework.test import APIClient

    client = APIClient(REMOTE_ADDR="10.0.0.9")
    client.force_login(tree.bureau_admin)
    response = client.post("/api/v1/memberships/", {"username": "nobody", "role": Role.BUREAU_INSPECTOR,
                                                    "district": tree.district.pk}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert {r[1:] for r in _membership_rows(tree, pk)} == {("create", "bureau_admin", "10.0.0.9")}
    assert client.delete(f"/api/v1/memberships/{pk}/").status_code == 204
    assert {r[1:] for r in _membership_rows(tree, pk)} == {("create", "bureau_admin", "10.0.0.9"),
                                                           ("delete", "bureau_admin", "10.0.0.9")}


def test_district_creation_is_logged(db, caplog):
    # A new district has no school yet to own an access-log row: the security log records it.
    with caplog.at_level(logging.INFO, logger="tenancy.security"):
        district = services.district_create(name="新教育局", code="new-district", request=_request())
    messages = [r.getMessage() for r in caplog.records if r.name == "tenancy.security"]
    assert any(f"district created district={district.pk}" in m and IP in m for m in messages), messages
