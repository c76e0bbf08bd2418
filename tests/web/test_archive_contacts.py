"""Contact records in the web UI: the list (filters, pagination, who sees which), the detail page
(access log, photos) and the edit page (update, delete), plus the tracker's link to a new contact."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from schools import services
from schools.models import CareContact, Evidence
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.images import jpeg_bytes

from .pages_archive import ensure_semester, make_child, make_contact


@pytest.fixture
def home(tree, settings, tmp_path):
    """gupei: 3 children, the first two assigned to gupei_teacher; a contact by the teacher on the
    first, one by the admin on the third (unassigned)."""
    settings.MEDIA_ROOT = str(tmp_path)
    tree.semester = ensure_semester(tree.district)
    tree.today = timezone.localdate()
    tree.kids = [make_child(tree.gupei, 700 + i) for i in range(3)]
    with tenant_scope([tree.gupei.id]):
        for child in tree.kids[:2]:
            services.proxy_assignment_create(actor=tree.gupei_admin, child=child, proxy_parent=tree.gupei_teacher,
                                             starts_on=tree.today - dt.timedelta(days=10))
    tree.mine = make_contact(tree.gupei, tree.kids[0], actor=tree.gupei_teacher, notes="老师的家访")
    tree.other = make_contact(tree.gupei, tree.kids[2], actor=tree.gupei_admin, kind="letter", notes="校长的信")
    return tree


def _url(name, t, contact=None, **kwargs):
    if contact is not None:
        kwargs["pk"] = contact.pk
    return reverse(name, kwargs={"school_pk": t.gupei.pk, **kwargs})


def _ids(response):
    return [c.pk for c in response.context["page"].object_list]


def _fresh(contact):
    with tenant_scope([contact.school_id]):
        return CareContact.objects.filter(pk=contact.pk).first()


# ---------------------------------------------------------------- list
def test_list_shows_only_contacts_of_children_the_user_may_read(client, home):
    url = _url("contacts_list", home)
    client.force_login(home.gupei_admin)
    assert set(_ids(client.get(url))) == {home.mine.pk, home.other.pk}
    client.force_login(home.gupei_teacher)
    response = client.get(url)
    assert _ids(response) == [home.mine.pk]
    assert "校长的信" not in response.content.decode() and home.kids[2].name not in response.content.decode()
    for who in (home.gupei_clerk, home.bureau_admin):  # no personal records: an empty list
        client.force_login(who)
        assert _ids(client.get(url)) == []


def test_list_filters(client, home):
    fifth = make_child(home.gupei, 790, class_name="五(2)班", grade=5)
    talk = make_contact(home.gupei, fifth, actor=home.gupei_admin, kind="talk",
                        day=home.today - dt.timedelta(days=1))
    client.force_login(home.gupei_admin)
    url = _url("contacts_list", home)
    assert _ids(client.get(url, {"kind": "letter"})) == [home.other.pk]
    assert _ids(client.get(url, {"class_name": "五(2)班"})) == [talk.pk]
    assert _ids(client.get(url, {"child": home.kids[0].pk})) == [home.mine.pk]
    assert set(_ids(client.get(url, {"made_by": home.gupei_admin.pk}))) == {home.other.pk, talk.pk}
    assert set(_ids(client.get(url, {"semester": home.semester.pk}))) == {home.mine.pk, home.other.pk, talk.pk}
    # A child the user may not read is not a choice: the filter shows nothing, not everything.
    client.force_login(home.gupei_teacher)
    assert _ids(client.get(url, {"child": home.kids[2].pk})) == []


def test_list_is_paginated_with_a_constant_number_of_queries(client, home, django_assert_max_num_queries):
    client.force_login(home.gupei_admin)
    url = _url("contacts_list", home)
    with tenant_scope([home.gupei.id]):
        CareContact.objects.bulk_create([
            CareContact(school=home.gupei, child=home.kids[1], kind="talk", semester=home.semester,
                        happened_on=home.today - dt.timedelta(days=i % 20), made_by=home.gupei_admin)
            for i in range(40)])
    first = client.get(url)
    assert first.context["page"].paginator.count == 42 and len(_ids(first)) == 30
    second = client.get(url, {"page": 2})
    assert len(_ids(second)) == 12 and not set(_ids(first)) & set(_ids(second))
    assert "page=2" in first.content.decode()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url, {"page": 2})
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)  # 30 rows, the same queries as 12


# ---------------------------------------------------------------- detail
def test_detail_is_logged_as_a_read_of_the_child_and_hidden_from_others(client, home):
    client.force_login(home.gupei_teacher)
    response = client.get(_url("contact_detail", home, home.mine))
    assert response.status_code == 200 and "老师的家访" in response.content.decode()
    with tenant_scope([home.gupei.id]):
        entry = AccessLog.objects.get(action="view", object_type="schools.child", object_id=str(home.kids[0].pk),
                                      user=home.gupei_teacher)
    assert entry.detail == {"via": "contact", "contact": home.mine.pk}
    assert client.get(_url("contact_detail", home, home.other)).status_code == 404  # unassigned child
    client.force_login(home.gupei_clerk)
    assert client.get(_url("contact_detail", home, home.mine)).status_code == 404
    # Another school's URL for this contact: 404 even for the admin who may read it.
    client.force_login(home.gupei_admin)
    assert client.get(reverse("contact_detail", kwargs={"school_pk": home.menzhuang.pk,
                                                        "pk": home.mine.pk})).status_code == 404


def test_photos_are_uploaded_and_removed_on_the_detail_page(client, home):
    client.force_login(home.gupei_teacher)
    url = _url("contact_detail", home, home.mine)
    photos = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(40 + i), content_type="image/jpeg") for i in range(2)]
    response = client.post(url, {"photos": photos}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200, response.content
    assert [r["ok"] for r in response.json()["results"]] == [True, True]
    with tenant_scope([home.gupei.id]):
        items = list(Evidence.objects.filter(care_contact=home.mine).order_by("id"))
    assert len(items) == 2 and all(e.uploaded_by_id == home.gupei_teacher.pk for e in items)
    html = client.get(url).content.decode()
    assert reverse("evidence_thumb", args=[home.gupei.pk, items[0].pk]) in html
    response = client.post(url, {"action": "delete_evidence", "evidence": items[0].pk})
    assert response.status_code == 302
    with tenant_scope([home.gupei.id]):
        assert list(Evidence.objects.filter(care_contact=home.mine)) == [items[1]]
    # A bad file is named and nothing is stored for it.
    response = client.post(url, {"photos": SimpleUploadedFile("x.jpg", b"\xff\xd8\xffnot a jpeg")},
                           HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 400 and response.json()["results"][0]["name"] == "x.jpg"
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.filter(care_contact=home.mine).count() == 1


def test_a_reader_who_is_not_the_author_cannot_remove_photos_or_edit(client, home):
    # The teacher reads the admin's contact about an assigned child, may add photos (as for any
    # contact of that child), but may not remove them or edit the contact.
    theirs = make_contact(home.gupei, home.kids[1], actor=home.gupei_admin, kind="talk")
    with tenant_scope([home.gupei.id]):
        item = services.evidence_upload(actor=home.gupei_admin, school=home.gupei, attach_to=theirs,
                                        uploaded_file=SimpleUploadedFile("a.jpg", jpeg_bytes(60)))
    client.force_login(home.gupei_teacher)
    url = _url("contact_detail", home, theirs)
    assert client.post(url, {"action": "delete_evidence", "evidence": item.pk}).status_code == 403
    assert client.get(_url("contact_edit", home, theirs)).status_code == 403
    with tenant_scope([home.gupei.id]):
        assert Evidence.objects.filter(pk=item.pk).exists()


# ---------------------------------------------------------------- edit and delete
def test_edit_saves_through_the_service_and_refuses_bad_dates(client, home):
    client.force_login(home.gupei_teacher)
    url = _url("contact_edit", home, home.mine)
    assert client.get(url).status_code == 200
    day = home.today - dt.timedelta(days=2)
    response = client.post(url, {"kind": "talk", "happened_on": day.isoformat(), "notes": "补充：谈了学习"})
    assert response.status_code == 302 and response["Location"] == _url("contact_detail", home, home.mine)
    saved = _fresh(home.mine)
    assert (saved.kind, saved.happened_on, saved.notes) == ("talk", day, "补充：谈了学习")
    response = client.post(url, {"kind": "talk", "happened_on": (home.today + dt.timedelta(days=1)).isoformat(),
                                 "notes": "未来"})
    assert response.status_code == 200 and response.context["form"].errors["happened_on"]
    assert _fresh(home.mine).notes == "补充：谈了学习"
    # Someone else's contact (the admin's, about an unassigned child) does not exist for the teacher.
    assert client.post(_url("contact_edit", home, home.other), {"action": "delete"}).status_code == 404
    assert _fresh(home.other) is not None


def test_delete_from_the_edit_page(client, home):
    with tenant_scope([home.gupei.id]):
        item = services.evidence_upload(actor=home.gupei_admin, school=home.gupei, attach_to=home.other,
                                        uploaded_file=SimpleUploadedFile("b.jpg", jpeg_bytes(61)))
    client.force_login(home.gupei_admin)
    response = client.post(_url("contact_edit", home, home.other), {"action": "delete"})
    assert response.status_code == 302
    assert _fresh(home.other) is None
    with tenant_scope([home.gupei.id]):
        assert not Evidence.objects.filter(pk=item.pk).exists()


# ---------------------------------------------------------------- links
def test_tracker_tap_answers_with_the_new_contacts_page(client, home):
    client.force_login(home.gupei_teacher)
    tracker = client.get(reverse("contact_tracker", kwargs={"school_pk": home.gupei.pk})).content.decode()
    assert "data-detail" in tracker and _url("contacts_list", home) in tracker
    response = client.post(reverse("contact_record", kwargs={"school_pk": home.gupei.pk}), {
        "cell": f"{home.kids[1].pk}:letter", "happened_on": home.today.isoformat(), "semester": home.semester.pk,
    }, HTTP_ACCEPT="application/json")
    body = response.json()
    assert body["detail_url"] == _url("contact_detail", home, pk=body["contact"])
    assert client.get(body["detail_url"]).status_code == 200


def test_child_detail_and_navigation_link_the_contacts(client, home):
    client.force_login(home.gupei_teacher)
    html = client.get(reverse("child_detail", kwargs={"school_pk": home.gupei.pk, "pk": home.kids[0].pk})
                      ).content.decode()
    assert _url("contact_detail", home, home.mine) in html
    assert f'{_url("contacts_list", home)}?child={home.kids[0].pk}' in html
    more = client.get(reverse("nav_more")).content.decode()  # the links that are not tabs
    assert f'href="{_url("contacts_list", home)}"' in html + more
