"""A guardian's request to see, correct or delete a child's data: recorded with its due date,
listed open/due/overdue, on the school admin's start page, answered, and closed with its outcome.
Deletion clears exactly what the retention purge clears and keeps the request."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from privacy import selectors, services
from privacy.models import GuardianRequest
from schools import crypto
from schools import services as school_services
from schools.models import CareContact, Child
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child, make_id_number


def _request(tree, child, kind, received_on, **extra):
    with tenant_scope([child.school_id]):
        return services.guardian_request_create(actor=tree.gupei_admin, school=tree.gupei, child=child, kind=kind,
                                                requester_name="王奶奶", requester_relation="祖母",
                                                received_on=received_on, **extra)


def _get(model, pk, school):
    with tenant_scope([school.id]):
        return model.objects.get(pk=pk)


def _logged(school, **filters):
    with tenant_scope([school.id]):
        return AccessLog.objects.filter(school_id=school.id, **filters).count()


def _start_items(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {i.key: i for s in response.context["todo"].sections for i in s.items}, response.content.decode()


def test_due_date_defaults_to_the_configured_days(tree, today, settings):
    child = add_child(tree.gupei, 1)
    assert _request(tree, child, "see", today).due_on == today + dt.timedelta(days=15)
    settings.PRIVACY_GUARDIAN_REQUEST_DAYS = 10
    assert _request(tree, child, "see", today).due_on == today + dt.timedelta(days=10)
    assert _request(tree, child, "see", today, due_on=today + dt.timedelta(days=3)).due_on == today + dt.timedelta(days=3)
    with pytest.raises(ValidationError):
        _request(tree, child, "see", today, due_on=today - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        _request(tree, child, "erase", today)
    other = add_child(tree.menzhuang, 2)
    with tenant_scope([tree.gupei.id, tree.menzhuang.id]), pytest.raises(ValidationError):
        services.guardian_request_create(actor=tree.gupei_admin, school=tree.gupei, child=other, kind="see",
                                         requester_name="王奶奶", received_on=today)


def test_due_and_overdue_on_the_list_and_the_start_page(client, tree, today):
    child = add_child(tree.gupei, 3)
    client.force_login(tree.gupei_admin)
    items, _body = _start_items(client, tree.gupei_admin)
    assert "guardian_requests_due" not in items and "guardian_requests_overdue" not in items
    fresh = _request(tree, child, "see", today)  # due in 15 days: not today's work yet
    soon = _request(tree, child, "correct", today - dt.timedelta(days=10))  # due in 5 days
    items, body = _start_items(client, tree.gupei_admin)
    assert items["guardian_requests_due"].count == 1 and "guardian_requests_overdue" not in items
    assert items["guardian_requests_due"].url == reverse("guardian_requests", kwargs={"school_pk": tree.gupei.pk})
    assert "即将到期的监护人申请" in body
    late = _request(tree, child, "delete", today - dt.timedelta(days=20))  # 5 days overdue
    items, _body = _start_items(client, tree.gupei_admin)
    assert items["guardian_requests_overdue"].count == 1 and items["guardian_requests_overdue"].urgency == 0
    with tenant_scope([tree.gupei.id]):
        assert [selectors.is_overdue(r, today) for r in (fresh, soon, late)] == [False, False, True]
    listing = client.get(reverse("guardian_requests", kwargs={"school_pk": tree.gupei.pk})).content.decode()
    assert "已于" in listing and "剩 5 天" in listing
    # Other roles have no such item; a closed request leaves the start page.
    for user in (tree.gupei_teacher, tree.gupei_clerk, tree.bureau_admin, tree.menzhuang_admin):
        items, _body = _start_items(client, user)
        assert not {"guardian_requests_due", "guardian_requests_overdue"} & set(items), user.username
    with tenant_scope([tree.gupei.id]):
        services.guardian_request_close(actor=tree.gupei_admin, req=late, status="refused", outcome="非监护人申请")
    items, _body = _start_items(client, tree.gupei_admin)
    assert "guardian_requests_overdue" not in items


def test_see_prints_what_is_held_masked_and_logged(client, tree, today):
    child = add_child(tree.gupei, 4)
    number = make_id_number(4)
    req = _request(tree, child, "see", today)
    with tenant_scope([tree.gupei.id]):
        services.data_officer_set(actor=tree.gupei_admin, school=tree.gupei, user=tree.gupei_admin,
                                  phone="13900001234", appointed_on=today)
    client.force_login(tree.gupei_admin)
    copy_url = reverse("guardian_request_copy", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk})
    detail = client.get(reverse("guardian_request_detail", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk}))
    assert copy_url in detail.content.decode()
    before = _logged(tree.gupei, action="view")
    body = client.get(copy_url).content.decode()
    assert "孩子4" in body and "想念妈妈" in body and "13800001111" in body and "王奶奶" in body
    assert number not in body and crypto.mask_id_number(number) in body  # the same mask as the archive
    assert str(tree.gupei_admin) in body and "13900001234" in body  # the data officer
    # One view of the request and one of the child, by the admin.
    assert _logged(tree.gupei, action="view") == before + 2
    assert _logged(tree.gupei, action="view", object_type="privacy.guardianrequest", object_id=str(req.pk),
                   user=tree.gupei_admin) == 2  # the detail page and the copy
    assert _logged(tree.gupei, action="view", object_type="schools.child", object_id=str(child.pk),
                   user=tree.gupei_admin) >= 1
    close = reverse("guardian_request_close", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk})
    assert client.post(close, {"status": "done", "outcome": "已当面交给监护人"}).status_code == 302
    req = _get(GuardianRequest, req.pk, tree.gupei)
    assert (req.status, req.closed_on, req.outcome, req.handled_by) == ("done", today, "已当面交给监护人", tree.gupei_admin)
    with tenant_scope([tree.gupei.id]), pytest.raises(ValidationError):
        services.guardian_request_close(actor=tree.gupei_admin, req=req, status="done", outcome="again")


def test_correct_links_to_the_childs_edit_then_closes(client, tree, today):
    child = add_child(tree.gupei, 5)
    req = _request(tree, child, "correct", today)
    client.force_login(tree.gupei_admin)
    detail = client.get(reverse("guardian_request_detail", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk}))
    assert reverse("child_edit", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk}) in detail.content.decode()
    close = reverse("guardian_request_close", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk})
    assert client.post(close, {"status": "done", "outcome": ""}).status_code == 302  # no outcome: refused
    assert _get(GuardianRequest, req.pk, tree.gupei).status == "open"
    client.post(close, {"status": "done", "outcome": "已更正监护人电话"})
    assert _get(GuardianRequest, req.pk, tree.gupei).status == "done"


def test_delete_clears_exactly_the_purge_fields_and_keeps_the_request(client, home, today):
    tree = home
    child = tree.g[0]
    with tenant_scope([tree.gupei.id]):
        contact = school_services.care_contact_record(actor=tree.gupei_admin, child_id=child.pk, kind="talk",
                                                      happened_on=today, notes="谈心：想念妈妈")
    req = _request(tree, child, "delete", today)
    client.force_login(tree.gupei_admin)
    delete_url = reverse("guardian_request_delete", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk})
    # The confirmation page first: it names what goes and writes nothing.
    mark = _logged(tree.gupei, action="purge")
    page = client.get(delete_url)
    assert page.status_code == 200 and "身份证号" in page.content.decode()
    # Closing it as done from the request page goes to the confirmation too.
    close = reverse("guardian_request_close", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk})
    assert client.post(close, {"status": "done", "outcome": "x"})["Location"] == delete_url
    assert client.post(delete_url, {"outcome": "已删除"}).status_code == 200  # no tick: nothing happens
    kept = _get(Child, child.pk, tree.gupei)
    assert kept.purged_at is None and kept.guardian_phone and _logged(tree.gupei, action="purge") == mark
    response = client.post(delete_url, {"outcome": "已按监护人要求删除", "confirm": "on"})
    assert response.status_code == 302
    purged = _get(Child, child.pk, tree.gupei)
    assert purged.purged_at is not None and purged.name == ""
    for name, empty in Child.sensitive_cleared().items():
        assert getattr(purged, name) == empty, name
    # What the purge keeps stays.
    assert (purged.gender, purged.grade, purged.class_name, purged.left_behind_kind, purged.status) == (
        kept.gender, kept.grade, kept.class_name, kept.left_behind_kind, kept.status)
    assert _get(CareContact, contact.pk, tree.gupei).notes == ""
    req = _get(GuardianRequest, req.pk, tree.gupei)
    assert (req.status, req.child_id, req.child_label, req.outcome) == ("done", child.pk, child.name, "已按监护人要求删除")
    with tenant_scope([tree.gupei.id]):
        row = AccessLog.objects.get(action="purge", object_type="schools.child", object_id=str(child.pk))
    assert row.user == tree.gupei_admin and row.detail["reason"] == "guardian_request"
    assert sorted(row.detail["fields"]) == sorted(["name", *Child.SENSITIVE_FIELDS])
    # The request outlives the child's record.
    with tenant_scope([tree.gupei.id]):
        Child.objects.filter(pk=child.pk).delete()
    req = _get(GuardianRequest, req.pk, tree.gupei)
    assert req.child_id is None and req.child_label == child.name


def test_retention_purge_and_deletion_clear_the_same_fields(tree, today, settings):
    """One rule in one place: a child purged after leaving and one deleted on request look the same."""
    since = today - dt.timedelta(days=90)
    left = add_child(tree.gupei, 7)
    asked = add_child(tree.gupei, 8)
    with tenant_scope([tree.gupei.id]):
        Child.objects.filter(pk__in=[left.pk, asked.pk]).update(status_since=since)
        left.refresh_from_db()
    with tenant_scope([tree.gupei.id]):
        school_services.child_status_set(actor=None, child=left, status="transferred",
                                         since=today - dt.timedelta(days=30))
        school_services.children_purge_expired(school=tree.gupei, today=today, retention_days=10)
    req = _request(tree, asked, "delete", today)
    with tenant_scope([tree.gupei.id]):
        services.guardian_request_close(actor=tree.gupei_admin, req=req, status="done", outcome="已删除")
    a, b = _get(Child, left.pk, tree.gupei), _get(Child, asked.pk, tree.gupei)
    for name in ("name", *Child.SENSITIVE_FIELDS, "consent", "grade", "class_name"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.purged_at and b.purged_at


def test_a_refused_deletion_deletes_nothing(tree, today):
    child = add_child(tree.gupei, 9)
    req = _request(tree, child, "delete", today)
    with tenant_scope([tree.gupei.id]):
        services.guardian_request_close(actor=tree.gupei_admin, req=req, status="refused", outcome="申请人不是监护人")
    assert _get(Child, child.pk, tree.gupei).purged_at is None


def test_only_the_school_admin_handles_requests(client, tree, today):
    child = add_child(tree.gupei, 10)
    req = _request(tree, child, "see", today)
    for actor in (tree.gupei_teacher, tree.gupei_clerk, tree.gupei_township, tree.bureau_admin):
        with tenant_scope([tree.gupei.id]), pytest.raises(PermissionDenied):
            services.guardian_request_close(actor=actor, req=req, status="done", outcome="x")
    kw = {"school_pk": tree.gupei.pk, "pk": req.pk}
    urls = [reverse(n, kwargs=kw) for n in ("guardian_request_detail", "guardian_request_copy")]
    urls += [reverse(n, kwargs={"school_pk": tree.gupei.pk}) for n in ("guardian_requests", "guardian_request_create",
                                                                       "data_officer")]
    mark = _logged(tree.gupei, action="view")
    for user, status in ((tree.gupei_teacher, 403), (tree.gupei_clerk, 403), (tree.bureau_admin, 403),
                         (tree.bureau_inspector, 403), (tree.menzhuang_admin, 404), (tree.other_admin, 404)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == status, (user.username, url)
    assert _logged(tree.gupei, action="view") == mark  # a refused read is not a read


def test_record_a_request_and_name_the_officer_on_pages(client, tree, today):
    child = add_child(tree.gupei, 11)
    client.force_login(tree.gupei_admin)
    url = reverse("guardian_request_create", kwargs={"school_pk": tree.gupei.pk})
    form = client.get(url).context["form"]
    data = {"client_id": form["client_id"].value(), "child": child.pk, "kind": "see", "requester_name": "王奶奶",
            "requester_relation": "祖母", "received_on": today.isoformat(), "due_on": ""}
    first = client.post(url, data)
    second = client.post(url, data)  # the same tap twice is one request
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    with tenant_scope([tree.gupei.id]):
        assert GuardianRequest.objects.filter(child=child).count() == 1
    officer_url = reverse("data_officer", kwargs={"school_pk": tree.gupei.pk})
    # Someone who is not on the school's staff cannot be named.
    bad = client.post(officer_url, {"user": tree.menzhuang_admin.pk, "appointed_on": today.isoformat()})
    assert bad.status_code == 200
    ok = client.post(officer_url, {"user": "", "name": "陈校长", "phone": "13900001234",
                                   "appointed_on": today.isoformat()})
    assert ok.status_code == 302
    overview = client.get(reverse("privacy_overview", kwargs={"school_pk": tree.gupei.pk})).content.decode()
    assert "陈校长" in overview and "13900001234" in overview


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_close_once(tree, today):
    from tests.support.concurrency import run_at_once

    child = add_child(tree.gupei, 12)
    req = _request(tree, child, "delete", today)

    def close():
        with tenant_scope([tree.gupei.id]):
            try:
                services.guardian_request_close(actor=tree.gupei_admin, req=req, status="done", outcome="已删除")
            except ValidationError:
                return "refused"
            return "closed"

    assert sorted(run_at_once(close)) == ["closed", "refused"]
    assert _logged(tree.gupei, action="purge", object_id=str(child.pk)) == 1


def test_the_access_log_names_a_request_masked(client, tree, today):
    child = add_child(tree.gupei, 13)
    req = _request(tree, child, "see", today)
    client.force_login(tree.gupei_admin)
    client.get(reverse("guardian_request_copy", kwargs={"school_pk": tree.gupei.pk, "pk": req.pk}))
    body = client.get(reverse("school_access_log", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert "监护人申请：查阅 孩**" in body and "孩子13" not in body
