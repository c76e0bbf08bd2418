"""Children over the API: fields per role, the access log on each detail read, contacts by a
teacher for an assigned vs an unassigned child, the bureau's identity grant, query counts."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse
from guardian.shortcuts import assign_perm

from schools import crypto
from schools.models import CareContact
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.api import client_for

from .cases_schools import assign, child, semester, today

LIST = reverse("api:v1:children-list")
CONTACTS = reverse("api:v1:care-contacts-list")
SENSITIVE = {"gender", "birth_date", "id_number", "guardian_name", "guardian_phone", "home_village",
             "health_notes", "wellbeing_notes", "parents_work_place", "consent"}


def detail(kid):
    return reverse("api:v1:children-detail", args=[kid.id])


def full_id(kid):
    with tenant_scope([kid.school_id]):
        kid.refresh_from_db()
    return crypto.decrypt(kid.id_number_ciphertext)


def test_school_admin_sees_the_full_id_in_detail_but_masked_in_lists(tree):
    kid = child(tree.gupei)
    client = client_for(tree.gupei_admin)
    body = client.get(detail(kid)).json()
    assert body["level"] == "admin" and body["id_number"] == full_id(kid)
    assert body["wellbeing_notes"] == "想念妈妈" and body["guardian_phone"] == "13800001111"
    row = client.get(LIST).json()["results"][0]
    assert row["id_number"] != full_id(kid) and "*" in row["id_number"]


def test_clerk_never_sees_sensitive_fields(tree):
    kid = child(tree.gupei)
    client = client_for(tree.gupei_clerk)
    body = client.get(detail(kid)).json()
    assert body["level"] == "basic"
    assert not SENSITIVE & set(body), SENSITIVE & set(body)
    assert body["status_history"] == [] and body["proxy_parent"] is None
    row = client.get(LIST).json()["results"][0]
    assert not SENSITIVE & set(row)


def test_teacher_sees_wellbeing_only_for_an_assigned_child(tree):
    mine, other = child(tree.gupei), child(tree.gupei)
    assign(tree, mine)
    client = client_for(tree.gupei_teacher)
    body = client.get(detail(mine)).json()
    assert body["level"] == "proxy" and body["wellbeing_notes"] == "想念妈妈"
    assert body["id_number"] != full_id(mine)  # masked for a proxy parent
    assert client.get(detail(other)).status_code == 404
    assert [r["id"] for r in client.get(LIST).json()["results"]] == [mine.id]


def test_bureau_sees_a_child_only_with_an_explicit_identity_grant(tree):
    kid = child(tree.gupei)
    assert client_for(tree.bureau_admin).get(detail(kid)).status_code == 404
    assign_perm("tenancy.view_child_identity", tree.bureau_inspector, tree.district)
    body = client_for(tree.bureau_inspector).get(detail(kid)).json()
    assert body["level"] == "identity" and body["guardian_phone"] == "13800001111"
    # The national ID is shown in full to the school admin only, whatever the grant.
    assert body["id_number"] == kid.id_number_masked and body["id_number"] != full_id(kid)
    assert "*" in body["id_number"]
    assert "wellbeing_notes" not in body  # the school admin and the proxy parent only


def test_every_child_detail_read_is_logged(tree):
    kid = child(tree.gupei)
    client = client_for(tree.gupei_admin)

    def views():
        with tenant_scope([tree.gupei.id]):
            return AccessLog.objects.filter(action=AccessLog.Action.VIEW, object_type="schools.child",
                                            object_id=str(kid.id), user=tree.gupei_admin).count()

    assert views() == 0
    client.get(detail(kid))
    client.get(detail(kid))
    assert views() == 2
    client.get(LIST)
    assert views() == 2  # lists are not per-child reads
    # The same child read through its consent record is a detail read too.
    consent = reverse("api:v1:child-consents-detail", args=[kid.id])
    assert client.get(consent).status_code == 200
    assert views() == 3
    with tenant_scope([tree.gupei.id]):
        entry = AccessLog.objects.filter(object_id=str(kid.id), action=AccessLog.Action.VIEW).latest("id")
    assert entry.detail == {"via": "consent"}
    client.get(reverse("api:v1:child-consents-list"))
    assert views() == 3


def test_a_teacher_records_contacts_only_for_an_assigned_child(tree):
    semester(tree)
    mine, other = child(tree.gupei), child(tree.gupei)
    assign(tree, mine)
    client = client_for(tree.gupei_teacher)
    body = {"kind": "home_visit", "happened_on": today().isoformat(), "notes": "家访"}
    response = client.post(CONTACTS, {**body, "child": mine.id}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["made_by"]["username"] == "gupei_teacher"
    assert client.post(CONTACTS, {**body, "child": other.id}, format="json").status_code == 404
    with tenant_scope([tree.gupei.id]):
        assert list(CareContact.objects.values_list("child_id", flat=True)) == [mine.id]
    # Bad input is a clear 400.
    future = client.post(CONTACTS, {**body, "child": mine.id,
                                    "happened_on": (today() + dt.timedelta(days=2)).isoformat()}, format="json")
    assert future.status_code == 400 and "happened_on" in future.json()


def test_clerk_cannot_record_a_contact(tree):
    semester(tree)
    kid = child(tree.gupei)
    response = client_for(tree.gupei_clerk).post(
        CONTACTS, {"child": kid.id, "kind": "talk", "happened_on": today().isoformat()}, format="json")
    assert response.status_code == 404


def test_consent_refusal_clears_sensitive_fields(tree):
    kid = child(tree.gupei)
    url = reverse("api:v1:child-consents-detail", args=[kid.id])
    response = client_for(tree.gupei_admin).patch(url, {"on": today().isoformat(), "method": "电话"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["consent"] == "refused"
    body = client_for(tree.gupei_admin).get(detail(kid)).json()
    assert body["guardian_phone"] == "" and body["wellbeing_notes"] == ""


def test_list_query_counts_do_not_grow(tree, django_assert_max_num_queries):
    semester(tree)
    client = client_for(tree.gupei_admin)
    urls = [LIST, CONTACTS, reverse("api:v1:child-status-changes-list"), reverse("api:v1:proxy-assignments-list"),
            reverse("api:v1:study-pairs-list"), reverse("api:v1:activities-list"),
            reverse("api:v1:training-meetings-list")]

    def grow(n):
        from schools import services

        for _ in range(n):
            kid = child(tree.gupei)
            assign(tree, kid)
            with tenant_scope([tree.gupei.id]):
                services.care_contact_record(actor=tree.gupei_admin, child_id=kid.id, kind="talk",
                                             happened_on=today())
                services.study_pair_create(actor=None, school=tree.gupei, teacher=tree.gupei_admin, child=kid)
                activity = services.activity_create(actor=None, school=tree.gupei, date=today(), kind="competition",
                                                    title="赛", participants=[(kid, 1, "一等奖")])
                services.training_meeting_create(actor=None, school=tree.gupei, date=today(), topic="t",
                                                 attendees=[tree.gupei_teacher])
                assert activity

    from tests.support.api import queries_for

    counts = {}
    for size, add in ((2, 2), (12, 10)):
        grow(add)
        for url in urls:
            counts[(url, size)] = queries_for(lambda url=url: client.get(url, {"page_size": 200}))
    for url in urls:
        assert counts[(url, 12)] == counts[(url, 2)], (url, counts[(url, 2)], counts[(url, 12)])
        with django_assert_max_num_queries(counts[(url, 2)]):
            assert client.get(url, {"page_size": 200}).status_code == 200


def test_a_contact_is_corrected_by_its_author_only_and_the_child_stays(tree):
    semester(tree)
    mine, other = child(tree.gupei), child(tree.gupei)
    assign(tree, mine)
    teacher, admin = client_for(tree.gupei_teacher), client_for(tree.gupei_admin)
    body = {"child": mine.id, "kind": "home_visit", "happened_on": today().isoformat(), "notes": "家访"}
    own = teacher.post(CONTACTS, body, format="json").json()["id"]
    admins = admin.post(CONTACTS, {**body, "kind": "letter"}, format="json").json()["id"]
    url = reverse("api:v1:care-contacts-detail", args=[own])
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    response = teacher.patch(url, {"notes": "补记：家访两小时", "happened_on": yesterday, "child": other.id},
                             format="json")
    assert response.status_code == 200, response.content
    with tenant_scope([tree.gupei.id]):
        saved = CareContact.objects.get(pk=own)
        logged = AccessLog.objects.filter(action="update", object_type="schools.carecontact",
                                          object_id=str(own), user=tree.gupei_teacher).count()
    assert (saved.notes, saved.happened_on.isoformat(), saved.child_id) == ("补记：家访两小时", yesterday, mine.id)
    assert logged == 1
    future = teacher.patch(url, {"happened_on": (today() + dt.timedelta(days=1)).isoformat()}, format="json")
    assert future.status_code == 400 and "happened_on" in future.json()
    # The admin's contact about the teacher's child: visible to the teacher, not theirs to change.
    assert teacher.patch(reverse("api:v1:care-contacts-detail", args=[admins]), {"notes": "x"},
                         format="json").status_code == 403
    with tenant_scope([tree.gupei.id]):
        assert CareContact.objects.get(pk=admins).notes == "家访"
